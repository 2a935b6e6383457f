/**
 * A new user's first minutes, in Chromium against the headless server: an empty library offers
 * the demo; one click adds the shipped ShapesWorld photos, switches to the model trained on them
 * (models/shapesworld, made by models/distill) and searches "two red circles" — which must find the
 * demo's photos of two red circles. Real trained model, real indexing, real browser.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR, createApp } from '../../main/app/index.ts';
import type { App } from '../../main/app/index.ts';
import { readDemo } from '../../main/app/demo.ts';
import type { RunningServer } from '../../main/server/index.ts';
import { haveChromium, shots, openUi, type UiSession } from './harness.ts';

const demo = readDemo(BUNDLED_MODELS_DIR);
/** Demo photos whose captions say "two red circles" (the showcase scenes). */
const redCircles = new Set(
  (JSON.parse(readFileSync(demo.labelled, 'utf8')) as { file: string; captions: string[] }[])
    .filter((e) => e.captions.some((c) => /\b(two|2) (small |large |little |big |tiny )?red circles\b/.test(c)))
    .map((e) => basename(e.file)),
);

describe.skipIf(!haveChromium)('first run: the demo library with the shipped trained model', () => {
  let app: App;
  let server: RunningServer;
  let page: Page;
  let problems: string[] = [];

  let ui: UiSession;
  beforeAll(async () => {
    ui = await openUi('leanlens-demo-e2e-', (d) => createApp({ dataDir: join(d, 'data'), live: true }));
    ({ app, server, page, problems } = ui);
  });

  afterAll(() => ui?.close());

  it('an empty library offers the demo', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'No folders yet' }).waitFor();
    await page.screenshot({ path: join(shots, 'first-run.png') });
    expect(await page.getByRole('button', { name: 'Try the demo library' }).isEnabled()).toBe(true);
  });

  it('one click adds the demo, switches to its trained model and finds "two red circles"', async () => {
    expect(redCircles.size).toBeGreaterThanOrEqual(3);
    await page.getByRole('button', { name: 'Try the demo library' }).click();
    await expect.poll(() => page.getByLabel('Search photos').inputValue(), { timeout: 30_000 }).toBe('two red circles');
    // Results fill in while the 120 photos are indexed; wait for indexing to finish.
    await expect.poll(async () => (await app['index.status']({})).pending, { timeout: 120_000, interval: 500 }).toBe(0);
    expect((await app['index.status']({})).model).toBe(demo.model);
    const first = () => page.locator('.tile').first().getAttribute('data-name');
    await expect.poll(async () => redCircles.has((await first()) ?? ''), { timeout: 30_000 }).toBe(true);
    // Thumbnails are made on first view: wait for the visible ones before the screenshot.
    await page.mouse.move(5, 5);
    await expect
      .poll(() => page.locator('.tile img').evaluateAll((imgs) => imgs.slice(0, 10).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)), { timeout: 30_000 })
      .toBe(true);
    await page.screenshot({ path: join(shots, 'demo-search.png') });
    // The demo's other queries are offered as chips once the box is cleared.
    await page.getByLabel('Search photos').fill('');
    await page.getByLabel('Demo searches').getByRole('button', { name: 'a yellow star' }).waitFor();
    // …and still after a reload, while the demo folder is in the library.
    await page.reload();
    await page.getByLabel('Demo searches').getByRole('button', { name: 'three green triangles' }).waitFor({ timeout: 15_000 });
    expect(problems).toEqual([]);
  });

  it('the Lab measures the shipped student against its teacher with recall on the demo captions', async () => {
    const info = (await app['library.demoInfo']({}))!;
    await page.getByRole('link', { name: 'Lab' }).click();
    // The trained teacher is the default teacher and its distilled student is ticked.
    await expect.poll(() => page.getByRole('radio', { name: `${info.model} as teacher` }).isChecked(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByRole('checkbox', { name: `Measure ${info.student}` }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Use the demo’s captions' }).click();
    expect(await page.locator('#labelled').inputValue()).toBe(info.labelled);
    // Only the pair: untick anything else the defaults picked.
    for (const box of await page.getByRole('checkbox', { name: /^Measure / }).all()) {
      const label = await box.getAttribute('aria-label');
      if (label !== `Measure ${info.student}` && (await box.isChecked())) await box.uncheck();
    }
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.getByTestId('run-progress').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByRole('button', { name: 'Run benchmark' }).isVisible(), { timeout: 150_000, interval: 500 }).toBe(true);
    const table = page.getByTestId('results-table');
    await table.waitFor();
    const recall = await table.locator('tr[data-metric="t2i-r10"] td[data-model-id] .num').allTextContents();
    expect(recall).toHaveLength(2);
    for (const r of recall) expect(Number(r)).toBeGreaterThan(0);
    const height = Math.min(4000, await page.locator('.lab-page').evaluate((el) => el.scrollHeight));
    await page.setViewportSize({ width: 1280, height });
    await page.screenshot({ path: join(shots, 'lab-demo.png') });
    expect(problems).toEqual([]);
  }, 200_000);
});
