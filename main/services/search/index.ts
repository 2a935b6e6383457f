/**
 * search — ranks the library's photos by similarity to a query vector, with filters (folder,
 * capture date, excluded photos), a relevance cut-off, sorting and paging.
 *
 * Owns how the candidate set is found: exact cosine over every candidate when the library or the
 * filtered subset is small (perfect, and cheap at that size: one query reads their vectors); for a
 * broad filter HNSW without a filter, the filter checked on its results by id; in between,
 * hnswlib's filter callback over the allowed ids; each searching deeper until the page is full or
 * the cut-off is reached. How many photos a filter keeps is counted first, from an index. Filters always
 * apply before paging, and only photos with status 'indexed' ever appear.
 * `searchQuery` (query.ts) adds the query language on top: combined positive and negative terms,
 * the adaptive relevance cut-off, filters-only listings.
 * Hybrid with text in photos (OCR): a photo whose recognised text matches the query's words ranks by
 * its cosine raised by TEXT_MATCH_WEIGHT × its text score, is never cut off by `minScore`, and
 * carries `textMatch`; `textOnly` keeps only such photos.
 * Must never: encode queries (the caller brings the vector), write to the database, or return a
 * photo row the library has deleted.
 */
import { TEXT_MATCH_WEIGHT, type SearchHit, type SearchResult, type TextMatch } from '../../core/contract.ts';
import { byScoreDesc, type Scored } from '../../core/ranking.ts';
import { isEmptyQuery, type TextQuery } from '../../core/text-query.ts';
import { findText } from '../text/index.ts';
import type { Store } from '../store/index.ts';
import {
  countSearchable,
  indexedPhotosById,
  isFiltered,
  searchableAmong,
  newestSearchablePage,
  searchablePhotosByHash,
  searchablePhotoIds,
  searchableVectors,
  takenAtById,
  unsearchablePhotoIds,
  type PhotoFilter,
} from '../library/index.ts';
import { blobToVector, type VectorIndex } from '../ann/index.ts';

export interface SearchContext {
  store: Store;
  index: VectorIndex;
  modelId: string;
}

export interface VectorSearchArgs {
  limit?: number;
  offset?: number;
  /** Cosine below which a photo is not a hit. */
  minScore?: number;
  folderId?: number | null;
  /** Capture time range (ms since epoch), inclusive. */
  from?: number | null;
  to?: number | null;
  /** 'date': the hits (after the cut-off) newest first. */
  sort?: 'relevance' | 'date';
  excludeIds?: number[];
  /** The query language's filters (folder names, formats, cameras), joined with the fields above. */
  filter?: PhotoFilter;
  /** The query's words, matched against the text read in photos. */
  textQuery?: TextQuery;
  /** Only photos whose text matches `textQuery`. */
  textOnly?: boolean;
  /**
   * Every filtered candidate's exact score, when the caller computed them already (the query's
   * cut-off scores a small filtered set): used instead of reading their vectors again.
   */
  exactScores?: Scored[];
  /**
   * Every photo the search may return (searchable, matching the filter, not excluded) scoring at
   * least `minScore`, best first, when the caller found them already (the query's cut-off looks for
   * them on a broad filter): a search whose own cut-off is at least as high takes its hits from them.
   */
  hitsAbove?: { minScore: number; hits: Scored[] };
  /** The caller reads only the page, not `total`: a cut-off search stops at the page instead of counting every hit. */
  uncounted?: boolean;
}

export { searchQuery, type QuerySearchArgs, type WeightedVector } from './query.ts';

export const DEFAULT_LIMIT = 50;
/** At or below this many candidates every one is scored exactly. */
export const EXACT_CANDIDATES = 5000;
/**
 * How deep HNSW is searched to find where the cut-off falls (for `total` and date sorting).
 * Beyond it `total` is a lower bound; a cut-off that lets more than this through is barely a cut-off.
 */
export const MAX_DEPTH = 5000;
/**
 * How deep an unfiltered HNSW search may go before a broad filter is checked on its results
 * (`postFiltered`); deeper than this, hnswlib's own filtered search over the allowed ids is cheaper.
 */
const POST_FILTER_DEPTH = 2000;
/** The first post-filtered depth expects the filter's share of hits; this covers an unlucky draw. */
const POST_FILTER_MARGIN = 1.5;

/** A photo's stored vector for a model ("more like this"), or null when it has none. */
export function photoVector(store: Store, photoId: number, modelId: string): Float32Array | null {
  const blob = store.db
    .prepare<[number, string], Buffer>('SELECT vector FROM vectors WHERE photo_id = ? AND model_id = ?')
    .pluck()
    .get(photoId, modelId);
  return blob ? blobToVector(blob, blob.byteLength / 4, photoId) : null;
}

