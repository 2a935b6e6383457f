/**
 * A new user's first real model, in Chromium: a library of real-looking photos searched with the
 * colour test model says so on Search; one click downloads CLIP ViT-B/32 (its signature twin,
 * served from 127.0.0.1) with progress, "Use for search" switches to it while search keeps
 * working, and the notice goes. MobileCLIP asks for its licence before downloading.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../main/app/index.ts';
import { startLocalCatalog, type LocalCatalog } from '../fixtures/local-catalog.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { haveChromium, openUi, shots, type UiSession } from './harness.ts';

describe.skipIf(!haveChromium)('getting a real model from the Search and Models views', () => {
  let ui: UiSession;
  let catalog: LocalCatalog;

  beforeAll(async () => {
    ui = await openUi('leanlens-e2e-real-', async (dir) => {
      catalog = await startLocalCatalog(dir);
      const photos = join(dir, 'photos');
      await writeColourLibrary(photos);
      // Indexed with the fallback test model first, then opened live as the desktop app is.
      const pre = await createApp({ dataDir: join(dir, 'data'), modelsDir: catalog.modelsDir });
      await pre['folders.add']({ path: photos });
      await pre.sync();
      await pre.close();
      return createApp({ dataDir: join(dir, 'data'), modelsDir: catalog.modelsDir, live: true });
    });
  }, 120_000);

  afterAll(async () => {
    await ui?.close();
    await catalog?.close();
  });

  async function shoot(name: string) {
    await mkdir(shots, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await ui.page.emulateMedia({ colorScheme: scheme });
      await ui.page.screenshot({ path: join(shots, `${name}-${scheme}.png`), fullPage: true });
    }
    await ui.page.emulateMedia({ colorScheme: 'light' });
  }

  it('says on Search that a test model is in use, with the size of the real model to download', async () => {
    await ui.page.goto(ui.server.url);
    // With a library, the app opens on Photos; the notice is about search.
    await ui.page.getByRole('link', { name: 'Search' }).click();
    const notice = ui.page.getByTestId('test-model-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/Search uses a test model\..*CLIP ViT-B\/32/s);
    expect(await notice.getByRole('button', { name: /Download \(\d/ }).count()).toBe(1);
    await shoot('search-test-model');
  });

  it('downloads it, switches search to it while the old model keeps answering, and the notice goes', async () => {
    const notice = ui.page.getByTestId('test-model-notice');
    await notice.getByRole('button', { name: /Download/ }).click();
    await notice.getByRole('button', { name: 'Use for search' }).waitFor({ timeout: 60_000 });
    await notice.getByRole('button', { name: 'Use for search' }).click();
    // Searching during the switch still answers (with the colour model, until the new one takes over).
    const during = await ui.app['search.text']({ text: 'red', limit: 3 });
    expect(during.hits.length).toBeGreaterThan(0);
    await expect.poll(async () => (await ui.app['index.status']({})).model, { timeout: 60_000 }).toBe('clip-vit-b32');
    await expect.poll(() => notice.count(), { timeout: 15_000 }).toBe(0);
    expect((await ui.app['search.text']({ text: 'a red photo', limit: 3 })).modelId).toBe('clip-vit-b32');
  }, 120_000);

  it('lists the catalog with sizes and licences in Models, and asks for MobileCLIP\'s licence first', async () => {
    await ui.page.getByRole('link', { name: 'Models' }).click();
    const mobile = ui.page.locator('[data-model-id="mobileclip-s2"]');
    await mobile.waitFor();
    expect(await mobile.textContent()).toMatch(/Apple/);
    expect(await ui.page.locator('[data-model-id="clip-vit-b32"]').textContent()).toMatch(/MIT/);
    await mobile.getByRole('button', { name: /Download/ }).click();
    await mobile.getByRole('link', { name: 'read it' }).waitFor();
    await shoot('models-licence');
    await mobile.getByRole('button', { name: 'Accept the licence and download' }).click();
    await mobile.getByRole('button', { name: 'Use for search' }).waitFor({ timeout: 60_000 });
    expect(ui.problems).toEqual([]);
  }, 120_000);
});
