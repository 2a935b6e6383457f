/**
 * The near-duplicate rules without photos: block averaging, the 64-bit DCT hash and its distance,
 * the aligned similarity (a cropped window of a picture still matches it, another picture does
 * not), and grouping by union-find at a threshold.
 */
import { describe, expect, it } from 'vitest';
import {
  THUMB_SIDE,
  alignedSimilarity,
  boxDownsample,
  hammingDistance,
  perceptualHash,
  prepareThumb,
} from '../../main/services/duplicates/perceptual.ts';
import { UnionFind, groupPairs } from '../../main/services/duplicates/grouping.ts';
import { pairsByHash } from '../../main/services/duplicates/index.ts';
import { duplicatesToCsv } from '../../main/core/duplicates-export.ts';
import { parseCsv } from '../../main/core/csv.ts';
import { mulberry32 } from '../../main/core/onnx/random.ts';
import type { DuplicatesResult, Photo } from '../../main/core/contract.ts';

const S = THUMB_SIDE;

/** A smooth random picture: a few random blobs over a gradient, as `side × side` grey bytes. */
function picture(seed: number, side = S * 4): Float64Array {
  const rand = mulberry32(seed);
  const blobs = Array.from({ length: 6 }, () => ({ x: rand(), y: rand(), r: 0.08 + 0.2 * rand(), v: 200 * rand() - 100 }));
  const out = new Float64Array(side * side);
  const tilt = rand() * 80;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let v = 100 + (tilt * y) / side;
      for (const b of blobs) {
        const d = Math.hypot(x / side - b.x, y / side - b.y);
        if (d < b.r) v += b.v * (1 - d / b.r);
      }
      out[y * side + x] = v;
    }
  }
  return out;
}

/** The `S × S` thumbnail of a window (fractions of the side) of a big picture, by point sampling. */
function thumbOf(big: Float64Array, side: number, win = { x: 0, y: 0, w: 1, h: 1 }, gain = 1): Uint8Array {
  const out = new Uint8Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const bx = Math.min(side - 1, Math.floor((win.x + (win.w * (x + 0.5)) / S) * side));
      const by = Math.min(side - 1, Math.floor((win.y + (win.h * (y + 0.5)) / S) * side));
      out[y * S + x] = Math.max(0, Math.min(255, Math.round(big[by * side + bx]! * gain)));
    }
  }
  return out;
}

describe('boxDownsample', () => {
  it('averages each block', () => {
    const grey = Uint8Array.from([0, 2, 10, 10, 4, 6, 10, 10, 1, 1, 0, 0, 1, 1, 0, 4]);
    expect([...boxDownsample(grey, 4, 2)]).toEqual([3, 10, 1, 1]);
  });
  it('refuses a size that does not divide', () => {
    expect(() => boxDownsample(new Uint8Array(9), 3, 2)).toThrow(/multiple/);
    expect(() => boxDownsample(new Uint8Array(8), 3, 3)).toThrow(/expected 9/);
  });
});

describe('perceptual hash', () => {
  const side = S * 4;
  const a = picture(1, side);
  const b = picture(2, side);
  const hash = (t: Uint8Array) => perceptualHash(t);
  const distance = (x: [number, number], y: [number, number]) => hammingDistance(x[0], x[1], y[0], y[1]);

  it('is the same for the same picture and for a uniformly brighter one', () => {
    const h = hash(thumbOf(a, side));
    expect(distance(h, hash(thumbOf(a, side)))).toBe(0);
    expect(distance(h, hash(thumbOf(a, side, undefined, 1.2)))).toBeLessThanOrEqual(4);
  });
  it('differs in many bits for another picture', () => {
    expect(distance(hash(thumbOf(a, side)), hash(thumbOf(b, side)))).toBeGreaterThan(14);
  });
  it('counts differing bits across both halves', () => {
    expect(hammingDistance(0, 0, 0xffffffff, 0)).toBe(32);
    expect(hammingDistance(0b1011, 0x80000000, 0, 0)).toBe(4);
    expect(hammingDistance(0x0f0f0f0f, 0xf0f0f0f0, 0x0f0f0f0f, 0xf0f0f0f0)).toBe(0);
  });
});