export function searchByVector(ctx: SearchContext, query: Float32Array, args: VectorSearchArgs = {}): SearchResult {
  const started = performance.now();
  const texts = args.textQuery && !isEmptyQuery(args.textQuery) ? textMatches(ctx, args.textQuery, args) : new Map<number, TextMatch>();
  if (texts.size === 0 && !args.textOnly) return vectorSearch(ctx, query, args, started);
  const limit = Math.max(0, Math.floor(args.limit ?? DEFAULT_LIMIT));
  const offset = Math.max(0, Math.floor(args.offset ?? 0));
  const minScore = args.minScore ?? -Infinity;
  // Every text match joins the vector hits: the vector ranking is read `texts.size` deeper, so
  // whatever the text matches push down the page still comes from it in order.
  const base = args.textOnly ? null : vectorSearch(ctx, query, { ...args, offset: 0, limit: offset + limit + texts.size }, started);
  const hits = new Map<number, SearchHit>((base?.hits ?? []).map((h) => [h.photo.id, h]));
  const missing = [...texts.keys()].filter((id) => !hits.has(id));
  const scores = new Map(scoreIds(ctx, query, missing).map((s) => [s.id, s.score]));
  const photos = indexedPhotosById(ctx.store, missing);
  let belowCutOff = 0;
  for (const id of missing) {
    const photo = photos.get(id);
    const score = scores.get(id);
    if (!photo || score === undefined) continue;
    if (score < minScore) belowCutOff++; // a text match is relevant whatever its cosine
    hits.set(id, { photo, score });
  }
  for (const [id, match] of texts) {
    const h = hits.get(id);
    if (h) h.textMatch = match;
  }
  let all = [...hits.values()].filter((h) => !args.textOnly || h.textMatch);
  const ranked = (h: SearchHit) => h.score + TEXT_MATCH_WEIGHT * (h.textMatch?.score ?? 0);
  all =
    (args.sort ?? 'relevance') === 'date'
      ? all.sort((a, b) => (b.photo.takenAt ?? -Infinity) - (a.photo.takenAt ?? -Infinity) || ranked(b) - ranked(a) || a.photo.id - b.photo.id)
      : all.sort((a, b) => ranked(b) - ranked(a) || a.photo.id - b.photo.id);
  const total = args.textOnly ? all.length : base!.total + belowCutOff;
  return { hits: all.slice(offset, offset + limit), total, modelId: ctx.modelId, tookMs: performance.now() - started };
}

/** Searchable photos (filters applied, excluded ones left out) whose text matches, with how. */
function textMatches(ctx: SearchContext, q: TextQuery, args: VectorSearchArgs): Map<number, TextMatch> {
  const byHash = findText(ctx.store, q);
  const out = new Map<number, TextMatch>();
  if (byHash.size === 0) return out;
  const excluded = new Set(args.excludeIds ?? []);
  const filter: PhotoFilter = { folderId: args.folderId, from: args.from, to: args.to };
  for (const { id, hash } of searchablePhotosByHash(ctx.store, ctx.modelId, [...byHash.keys()], filter)) {
    const m = byHash.get(hash)!;
    if (!excluded.has(id)) out.set(id, { score: m.score, words: m.matched });
  }
  return out;
}

/** Exact cosines of a few photos, from their stored vectors. */
function scoreIds(ctx: SearchContext, query: Float32Array, ids: number[]): Scored[] {
  const out: Scored[] = [];
  for (const id of ids) {
    const v = photoVector(ctx.store, id, ctx.modelId);
    if (v && v.length === query.length) out.push({ id, score: dot(v, query) });
  }
  return out;
}

