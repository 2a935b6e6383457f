/**
 * The lab runner end to end on a real app: a variant made through lab.variant and measured
 * against its parent (speed, memory, disk, fidelity, cosine to the parent), the library staying
 * searchable meanwhile, results stored and exported as CSV/JSON, and cancellation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { rmSync } from 'node:fs';
import type { LabProgress, LabRun } from '../../main/core/contract.ts';
import { CSV_COLUMNS, parseCsv } from '../../main/lab/index.ts';
import { labFixture, runAndWait, COLOUR_QUERIES, type LabFixture } from './lab-helpers.ts';

let f: LabFixture;
let run: LabRun;
let variantId: string;
let searchedDuringRun: string | null = null;

beforeAll(async () => {
  f = await labFixture('leanlens-lab-bench-');
  await f.app.sync(); // the library indexed with the active model (color-oracle)
  const variant = await f.app['lab.variant']({ model: 'tiny-clip', spec: { kind: 'int8', mode: 'weight-only' } });
  variantId = variant.id;
  // The active model (color-oracle, the fallback) must answer searches while the lab works.
  const off = f.app.on('lab.progress', (p) => {
    if (p.stage === 'vectors' && searchedDuringRun === null) {
      searchedDuringRun = 'pending';
      void f.app['search.text']({ text: 'red', limit: 1 }).then((r) => (searchedDuringRun = r.hits[0]?.photo.name ?? 'none'));
    }
  });
  run = await runAndWait(f.app, { models: [variantId], teacher: 'tiny-clip', queries: COLOUR_QUERIES, k: 5, iterations: 2 });
  off();
}, 150_000);
afterAll(async () => {
  await f?.app.close();
  if (f) rmSync(f.root, { recursive: true, force: true });
});

describe('lab runner', () => {
  it('measures the teacher and the variant with every figure, on the same machine', () => {
    expect(run.state).toBe('done');
    expect(run.models).toEqual(['tiny-clip', variantId]);
    expect(run.machine.cores).toBeGreaterThan(0);
    expect(run.machine.cpu).not.toBe('');
    expect(run.machine.provider).toBe('cpu');
    for (const r of run.results) {
      expect(r.error, r.modelId).toBeNull();
      expect(r.diskBytes).toBeGreaterThan(0);
      expect(r.loadMs.image).toBeGreaterThan(0);
      expect(r.loadMs.text).toBeGreaterThan(0);
      expect(r.peakRssBytes!).toBeGreaterThan(r.baselineRssBytes!);
      expect(r.imagesPerSecBatch1!).toBeGreaterThan(0);
      expect(r.imagesPerSecBatch8!).toBeGreaterThan(0);
      expect(r.textLatencyMs!.p95).toBeGreaterThanOrEqual(r.textLatencyMs!.p50);
      expect(r.queryLatencyMs!.p50).toBeGreaterThan(0);
      expect(r.execution!.threads).toBe(run.machine.threads);
    }
  });

  it('gives the int8 variant its lineage, a smaller file and embeddings close to its parent', () => {
    const [teacher, variant] = run.results as [LabRun['results'][0], LabRun['results'][0]];
    expect(variant.lineage).toMatchObject({ parent: 'tiny-clip', transform: 'int8' });
    expect(variant.diskBytes).toBeLessThan(teacher.diskBytes);
    expect(variant.fidelity!.cosineToParent!.parent).toBe('tiny-clip');
    expect(variant.fidelity!.cosineToParent!.image!).toBeGreaterThan(0.95);
    expect(variant.fidelity!.cosineToParent!.text!).toBeGreaterThan(0.95);
    expect(variant.fidelity!.photos).toBe(11);
    expect(variant.fidelity!.overlapAtK!).toBeGreaterThan(0.5);
  });

  it('builds the vectors under each model id while the active model stays searchable', () => {
    expect(searchedDuringRun).toBe('red.jpg');
  });

  it('stores the run and exports it as CSV and JSON that parse back', async () => {
    const [stored] = await f.app['lab.results']({ runId: run.id });
    expect(stored).toEqual(run);
    expect((await f.app['lab.results']({})).map((r) => r.id)).toContain(run.id);
    const json = JSON.parse(await f.app['lab.export']({ runId: run.id, format: 'json' })) as LabRun;
    expect(json.results.map((r) => r.modelId)).toEqual(['tiny-clip', variantId]);
    const rows = parseCsv(await f.app['lab.export']({ runId: run.id, format: 'csv' }));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(3);
    const col = (name: (typeof CSV_COLUMNS)[number]) => rows[0]!.indexOf(name);
    expect(rows[2]![col('model_id')]).toBe(variantId);
    expect(Number(rows[2]![col('disk_bytes')])).toBe(run.results[1]!.diskBytes);
    expect(Number(rows[2]![col('cosine_image')])).toBeCloseTo(run.results[1]!.fidelity!.cosineToParent!.image!, 9);
    expect(rows[1]![col('overlap_at_k')]).toBe('1');
    expect(rows[1]![col('cpu')]).toBe(run.machine.cpu);
  });

  it('stops a run when cancelled and records it as cancelled', async () => {
    const seen: LabProgress[] = [];
    let runId = -1;
    const off = f.app.on('lab.progress', (p) => {
      seen.push(p);
      if (p.runId === runId && p.stage === 'speed' && p.done === 0) void f.app['lab.cancel']({ runId });
    });
    const started = f.app['lab.run']({ models: ['tiny-clip', 'color-oracle', variantId], teacher: 'tiny-clip', queries: COLOUR_QUERIES, iterations: 50 });
    runId = (await started).runId;
    while (!seen.some((p) => p.runId === runId && ['done', 'failed', 'cancelled'].includes(p.stage))) await new Promise((r) => setTimeout(r, 50));
    off();
    const [r] = await f.app['lab.results']({ runId });
    expect(r!.state).toBe('cancelled');
    expect(r!.results.length).toBeLessThan(3);
    expect(await f.app['lab.cancel']({ runId })).toEqual({ cancelled: false });
  }, 60_000);

  it('refuses unknown models with not-found', async () => {
    await expect(f.app['lab.run']({ models: ['no-such-model'], teacher: 'tiny-clip' })).rejects.toMatchObject({ code: 'not-found' });
  });
});
