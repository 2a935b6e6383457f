/**
 * Lab fidelity on real ONNX Runtime, SQLite and sharp: a model against itself agrees perfectly,
 * a different model less; on a labelled set of colour photos the colour oracle retrieves every
 * caption's own photo first.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { rmSync } from 'node:fs';
import type { LabRun } from '../../main/core/contract.ts';
import { labelledRecall, libraryFidelity } from '../../main/lab/index.ts';
import { labFixture, runAndWait, COLOUR_QUERIES, type LabFixture } from './lab-helpers.ts';

let f: LabFixture;
let run: LabRun;

beforeAll(async () => {
  f = await labFixture('leanlens-lab-fid-');
  run = await runAndWait(f.app, {
    models: ['tiny-clip', 'color-oracle'],
    teacher: 'tiny-clip',
    queries: COLOUR_QUERIES,
    labelled: f.labelled,
    k: 3,
    iterations: 2,
  });
}, 120_000);
afterAll(async () => {
  await f?.app.close();
  if (f) rmSync(f.root, { recursive: true, force: true });
});

describe('lab fidelity', () => {
  it('scores the teacher against itself as perfect agreement', () => {
    expect(run.state).toBe('done');
    const self = run.results.find((r) => r.modelId === 'tiny-clip')!;
    expect(self.error).toBeNull();
    expect(self.fidelity).toMatchObject({ k: 3, queries: 11, photos: 11, overlapAtK: 1 });
    expect(self.fidelity!.spearman).toBeCloseTo(1, 6);
    expect(self.fidelity!.cosineToParent).toMatchObject({ parent: 'tiny-clip' });
    expect(self.fidelity!.cosineToParent!.mean).toBeCloseTo(1, 5);
  });

  it('scores a different model lower, with no cosine across embedding spaces', () => {
    const other = run.results.find((r) => r.modelId === 'color-oracle')!;
    expect(other.error).toBeNull();
    expect(other.fidelity!.overlapAtK!).toBeLessThan(1);
    expect(other.fidelity!.spearman!).toBeLessThan(0.9);
    expect(other.fidelity!.cosineToParent).toBeNull();
  });

  it('measures text→image and image→text recall on a labelled set', () => {
    const oracle = run.results.find((r) => r.modelId === 'color-oracle')!;
    expect(oracle.recall).toMatchObject({ setSize: 11, captions: 22 });
    expect(oracle.recall!.t2i[1]).toBe(1);
    expect(oracle.recall!.i2t[1]).toBe(1);
    // A random-weight model does not find colours: its recall@1 is well below the oracle's.
    const tiny = run.results.find((r) => r.modelId === 'tiny-clip')!;
    expect(tiny.recall!.t2i[1]).toBeLessThan(0.5);
    expect(tiny.recall!.t2i[10]).toBeGreaterThanOrEqual(tiny.recall!.t2i[1]);
  });

  it('computes overlap, Spearman and recall from embeddings (pure maths)', () => {
    const e = (...xs: number[]) => Float32Array.from(xs);
    const photos = new Map([[1, e(1, 0)], [2, e(0, 1)], [3, e(0.7, 0.7)]]);
    const flipped = new Map([[1, e(0, 1)], [2, e(1, 0)], [3, e(0.7, 0.7)]]);
    const same = libraryFidelity({ queries: [e(1, 0)], photos }, { queries: [e(1, 0)], photos }, 1);
    expect(same).toMatchObject({ overlapAtK: 1, spearman: 1, photos: 3 });
    const reversed = libraryFidelity({ queries: [e(1, 0)], photos }, { queries: [e(1, 0)], photos: flipped }, 1);
    expect(reversed.overlapAtK).toBe(0);
    expect(reversed.spearman).toBe(-1);
    // Caption 0 belongs to image 1 but matches image 0 best: t2i@1 = 1/2, @5 = 1.
    const r = labelledRecall([e(1, 0), e(0, 1)], [e(1, 0.1), e(1, 0.2)], [0, 1]);
    expect(r.t2i[1]).toBe(0.5);
    expect(r.t2i[5]).toBe(1);
  });
});
