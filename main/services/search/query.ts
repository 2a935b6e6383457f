/**
 * A parsed query against the library: positive terms combined into one vector, negative terms
 * pushed away (embedding arithmetic) and dropped (their own adaptive cut-off), the query's
 * adaptive relevance cut-off, and a filters-only query listed by date.
 */
import type { SearchCutoff, SearchResult } from '../../core/contract.ts';
import { NEGATIVE_WEIGHT, adaptiveCutoff, cutoffFloor, scoreSpread, type ScoreSpread } from '../../core/relevance.ts';
import type { Scored } from '../../core/ranking.ts';
import {
  countSearchable,
  isFiltered,
  sampledSearchableVectors,
  searchableAmong,
  searchableVectors,
  unsearchablePhotoIds,
  type PhotoFilter,
} from '../library/index.ts';
import { EXACT_CANDIDATES, dotBlob, dot as dotVectors, searchByVector, type SearchContext, type VectorSearchArgs } from './index.ts';
import { blobToVector, type VectorIndex } from '../ann/index.ts';

/** Photos whose scores estimate a large library's distribution; the best scores come from HNSW. */
const SAMPLE = 4000;
const TOP = 200;

export interface WeightedVector {
  vector: Float32Array;
  weight: number;
}

export interface QuerySearchArgs extends Omit<VectorSearchArgs, 'minScore' | 'excludeIds' | 'filter'> {
  filter: PhotoFilter;
  /** A fixed cut-off; absent: the adaptive one, unless `all`. */
  minScore?: number;
  all?: boolean;
}

/** Σ wᵢ·pᵢ (normalised) − NEGATIVE_WEIGHT · Σ vⱼ·nⱼ: one vector, so HNSW and exact search rank the same way. */
export function combine(positives: WeightedVector[], negatives: WeightedVector[]): Float32Array {
  const dim = positives[0]!.vector.length;
  const q = new Float32Array(dim);
  for (const p of positives) for (let i = 0; i < dim; i++) q[i]! += p.weight * p.vector[i]!;
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += q[i]! * q[i]!;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dim; i++) q[i] = q[i]! / norm;
  for (const n of negatives) for (let i = 0; i < dim; i++) q[i]! -= NEGATIVE_WEIGHT * n.weight * n.vector[i]!;
  return q;
}

export function searchQuery(ctx: SearchContext, positives: WeightedVector[], negatives: WeightedVector[], args: QuerySearchArgs): SearchResult {
  const started = performance.now();
  // A negative drops what its own cut-off finds relevant ("circles -red": the red ones).
  const dropped = new Set<number>();
  for (const n of negatives) for (const id of relevantIds(ctx, n.vector, args.filter)) dropped.add(id);
  const pool = countOf(ctx, args.filter, dropped);

  if (positives.length === 0) {
    // Filters (and negatives) only: the matching photos by date; no score to cut on.
    const listing = searchByVector(ctx, new Float32Array(ctx.index.dim), { ...args, filter: args.filter, excludeIds: [...dropped], sort: 'date' });
    return { ...listing, tookMs: performance.now() - started, cutoff: { mode: 'all', minScore: null, adaptive: null, below: 0 } };
  }

  const vector = combine(positives, negatives);
  const d = distribution(ctx, vector, args.filter, dropped);
  const adaptive = adaptiveCutoff(d.top, d.spread);
  const mode: SearchCutoff['mode'] = args.minScore !== undefined ? 'fixed' : args.all ? 'all' : 'adaptive';
  const minScore = mode === 'fixed' ? args.minScore! : mode === 'adaptive' ? adaptive : -Infinity;
  // A small filtered set was scored for the cut-off already: the page reuses those scores.
  const exactScores = isFiltered(args.filter) && d.all ? d.all : undefined;
  // A broad filter's hits above the cut-off's floor were found for the cut-off: the page reuses them.
  const hitsAbove = d.above ?? undefined;
  const result = searchByVector(ctx, vector, { ...args, filter: args.filter, minScore, excludeIds: [...dropped], exactScores, hitsAbove });
  return {
    ...result,
    tookMs: performance.now() - started,
    cutoff: {
      mode,
      minScore: mode === 'all' || !Number.isFinite(minScore) ? null : minScore,
      adaptive: Number.isFinite(adaptive) ? adaptive : null,
      below: Math.max(0, pool - result.total),
    },
  };
}

/** How many photos a search may return under `filter`, less the dropped ones (counted from an index, no id set). */
function countOf(ctx: SearchContext, filter: PhotoFilter, dropped: Set<number>): number {
  if (isFiltered(filter)) return countSearchable(ctx.store, filter) - searchableAmong(ctx.store, filter, [...dropped]).size;
  const hidden = unsearchablePhotoIds(ctx.store);
  let n = ctx.index.size;
  for (const id of new Set([...hidden, ...dropped])) if (ctx.index.has(id)) n--;
  return n;
}

