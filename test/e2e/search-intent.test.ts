/**
 * The search box's language in Chromium against the headless server, with the trained ShapesWorld
 * teacher on the demo photos laid out as Holidays/ and Work/ folders taken in 2021 and 2023: a
 * search with a negative term and a date shows the date as a chip, only the relevant photos
 * ("N relevant · M below"), no photo of the pushed-away kind among the first; removing the chip
 * edits the query; a malformed query says what to fix. Screenshots light and dark, 800×600 and 1920×1080.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR, createApp } from '../../main/app/index.ts';
import { readDemo } from '../../main/app/demo.ts';
import { haveChromium, openUi, shots, type UiSession } from './harness.ts';

const demo = readDemo(BUNDLED_MODELS_DIR);
const labelled = JSON.parse(readFileSync(demo.labelled, 'utf8')) as { file: string; scene: { objects: { shape: string; color: string }[] } }[];
const scenes = new Map(labelled.map((e) => [basename(e.file), e.scene]));
const files = readdirSync(demo.photos).sort();
const yearOf = (i: number) => (i % 3 === 0 ? 2021 : 2023);
const takenIn2023 = new Set(files.filter((_, i) => yearOf(i) === 2023));
const redCircle = (name: string) => scenes.get(name)!.objects.some((o) => o.shape === 'circle' && o.color === 'red');

describe.skipIf(!haveChromium)('search: a negative term and a date chip', () => {
  let ui: UiSession;
  let page: Page;

  beforeAll(async () => {
    ui = await openUi('leanlens-intent-e2e-', async (dir) => {
      for (const [i, f] of files.entries()) {
        const to = join(dir, 'photos', i % 2 ? 'Holidays' : 'Work');
        mkdirSync(to, { recursive: true });
        copyFileSync(join(demo.photos, f), join(to, f));
        const t = new Date(yearOf(i), 6, 1 + (i % 28), 12);
        utimesSync(join(to, f), t, t);
      }
      const app = await createApp({ dataDir: join(dir, 'data'), live: true });
      await app['models.use']({ id: demo.model, now: true });
      await app['folders.add']({ path: join(dir, 'photos') });
      await app.sync();
      return app;
    });
    page = ui.page;
  }, 180_000);
  afterAll(() => ui?.close());

  const tileNames = () => page.locator('.tile').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.name!));
  const meta = () => page.getByTestId('result-meta').textContent();
  const chipTexts = async () => (await page.getByRole('list', { name: 'Filters in the search' }).getByRole('listitem').allTextContents()).map((t) => t.trim());
  const counted = async () => (await meta())!.match(/\d+/g)!.map(Number).slice(0, 2).reduce((a, b) => a + b, 0);
  let with2023 = 0;
  const shoot = async (name: string) => {
    for (const [w, h] of [
      [800, 600],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.mouse.move(5, 5);
      await expect
        .poll(() => page.locator('.tile img').evaluateAll((imgs) => imgs.slice(0, 12).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)), { timeout: 30_000 })
        .toBe(true);
      await page.screenshot({ path: join(shots, `${name}-${w}x${h}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  };

  it('"circles -red 2023": a date chip, only the relevant 2023 photos, no red circle first', async () => {
    await page.goto(ui.server.url);
    await page.getByRole('link', { name: 'Search' }).click();
    const box = page.getByLabel('Search photos');
    await box.fill('circles -red 2023');
    await box.press('Enter');
    await expect.poll(() => chipTexts(), { timeout: 20_000 }).toEqual(['2023']);
    await expect.poll(meta, { timeout: 20_000 }).toMatch(/^\s*\d+ relevant · \d+ below/);
    const [relevant, below] = (await meta())!.match(/\d+/g)!.map(Number);
    expect(relevant! + below!).toBeLessThanOrEqual(takenIn2023.size);
    const names = await tileNames();
    expect(names).toHaveLength(relevant!);
    expect(names.every((n) => takenIn2023.has(n))).toBe(true);
    expect(names.filter(redCircle)).toEqual([]);
    with2023 = relevant! + below!;
    // The slider starts at this query's own cut-off; dragging it left shows the photos below.
    const slider = page.getByRole('slider', { name: 'Minimum relevance' });
    await slider.fill(await slider.getAttribute('min').then((v) => v!));
    await expect.poll(meta).toMatch(new RegExp(`^\\s*${relevant! + below!} photos`));
    await page.getByRole('button', { name: 'Auto' }).click();
    await expect.poll(async () => (await tileNames()).length).toBe(relevant!);
    await shoot('search-intent-light');
  });

  it('the same in dark', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot('search-intent-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('removing the chip takes the date out of the query and widens the results', async () => {
    await page.getByRole('button', { name: 'Remove filter 2023' }).click();
    await expect.poll(() => page.getByLabel('Search photos').inputValue()).toBe('circles -red');
    await expect.poll(() => page.getByRole('list', { name: 'Filters in the search' }).count()).toBe(0);
    // Relevant + below now counts the 2021 photos too.
    await expect.poll(counted, { timeout: 20_000 }).toBeGreaterThan(with2023);
  });

  it('a filters-only query lists photos by date; a malformed one says what to fix', async () => {
    const box = page.getByLabel('Search photos');
    await box.fill('in:Holidays Jul 2021');
    await box.press('Enter');
    await expect.poll(meta, { timeout: 20_000 }).toMatch(/newest first/);
    expect(await chipTexts()).toEqual(['in Holidays', 'Jul 2021']);
    const expected = files.filter((_, i) => i % 2 === 1 && yearOf(i) === 2021);
    await expect.poll(async () => (await tileNames()).sort()).toEqual(expected);
    await box.fill('circles "red');
    await box.press('Enter');
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 20_000 }).toMatch(/never closed/);
    await page.screenshot({ path: join(shots, 'search-intent-error.png') });
    expect(ui.problems).toEqual([]);
  });
});
