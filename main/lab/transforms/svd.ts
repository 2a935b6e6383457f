/**
 * Truncated SVD in Float64 TypeScript, for the low-rank transform.
 *  - full spectrum: eigen-decomposition of the smaller Gram matrix (WᵀW or WWᵀ) by Householder
 *    tridiagonalisation + implicit QL (the JAMA algorithm). About 2–3 s for 768×3072 on one core.
 *    Squaring W loses relative accuracy only in singular values below ~1e-8·σ₁, which truncation
 *    discards anyway.
 *  - fixed rank ≪ min(m,n): randomized range finder (Halko–Martinsson–Tropp) with power iterations.
 * The factors are returned balanced: W ≈ A·B with A = U·√Σ [m,r] and B = √Σ·Vᵀ [r,n], which keeps
 * both factors at the same scale (friendlier to later fp16/int8 passes).
 */
import { mulberry32 } from '../../core/onnx/random.ts';

export interface LowRankFactors {
  rank: number;
  /** [m, rank] row-major. */
  a: Float32Array;
  /** [rank, n] row-major. */
  b: Float32Array;
  /** Singular values found (all of them for the full method, rank+oversampling for randomized). */
  singularValues: Float64Array;
  /** Σ_{i<rank} σ_i² / ‖W‖_F². */
  energy: number;
}

export interface SvdOptions {
  rank?: number;
  /** Keep the smallest rank whose share of ‖W‖_F² reaches this (0 < energy ≤ 1). */
  energy?: number;
  seed?: number;
  /** Power iterations of the randomized method (default 3). */
  powerIterations?: number;
}

/** Symmetric eigen-decomposition: values descending, vectors as rows of `vectors` (n×n). */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const V = Float64Array.from(matrix);
  const d = new Float64Array(n), e = new Float64Array(n);
  tred2(V, d, e, n);
  // tql2 rotates columns; work on the transpose so the rotation loop runs over contiguous memory.
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Vt[j * n + i] = V[i * n + j]!;
  tql2(Vt, d, e, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]!);
  const values = new Float64Array(n), vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    vectors.set(Vt.subarray(src * n, src * n + n), dst * n);
  });
  return { values, vectors };
}

function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0, h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k] = e[k]! + V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j] = V[k * n + j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j] = V[k * n + j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e); Vt holds eigenvector i in row i. */
function tql2(Vt: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0, tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetric eigen-decomposition did not converge');
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.sqrt(p * p + 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1, c2 = c, c3 = c, s = 0, s2 = 0;
        const el1 = e[l + 1]!;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.sqrt(p * p + e[i]! * e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const ri = i * n, rj = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = Vt[rj + k]!, vk = Vt[ri + k]!;
            Vt[rj + k] = s * vk + c * hk;
            Vt[ri + k] = c * vk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** Rows of `x` (r×len) made orthonormal in place (modified Gram–Schmidt, twice for stability). */
function orthonormalRows(x: Float64Array, r: number, len: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < r; i++) {
      const ri = i * len;
      for (let j = 0; j < i; j++) {
        const rj = j * len;
        let dot = 0;
        for (let k = 0; k < len; k++) dot += x[ri + k]! * x[rj + k]!;
        for (let k = 0; k < len; k++) x[ri + k] = x[ri + k]! - dot * x[rj + k]!;
      }
      let norm = 0;
      for (let k = 0; k < len; k++) norm += x[ri + k]! * x[ri + k]!;
      norm = Math.sqrt(norm);
      const inv = norm > 1e-300 ? 1 / norm : 0;
      for (let k = 0; k < len; k++) x[ri + k] = x[ri + k]! * inv;
    }
  }
}

/**
 * Orthonormal basis (rows, count×m) of W's column space, ordered by singular value, with σ².
 * W is m×n row-major.
 */
function leftBasis(w: Float64Array, m: number, n: number, opts: SvdOptions): { basis: Float64Array; count: number; sigma2: Float64Array } {
  const full = Math.min(m, n);
  const rank = opts.rank;
  const useRandomized = rank !== undefined && opts.energy === undefined && rank + 10 <= full / 2;
  if (!useRandomized) {
    if (m <= n) {
      // G = W Wᵀ (m×m); its eigenvectors are the left singular vectors.
      const g = gram(w, m, n);
      const { values, vectors } = symmetricEigen(g, m);
      return { basis: vectors, count: m, sigma2: values.map((v) => Math.max(0, v)) };
    }
    // m > n: right vectors from WᵀW, then u_i = W v_i / σ_i.
    const wt = transpose(w, m, n);
    const g = gram(wt, n, m);
    const { values, vectors } = symmetricEigen(g, n);
    const basis = new Float64Array(n * m);
    for (let i = 0; i < n; i++) {
      const row = basis.subarray(i * m, i * m + m);
      for (let r = 0; r < m; r++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += w[r * n + k]! * vectors[i * n + k]!;
        row[r] = s;
      }
    }
    orthonormalRows(basis, n, m);
    return { basis, count: n, sigma2: values.map((v) => Math.max(0, v)) };
  }
  // Randomized range finder: Y = (W Wᵀ)^q W Ω, l = rank + 10 columns (stored as rows: l×m).
  const l = rank + 10;
  const rand = mulberry32(opts.seed ?? 1);
  const omega = new Float64Array(l * n);
  for (let i = 0; i < omega.length; i++) omega[i] = rand() * 2 - 1;
  let y = mulRowsByWt(omega, l, w, m, n); // l×m: rows are W·ω_i
  orthonormalRows(y, l, m);
  for (let q = 0; q < (opts.powerIterations ?? 3); q++) {
    const z = mulRowsByW(y, l, w, m, n); // l×n: rows are Wᵀ·y_i
    orthonormalRows(z, l, n);
    y = mulRowsByWt(z, l, w, m, n);
    orthonormalRows(y, l, m);
  }
  // C = Qᵀ W (l×n); eigen of C Cᵀ (l×l) rotates Q onto singular directions.
  const c = mulRowsByW(y, l, w, m, n);
  const { values, vectors } = symmetricEigen(gram(c, l, n), l);
  const basis = new Float64Array(l * m);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j < l; j++) {
      const v = vectors[i * l + j]!;
      if (v === 0) continue;
      for (let k = 0; k < m; k++) basis[i * m + k] = basis[i * m + k]! + v * y[j * m + k]!;
    }
  }
  return { basis, count: l, sigma2: values.map((v) => Math.max(0, v)) };
}

