/** The Lab panel's pure helpers: the Pareto front of size vs fidelity, ratios and their tone, axis ticks. */
import { describe, expect, it } from 'vitest';
import { PAPER, fmtRatio, lineageText, niceTicks, paretoFront, ratio, ratioTone } from '../../renderer/src/components/lab/metrics.ts';

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
