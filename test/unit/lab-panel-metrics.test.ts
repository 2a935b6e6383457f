/** The Lab panel's pure helpers: the Pareto front of size vs fidelity, ratios and their tone, axis ticks. */
import { describe, expect, it } from 'vitest';
import { PAPER, distinctLabels, fmtRatio, lineageText, metrics, modelTag, niceTicks, paretoFront, ratio, ratioTone, stageCount } from '../../renderer/src/components/lab/metrics.ts';

describe('Lab panel metrics', () => {
  it('keeps only non-dominated points (smaller and more faithful is better), ordered by size', () => {
    const pts = [
      { id: 'teacher', size: 600, fidelity: 1 },
      { id: 'int8', size: 150, fidelity: 0.97 },
      { id: 'fp16', size: 300, fidelity: 0.999 },
      { id: 'worse-fp16', size: 310, fidelity: 0.95 }, // dominated by fp16
      { id: 'tiny', size: 100, fidelity: 0.6 },
      { id: 'same-size-worse', size: 150, fidelity: 0.9 }, // same size as int8, less faithful
    ];
    expect(paretoFront(pts).map((p) => p.id)).toEqual(['tiny', 'int8', 'fp16', 'teacher']);
    // A smaller model as faithful as the teacher dominates it.
    expect(paretoFront([{ id: 't', size: 3, fidelity: 1 }, { id: 'v', size: 1.7, fidelity: 1 }]).map((p) => p.id)).toEqual(['v']);
    expect(paretoFront([])).toEqual([]);
  });

  it('colours a ratio by whether its direction is better for that figure', () => {
    expect(ratio(43, 100)).toBeCloseTo(0.43);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 1)).toBeNull();
    expect(ratioTone(0.43, 'lower')).toBe('good');
    expect(ratioTone(0.43, 'higher')).toBe('bad');
    expect(ratioTone(1.51, 'higher')).toBe('good');
    expect(ratioTone(1.01, 'higher')).toBe('neutral');
    expect(fmtRatio(PAPER.disk)).toBe('0.43×');
    expect(fmtRatio(PAPER.queryLatency)).toBe('0.36×');
    expect(lineageText({ parent: 'vitb32-shaped', transform: 'int8', params: {} })).toBe('int8 of vitb32-shaped');
  });

  it('gives axis ticks from 0 that cover the maximum', () => {
    for (const max of [0.7, 3.3, 44.8, 798, 12345]) {
      const t = niceTicks(max, 4);
      expect(t.ticks[0]).toBe(0);
      expect(t.max).toBeGreaterThanOrEqual(max);
      expect(t.ticks.at(-1)).toBeCloseTo(t.max);
      expect(t.ticks.length).toBeLessThanOrEqual(6);
    }
  });
});

describe('Lab labels at any width', () => {
  it('shortens long model ids without two of them becoming the same string', () => {
    const ids = ['tiny-clip-fp16-1a2b3c', 'tiny-clip-fp16-9z8y7x', 'tiny-clip', 'color-oracle'];
    const short = distinctLabels(ids, 14);
    expect(new Set(short).size).toBe(ids.length);
    for (const s of short) expect(s.length).toBeLessThanOrEqual(14);
    expect(short[2]).toBe('tiny-clip');
    // The plain head-truncation used before made the first two identical.
    expect(ids[0]!.slice(0, 13)).toBe(ids[1]!.slice(0, 13));
  });
  it('says what a stage counts, and tags variants by their transform', () => {
    expect(stageCount('vectors', 12, 120)).toBe('12 / 120 photos');
    expect(stageCount('speed', 1, 3)).toBe('1 / 3 models');
    expect(stageCount('fidelity', 0, 0)).toBe('');
    expect(modelTag({ role: 'student', lineage: { parent: 'tiny-clip', transform: 'fp16' } as never })).toBe('fp16');
    expect(modelTag({ role: 'teacher', lineage: null })).toBe('teacher');
    expect(modelTag({ role: 'other', lineage: null })).toBeNull();
  });
  it('compares the paper only where it measured: throughput at batch 8, not batch 1', () => {
    const byKey = new Map(metrics(10).map((m) => [m.key, m]));
    expect(byKey.get('img8')!.paper).toBe(PAPER.imageThroughput);
    expect(byKey.get('img1')!.paper).toBeUndefined();
  });
});