describe('aligned similarity', () => {
  const side = S * 4;
  it('matches a 10 % crop at an odd place with its picture, either way round', () => {
    const a = picture(3, side);
    const whole = prepareThumb(thumbOf(a, side));
    const crop = prepareThumb(thumbOf(a, side, { x: 0.07, y: 0.02, w: 0.9, h: 0.92 }));
    expect(alignedSimilarity(whole, crop)).toBeGreaterThan(0.95);
    expect(alignedSimilarity(crop, whole)).toBeGreaterThan(0.95);
  });
  it('keeps distinct pictures apart, even after searching for the best window', () => {
    for (const [s, t] of [
      [4, 5],
      [6, 7],
      [8, 9],
    ]) {
      const x = prepareThumb(thumbOf(picture(s!, side), side));
      const y = prepareThumb(thumbOf(picture(t!, side), side));
      expect(alignedSimilarity(x, y)).toBeLessThan(0.9);
    }
  });
  it('ignores a change of brightness and contrast', () => {
    const a = picture(10, side);
    expect(alignedSimilarity(prepareThumb(thumbOf(a, side)), prepareThumb(thumbOf(a, side, undefined, 0.7)))).toBeGreaterThan(0.99);
  });
  it('treats flat pictures as alike only when equal', () => {
    const grey = (v: number) => prepareThumb(new Uint8Array(S * S).fill(v));
    expect(alignedSimilarity(grey(80), grey(80))).toBe(1);
    expect(alignedSimilarity(grey(80), grey(200))).toBe(0);
  });
});

describe('grouping', () => {
  it('joins chains of pairs into one group (union-find)', () => {
    const groups = groupPairs(
      [
        { a: 1, b: 2, similarity: 0.99 },
        { a: 2, b: 3, similarity: 0.95 },
        { a: 7, b: 8, similarity: 0.97 },
      ],
      0.9,
    );
    expect(groups.map((g) => [...g.ids].sort((x, y) => x - y)).sort((x, y) => x[0]! - y[0]!)).toEqual([
      [1, 2, 3],
      [7, 8],
    ]);
    const g = groups.find((x) => x.ids.includes(2))!;
    expect(g.similarity.get(2)).toBe(0.99);
    expect(g.similarity.get(3)).toBe(0.95);
  });
  it('leaves out pairs below the threshold, so a weak link does not merge two groups', () => {
    const groups = groupPairs(
      [
        { a: 1, b: 2, similarity: 0.99 },
        { a: 2, b: 3, similarity: 0.85 },
        { a: 3, b: 4, similarity: 0.98 },
      ],
      0.9,
    );
    expect(groups.map((g) => g.ids.length).sort()).toEqual([2, 2]);
    expect(groupPairs([{ a: 1, b: 2, similarity: 0.85 }], 0.9)).toEqual([]);
  });
  it('union-find keeps sets disjoint under any order of unions', () => {
    const u = new UnionFind();
    const rand = mulberry32(42);
    const edges = Array.from({ length: 200 }, () => [Math.floor(rand() * 100), Math.floor(rand() * 100)] as const);
    for (const [a, b] of edges) u.union(a, b);
    const sets = u.sets();
    const seen = new Set<number>();
    for (const s of sets) for (const x of s) {
      expect(seen.has(x)).toBe(false);
      seen.add(x);
    }
    for (const [a, b] of edges) if (a !== b) expect(u.find(a)).toBe(u.find(b));
  });
});

describe('pairs proposed by the hash', () => {
  const fp = (photoId: number, hashHi: number) => ({ photoId, hashHi, hashLo: 0, thumb: new Uint8Array(0) });
  // A = 0; B 2 bits from A; C 4 bits from A and 6 from B.
  const fps = [fp(1, 0), fp(2, 0b11), fp(3, 0b111100)];
  it('proposes pairs within the radius only', async () => {
    expect(await pairsByHash(fps, 3)).toEqual([[0, 1]]);
    expect((await pairsByHash(fps, 6)).sort()).toEqual([[0, 1], [0, 2], [1, 2]]);
  });
  it('keeps only each photo’s nearest ones', async () => {
    // Nearest one each: A→B, B→A, C→A; B–C is never compared.
    expect((await pairsByHash(fps, 6, undefined, 1)).sort()).toEqual([[0, 1], [0, 2]]);
  });
});

describe('duplicates export', () => {
  it('writes one CSV row per photo, quoting paths with commas', () => {
    const photo = (id: number, path: string): Photo => ({
      id, folderId: 1, path, name: path, size: 1000 * id, mtimeMs: 0, width: 640, height: 480, takenAt: Date.UTC(2024, 4, 1),
      takenAtSource: 'exif', camera: null, format: 'jpeg', status: 'indexed', error: null,
    });
    const result: DuplicatesResult = {
      groups: [{ id: 1, photos: [{ photo: photo(1, '/p/a, b.jpg'), similarity: 0.99 }, { photo: photo(2, '/p/c.png'), similarity: 0.99 }] }],
      similarity: 0.9, photos: 2, pairsCompared: 1, unreadable: [], modelId: null, tookMs: 1,
    };
    const rows = parseCsv(duplicatesToCsv(result));
    expect(rows[0]).toEqual(['group', 'position', 'path', 'size_bytes', 'width', 'height', 'taken_at', 'format', 'similarity']);
    expect(rows[1]).toEqual(['1', '1', '/p/a, b.jpg', '1000', '640', '480', '2024-05-01T00:00:00.000Z', 'jpeg', '0.99']);
    expect(rows).toHaveLength(3);
  });
});
