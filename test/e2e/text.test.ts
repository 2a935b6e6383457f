/**
 * Text in photos as a person sees it, in Debian's Chromium against the headless server: a
 * Screenshots folder read by the real OCR engine, a search for a word, the "text" badge on the
 * result, and the matching word highlighted on the photo and in the recognised text of the preview.
 * Screenshots (light and dark, 800×600 and 1920×1080) go to test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createApp } from '../../main/app/index.ts';
import { CHROMIUM, haveChromium, openUi, shots, type UiSession } from './harness.ts';
import { makeTextPhotos } from '../fixtures/text-photos.ts';

if (!haveChromium) console.warn(`skipping text-in-photos browser tests: ${CHROMIUM} is missing`);

describe.skipIf(!haveChromium)('text in photos in the browser', () => {
  let ui: UiSession;

  beforeAll(async () => {
    ui = await openUi('leanlens-e2e-text-', async (d) => {
      const set = await makeTextPhotos(join(d, 'made'), { signs: 2, screenshots: 1, none: 1 });
      const folder = join(d, 'Screenshots');
      await mkdir(folder);
      for (const p of set) await copyFile(p.file, join(folder, p.file.split('/').pop()!));
      const app = await createApp({ dataDir: join(d, 'data') });
      await app['folders.add']({ path: folder });
      await app.sync();
      return app;
    });
  }, 300_000);

  afterAll(() => ui?.close());

  async function shoot(name: string) {
    const { page } = ui;
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    for (const [w, h] of [[800, 600], [1920, 1080]] as const) {
      for (const scheme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width: w, height: h });
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(shots, `text-${name}-${w}x${h}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  }

  it('shows what was read in the Library, with the per-folder switch on for Screenshots', async () => {
    const { page, server } = ui;
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Library' }).click();
    const card = page.getByTestId('text-reading');
    await expect.poll(() => card.getByTestId('text-counts').textContent(), { timeout: 15_000 }).toMatch(/4 photos read · 3 with text · 0 pending/);
    expect(await page.getByRole('switch', { name: /Read text in photos of .*Screenshots/ }).isChecked()).toBe(true);
    await shoot('library');
  });

  it('finds a sign by a misspelt word: text badge on the result, the word highlighted in the preview', async () => {
    const { page } = ui;
    await page.getByRole('link', { name: 'Search' }).click();
    const box = page.getByLabel('Search photos');
    await box.fill('pharnacy');
    await box.press('Enter');
    const first = page.locator('.tile').first();
    await expect.poll(() => first.getAttribute('data-name'), { timeout: 15_000 }).toBe('sign-01-pharmacy.jpg');
    expect(await first.getByTestId('text-badge').textContent()).toBe('text');
    // Only the matching photo carries the badge.
    expect(await page.getByTestId('text-badge').count()).toBe(1);
    await shoot('search');

    await first.locator('.tile-open').click();
    const viewer = page.getByTestId('viewer');
    await expect.poll(() => viewer.getByTestId('viewer-text').locator('mark').allTextContents(), { timeout: 10_000 }).toEqual(['PHARMACY']);
    const highlight = viewer.getByTestId('text-highlight');
    await expect.poll(() => highlight.count()).toBe(1);
    expect(await highlight.getAttribute('data-word')).toBe('PHARMACY');
    // The box sits on the photo as displayed, inside the image's rectangle.
    const img = (await viewer.locator('img.photo').boundingBox())!;
    const mark = (await highlight.boundingBox())!;
    expect(mark.width).toBeGreaterThan(20);
    expect(mark.x).toBeGreaterThanOrEqual(img.x);
    expect(mark.x + mark.width).toBeLessThanOrEqual(img.x + img.width);
    await shoot('preview');
    expect(ui.problems).toEqual([]);
  });
});
