/**
 * duplicates — finds near-identical photos (resized, recompressed, slightly cropped or brightened
 * copies, a PNG of a JPEG) and groups them.
 *
 * Owns the `duplicate_fingerprints` table (migration 005). How: pairs are proposed by the active
 * model's image vectors (each photo's nearest neighbours in the HNSW index above a cosine floor)
 * and by the perceptual hash (every pair within a few bits); each proposed pair is then confirmed
 * by the aligned comparison of the two grey thumbnails (perceptual.ts), and confirmed pairs join
 * their photos into groups (union-find). The comparison of pairs, the expensive part, is done once
 * per state of the library and kept, so moving the similarity control only regroups.
 * Must never: delete, move or write a photo (it reads them to fingerprint), or block the event loop
 * (all loops yield every few milliseconds, and report progress).
 */
import type { DuplicateGroup, DuplicatesProgress, DuplicatesResult, FailedPhoto } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { indexedPhotosById, indexedPhotosVersion, searchableVectors } from '../library/index.ts';
import { blobToVector, type VectorIndex } from '../ann/index.ts';
import { fingerprintLibrary, type Fingerprint } from './fingerprints.ts';
import { groupPairs, type ScoredPair } from './grouping.ts';
import { alignedSimilarity, hammingDistance, prepareThumb, type PreparedThumb } from './perceptual.ts';

export { fingerprintFile, type Fingerprint } from './fingerprints.ts';
export { alignedSimilarity, hammingDistance, prepareThumb, perceptualHash } from './perceptual.ts';
export { groupPairs, UnionFind, type ScoredPair } from './grouping.ts';

/** The similarity control's default: distinct photos of one kind of scene stayed below ≈ 0.9 on coco-mini. */
export const DEFAULT_SIMILARITY = 0.9;
/** Pairs whose hashes differ in at most this many of 64 bits are compared. */
export const HASH_CANDIDATE_BITS = 22;
/** Of those, each photo's closest few: copies of one picture are close, so a handful suffices. */
export const HASH_NEAREST = 16;
/** Vector neighbours looked at per photo, and the cosine they need to be compared. */
export const VECTOR_NEIGHBOURS = 8;
export const VECTOR_FLOOR = 0.9;
/** Work between two yields to the event loop. */
const SLICE_MS = 15;

/** The active model's vectors, to propose pairs; absent when no model has indexed the library. */
export interface VectorSource {
  modelId: string;
  index: VectorIndex;
}

/** Pairs proposed by both signals and their aligned similarity: what grouping at any threshold needs. */
interface Comparison {
  version: string;
  modelId: string | null;
  photos: number;
  pairs: ScoredPair[];
  unreadable: FailedPhoto[];
}

export class DuplicatesStopped extends Error {
  constructor() {
    super('the search for duplicates was stopped; fingerprints made so far are kept, so the next one continues from there');
  }
}

/** Yields to the event loop when the current slice of work has run long enough. */
class Slicer {
  private since = performance.now();
  constructor(private readonly stopped: () => boolean) {}
  async tick(): Promise<void> {
    if (performance.now() - this.since < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
    if (this.stopped()) throw new DuplicatesStopped();
  }
}

/** Progress with a rate and time left, from the start of the current stage. */
function progressMeter(onProgress: (p: DuplicatesProgress) => void) {
  let stage: DuplicatesProgress['stage'] | null = null;
  let started = 0;
  let last = 0;
  return (s: DuplicatesProgress['stage'], done: number, total: number) => {
    const now = performance.now();
    if (s !== stage) {
      stage = s;
      started = now;
      last = 0;
    } else if (now - last < 100 && done < total) return;
    last = now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0.2 ? done / seconds : 0;
    onProgress({ stage: s, done, total, rate, etaSeconds: rate > 0 ? (total - done) / rate : null });
  };
}

/**
 * Pairs of fingerprints whose hashes are within `maxBits`, each photo keeping only its `nearest`
 * closest (so the comparisons grow with the library, not with its square, even though ~2 % of all
 * pairs of unrelated photos fall within 22 bits). Every pair is looked at, in slices.
 */
export async function pairsByHash(
  fps: readonly Fingerprint[],
  maxBits: number,
  tick: () => Promise<void> = async () => {},
  nearest = HASH_NEAREST,
): Promise<[number, number][]> {
  const n = fps.length;
  const hi = Uint32Array.from(fps, (f) => f.hashHi);
  const lo = Uint32Array.from(fps, (f) => f.hashLo);
  const out = new Map<number, [number, number]>();
  const near: { j: number; d: number }[] = [];
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const l = lo[i]!;
    near.length = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = hammingDistance(h, l, hi[j]!, lo[j]!);
      if (d <= maxBits) near.push({ j, d });
    }
    if (near.length > nearest) near.sort((a, b) => a.d - b.d || a.j - b.j).length = nearest;
    for (const { j } of near) out.set(i < j ? i * n + j : j * n + i, i < j ? [i, j] : [j, i]);
    await tick();
  }
  return [...out.values()];
}