interface Distribution {
  /** Every filtered photo's score, when there are few enough to score them all. */
  all: Scored[] | null;
  spread: ScoreSpread;
  /** The best scores: all of them, or (a broad filter) those at or above the cut-off's floor, at most TOP. */
  top: number[];
  /** A broad filter: every hit at or above the cut-off's floor, when there were at most TOP of them. */
  above: { minScore: number; hits: Scored[] } | null;
}

/** Scores of the filtered photos (all of them when few; else a fair sample) and the best scores. */
function distribution(ctx: SearchContext, vector: Float32Array, filter: PhotoFilter, skip: Set<number>): Distribution {
  const filtered = isFiltered(filter);
  const size = filtered ? countSearchable(ctx.store, filter, EXACT_CANDIDATES + 1) : ctx.index.size;
  const dot = (blob: Buffer) => dotBlob(blob, vector);
  if (size <= EXACT_CANDIDATES) {
    const hidden = filtered ? null : unsearchablePhotoIds(ctx.store);
    const all = searchableVectors(ctx.store, ctx.modelId, filter)
      .filter((r) => !skip.has(r.id) && !hidden?.has(r.id))
      .map((r) => ({ id: r.id, score: dot(r.vector) }));
    const scores = all.map((h) => h.score);
    return { all, spread: scoreSpread(scores), top: scores, above: null };
  }
  const spread = scoreSpread(
    sampleOf(ctx, filter)
      .filter((r) => !skip.has(r.id))
      .map((r) => dotVectors(r.vector, vector)),
  );
  if (!filtered) {
    const top = ctx.index.search(vector, TOP, { filter: (id) => !skip.has(id) }).map((h) => h.score);
    return { all: null, spread, top, above: null };
  }
  // A broad filter: only the scores at or above the cut-off's floor decide it (cutoffFloor), and
  // those come from post-filtered HNSW searches that stop where the floor falls. The best 200
  // whatever their score took hnswlib's filter callback over the filter's ids (200 ÷ 10 % × 1.5
  // is past the post-filter depth): most of a filtered query's time at 100k photos.
  const excludeIds = [...skip];
  const best = searchByVector(ctx, vector, { filter, excludeIds, limit: 1 }).hits[0]?.score;
  if (best === undefined) return { all: null, spread, top: [], above: null };
  const minScore = cutoffFloor(best, spread);
  // One more than TOP: fewer means the search saw the floor fall, so these are every hit above it.
  const found = searchByVector(ctx, vector, { filter, excludeIds, minScore, limit: TOP + 1, uncounted: true });
  const hits = found.hits.map((h) => ({ id: h.photo.id, score: h.score }));
  const above = hits.length <= TOP ? { minScore, hits } : null;
  return { all: null, spread, top: hits.slice(0, TOP).map((h) => h.score), above };
}

/**
 * The last sample of each index's library, per filter. Reading 4,000 vectors from SQLite was most of
 * a search's time (about 200 ms of CPU per query at 20k photos on the shared machine), and a sample
 * only estimates the spread of scores: reused while the index holds as many photos and the filter
 * is the same; an edit that keeps the count leaves an estimate that is still fair.
 */
const samples = new WeakMap<VectorIndex, { key: string; size: number; rows: { id: number; vector: Float32Array }[] }>();

function sampleOf(ctx: SearchContext, filter: PhotoFilter): { id: number; vector: Float32Array }[] {
  const key = JSON.stringify(filter);
  const kept = samples.get(ctx.index);
  if (kept && kept.key === key && kept.size === ctx.index.size) return kept.rows;
  const rows = sampledSearchableVectors(ctx.store, ctx.modelId, filter, SAMPLE, ctx.index.size)
    .filter((r) => r.vector.byteLength === ctx.index.dim * 4)
    .map((r) => ({ id: r.id, vector: blobToVector(r.vector, ctx.index.dim, r.id) }));
  samples.set(ctx.index, { key, size: ctx.index.size, rows });
  return rows;
}

/** The photos a (negative) term's adaptive cut-off finds relevant. */
function relevantIds(ctx: SearchContext, vector: Float32Array, filter: PhotoFilter): number[] {
  const d = distribution(ctx, vector, filter, new Set());
  const cut = adaptiveCutoff(d.top, d.spread);
  if (d.all) return d.all.filter((h) => h.score >= cut).map((h) => h.id);
  return searchByVector(ctx, vector, { filter, minScore: cut, limit: TOP, hitsAbove: d.above ?? undefined }).hits.map((h) => h.photo.id);
}
