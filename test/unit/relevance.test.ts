import { describe, expect, it } from 'vitest';
import { DEFAULT_RELEVANCE, adaptiveCutoff, scoreSpread } from '../../main/core/relevance.ts';
import { bestFixedThreshold, fixedKs, labelledQueries, oracle, prf, topK, type Scene } from '../bench/relevance-eval.ts';

/** A library of `n` unrelated photos (scores spread around `base`) plus `matches` at `high`. */
function library(n: number, base: number, spread: number, matches: number[]): number[] {
  const scores: number[] = [];
  for (let i = 0; i < n; i++) scores.push(base + spread * Math.sin(i * 12.9898) * 0.5);
  return [...matches, ...scores];
}

describe('adaptive relevance', () => {
  it('computes median and robust spread', () => {
    const s = scoreSpread([1, 2, 3, 4, 100]);
    expect(s.median).toBe(3);
    expect(s.sigma).toBeCloseTo(1.4826, 4); // MAD = 1, the outlier does not widen it
    expect(scoreSpread([0.5, 0.5, 0.5]).sigma).toBeGreaterThan(0);
  });

  it('keeps the photos that stand out of the query\'s own distribution, whatever the absolute scores', () => {
    // Two queries on different scales: 0.31 is a strong match for one, noise for the other.
    for (const [base, high] of [
      [0.2, 0.31],
      [0.6, 0.88],
    ] as const) {
      const scores = library(500, base, 0.04, [high, high - 0.002, high - 0.004]);
      const cut = adaptiveCutoff(scores);
      expect(scores.filter((s) => s >= cut)).toHaveLength(3);
    }
  });

  it('keeps every photo far out of the bulk when a query has many matches', () => {
    const matches = Array.from({ length: 80 }, (_, i) => 0.5 - i * 0.001);
    const scores = library(1000, 0.2, 0.02, matches);
    const kept = scores.filter((s) => s >= adaptiveCutoff(scores)).length;
    expect(kept).toBeGreaterThanOrEqual(80);
    expect(kept).toBeLessThan(100);
  });

  it('always keeps the best photo, and nothing of an empty library', () => {
    const flat = library(200, 0.3, 0.01, []);
    expect(flat.filter((s) => s >= adaptiveCutoff(flat)).length).toBeGreaterThanOrEqual(1);
    expect(adaptiveCutoff([])).toBe(Infinity);
  });

  it('keeps the near ties of the best photo when the best stands only a little out of the bulk', () => {
    // A weak query: the best photo is ~2.2 σ out; a second photo 0.2 σ below it is as good a match
    // (the scores cannot tell them apart), yet sits under the band's 92.5 % of the way.
    const bulk = library(500, 0.5, 0.2, []);
    const { median, sigma } = scoreSpread(bulk);
    const best = median + 2.2 * sigma;
    const near = best - 0.2 * sigma;
    const scores = [best, near, ...bulk];
    const kept = (params = DEFAULT_RELEVANCE) => scores.filter((s) => s >= adaptiveCutoff(scores, scoreSpread(scores), params));
    expect(kept()).toEqual([best, near]);
    // Without the near-best term only the band decides, and it leaves the tie out.
    expect(kept({ ...DEFAULT_RELEVANCE, nearBest: 0 })).toEqual([best]);
  });

  it('a wide gap ends the relevant set early', () => {
    const scores = library(300, 0.2, 0.01, [0.9, 0.89, 0.5]);
    // σ ≈ 0.005 here: 0.9 → 0.89 is ~2σ, 0.89 → 0.5 is ~80σ.
    const cut = adaptiveCutoff(scores, scoreSpread(scores), { ...DEFAULT_RELEVANCE, fraction: 0.4, minGap: 10 });
    expect(scores.filter((s) => s >= cut)).toEqual([0.9, 0.89]);
    const noGap = adaptiveCutoff(scores, scoreSpread(scores), { ...DEFAULT_RELEVANCE, fraction: 0.4, minGap: Infinity });
    expect(scores.filter((s) => s >= noGap)).toHaveLength(3);
  });
});

describe('relevance evaluation (bench arithmetic)', () => {
  it('precision, recall and F1', () => {
    expect(prf(new Set([1, 2, 3, 4]), new Set([1, 2, 9]))).toEqual({ precision: 0.5, recall: 2 / 3, f1: (2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3) });
    expect(prf(new Set(), new Set([1]))).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('top-K, best fixed threshold in hindsight and the per-query oracle', () => {
    const q1 = { query: { text: 'a', kind: 'object' as const, colour: 'red', relevant: new Set([0, 1]) }, scores: [0.9, 0.8, 0.7, 0.1] };
    const q2 = { query: { text: 'b', kind: 'object' as const, colour: 'red', relevant: new Set([2]) }, scores: [0.3, 0.2, 0.6, 0.5] };
    expect([...topK(q1.scores, 2)]).toEqual([0, 1]);
    expect(fixedKs([q1, q2], [1, 2]).map((k) => k.mean.f1)).toEqual([(2 / 3 + 1) / 2, (1 + 2 / 3) / 2]);
    // At 0.6: q1 keeps {0,1,2} (F1 0.8), q2 keeps {2} (F1 1) — no single threshold does better.
    const best = bestFixedThreshold([q1, q2]);
    expect(best.mean.f1).toBeCloseTo(0.9, 6);
    expect(best.threshold).toBeGreaterThan(0.5);
    expect(best.threshold).toBeLessThanOrEqual(0.6);
    expect(oracle(q1).f1).toBe(1);
    expect(oracle(q2).f1).toBe(1);
  });

  it('makes attribute queries whose relevant photos follow the scenes', () => {
    const o = (shape: string, color: string, x: number, y: number) => ({ shape, color, size: 'small', x, y });
    const scenes: Scene[] = [
      { kind: 'group', relation: null, objects: [o('circle', 'red', 50, 50), o('circle', 'red', 150, 50)], counts: { 'red circle': 2 } },
      { kind: 'relation', relation: 'left of', objects: [o('star', 'green', 40, 100), o('heart', 'yellow', 180, 100)], counts: { 'green star': 1, 'yellow heart': 1 } },
      { kind: 'relation', relation: 'left of', objects: [o('heart', 'yellow', 40, 100), o('star', 'green', 180, 100)], counts: { 'green star': 1, 'yellow heart': 1 } },
      { kind: 'group', relation: null, objects: [o('circle', 'blue', 50, 50)], counts: { 'blue circle': 1 } },
      { kind: 'group', relation: null, objects: [o('circle', 'red', 50, 50)], counts: { 'red circle': 1 } },
      { kind: 'group', relation: null, objects: [o('circle', 'green', 50, 50)], counts: { 'green circle': 1 } },
    ];
    const qs = new Map(labelledQueries(scenes).map((q) => [q.text, q]));
    expect([...qs.get('a red circle')!.relevant]).toEqual([0, 4]);
    expect([...qs.get('two red circles')!.relevant]).toEqual([0]);
    expect([...qs.get('a green star left of a yellow heart')!.relevant]).toEqual([1]);
    expect([...qs.get('a yellow heart left of a green star')!.relevant]).toEqual([2]);
    const neg = qs.get('circles -red')!;
    expect([...neg.relevant]).toEqual([3, 5]);
    expect([...neg.excluded!]).toEqual([0, 4]);
  });
});
