/**
 * The Lab panel as a person uses it, in Debian's Chromium against the headless server, on a real
 * app with a small library of generated colour photos and the bundled tiny-clip and color-oracle
 * models: make an fp16 variant of tiny-clip from the panel, benchmark it and color-oracle against
 * tiny-clip (progress, table, SVG charts), compare one query side by side, cancel a run, and switch
 * search to the variant. Screenshots, light and dark, go to test-results/screenshots/lab-*.png.
 * The renderer build check and the paths come from ./harness.ts, shared with browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createApp } from '../../main/app/index.ts';
import type { App } from '../../main/app/index.ts';
import type { RunningServer } from '../../main/server/index.ts';
import { CHROMIUM, bundledModelsWithout, haveChromium, shots, openUi, type UiSession } from './harness.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { paretoFront } from '../../renderer/src/components/lab/metrics.ts';

if (!haveChromium) console.warn(`skipping lab browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);


describe.skipIf(!haveChromium)('the Lab panel in a browser (headless server, real app, tiny-clip + color-oracle)', () => {
  let app: App;
  let server: RunningServer;
  let page: Page;
  let problems: string[] = [];
  let variantId = '';

  let ui: UiSession;
  beforeAll(async () => {
    ui = await openUi(
      'leanlens-e2e-lab-',
      async (d) => {
        const photos = join(d, 'photos');
        await writeColourLibrary(photos);
        // Only the bundled test models (no trained ShapesWorld pair, no catalog of downloadable real
        // models, whose roles are teacher/student): the panel's "no teachers yet" state.
        const a = await createApp({ dataDir: join(d, 'data'), modelsDir: bundledModelsWithout(/^shapesworld-|^clip-vit-b32|^mobileclip-/, join(d, 'models')) });
        await a['folders.add']({ path: photos });
        await a.sync(); // indexed with the active model (color-oracle), so search and compare have photos
        return a;
      },
      { acceptDownloads: true },
    );
    ({ app, server, page, problems } = ui);
  });

  afterAll(() => ui?.close());

  /** Light and dark, at the panel's full height (the view scrolls inside the window). */
  async function shoot(name: string, fullHeight = true) {
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    const height = fullHeight ? Math.min(4000, await page.locator('.lab-page').evaluate((el) => el.scrollHeight)) : 800;
    await page.setViewportSize({ width: 1280, height: Math.max(800, height) });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: join(shots, `lab-${name}-${scheme}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  const row = (id: string) => page.locator(`[data-testid="lab-model"][data-model-id="${id}"]`);

  it('opens the Lab from the sidebar and lists the bundled models, explaining where teachers and students come from', async () => {
    await page.goto(server.url);
    await page.getByRole('link', { name: 'Lab' }).click();
    await expect.poll(() => page.url()).toContain('#/lab');
    await row('tiny-clip').waitFor();
    await row('color-oracle').waitFor();
    const listed = (await app['lab.models']({})).filter((m) => m.installed).map((m) => m.id).sort();
    expect(await page.locator('[data-testid="lab-model"]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.modelId).sort())).toEqual(listed);
    // Both bundled models have the role "other": the panel says how to get real teachers/students.
    expect(await page.getByTestId('no-roles').textContent()).toMatch(/npm run bench[\s\S]*models import[\s\S]*distillation/);
    // The larger one is the default teacher.
    expect(await page.getByRole('radio', { name: 'tiny-clip as teacher' }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Measure tiny-clip' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Run benchmark' }).isDisabled()).toBe(true);
    await shoot('empty', false);
  });

  it('makes an fp16 variant of tiny-clip from the panel; it appears with its lineage and joins the benchmark', async () => {
    await page.getByLabel('Source model').selectOption('tiny-clip');
    await page.getByRole('radio', { name: 'fp16' }).check();
    await page.getByRole('button', { name: 'Make variant' }).click();
    const made = page.getByTestId('made-variant');
    await made.waitFor({ timeout: 30_000 });
    variantId = (await made.locator('.mono').first().textContent())!.trim();
    expect(variantId).toMatch(/^tiny-clip.*fp16/);
    await row(variantId).waitFor();
    expect(await row(variantId).textContent()).toContain('fp16 of tiny-clip');
    expect(await page.getByRole('checkbox', { name: `Measure ${variantId}` }).isChecked()).toBe(true);
    const info = (await app['lab.models']({})).find((m) => m.id === variantId);
    expect(info?.lineage).toMatchObject({ parent: 'tiny-clip', transform: 'fp16' });
  });

  it('benchmarks the variant and color-oracle against tiny-clip: progress, then the table and the SVG charts', async () => {
    await page.getByRole('checkbox', { name: 'Measure color-oracle' }).check();
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.getByTestId('run-progress').waitFor({ timeout: 10_000 });
    expect(await page.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);
    const table = page.getByTestId('results-table');
    // Three models on a shared 2-core machine: the run can take minutes when other work competes.
    await expect.poll(() => page.getByRole('button', { name: 'Run benchmark' }).isVisible(), { timeout: 170_000, interval: 250 }).toBe(true);
    await table.waitFor();
    const [run] = await app['lab.results']({});
    expect(run!.state).toBe('done');
    // One column per model, teacher first; every speed/size cell filled with a number.
    const heads = await table.locator('thead th[data-model-id]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.modelId));
    expect(heads).toEqual(['tiny-clip', variantId, 'color-oracle']);
    for (const metric of ['disk', 'memory', 'img1', 'img8', 'text50', 'query50', 'overlap', 'spearman']) {
      const cells = await table.locator(`tr[data-metric="${metric}"] td[data-model-id] .num`).allTextContents();
      expect(cells, metric).toHaveLength(3);
      for (const c of cells) expect(c, `${metric}: ${cells}`).toMatch(/^\d[\d,]*(\.\d+)?$/);
    }
    // Ratios against the teacher, and the paper's disk ratio.
    expect(await table.locator(`tr[data-metric="disk"] td[data-model-id="${variantId}"] .ratio`).textContent()).toMatch(/^0\.\d\d×$/);
    expect(await table.locator('tr[data-metric="disk"] .paper-col').textContent()).toBe('0.43×');
    const machine = await page.getByTestId('machine').textContent();
    expect(machine).toContain(run!.machine.cpu);
    expect(machine).toMatch(/CPU/);
    expect(machine).toContain(`Threads${run!.machine.threads}`);

    // Charts: plain SVG with a dot per model, the Pareto line, bars and the paper's reference lines.
    expect(await page.locator('[data-testid="chart-scatter"] .pt').count()).toBe(3);
    expect(await page.getByTestId('pareto-region').count()).toBe(1);
    expect(await page.getByTestId('paper-point').count()).toBe(1);
    expect(await page.locator('[data-testid="chart-throughput"] rect.bar').count()).toBe(6);
    expect(await page.locator('[data-testid="chart-latency"] rect.bar').count()).toBe(6);
    expect(await page.locator('[data-testid="chart-memory"] rect.bar').count()).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('chart-throughput-reference').count()).toBe(1);
    expect(await page.getByTestId('chart-latency-reference').count()).toBe(1);
    // The dots on the front are the models nothing smaller matches in overlap; a line joins two or more.
    const expected = paretoFront(run!.results.map((r) => ({ id: r.modelId, size: r.diskBytes, fidelity: r.fidelity!.overlapAtK! }))).map((p) => p.id);
    const onFront = await page.locator('[data-testid="chart-scatter"] .pt[data-front="true"]').evaluateAll((els) => els.map((e) => (e as SVGElement).dataset.modelId));
    expect(onFront.sort()).toEqual([...expected].sort());
    expect(await page.getByTestId('pareto-line').count()).toBe(expected.length > 1 ? 1 : 0);

    // Export: the browser receives the run as a file.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'CSV' }).click();
    expect((await download).suggestedFilename()).toBe(`leanlens-lab-run-${run!.id}.csv`);
    await shoot('results');
  }, 180_000);

  it('compares one query side by side; photos only one model returned are marked', async () => {
    await page.getByLabel('Teacher to compare').selectOption('tiny-clip');
    await page.getByLabel('Student to compare').selectOption('color-oracle');
    await page.getByLabel('Results per model').selectOption('6');
    await page.getByLabel('Query to compare').fill('red');
    await page.getByRole('button', { name: 'Compare' }).click();
    const teacher = page.getByTestId('compare-teacher');
    const student = page.getByTestId('compare-student');
    await student.locator('.compare-tile').first().waitFor({ timeout: 60_000 });
    expect(await teacher.locator('.compare-tile').count()).toBeGreaterThan(0);
    // color-oracle puts the red photo first.
    expect(await student.locator('.compare-tile').first().getAttribute('data-name')).toBe('red.jpg');
    const c = await app['lab.compare']({ teacher: 'tiny-clip', student: 'color-oracle', text: 'red', limit: 6 });
    expect(await page.getByTestId('compare-overlap').textContent()).toContain(`${Math.round(c.overlap * 100)}%`);
    const marked = await page.locator('.compare-tile.only').count();
    expect(marked).toBeGreaterThan(0); // 6 of 11 colour photos: random tiny-clip and color-oracle disagree somewhere
    expect(marked).toBe(c.teacher.hits.filter((h) => h.onlyHere).length + c.student.hits.filter((h) => h.onlyHere).length);
    await page.getByTestId('compare').scrollIntoViewIfNeeded();
    await shoot('compare');
  });

  it('cancels a run from the panel', async () => {
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.getByTestId('run-progress').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Run benchmark' }).isVisible(), { timeout: 30_000, interval: 250 }).toBe(true);
    const [latest] = await app['lab.results']({});
    expect(latest!.state).toBe('cancelled');
    // The panel reloads its runs after the run's end event: under load that comes a moment after
    // the button is back, so wait for it rather than read the previous run's card.
    await expect.poll(() => page.getByTestId('machine').textContent(), { timeout: 10_000, interval: 250 }).toContain('cancelled');
    expect(await page.getByLabel('Benchmark run').inputValue()).toBe(String(latest!.id));
  });

  it('uses the variant for search from the panel', async () => {
    await row(variantId).getByRole('button', { name: `Use for search: ${variantId}` }).click();
    await expect.poll(async () => (await app['models.list']({})).find((m) => m.active)?.id, { timeout: 20_000 }).toBe(variantId);
    await expect.poll(() => row(variantId).textContent(), { timeout: 20_000 }).toContain('in use');
  });

  it('had no script errors and no Content-Security-Policy violations', () => {
    expect(problems).toEqual([]);
  });
});
