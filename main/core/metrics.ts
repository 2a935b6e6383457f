/**
 * Retrieval metrics, pure: used by the ANN tests/benchmarks (HNSW vs exact) and by the model lab
 * (student vs teacher rankings). No I/O, no dependencies.
 */

/** Cosine similarity; for L2-normalised vectors this is the dot product, but norms are honoured. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine: length mismatch (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/** Dot product; the cosine of two L2-normalised vectors, without the two norms. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Returns a unit-length copy (a zero vector stays zero). */
export function l2normalize(v: ArrayLike<number>): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

/**
 * The unit vector of the sum of unit vectors: the direction closest on average (in cosine) to all
 * of them — "more like these" searches with it. Null when they cancel out (nothing to search for).
 */
export function meanDirection(vectors: ArrayLike<number>[]): Float32Array | null {
  const sum = new Float32Array(vectors[0]?.length ?? 0);
  for (const v of vectors) for (let i = 0; i < sum.length; i++) sum[i]! += v[i]!;
  const out = l2normalize(sum);
  return out.some((x) => x !== 0) ? out : null;
}

/**
 * recall@K: the share of the relevant items that appear in the first `k` of `ranked`.
 * For ANN quality pass the exact top-K as `relevant` (gives |ANN_K ∩ exact_K| / K);
 * for retrieval quality pass the ground-truth matches of a query.
 * With no relevant items the answer is 1 (nothing was missed).
 */
export function recallAtK<T>(relevant: Iterable<T>, ranked: readonly T[], k: number): number {
  const want = new Set(relevant);
  if (want.size === 0) return 1;
  let hit = 0;
  const top = ranked.slice(0, Math.max(0, k));
  for (const x of new Set(top)) if (want.has(x)) hit++;
  return hit / want.size;
}

/**
 * overlap@K: how much two rankings agree on their top K, |A_K ∩ B_K| / min(K, longest list).
 * Symmetric; 1 when both lists are empty.
 */
export function overlapAtK<T>(a: readonly T[], b: readonly T[], k: number): number {
  const n = Math.min(Math.max(0, k), Math.max(a.length, b.length));
  if (n === 0) return 1;
  const top = new Set(a.slice(0, n));
  let hit = 0;
  for (const x of new Set(b.slice(0, n))) if (top.has(x)) hit++;
  return hit / n;
}

/** Ranks 1..n with ties sharing their average rank (what Spearman's rho needs). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]![1]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Pearson correlation; NaN when either side is constant or there are fewer than two pairs. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`pearson: length mismatch (${x.length} vs ${y.length})`);
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Spearman's rank correlation between paired scores (e.g. teacher and student similarities of
 * the same photos to one query): Pearson on average ranks, so ties are handled correctly.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: length mismatch (${x.length} vs ${y.length})`);
  return pearson(averageRanks(x), averageRanks(y));
}