/** X Xᵀ for X rows×cols row-major (rows×rows). */
function gram(x: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let j = i; j < rows; j++) {
      const rj = j * cols;
      let s = 0;
      for (let k = 0; k < cols; k++) s += x[ri + k]! * x[rj + k]!;
      g[i * rows + j] = s;
      g[j * rows + i] = s;
    }
  }
  return g;
}

function transpose(x: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j]!;
  return t;
}

/** Rows v_i (len n) → rows W v_i (len m). */
function mulRowsByWt(v: Float64Array, count: number, w: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(count * m);
  for (let i = 0; i < count; i++) {
    const vi = i * n;
    for (let r = 0; r < m; r++) {
      let s = 0;
      const wr = r * n;
      for (let k = 0; k < n; k++) s += w[wr + k]! * v[vi + k]!;
      out[i * m + r] = s;
    }
  }
  return out;
}

/** Rows u_i (len m) → rows Wᵀ u_i (len n). */
function mulRowsByW(u: Float64Array, count: number, w: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(count * n);
  for (let i = 0; i < count; i++) {
    const oi = i * n;
    for (let r = 0; r < m; r++) {
      const ur = u[i * m + r]!;
      if (ur === 0) continue;
      const wr = r * n;
      for (let k = 0; k < n; k++) out[oi + k] = out[oi + k]! + ur * w[wr + k]!;
    }
  }
  return out;
}

/** W (m×n, row-major float32) ≈ A·B at a fixed rank or the smallest rank reaching `energy`. */
export function truncatedSvd(weights: Float32Array, m: number, n: number, opts: SvdOptions): LowRankFactors {
  if (weights.length !== m * n) throw new Error(`truncatedSvd: ${weights.length} values for ${m}×${n}`);
  if (opts.rank === undefined && opts.energy === undefined) throw new Error('truncatedSvd: give a rank or an energy threshold');
  if (opts.energy !== undefined && !(opts.energy > 0 && opts.energy <= 1)) throw new Error(`energy must be in (0, 1], got ${opts.energy}`);
  if (opts.rank !== undefined && !(Number.isInteger(opts.rank) && opts.rank >= 1)) throw new Error(`rank must be a whole number ≥ 1, got ${opts.rank}`);
  const w = Float64Array.from(weights);
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i]! * w[i]!;
  const { basis, count, sigma2 } = leftBasis(w, m, n, opts);
  let rank = Math.min(opts.rank ?? count, count, Math.min(m, n));
  if (opts.energy !== undefined) {
    let acc = 0, r = 0;
    while (r < count && acc < opts.energy * total * (1 - 1e-12)) acc += sigma2[r++]!;
    rank = Math.min(rank, Math.max(1, r));
  }
  // C = U_rᵀ W (r×n); rows have norms σ_i. A = U_r √Σ, B = Σ^{-1/2} C.
  const c = mulRowsByW(basis.subarray(0, rank * m), rank, w, m, n);
  const a = new Float32Array(m * rank), b = new Float32Array(rank * n);
  let kept = 0;
  for (let i = 0; i < rank; i++) {
    let norm2 = 0;
    for (let k = 0; k < n; k++) norm2 += c[i * n + k]! * c[i * n + k]!;
    kept += norm2;
    const s = Math.sqrt(Math.sqrt(norm2)) || 1; // √σ_i
    for (let r = 0; r < m; r++) a[r * rank + i] = basis[i * m + r]! * s;
    for (let k = 0; k < n; k++) b[i * n + k] = c[i * n + k]! / s;
  }
  return { rank, a, b, singularValues: sigma2.map(Math.sqrt), energy: total > 0 ? kept / total : 1 };
}
