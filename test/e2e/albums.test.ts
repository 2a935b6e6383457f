/**
 * Smart albums as a person uses them, in Debian's Chromium against the headless server (live:
 * watching, indexing in the background), on generated colour photos searched with color-oracle:
 * save a search with its cut-off as an album, find it in the sidebar with its count, open it in one
 * click, and watch a new matching photo copied into the watched folder appear in the open album
 * (and a deleted one leave it) without a reload; then a switch of model, which the album reports.
 * Screenshots light and dark at 800×600 and 1920×1080 go to test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createApp, type App } from '../../main/app/index.ts';
import { CHROMIUM, haveChromium, openUi, shots, type UiSession } from './harness.ts';
import { writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';

if (!haveChromium) console.warn(`skipping the smart album browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!haveChromium)('smart albums in a browser (headless server, live app, color-oracle)', () => {
  let ui: UiSession;
  let page: Page;
  let app: App;
  let photos: string;

  beforeAll(async () => {
    ui = await openUi('leanlens-albums-e2e-', async (d) => {
      photos = join(d, 'Holiday photos');
      await writeColourLibrary(photos);
      // Indexed before the page opens, so the test starts from a library ready to search.
      const pre = await createApp({ dataDir: join(d, 'data') });
      await pre['folders.add']({ path: photos });
      await pre.sync();
      await pre.close();
      return createApp({ dataDir: join(d, 'data'), live: true });
    });
    ({ page, app } = ui);
  });
  afterAll(() => ui?.close());

  const tileNames = () => page.locator('.tile').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name));
  const sidebarAlbum = (name: string) => page.locator(`[data-testid="album-list"] a[data-album="${name}"]`);

  async function shoot(name: string) {
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    for (const size of [
      { width: 800, height: 600 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(size);
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.waitForTimeout(150); // the grid re-lays itself out for the new width
        await page.screenshot({ path: join(shots, `${name}-${size.width}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  }

  it('saves a search with its cut-off as a smart album, which the sidebar lists with its count', async () => {
    await page.goto(ui.server.url);
    // With a library the app opens on Photos; albums are saved from Search.
    await page.getByRole('link', { name: 'Search' }).click();
    await expect.poll(() => page.getByText('Save a search to keep it here').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Save as smart album' }).isDisabled()).toBe(true);
    const box = page.getByLabel('Search photos');
    await box.fill('red');
    await box.press('Enter');
    await expect.poll(async () => (await tileNames())[0], { timeout: 15_000 }).toBe('red.jpg');
    // Every photo first (the search opens at its adaptive cut-off), then keep only the red photo:
    // the cut-off halfway between the best and the second match.
    await page.getByRole('slider', { name: 'Minimum relevance' }).fill('-1');
    await expect.poll(async () => (await tileNames()).length).toBeGreaterThan(1);
    const scores = await page.locator('.tile').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.score)));
    const [best, second] = [...scores].sort((a, b) => b - a);
    await page.getByRole('slider', { name: 'Minimum relevance' }).fill(String((best! + second!) / 2));
    await expect.poll(tileNames).toEqual(['red.jpg']);

    await page.getByRole('button', { name: 'Save as smart album' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save as smart album' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Name').inputValue()).toBe('red');
    expect(await dialog.getByLabel('Saved search').textContent()).toMatch(/"red"\s*score ≥ 0\.\d{3}/);
    await dialog.getByLabel('Name').fill('Reds');
    await shoot('album-save-dialog');
    await dialog.getByRole('button', { name: 'Save album' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => sidebarAlbum('Reds').getByTestId('album-count').textContent()).toBe('1');
    const [saved] = await app['albums.list']({});
    expect(saved).toMatchObject({ name: 'Reds', count: 1, savedWith: 'color-oracle', query: { text: 'red', minScore: expect.any(Number) } });
  });

  it('refuses a name already taken, in the dialog, and keeps what was typed', async () => {
    await page.getByRole('button', { name: 'Save as smart album' }).click();
    const dialog = page.getByRole('dialog', { name: 'Save as smart album' });
    await dialog.getByLabel('Name').fill('reds');
    await dialog.getByRole('button', { name: 'Save album' }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/an album named "reds" already exists/i);
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.getByLabel('Name').inputValue()).toBe('reds');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await app['albums.list']({})).map((a) => a.name)).toEqual(['Reds']);
  });

  it('opens in one click; a matching photo copied into the watched folder appears without a reload, a deleted one leaves', async () => {
    await sidebarAlbum('Reds').click();
    await expect.poll(() => page.url()).toMatch(/#\/album\/\d+$/);
    await expect.poll(tileNames, { timeout: 15_000 }).toEqual(['red.jpg']);
    expect(await page.getByRole('heading', { name: 'Reds' }).isVisible()).toBe(true);
    expect(await page.getByTestId('album-meta').textContent()).toMatch(/^\s*1 photo ·/);
    await shoot('album');

    await writeSolidPhoto(join(photos, 'new-red.jpg'), [215, 28, 30], { noise: 3 });
    await expect.poll(async () => (await tileNames()).sort(), { timeout: 30_000, interval: 250 }).toEqual(['new-red.jpg', 'red.jpg']);
    await expect.poll(() => sidebarAlbum('Reds').getByTestId('album-count').textContent()).toBe('2');
    // A photo that does not match stays out.
    await writeSolidPhoto(join(photos, 'new-blue.jpg'), [30, 60, 210], { noise: 3 });
    await unlink(join(photos, 'red.jpg'));
    await expect.poll(tileNames, { timeout: 30_000, interval: 250 }).toEqual(['new-red.jpg']);
    await expect.poll(() => sidebarAlbum('Reds').getByTestId('album-count').textContent()).toBe('1');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
  });

  it('after a switch of model, says which model it was saved with and which it searches with now', async () => {
    await app['models.use']({ id: 'tiny-clip', now: true });
    const note = page.getByTestId('album-model-changed');
    await expect.poll(() => note.textContent(), { timeout: 30_000 }).toMatch(/Saved with color-oracle, now searching with tiny-clip\..*cut-off/);
    await shoot('album-model-changed');
    await app['models.use']({ id: 'color-oracle', now: true });
    await expect.poll(() => note.count(), { timeout: 30_000 }).toBe(0);
  });

  it('opens its search in Search, with its cut-off, to refine it', async () => {
    await page.getByRole('button', { name: 'Open in Search' }).click();
    await expect.poll(() => page.url()).toContain('#/search');
    expect(await page.getByLabel('Search photos').inputValue()).toBe('red');
    await expect.poll(tileNames, { timeout: 15_000 }).toEqual(['new-red.jpg']);
    const [album] = await app['albums.list']({});
    expect(Number(await page.getByRole('slider', { name: 'Minimum relevance' }).inputValue())).toBeCloseTo(album!.query.minScore!, 3);
    await sidebarAlbum('Reds').click();
    await expect.poll(tileNames).toEqual(['new-red.jpg']);
  });

  it('renames the album in place', async () => {
    await page.getByRole('button', { name: 'Rename album Reds' }).click();
    await page.keyboard.type('Red photos'); // the old name is selected, so typing replaces it
    await shoot('album-rename');
    await page.keyboard.press('Enter');
    await expect.poll(() => sidebarAlbum('Red photos').count()).toBe(1);
    expect(await page.getByRole('heading', { name: 'Red photos' }).isVisible()).toBe(true);
    expect((await app['albums.list']({})).map((a) => a.name)).toEqual(['Red photos']);
  });

  it('removes the album after a confirm; its photos stay', async () => {
    await page.getByRole('button', { name: 'Remove album Red photos' }).click();
    await page.getByRole('group', { name: 'Confirm removal' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => page.url()).toContain('#/search');
    await expect.poll(() => sidebarAlbum('Red photos').count()).toBe(0);
    expect(await app['albums.list']({})).toEqual([]);
    expect((await app['index.status']({})).files).toBeGreaterThan(10);
  });

  it('had no script errors and no Content-Security-Policy violations', () => {
    expect(ui.problems).toEqual([]);
  });
});