/** Pairs (as fingerprint positions) whose vectors are among each other's nearest neighbours above the floor. */
export async function pairsByVectors(
  store: Store,
  source: VectorSource,
  position: ReadonlyMap<number, number>,
  tick: () => Promise<void> = async () => {},
  neighbours = VECTOR_NEIGHBOURS,
  floor = VECTOR_FLOOR,
): Promise<{ pair: [number, number]; cosine: number }[]> {
  const out: { pair: [number, number]; cosine: number }[] = [];
  for (const row of searchableVectors(store, source.modelId, {})) {
    const i = position.get(row.id);
    if (i === undefined || row.vector.byteLength !== source.index.dim * 4) continue;
    const hits = source.index.search(blobToVector(row.vector, source.index.dim, row.id), neighbours + 1);
    for (const h of hits) {
      const j = position.get(h.photoId);
      if (j === undefined || j === i || h.score < floor) continue;
      out.push({ pair: i < j ? [i, j] : [j, i], cosine: h.score });
    }
    await tick();
  }
  return out;
}

export class DuplicateFinder {
  private cached: Comparison | null = null;
  private running: { key: string; promise: Promise<Comparison> } | null = null;
  private stopAsked = false;

  constructor(private readonly store: Store) {}

  /**
   * The groups at `similarity` (0–1). Fingerprints and comparisons are reused while the library
   * and the model are unchanged; concurrent calls share one comparison.
   */
  async find(similarity: number, vectors: VectorSource | null, onProgress: (p: DuplicatesProgress) => void = () => {}): Promise<DuplicatesResult> {
    const started = performance.now();
    const comparison = await this.compare(vectors, onProgress);
    const groups = this.groups(comparison.pairs, similarity);
    return {
      groups,
      similarity,
      photos: comparison.photos,
      pairsCompared: comparison.pairs.length,
      unreadable: comparison.unreadable,
      modelId: comparison.modelId,
      tookMs: performance.now() - started,
    };
  }

  /** Stops the comparison in progress; true when one was running. */
  stop(): boolean {
    if (!this.running) return false;
    this.stopAsked = true;
    return true;
  }

  private compare(vectors: VectorSource | null, onProgress: (p: DuplicatesProgress) => void): Promise<Comparison> {
    const key = `${indexedPhotosVersion(this.store)}|${vectors?.modelId ?? ''}`;
    if (this.cached && `${this.cached.version}|${this.cached.modelId ?? ''}` === key) return Promise.resolve(this.cached);
    if (this.running?.key === key) return this.running.promise;
    this.stopAsked = false;
    const promise = this.compareNow(key.split('|')[0]!, vectors, onProgress).finally(() => {
      if (this.running?.promise === promise) this.running = null;
    });
    this.running = { key, promise };
    return promise;
  }

  private async compareNow(version: string, vectors: VectorSource | null, onProgress: (p: DuplicatesProgress) => void): Promise<Comparison> {
    const stopped = () => this.stopAsked;
    const report = progressMeter(onProgress);
    const slicer = new Slicer(stopped);
    const tick = () => slicer.tick();
    try {
      const { fingerprints, unreadable } = await fingerprintLibrary(this.store, (p) => report('fingerprints', p.done, p.total), stopped);
      if (stopped()) throw new DuplicatesStopped();
      const position = new Map(fingerprints.map((f, i) => [f.photoId, i]));
      const proposed = new Map<number, [number, number]>();
      const n = fingerprints.length;
      const add = ([i, j]: [number, number]) => proposed.set(i * n + j, [i, j]);
      report('proposing', 0, n);
      for (const p of await pairsByHash(fingerprints, HASH_CANDIDATE_BITS, tick)) add(p);
      if (vectors) for (const p of await pairsByVectors(this.store, vectors, position, tick)) add(p.pair);
      const prepared: (PreparedThumb | null)[] = new Array(n).fill(null);
      const thumb = (i: number) => (prepared[i] ??= prepareThumb(fingerprints[i]!.thumb));
      const pairs: ScoredPair[] = [];
      let done = 0;
      for (const [i, j] of proposed.values()) {
        pairs.push({ a: fingerprints[i]!.photoId, b: fingerprints[j]!.photoId, similarity: alignedSimilarity(thumb(i), thumb(j)) });
        report('comparing', ++done, proposed.size);
        await tick();
      }
      const result: Comparison = { version, modelId: vectors?.modelId ?? null, photos: n, pairs, unreadable };
      // Kept only when the library did not change meanwhile; otherwise the next call compares again.
      if (indexedPhotosVersion(this.store) === version) this.cached = result;
      report('done', proposed.size, proposed.size);
      return result;
    } catch (err) {
      if (err instanceof DuplicatesStopped) report('stopped', 0, 0);
      throw err;
    }
  }

  private groups(pairs: readonly ScoredPair[], similarity: number): DuplicateGroup[] {
    const found = groupPairs(pairs, similarity);
    const photos = indexedPhotosById(this.store, found.flatMap((g) => g.ids));
    const groups: DuplicateGroup[] = [];
    for (const g of found) {
      const members = g.ids
        .map((id) => ({ photo: photos.get(id), similarity: g.similarity.get(id)! }))
        .filter((m): m is DuplicateGroup['photos'][number] => m.photo !== undefined);
      if (members.length < 2) continue;
      // Largest picture first (most likely the original), then the bigger file, then the older one.
      const pixels = (m: (typeof members)[number]) => (m.photo.width ?? 0) * (m.photo.height ?? 0);
      members.sort((a, b) => pixels(b) - pixels(a) || b.photo.size - a.photo.size || a.photo.id - b.photo.id);
      groups.push({ id: members[0]!.photo.id, photos: members });
    }
    // Biggest groups first, then by the first photo's path, so the list reads the same every time.
    return groups.sort((a, b) => b.photos.length - a.photos.length || a.photos[0]!.photo.path.localeCompare(b.photos[0]!.photo.path));
  }
}
