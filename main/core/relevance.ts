/**
 * Adaptive relevance, pure: where a query's results stop being relevant, read from the scores.
 *
 * Cosine scores are not comparable across queries or models (0.31 is a strong match for one
 * query, background noise for another), so no fixed threshold works. What is comparable is how far
 * a photo stands out of the query's own score distribution over the library: most photos are
 * unrelated to any one query and form its bulk. Scores are turned into robust z-scores (median and
 * MAD of the distribution), and the cut-off is the widest gap among the photos that stand out
 * (z ≥ `floor`); with no clear gap, photos at z ≥ `fallback` are kept.
 * The parameters were tuned once on ShapesWorld queries of one colour set and are reported on
 * queries of the other colours (test/bench/relevance.bench.ts; notes/search-intent.md).
 */

export interface RelevanceParams {
  /** Photos below this robust z-score are never relevant. */
  floor: number;
  /** Without a clear gap, photos at this z-score or above are relevant. */
  fallback: number;
  /** A gap (in z units) this wide or wider among the outstanding photos is where relevance ends. */
  minGap: number;
}

export const DEFAULT_RELEVANCE: RelevanceParams = { floor: 3, fallback: 5, minGap: 1.5 };

export interface ScoreSpread {
  median: number;
  /** 1.4826 × MAD: the standard deviation the bulk would have if it were normal. */
  sigma: number;
}

/** Median and robust spread of the scores (any order; the input is not modified). */
export function scoreSpread(scores: ArrayLike<number>): ScoreSpread {
  const n = scores.length;
  if (n === 0) return { median: 0, sigma: 1 };
  const sorted = Float64Array.from(scores).sort();
  const median = quantileSorted(sorted, 0.5);
  const dev = sorted.map((s) => Math.abs(s - median)).sort();
  let sigma = 1.4826 * quantileSorted(dev, 0.5);
  if (!(sigma > 1e-6)) {
    // Over half the scores equal: fall back to the plain standard deviation, then to a tiny unit.
    let v = 0;
    for (const s of sorted) v += (s - median) ** 2;
    sigma = Math.max(Math.sqrt(v / n), 1e-6);
  }
  return { median, sigma };
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The score at and above which photos are relevant to this query, from its scores over the library
 * (or a fair sample of them: `spread` lets a caller bring statistics from a sample while `top`
 * holds the best scores). Returns +Infinity when nothing stands out.
 */
export function adaptiveCutoff(
  top: ArrayLike<number>,
  spread: ScoreSpread = scoreSpread(top),
  params: RelevanceParams = DEFAULT_RELEVANCE,
): number {
  const z = (s: number) => (s - spread.median) / spread.sigma;
  const outstanding = Array.from(top)
    .filter((s) => z(s) >= params.floor)
    .sort((a, b) => b - a);
  if (outstanding.length === 0) return Infinity;
  // The widest gap between consecutive outstanding scores, and the one to the floor after the last.
  let bestGap = 0;
  let cut = Infinity;
  for (let i = 0; i < outstanding.length; i++) {
    const next = i + 1 < outstanding.length ? z(outstanding[i + 1]!) : params.floor;
    const gap = z(outstanding[i]!) - next;
    if (gap > bestGap) {
      bestGap = gap;
      cut = outstanding[i]!;
    }
  }
  if (bestGap >= params.minGap) return cut;
  const fallback = spread.median + params.fallback * spread.sigma;
  return outstanding[0]! >= fallback ? fallback : Infinity;
}

/** How a result set was cut: what the caller asked for and the score it came to. */
export interface CutoffChoice {
  mode: 'adaptive' | 'fixed' | 'all';
  /** Photos scoring at least this are results (-1 for 'all'; +Infinity when nothing stands out is reported as null). */
  minScore: number | null;
}
