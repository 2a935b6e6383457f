// Pure maths of the lab: quantizers, SVD, variant ids, and the HAWQ knapsack against brute force.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../main/core/onnx/random.ts';
import { chooseUnderBudget, paretoFrontier, type CandidateTable } from '../../main/lab/mixed-precision/pareto.ts';
import {
  dequantizeInt4, dequantizeInt8, quantizedBytes, quantizeInt4, quantizeInt8, symmetricEigen, truncatedSvd, variantFileName, variantId,
} from '../../main/lab/transforms/index.ts';

const rng = new SeededRandom(7);

describe('int8 quantizer', () => {
  it('per-channel symmetric: error within half a step per column, zero point 0', () => {
    const K = 20, N = 6;
    const w = rng.normals(K * N, 1);
    for (let k = 0; k < K; k++) w[k * N + 2]! *= 100; // one loud column must not coarsen the others
    const q = quantizeInt8(w, [K, N], 1, true);
    expect(q.q).toBeInstanceOf(Int8Array);
    expect([...q.zeroPoint]).toEqual(new Array(N).fill(0));
    const back = dequantizeInt8(q, [K, N], 1);
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(q.scale[i % N]! / 2 + 1e-6);
    expect(q.scale[2]! / q.scale[0]!).toBeGreaterThan(20);
  });
  it('asymmetric: uint8, 0 is exact, all-positive columns use the full range', () => {
    const w = Float32Array.from([0, 1, 2, 3, 0.5, 2.5, 0, 0]); // [4, 2]
    const q = quantizeInt8(w, [4, 2], 1, false);
    expect(q.q).toBeInstanceOf(Uint8Array);
    const back = dequantizeInt8(q, [4, 2], 1);
    expect(back[0]).toBe(0);
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(q.scale[i % 2]! / 2 + 1e-6);
  });
  it('Conv layout: channel axis 0', () => {
    const w = rng.normals(4 * 3 * 2 * 2, 1);
    const q = quantizeInt8(w, [4, 3, 2, 2], 0, true);
    expect(q.scale.length).toBe(4);
    const back = dequantizeInt8(q, [4, 3, 2, 2], 0);
    for (let i = 0; i < w.length; i++) expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(q.scale[Math.floor(i / 12)]! / 2 + 1e-6);
  });
});

describe('int4 quantizer (MatMulNBits layout)', () => {
  it('round-trips within half a step per block, pads K with exact zeros', () => {
    const K = 40, N = 3; // K not a multiple of the block: the last block is padded
    const w = rng.normals(K * N, 1);
    const q = quantizeInt4(w, K, N, 32);
    expect(q.kBlocks).toBe(2);
    expect(q.packed.length).toBe(N * 2 * 16);
    const back = dequantizeInt4(q, K, N);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) {
      const s = q.scales[n * 2 + Math.floor(k / 32)]!;
      expect(Math.abs(back[k * N + n]! - w[k * N + n]!)).toBeLessThanOrEqual(s / 2 + 1e-6);
    }
    // Padding nibbles hold the zero point 8.
    expect(q.packed[(0 * 2 + 1) * 16 + 15]).toBe(0x88);
    expect(quantizedBytes({ dims: [K, N], axis: 1, matmul: true }, 4)).toBe(N * 2 * 16 + 4 * N * 2);
  });
});

describe('SVD', () => {
  function randomRank(m: number, n: number, r: number): Float32Array {
    const u = rng.normals(m * r, 1), v = rng.normals(r * n, 1);
    const w = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += u[i * r + k]! * v[k * n + j]!;
      w[i * n + j] = s;
    }
    return w;
  }
  function relError(w: Float32Array, a: Float32Array, b: Float32Array, m: number, n: number, r: number): number {
    let num = 0, den = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += a[i * r + k]! * b[k * n + j]!;
      num += (s - w[i * n + j]!) ** 2;
      den += w[i * n + j]! ** 2;
    }
    return Math.sqrt(num / den);
  }
  it('symmetric eigen-decomposition: A v = λ v', () => {
    const n = 12, x = rng.normals(n * n, 1), a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = x[i * n + j]! + x[j * n + i]!;
    const { values, vectors } = symmetricEigen(a, n);
    for (let e = 0; e < n; e++) for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i * n + j]! * vectors[e * n + j]!;
      expect(s).toBeCloseTo(values[e]! * vectors[e * n + i]!, 9);
    }
    for (let e = 1; e < n; e++) expect(values[e]!).toBeLessThanOrEqual(values[e - 1]!);
  });
  it.each([[60, 40, 5], [40, 90, 7]])('a rank-r %ix%i matrix (r=%i) is reproduced exactly by the full method', (m, n, r) => {
    const w = randomRank(m, n, r);
    const f = truncatedSvd(w, m, n, { energy: 0.999999 });
    expect(f.rank).toBe(r);
    expect(relError(w, f.a, f.b, m, n, f.rank)).toBeLessThan(1e-4);
  });
  it('a rank-r matrix is reproduced exactly at rank r by the randomized method', () => {
    const m = 200, n = 300, r = 6;
    const w = randomRank(m, n, r);
    const f = truncatedSvd(w, m, n, { rank: r });
    expect(f.rank).toBe(r);
    expect(relError(w, f.a, f.b, m, n, r)).toBeLessThan(1e-4);
    expect(f.energy).toBeGreaterThan(0.9999);
  });
  it('a lower rank than the matrix has keeps the top singular directions (Eckart–Young)', () => {
    const m = 50, n = 30;
    const w = randomRank(m, n, 10);
    const f = truncatedSvd(w, m, n, { rank: 4 });
    const s2 = Array.from(f.singularValues, (s) => s * s);
    const total = s2.reduce((a, b) => a + b, 0);
    const expected = Math.sqrt(s2.slice(4).reduce((a, b) => a + b, 0) / total);
    expect(relError(w, f.a, f.b, m, n, 4)).toBeCloseTo(expected, 4);
  });
});

