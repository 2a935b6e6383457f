/**
 * Adaptive relevance, pure: where a query's results stop being relevant, read from the scores.
 *
 * Cosine scores are not comparable across queries or models (0.31 is a strong match for one
 * query, background noise for another), so no fixed threshold works. What is comparable is where a
 * photo sits in the query's own score distribution over the library, whose bulk (median, MAD) is
 * the photos unrelated to it. A photo is relevant when it comes within `fraction` of the way from
 * that bulk to the best photo, or within `nearBest` robust σ of the best (a weak query whose best
 * photo stands only a little out of the bulk keeps the photos the scores cannot tell from it), or
 * stands far out of the bulk on its own (robust z ≥ `outstanding`: a query with hundreds of matches
 * keeps them all). Inside the kept band a wide gap (≥ `minGap` robust σ) ends it early.
 * The parameters were tuned once on ShapesWorld queries of one colour set (a 1,000-photo generated
 * library) and are reported on queries of the other colours (test/bench/relevance.bench.ts;
 * docs/search.md).
 */

export interface RelevanceParams {
  /** How far from the bulk's median towards the best score the cut-off sits (0 = median, 1 = only the best). */
  fraction: number;
  /** A photo within this many robust σ of the best score is relevant (the best's near ties). */
  nearBest: number;
  /** A photo at this robust z-score or above is relevant whatever the best score is. */
  outstanding: number;
  /** A gap this wide (in robust σ) between consecutive kept scores ends the relevant set there. */
  minGap: number;
}

export const DEFAULT_RELEVANCE: RelevanceParams = { fraction: 0.925, nearBest: 0.225, outstanding: 4, minGap: 0.25 };

/**
 * How hard a negative term pushes (`red car -night`): a photo's score is its positive score minus
 * this times its score for the negative, and photos that the negative's own cut-off finds relevant
 * are dropped. Measured on ShapesWorld "circles -red" (test/bench/relevance.bench.ts).
 */
export const NEGATIVE_WEIGHT = 0.5;

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
 * holds the best scores). Always keeps at least the best photo when there is one.
 */
export function adaptiveCutoff(top: ArrayLike<number>, spread: ScoreSpread = scoreSpread(top), params: RelevanceParams = DEFAULT_RELEVANCE): number {
  if (top.length === 0) return Infinity;
  let best = -Infinity;
  for (let i = 0; i < top.length; i++) if (top[i]! > best) best = top[i]!;
  let cut = cutoffFloor(best, spread, params);
  if (Number.isFinite(params.minGap)) {
    const kept = Array.from(top)
      .filter((s) => s >= cut)
      .sort((a, b) => b - a);
    for (let i = 0; i + 1 < kept.length; i++) {
      if ((kept[i]! - kept[i + 1]!) / spread.sigma >= params.minGap) {
        cut = kept[i]!;
        break;
      }
    }
  }
  return Math.min(cut, best);
}

/**
 * The lowest score `adaptiveCutoff` can return for this best score: only the scores at or above it
 * decide the cut (the gap search looks at nothing below), so a caller may bring just those as `top`.
 */
export function cutoffFloor(best: number, spread: ScoreSpread, params: RelevanceParams = DEFAULT_RELEVANCE): number {
  const band = spread.median + params.fraction * (best - spread.median);
  return Math.min(band, best - params.nearBest * spread.sigma, spread.median + params.outstanding * spread.sigma);
}

/** How a result set was cut: what the caller asked for and the score it came to. */
export interface CutoffChoice {
  mode: 'adaptive' | 'fixed' | 'all';
  /** Photos scoring at least this are results (-1 for 'all'; +Infinity when nothing stands out is reported as null). */
  minScore: number | null;
}
