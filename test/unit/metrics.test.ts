import { describe, expect, it } from 'vitest';
import { averageRanks, cosine, l2normalize, meanDirection, overlapAtK, pearson, recallAtK, spearman } from '../../main/core/metrics.ts';
import { TopK } from '../../main/core/ranking.ts';

describe('cosine', () => {
  it('is 1 for the same direction, -1 for opposite, 0 for orthogonal, scale-free', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [-3, 0])).toBeCloseTo(-1, 12);
    expect(cosine([1, 0], [0, 5])).toBe(0);
    expect(cosine([3, 4], [4, 3])).toBeCloseTo(24 / 25, 12);
  });
  it('is 0 against a zero vector and rejects mismatched lengths', () => {
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(() => cosine([1], [1, 2])).toThrow(/length/);
  });
  it('l2normalize gives unit vectors', () => {
    const v = l2normalize([3, 4]);
    expect(Array.from(v)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(Array.from(l2normalize([0, 0]))).toEqual([0, 0]);
  });
});

describe('recallAtK', () => {
  it('counts the relevant items found in the first k', () => {
    expect(recallAtK([1, 2, 3, 4], [1, 9, 3, 8, 2], 3)).toBe(0.5);
    expect(recallAtK([1, 2, 3, 4], [1, 9, 3, 8, 2], 5)).toBe(0.75);
    expect(recallAtK([7], [1, 2, 7], 2)).toBe(0);
    expect(recallAtK([7], [1, 2, 7], 3)).toBe(1);
  });
  it('ANN recall: |approx_k ∩ exact_k| / k, duplicates counted once, empty truth = 1', () => {
    expect(recallAtK([1, 2, 3], [3, 3, 1], 3)).toBeCloseTo(2 / 3, 12);
    expect(recallAtK([], [1], 1)).toBe(1);
  });
});

describe('overlapAtK', () => {
  it('is symmetric and measures agreement of two top-k lists', () => {
    expect(overlapAtK([1, 2, 3, 4], [4, 3, 9, 8], 4)).toBe(0.5);
    expect(overlapAtK([4, 3, 9, 8], [1, 2, 3, 4], 4)).toBe(0.5);
    expect(overlapAtK([1, 2, 3], [1, 2, 3], 2)).toBe(1);
    expect(overlapAtK([1, 2], [3, 4], 2)).toBe(0);
    expect(overlapAtK([], [], 10)).toBe(1);
    // k larger than the lists: the longer list bounds it.
    expect(overlapAtK([1, 2], [2, 1], 10)).toBe(1);
  });
});

describe('spearman', () => {
  it('is 1 for any monotone relation and -1 for a reversed one', () => {
    expect(spearman([1, 2, 3, 4], [10, 100, 1000, 10000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });
  it('matches the textbook value with ties (average ranks)', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    // Pearson of ranks [1,2.5,2.5,4] and [1,2,3,4] = 0.9486832980505138
    expect(spearman([10, 20, 20, 30], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 12);
    // Classic example: rho = 1 - 6*Σd²/(n(n²-1)) without ties.
    const x = [86, 97, 99, 100, 101, 103, 106, 110, 112, 113];
    const y = [2, 20, 28, 27, 50, 29, 7, 17, 6, 12];
    expect(spearman(x, y)).toBeCloseTo(-29 / 165, 12);
  });
  it('is NaN for a constant side, and rejects unpaired input', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(pearson([1], [1])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(/length/);
  });
});

describe('TopK', () => {
  it('keeps the best k, best first, ties by smaller id', () => {
    const t = new TopK(3);
    [[5, 0.1], [1, 0.9], [7, 0.5], [2, 0.9], [9, 0.3], [4, 0.95]].forEach(([id, s]) => t.push(id!, s!));
    expect(t.sorted()).toEqual([{ id: 4, score: 0.95 }, { id: 1, score: 0.9 }, { id: 2, score: 0.9 }]);
    expect(t.threshold).toBe(0.9);
    const big = new TopK(50);
    const scores = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    scores.forEach((s, i) => big.push(i, s));
    const want = scores.map((s, i) => ({ id: i, score: s })).sort((a, b) => b.score - a.score || a.id - b.id).slice(0, 50);
    expect(big.sorted()).toEqual(want);
    expect(new TopK(0).sorted()).toEqual([]);
  });
});

describe('meanDirection ("more like these")', () => {
  it('is the unit vector between the photos, itself for one photo, null when they cancel out', () => {
    const a = [1, 0, 0];
    const b = [0, 1, 0];
    const m = meanDirection([a, b])!;
    expect([...m].map((x) => +x.toFixed(6))).toEqual([+Math.SQRT1_2.toFixed(6), +Math.SQRT1_2.toFixed(6), 0]);
    // Equally close to both, closer to each than they are to each other.
    expect(cosine(m, a)).toBeCloseTo(cosine(m, b), 6);
    expect(cosine(m, a)).toBeGreaterThan(cosine(a, b));
    expect([...meanDirection([[0, 0.6, 0.8]])!]).toEqual([...l2normalize([0, 0.6, 0.8])]);
    expect(meanDirection([a, [-1, 0, 0]])).toBeNull();
  });
});