describe('variant ids', () => {
  it('name the precision', () => {
    expect(variantId('vitb32-shaped', { kind: 'int8', mode: 'weight-only' })).toBe('vitb32-shaped-int8');
    expect(variantId('m', { kind: 'int8', mode: 'dynamic', symmetric: false })).toBe('m-int8-dynamic-asym');
    expect(variantId('m', { kind: 'fp16' })).toBe('m-fp16');
    expect(variantId('m', { kind: 'lowrank', energy: 0.95 })).toBe('m-lowrank-e95');
    expect(variantFileName('image', { kind: 'int8', mode: 'weight-only' })).toBe('image_int8.onnx');
    expect(variantFileName('text', { kind: 'lowrank', rank: 64 })).toBe('text_lowrank_r64.onnx');
    const a = variantId('m', { kind: 'mixed', bits: { x: 4, y: 8 } }), b = variantId('m', { kind: 'mixed', bits: { y: 8, x: 4 } });
    expect(a).toBe(b);
    expect(a).toMatch(/^m-mixed-6\.0b-[0-9a-f]{6}$/);
    expect(variantId('m', { kind: 'mixed', bits: { x: 8, y: 4 } })).not.toBe(a);
  });
});

describe('budgeted choice (multiple-choice knapsack)', () => {
  const table: CandidateTable = {
    fixedBytes: 1000,
    weights: Array.from({ length: 6 }, (_, i) => ({
      name: `w${i}`, params: 100 * (i + 1), trace: 10 ** (i % 3 - 1),
      options: ([4, 8, 16, 32] as const).map((bits) => ({ bits, bytes: Math.round((100 * (i + 1) * bits) / 8 + (bits < 16 ? 37 : 0)), error: 4 ** (-bits / 4) * (i + 1), omega: 10 ** (i % 3 - 1) * 4 ** (-bits / 4) * (i + 1) })),
    })),
  };
  function brute(budget: number): number {
    let best = Infinity;
    const rec = (i: number, bytes: number, omega: number) => {
      if (bytes > budget) return;
      if (i === table.weights.length) { best = Math.min(best, omega); return; }
      for (const o of table.weights[i]!.options) rec(i + 1, bytes + o.bytes, omega + o.omega);
    };
    rec(0, table.fixedBytes, 0);
    return best;
  }
  it.each([2500, 4000, 6000, 9000])('matches brute force under a budget of %i bytes', (budget) => {
    const pick = chooseUnderBudget(table, budget, { resolution: 200000 });
    expect(pick.bytes).toBeLessThanOrEqual(budget);
    expect(pick.omega).toBeCloseTo(brute(budget), 10);
    expect(pick.spec.kind).toBe('mixed');
  });
  it('frontier is monotone: bigger means lower Ω', () => {
    const front = paretoFrontier(table);
    expect(front.length).toBeGreaterThan(5);
    for (let i = 1; i < front.length; i++) {
      expect(front[i]!.bytes).toBeGreaterThan(front[i - 1]!.bytes);
      expect(front[i]!.omega).toBeLessThan(front[i - 1]!.omega);
    }
    const all32 = table.weights.reduce((sum, w) => sum + w.options.find((o) => o.bits === 32)!.omega, 0);
    expect(front.at(-1)!.omega).toBeCloseTo(all32, 12);
  });
  it('an impossible budget is a clear error', () => {
    expect(() => chooseUnderBudget(table, 1500)).toThrow(/below the smallest possible configuration/);
  });
});
