/**
 * Labelled relevance on ShapesWorld, pure: queries made from the scenes' attributes (so the
 * relevant photos are known), and precision/recall/F1 of cut-off strategies on score vectors.
 * Used by test/bench/relevance.bench.ts; its arithmetic is checked by test/unit/relevance-eval.test.ts.
 */
import { adaptiveCutoff, scoreSpread, type RelevanceParams } from '../../main/core/relevance.ts';

export interface SceneObject {
  shape: string;
  color: string;
  size: string;
  x: number;
  y: number;
}
export interface Scene {
  kind: string;
  relation: string | null;
  objects: SceneObject[];
  counts: Record<string, number>;
}

export interface LabelledQuery {
  text: string;
  kind: 'object' | 'count' | 'relation' | 'negative';
  /** The colour the query is filed under (its first), for the tune/report split. */
  colour: string;
  /** Indices of the relevant photos. */
  relevant: Set<number>;
  /** For a negative query ("circles -red"): the positive text and the pushed-away text. */
  positive?: string;
  negative?: string;
  /** For a negative query: the photos the negative must drop (those with a red circle). */
  excluded?: Set<number>;
}

const COUNT_WORDS: Record<number, string> = { 2: 'two', 3: 'three', 4: 'four' };
const PLURAL = (shape: string) => (shape === 'cross' ? 'crosses' : `${shape}s`);

/** Every attribute query the scenes answer at least once, relevant photos attached. */
export function labelledQueries(scenes: Scene[]): LabelledQuery[] {
  const out = new Map<string, LabelledQuery>();
  const add = (text: string, kind: LabelledQuery['kind'], colour: string, matches: (s: Scene) => boolean, extra: Partial<LabelledQuery> = {}) => {
    if (out.has(text)) return;
    const relevant = new Set<number>();
    scenes.forEach((s, i) => matches(s) && relevant.add(i));
    if (relevant.size > 0) out.set(text, { text, kind, colour, relevant, ...extra });
  };
  const has = (s: Scene, color: string, shape: string) => s.objects.some((o) => o.color === color && o.shape === shape);
  for (const scene of scenes) {
    for (const o of scene.objects) {
      add(`a ${o.color} ${o.shape}`, 'object', o.color, (s) => has(s, o.color, o.shape));
    }
    for (const [key, n] of Object.entries(scene.counts)) {
      if (n < 2) continue;
      const [color, shape] = key.split(' ') as [string, string];
      add(`${COUNT_WORDS[n]} ${color} ${PLURAL(shape)}`, 'count', color, (s) => s.counts[key] === n);
    }
    if (scene.relation === 'left of' || scene.relation === 'above') {
      const [a, b] = scene.objects as [SceneObject, SceneObject];
      const rel = scene.relation;
      add(`a ${a.color} ${a.shape} ${rel} a ${b.color} ${b.shape}`, 'relation', a.color, (s) =>
        s.objects.some((p) => p.color === a.color && p.shape === a.shape && s.objects.some((q) => q !== p && q.color === b.color && q.shape === b.shape && (rel === 'left of' ? p.x < q.x : p.y < q.y))),
      );
    }
  }
  // "circles -red": photos with a circle, none of them red; the red-circle photos must be dropped.
  const shapes = new Set(scenes.flatMap((s) => s.objects.map((o) => o.shape)));
  const colours = new Set(scenes.flatMap((s) => s.objects.map((o) => o.color)));
  for (const shape of shapes) {
    for (const colour of colours) {
      const excluded = new Set<number>();
      scenes.forEach((s, i) => has(s, colour, shape) && excluded.add(i));
      const withShape = scenes.filter((s) => s.objects.some((o) => o.shape === shape)).length;
      // Only where the negative has something to drop and something is left.
      if (excluded.size < 2 || withShape - excluded.size < 2) continue;
      add(`${PLURAL(shape)} -${colour}`, 'negative', colour, (s) => s.objects.some((o) => o.shape === shape) && !has(s, colour, shape), {
        positive: PLURAL(shape),
        negative: colour,
        excluded,
      });
    }
  }
  return [...out.values()];
}

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1 of a retrieved set; an empty retrieval has precision 1 only when nothing is relevant. */
export function prf(retrieved: ReadonlySet<number>, relevant: ReadonlySet<number>): PRF {
  let hit = 0;
  for (const i of retrieved) if (relevant.has(i)) hit++;
  const precision = retrieved.size ? hit / retrieved.size : relevant.size ? 0 : 1;
  const recall = relevant.size ? hit / relevant.size : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

export function mean(xs: PRF[]): PRF {
  const n = Math.max(xs.length, 1);
  return {
    precision: xs.reduce((a, x) => a + x.precision, 0) / n,
    recall: xs.reduce((a, x) => a + x.recall, 0) / n,
    f1: xs.reduce((a, x) => a + x.f1, 0) / n,
  };
}

export const above = (scores: ArrayLike<number>, cutoff: number) => {
  const out = new Set<number>();
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= cutoff) out.add(i);
  return out;
};

export function topK(scores: ArrayLike<number>, k: number): Set<number> {
  return new Set(
    Array.from(scores, (s, i) => ({ s, i }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, k)
      .map((x) => x.i),
  );
}

export interface ScoredQuery {
  query: LabelledQuery;
  /** One score per photo. */
  scores: Float32Array | number[];
}

/** Each query's spread, computed once (the parameter search scores the same query many times). */
const spreads = new WeakMap<ScoredQuery['scores'], ReturnType<typeof scoreSpread>>();

export function adaptive(q: ScoredQuery, params?: RelevanceParams): PRF {
  let spread = spreads.get(q.scores);
  if (!spread) spreads.set(q.scores, (spread = scoreSpread(q.scores)));
  return prf(above(q.scores, adaptiveCutoff(q.scores, spread, params)), q.query.relevant);
}

/**
 * The best single threshold over all queries, chosen knowing the answers (hindsight), and its mean:
 * a grid of 400 steps over the score range, then 100 finer steps around the best of them.
 */
export function bestFixedThreshold(qs: ScoredQuery[]): { threshold: number; mean: PRF } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const q of qs) {
    for (const s of q.scores) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  }
  const at = (t: number) => ({ threshold: t, mean: mean(qs.map((q) => prf(above(q.scores, t), q.query.relevant))) });
  let best = at(hi);
  const step = (hi - lo) / 400;
  for (let i = 0; i <= 400; i++) {
    const m = at(lo + step * i);
    if (m.mean.f1 > best.mean.f1) best = m;
  }
  const centre = best.threshold;
  for (let i = -50; i <= 50; i++) {
    const m = at(centre + (step * i) / 50);
    if (m.mean.f1 > best.mean.f1) best = m;
  }
  return best;
}

/** The best K for every query at once, knowing the answers, and each K tried. */
export function fixedKs(qs: ScoredQuery[], ks: number[]): { k: number; mean: PRF }[] {
  return ks.map((k) => ({ k, mean: mean(qs.map((q) => prf(topK(q.scores, k), q.query.relevant))) }));
}

/** Each query's own best cut-off (an upper bound no rule that cannot see the labels reaches). */
export function oracle(q: ScoredQuery): PRF {
  const order = Array.from(q.scores, (s, i) => ({ s, i })).sort((a, b) => b.s - a.s || a.i - b.i);
  let best = prf(new Set(), q.query.relevant);
  const taken = new Set<number>();
  for (const { i } of order) {
    taken.add(i);
    const r = prf(taken, q.query.relevant);
    if (r.f1 > best.f1) best = r;
  }
  return best;
}