function vectorSearch(ctx: SearchContext, query: Float32Array, args: VectorSearchArgs, started: number): SearchResult {
  const limit = Math.max(0, Math.floor(args.limit ?? DEFAULT_LIMIT));
  const offset = Math.max(0, Math.floor(args.offset ?? 0));
  const minScore = args.minScore ?? -Infinity;
  const sort = args.sort ?? 'relevance';
  const need = offset + limit;
  const filter: PhotoFilter = {
    ...args.filter,
    folderId: args.folderId ?? args.filter?.folderId,
    from: args.from ?? args.filter?.from,
    to: args.to ?? args.filter?.to,
  };
  const excluded = new Set(args.excludeIds ?? []);

  let ranked: Scored[]; // the hits in final order (under HNSW, at least the first `need`)
  let total: number;

  const filtered = isFiltered(filter);
  // How many photos the filter keeps decides how to search: counted from an index (migration 010).
  const matching = filtered ? countSearchable(ctx.store, filter) : ctx.index.size;
  if (matching <= EXACT_CANDIDATES) {
    // Exact: score every candidate, so the cut-off, total and date order are all exact.
    const all = filtered ? (args.exactScores ?? exactOver(ctx, query, filter)) : exactAll(ctx, query, unsearchablePhotoIds(ctx.store));
    const hits = all.filter((h) => h.score >= minScore && !excluded.has(h.id));
    total = hits.length;
    ranked = sort === 'date' ? byDate(ctx.store, hits) : hits.sort(byScoreDesc);
  } else if (args.hitsAbove && minScore >= args.hitsAbove.minScore) {
    // The caller's hits cover every hit of this cut-off: no second search.
    const hits = args.hitsAbove.hits.filter((h) => h.score >= minScore && !excluded.has(h.id));
    total = hits.length;
    ranked = sort === 'date' ? byDate(ctx.store, hits) : hits;
  } else if (sort === 'date' && minScore === -Infinity) {
    // No cut-off: every candidate is a hit, so the date order comes straight from SQLite.
    const { page, total: count } = newestFirst(ctx, query, filter, excluded, offset, limit);
    return finish(ctx, page, count, started);
  } else {
    // Relevance needs the first `need` hits; `total` and date order need the whole cut-off set.
    const want = (sort === 'date' || minScore > -Infinity) && !args.uncounted ? Math.max(need, MAX_DEPTH) : need;
    const broad = filtered ? postFiltered(ctx, query, filter, excluded, minScore, need, want, matching) : null;
    let hits: Scored[];
    let pool: number;
    if (broad) {
      hits = broad;
      pool = matching - searchableAmong(ctx.store, filter, [...excluded]).size;
    } else {
      const allowed = filtered ? searchablePhotoIds(ctx.store, ctx.modelId, filter) : null;
      const hidden = allowed ? null : unsearchablePhotoIds(ctx.store);
      const accept = (id: number) => !excluded.has(id) && (allowed ? allowed.has(id) : !hidden!.has(id));
      pool = candidateCount(ctx.index, accept, allowed, hidden, excluded);
      // Nothing to leave out (a settled library): no JavaScript callback for every node HNSW visits.
      const everyone = !allowed && hidden!.size === 0 && excluded.size === 0;
      hits = deepen(ctx.index, query, everyone ? undefined : accept, minScore, need, want, pool).hits;
    }
    total = minScore === -Infinity ? pool : hits.length;
    ranked = sort === 'date' ? byDate(ctx.store, hits) : hits;
  }

  return finish(ctx, ranked.slice(offset, need), total, started);
}

