/**
 * dotBlob (search service) scores a stored vector in place instead of copying it (issue 15 §1: the
 * copies were 2 MB of garbage per folder-of-1,000 query). In place or through its fallback copy for a
 * Buffer at an unaligned offset, the score must be the one a copy gives, to the bit.
 */
import { describe, expect, it } from 'vitest';
import { dot, dotBlob } from '../../main/services/search/index.ts';
import { blobToVector } from '../../main/services/ann/index.ts';
import { prng, randomUnitVector } from '../fixtures/vector-db.ts';

describe('dotBlob', () => {
  it('gives the same score as scoring a copy, aligned or not, and -Infinity for another width', () => {
    const rand = prng(7);
    const query = randomUnitVector(512, rand);
    for (let i = 0; i < 20; i++) {
      const v = randomUnitVector(512, rand);
      const aligned = Buffer.from(new Uint8Array(v.buffer).slice()); // its own memory, as better-sqlite3 returns a blob
      const slab = Buffer.alloc(v.byteLength + 3);
      aligned.copy(slab, 1 + (i % 3));
      const unaligned = slab.subarray(1 + (i % 3), 1 + (i % 3) + v.byteLength);
      const want = dot(blobToVector(aligned, 512), query);
      expect(dotBlob(aligned, query)).toBe(want);
      expect(dotBlob(unaligned, query)).toBe(want);
      expect(Object.is(dotBlob(aligned, query), dot(v, query))).toBe(true);
    }
    expect(dotBlob(Buffer.alloc(256 * 4), query)).toBe(-Infinity);
  });
});
