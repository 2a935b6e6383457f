/**
 * The Duplicates view in Debian's Chromium against the headless server: a library of made-up
 * scenes with copies of two of them (resized, recompressed, cropped, brightened, PNG) and distinct
 * scenes in the same colours. The view shows the two groups side by side with size, dimensions,
 * date and path; the similarity slider regroups; a photo opens in the preview; Reveal is disabled
 * in a browser and says why; the CSV export downloads. Screenshots at 800×600 and 1920×1080, light
 * and dark, go to test-results/screenshots/duplicates-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createApp } from '../../main/app/index.ts';
import { parseCsv } from '../../main/core/csv.ts';
import { CHROMIUM, haveChromium, openUi, shots, type UiSession } from './harness.ts';
import { writeNearCopies, writeScenePhoto } from '../fixtures/near-copies.ts';

if (!haveChromium) console.warn(`skipping the duplicates view test: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!haveChromium)('the Duplicates view (headless server, real app)', () => {
  let ui: UiSession;
  let page: Page;

  beforeAll(async () => {
    ui = await openUi('leanlens-dups-e2e-', async (d) => {
      const photos = join(d, 'Holiday photos');
      for (let s = 1; s <= 5; s++) {
        const path = await writeScenePhoto(join(photos, `beach-${s}.jpg`), s, { palette: s <= 3 ? 100 : 200 });
        if (s === 1 || s === 4) await writeNearCopies(path, photos, s);
      }
      const app = await createApp({ dataDir: join(d, 'data') });
      await app['folders.add']({ path: photos });
      await app.sync();
      return app;
    });
    page = ui.page;
  }, 120_000);

  afterAll(() => ui?.close());

  async function shoot(name: string) {
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    for (const [w, h] of [
      [800, 600],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width: w, height: h });
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(shots, `${name}-${w}x${h}-${scheme}.png`) });
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.emulateMedia({ colorScheme: 'light' });
  }

  const groupNames = () =>
    page.locator('[data-testid="duplicate-group"]').evaluateAll((groups) =>
      groups.map((g) => [...g.querySelectorAll<HTMLElement>('[data-testid="duplicate-photo"]')].map((p) => p.dataset.name!).sort()),
    );

  it('shows each photo with its copies, side by side, and keeps the look-alike scenes apart', async () => {
    await page.goto(ui.server.url);
    await page.getByRole('link', { name: 'Duplicates' }).click();
    await expect.poll(groupNames, { timeout: 30_000 }).toHaveLength(2);
    const groups = (await groupNames()).sort((a, b) => a[0]!.localeCompare(b[0]!));
    for (const [g, s] of [
      [groups[0]!, 1],
      [groups[1]!, 4],
    ] as const) {
      expect(g).toEqual([`beach-${s}.brighten.jpg`, `beach-${s}.crop.jpg`, `beach-${s}.jpg`, `beach-${s}.png.png`, `beach-${s}.recompress.jpg`, `beach-${s}.resize.jpg`]);
    }
    expect(await page.getByTestId('duplicates-summary').textContent()).toMatch(/2 groups · 12 photos \(10 extra copies\)\s+among 15 indexed photos/);
    // Size, dimensions, date and path of each photo.
    const resized = page.locator('[data-testid="duplicate-photo"][data-name="beach-1.resize.jpg"]');
    const facts = (await resized.textContent()) ?? '';
    expect(facts).toMatch(/\d+(\.\d)? kB · JPEG/);
    expect(facts).toMatch(/\d+ × \d+/);
    expect(facts).toMatch(/Holiday photos\/beach-1\.resize\.jpg/);
    expect(facts).not.toMatch(/Unknown/);
    await shoot('duplicates');
  });

  it('the similarity slider regroups: at the top only the closest copies stay', async () => {
    const slider = page.getByRole('slider', { name: 'Minimum similarity' });
    await slider.fill('0.995');
    await slider.dispatchEvent('change');
    await expect.poll(async () => (await groupNames()).flat().length).toBeLessThan(12);
    expect((await groupNames()).flat()).not.toContain('beach-1.brighten.jpg');
    await slider.fill('0.9');
    await slider.dispatchEvent('change');
    await expect.poll(async () => (await groupNames()).flat().length).toBe(12);
  });

  it('opens a photo in the preview; Reveal says it needs the desktop app', async () => {
    const crop = page.locator('[data-testid="duplicate-photo"][data-name="beach-4.crop.jpg"]');
    await crop.getByRole('button', { name: 'Open', exact: true }).click();
    const preview = page.getByTestId('viewer');
    await preview.waitFor();
    await expect.poll(() => preview.getByRole('heading').textContent()).toBe('beach-4.crop.jpg');
    await page.keyboard.press('Escape');
    await preview.waitFor({ state: 'detached' });
    const reveal = crop.getByRole('button', { name: 'Reveal' });
    expect(await reveal.isDisabled()).toBe(true);
    expect(await crop.locator('.tip').getAttribute('title')).toMatch(/desktop app/);
  });

  it('exports the list as CSV for the user to act on', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('leanlens-duplicates.csv');
    const rows = parseCsv(await readFile((await download.path())!, 'utf8'));
    expect(rows[0]![2]).toBe('path');
    expect(rows.length - 1).toBe(12);
    expect(ui.problems).toEqual([]);
  });
});