/** Hydrates the page's photo rows. */
function finish(ctx: SearchContext, page: Scored[], total: number, started: number): SearchResult {
  const photos = indexedPhotosById(
    ctx.store,
    page.map((h) => h.id),
  );
  const result: SearchHit[] = [];
  for (const h of page) {
    const photo = photos.get(h.id);
    if (photo) result.push({ photo, score: h.score }); // a row deleted a moment ago just drops out
  }
  return { hits: result, total, modelId: ctx.modelId, tookMs: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------

/** Exact scores of the filtered subset, read straight from SQLite (it is small). */
function exactOver(ctx: SearchContext, query: Float32Array, filter: PhotoFilter): Scored[] {
  return searchableVectors(ctx.store, ctx.modelId, filter).map((r) => ({ id: r.id, score: dotBlob(r.vector, query) }));
}

/** Exact scores of the whole (small) index. */
function exactAll(ctx: SearchContext, query: Float32Array, hidden: Set<number>): Scored[] {
  if (ctx.index.size === 0) return [];
  return ctx.index.search(query, ctx.index.size, { exact: true, filter: (id) => !hidden.has(id) }).map((h) => ({ id: h.photoId, score: h.score }));
}

/** How many photos are hits when there is no cut-off: searchable, matching, not excluded. */
function candidateCount(
  index: VectorIndex,
  accept: (id: number) => boolean,
  allowed: Set<number> | null,
  hidden: Set<number> | null,
  excluded: Set<number>,
): number {
  if (allowed) {
    let n = 0;
    for (const id of allowed) if (index.has(id) && accept(id)) n++;
    return n;
  }
  let n = index.size;
  for (const id of new Set([...hidden!, ...excluded])) if (index.has(id)) n--;
  return n;
}

/**
 * A broad filter (more photos than the exact scan takes): HNSW without a filter, then the filter
 * checked on the results by id in one query, deepening until `want` hits pass, a result falls
 * below the cut-off (every hit is then seen: results come best first) or the index runs out. The
 * first depth expects `need` hits from the filter's share of the library, with a margin. Null
 * when the filter is too selective for that (the depth would pass POST_FILTER_DEPTH): the caller
 * then gives hnswlib the set of allowed ids instead. Either way no per-query set of a broad
 * filter's ids is built (at 1M photos a year is 100,000 ids).
 */
function postFiltered(
  ctx: SearchContext,
  query: Float32Array,
  filter: PhotoFilter,
  excluded: Set<number>,
  minScore: number,
  need: number,
  want: number,
  matching: number,
): Scored[] | null {
  const size = ctx.index.size;
  const share = Math.min(1, matching / Math.max(size, 1));
  // With a cut-off fewer than `need` photos may pass it: start at a default page's depth and deepen
  // (the cut-off usually falls early) rather than hand a deep page to the filter callback at once.
  const first = minScore > -Infinity ? Math.min(need, DEFAULT_LIMIT) : need;
  let k = Math.min(size, Math.ceil((Math.max(first, 10) / share) * POST_FILTER_MARGIN));
  if (k > POST_FILTER_DEPTH) return null;
  for (;;) {
    const found = ctx.index.search(query, k);
    const pass = searchableAmong(
      ctx.store,
      filter,
      found.map((h) => h.photoId),
    );
    const hits: Scored[] = [];
    for (const h of found) {
      if (h.score < minScore) return hits;
      if (!pass.has(h.photoId) || excluded.has(h.photoId)) continue;
      hits.push({ id: h.photoId, score: h.score });
      if (hits.length >= want) return hits;
    }
    if (found.length < k || k >= size) return hits;
    if (k >= POST_FILTER_DEPTH) return null;
    k = Math.min(k * 2, POST_FILTER_DEPTH, size);
  }
}

/**
 * HNSW search from the page's depth (`need`), doubling k until `want` hits pass the cut-off, a
 * result falls below it (so every hit has been seen), or the candidates run out. Starting at the
 * page, not at `want`: with a cut-off `want` is MAX_DEPTH (5,000, for the total), and a first
 * search that deep (ef 10,000) cost every cut-off search most of its time, while the cut-off
 * usually falls within the first results.
 */
function deepen(
  index: VectorIndex,
  query: Float32Array,
  accept: ((id: number) => boolean) | undefined,
  minScore: number,
  need: number,
  want: number,
  pool: number,
): { hits: Scored[] } {
  let k = Math.min(Math.max(need, 10), pool);
  for (;;) {
    const found = index.search(query, k, { filter: accept });
    const hits: Scored[] = [];
    let boundary = false;
    for (const h of found) {
      if (h.score < minScore) {
        boundary = true;
        break;
      }
      hits.push({ id: h.photoId, score: h.score });
    }
    const exhausted = found.length < k || k >= pool;
    if (boundary || exhausted || hits.length >= want) return { hits: hits.slice(0, Math.max(want, 0)) };
    k = Math.min(k * 2, pool);
  }
}

/** Date order straight from SQLite (no cut-off), scoring only the page. */
function newestFirst(
  ctx: SearchContext,
  query: Float32Array,
  filter: PhotoFilter,
  excluded: Set<number>,
  offset: number,
  limit: number,
): { page: Scored[]; total: number } {
  const { rows, total } = newestSearchablePage(ctx.store, ctx.modelId, filter, excluded, offset, limit);
  return { page: rows.map((r) => ({ id: r.id, score: dotBlob(r.vector, query) })), total };
}

/** Newest first (photos with no date last), ties by relevance. */
function byDate(store: Store, hits: Scored[]): Scored[] {
  const taken = takenAtById(
    store,
    hits.map((h) => h.id),
  );
  const t = (id: number) => taken.get(id) ?? -Infinity;
  return [...hits].sort((a, b) => t(b.id) - t(a.id) || byScoreDesc(a, b));
}

/**
 * A stored vector's dot product with the query (-Infinity when its width is another model's).
 * Read in place, not copied: scoring a folder of 1,000 made 1,000 Float32Array copies, 2 MB of
 * garbage a query, and the collections it caused were much of its p95 (docs/scale.md). A Buffer
 * better-sqlite3 returns has its own 4-byte-aligned memory; one from a shared slab may not, and is
 * copied into a reused array instead. Same float32 values, same order of sums: the same score.
 */
export function dotBlob(blob: Buffer, query: Float32Array): number {
  if (blob.byteLength !== query.length * 4) return -Infinity;
  if (blob.byteOffset % 4 === 0) return dot(new Float32Array(blob.buffer, blob.byteOffset, query.length), query);
  if (unaligned.length !== query.length) unaligned = new Float32Array(query.length);
  new Uint8Array(unaligned.buffer).set(blob);
  return dot(unaligned, query);
}
let unaligned = new Float32Array(0);

/** Cosine of two unit vectors of one model. */
export function dot(v: Float32Array, query: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * query[i]!;
  return s;
}
