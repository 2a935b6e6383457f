/**
 * ann — the nearest-neighbour index of one model's photo vectors (hnswlib-node, cosine via 'ip').
 *
 * Owns `<dataDir>/index/<model>.hnsw` + `<model>.labels` and that model's `ann_state` row. The
 * index is derived data: SQLite's `vectors` table is the truth, and whenever the files are
 * missing, damaged or out of step with it, the index repairs or rebuilds itself from there.
 * Must never: write to `vectors` or `photos`, or be trusted over SQLite.
 *
 * Persistence check (stored as JSON in `ann_state.checksum`):
 *   { v: 1, labels: sha1(sorted live photo ids as uint32 LE), file: sha1(.hnsw bytes + .labels bytes) }
 * - `file` catches truncated or garbage files before hnswlib reads them (hnswlib trusts its
 *   header and can crash on garbage), `labels` says exactly which photos the file holds.
 * - At open the file's label set is compared with `vectors`: photos added or removed since the
 *   save are patched in (cheap), anything larger or an unverifiable file means a full rebuild.
 * - A vector *replaced* under an existing label is invisible to a label check, so whoever
 *   replaces vectors calls `markIndexStale` in the same transaction (the indexer does); with
 *   no `ann_state` row the next open rebuilds.
 */
import hnswlib from 'hnswlib-node';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../store/index.ts';
import { TopK } from '../../core/ranking.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

const M = 16;
const EF_CONSTRUCTION = 200;
const SEED = 100;
const DEFAULT_EF = 256;
/** Rows read per chunk while rebuilding, so a big rebuild yields to the event loop. */
const CHUNK = 1000;
/** Repair by patching only while the difference is small; beyond this share, rebuild. */
const MAX_PATCH_SHARE = 0.5;

export interface VectorIndexOptions {
  store: Store;
  /** `<dataDir>/index` */
  dir: string;
  modelId: string;
  dim: number;
  /** Below this many vectors, searches scan exactly (fast enough, and perfect). Default 5000. */
  exactBelow?: number;
  /**
   * HNSW search breadth; the search uses max(ef, 2k). Default 256: measured on uniform random
   * unit vectors (the hardest case) it gives recall@10 ≈ 0.99 at 128-d/5k for ~0.3 ms a query.
   */
  ef?: number;
  /** Where to say why the index was rebuilt or repaired; default console.warn. */
  log?: (message: string) => void;
}

export interface AnnHit {
  photoId: number;
  score: number;
}

export interface AnnSearchOptions {
  exact?: boolean;
  filter?: (photoId: number) => boolean;
}

/** What happened at open: 'loaded', 'repaired' or 'rebuilt', and why. */
export interface OpenReport {
  outcome: 'loaded' | 'repaired' | 'rebuilt';
  reason: string;
}

type Op = { kind: 'upsert'; id: number; vector: Float32Array } | { kind: 'remove'; id: number };

/** Deletes a model's vectors (and its index state, by cascade) and its index files. */
export async function dropModelIndex(store: Store, dir: string, modelId: string): Promise<void> {
  store.db.prepare('DELETE FROM models WHERE id = ?').run(modelId);
  const base = join(dir, fileBase(modelId));
  await Promise.all([rm(`${base}.hnsw`, { force: true }), rm(`${base}.labels`, { force: true })]);
}

/** Forces the next open of this model's index to rebuild; call inside the transaction that replaces vectors. */
export function markIndexStale(store: Store, modelId: string): void {
  store.db.prepare('DELETE FROM ann_state WHERE model_id = ?').run(modelId);
}

export class VectorIndex {
  /** How the index came to be at open (for logs, status and tests). */
  openReport: OpenReport = { outcome: 'rebuilt', reason: 'not opened' };

  private hnsw: Hnsw;
  private live = new Set<number>();
  /** Exact-scan cache: the vectors themselves while the index is small; null when not held. */
  private cache: Map<number, Float32Array> | null = new Map();
  /** Mutations that arrive while hnswlib is being written or rebuilt (its threads must not race). */
  private deferred: Op[] | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private closed = false;
  private readonly exactBelow: number;
  private readonly log: (m: string) => void;
  private readonly file: string;
  private readonly labelsFile: string;

  private constructor(private readonly opts: VectorIndexOptions) {
    this.exactBelow = opts.exactBelow ?? 5000;
    this.log = opts.log ?? ((m) => console.warn(m));
    const base = fileBase(opts.modelId);
    this.file = join(opts.dir, `${base}.hnsw`);
    this.labelsFile = join(opts.dir, `${base}.labels`);
    this.hnsw = emptyHnsw(opts.dim, 1024);
  }

  static async open(opts: VectorIndexOptions): Promise<VectorIndex> {
    const index = new VectorIndex(opts);
    await mkdir(opts.dir, { recursive: true });
    index.ensureModelRow();
    await index.load();
    return index;
  }

  get modelId(): string {
    return this.opts.modelId;
  }

  get dim(): number {
    return this.opts.dim;
  }

  /** Number of live (searchable) vectors. */
  get size(): number {
    return this.live.size;
  }

  has(photoId: number): boolean {
    return this.live.has(photoId);
  }

  /** Adds or replaces a photo's vector (label = photo id). Expects the vector already committed in SQLite. */
  upsert(photoId: number, vector: Float32Array): void {
    this.assertOpen();
    if (vector.length !== this.opts.dim) {
      throw new Error(`vector for photo ${photoId} has ${vector.length} dimensions, index expects ${this.opts.dim}`);
    }
    const op: Op = { kind: 'upsert', id: photoId, vector: Float32Array.from(vector) };
    if (this.deferred) this.deferred.push(op);
    else this.apply(op);
  }

  /** Hides a photo from searches; unknown ids are ignored. */
  remove(photoId: number): void {
    this.assertOpen();
    const op: Op = { kind: 'remove', id: photoId };
    if (this.deferred) this.deferred.push(op);
    else this.apply(op);
  }

  /**
   * The k photos most similar to `query` (cosine, best first). Small indexes and `exact: true`
   * scan every vector; otherwise HNSW with ef = max(ef option, 2k) and hnswlib's own filter callback,
   * so a filter still yields up to k results.
   */
  search(query: Float32Array, k: number, opts: AnnSearchOptions = {}): AnnHit[] {
    this.assertOpen();
    if (query.length !== this.opts.dim) {
      throw new Error(`query has ${query.length} dimensions, index expects ${this.opts.dim}`);
    }
    k = Math.min(Math.floor(k), this.live.size);
    if (k <= 0) return [];
    if (opts.exact || this.live.size < this.exactBelow) return this.exactSearch(query, k, opts.filter);
    this.hnsw.setEf(Math.max(this.opts.ef ?? DEFAULT_EF, 2 * k));
    const live = this.live;
    const filter = opts.filter;
    const accept = filter ? (id: number) => live.has(id) && filter(id) : undefined;
    const res = this.hnsw.searchKnn(Array.from(query), k, accept);
    const hits: AnnHit[] = [];
    for (let i = 0; i < res.neighbors.length; i++) {
      const id = res.neighbors[i]!;
      // Deleted labels are skipped by hnswlib itself; the check guards the deferred window.
      if (live.has(id)) hits.push({ photoId: id, score: 1 - res.distances[i]! });
    }
    return hits;
  }

  /** Persists the index: hnsw + labels to temp files, renamed into place, then `ann_state`. */
  save(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.dirty) return;
      await this.writeFiles();
    });
  }

  /** Rebuilds from the `vectors` table (searches keep using the old index meanwhile). */
  rebuild(reason = 'asked to rebuild'): Promise<void> {
    return this.exclusive(async () => {
      await this.rebuildNow(reason);
      this.openReport = { outcome: 'rebuilt', reason };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.save();
    await this.busy;
    this.closed = true;
    this.cache = null;
  }

  // -------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error(`vector index for ${this.opts.modelId} is closed`);
  }

  /** Runs `fn` with hnswlib to itself: mutations meanwhile are queued and applied afterwards. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(async () => {
      this.deferred = [];
      try {
        await fn();
      } finally {
        const ops = this.deferred;
        this.deferred = null;
        for (const op of ops ?? []) this.apply(op);
      }
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  private apply(op: Op): void {
    if (op.kind === 'upsert') {
      const replacing = this.live.has(op.id);
      if (!replacing) this.ensureCapacity(this.hnsw.getCurrentCount() + 1);
      // The saved file still holds the old vector under this label; a label check cannot see that.
      if (replacing) markIndexStale(this.opts.store, this.opts.modelId);
      // Re-adding a markDeleted label un-deletes and updates it (allowReplaceDeleted is off).
      this.hnsw.addPoint(Array.from(op.vector), op.id);
      this.live.add(op.id);
      if (this.cache) {
        if (this.live.size >= this.exactBelow) this.cache = null;
        else this.cache.set(op.id, op.vector);
      }
    } else {
      if (!this.live.has(op.id)) return;
      this.hnsw.markDelete(op.id);
      this.live.delete(op.id);
      this.cache?.delete(op.id);
    }
    this.dirty = true;
  }

  private ensureCapacity(needed: number): void {
    const max = this.hnsw.getMaxElements();
    if (needed <= max) return;
    this.hnsw.resizeIndex(Math.max(needed, Math.ceil(max * 1.5), 1024));
  }

  private exactSearch(query: Float32Array, k: number, filter?: (id: number) => boolean): AnnHit[] {
    const top = new TopK(k);
    const consider = (id: number, v: Float32Array) => {
      if (!this.live.has(id) || (filter && !filter(id))) return;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * query[i]!;
      top.push(id, s);
    };
    if (!this.cache && this.live.size < this.exactBelow) this.cache = this.loadCache();
    if (this.cache) for (const [id, v] of this.cache) consider(id, v);
    else for (const [id, v] of this.readVectorChunks()) consider(id, v);
    return top.sorted().map((h) => ({ photoId: h.id, score: h.score }));
  }

  private loadCache(): Map<number, Float32Array> {
    const cache = new Map<number, Float32Array>();
    for (const [id, v] of this.readVectorChunks()) if (this.live.has(id)) cache.set(id, v);
    return cache;
  }

  /** All of this model's vectors from SQLite, in photo-id order, read in keyset chunks. */
  private *readVectorChunks(afterId = -1): Generator<[number, Float32Array]> {
    const stmt = this.opts.store.db.prepare<[string, number, number], { photo_id: number; vector: Buffer }>(
      'SELECT photo_id, vector FROM vectors WHERE model_id = ? AND photo_id > ? ORDER BY photo_id LIMIT ?',
    );
    let last = afterId;
    for (;;) {
      const rows = stmt.all(this.opts.modelId, last, CHUNK);
      for (const r of rows) yield [r.photo_id, blobToVector(r.vector, this.opts.dim, r.photo_id)];
      if (rows.length < CHUNK) return;
      last = rows[rows.length - 1]!.photo_id;
    }
  }

  private sqliteIds(): number[] {
    return this.opts.store.db
      .prepare<[string], number>('SELECT photo_id FROM vectors WHERE model_id = ? ORDER BY photo_id')
      .pluck()
      .all(this.opts.modelId);
  }

  private ensureModelRow(): void {
    const { store, modelId, dim } = this.opts;
    // vectors and ann_state reference models(id); the models service normally adds the row first.
    store.db.prepare('INSERT OR IGNORE INTO models(id, dim, added_at) VALUES (?, ?, ?)').run(modelId, dim, Date.now());
    const row = store.db.prepare<[string], { dim: number }>('SELECT dim FROM models WHERE id = ?').get(modelId);
    if (row && row.dim !== dim) {
      throw new Error(`model ${modelId} is registered with ${row.dim} dimensions, not ${dim}`);
    }
  }

  /** Load the saved files when they verify, patch small differences, otherwise rebuild. */
  private async load(): Promise<void> {
    const why = await this.tryLoadFiles();
    if (typeof why === 'string') {
      // Nothing to say when there is nothing to rebuild (a new library, or a model not used yet).
      if (this.sqliteIds().length > 0) this.log(`ann(${this.opts.modelId}): rebuilding from SQLite — ${why}`);
      await this.rebuild(why);
      await this.save();
      return;
    }
    // Files verified: patch the photos added or removed since they were written.
    const ids = this.sqliteIds();
    const want = new Set(ids);
    const missing = ids.filter((id) => !this.live.has(id));
    const extra = [...this.live].filter((id) => !want.has(id));
    if (missing.length === 0 && extra.length === 0) {
      this.openReport = { outcome: 'loaded', reason: 'saved index matches SQLite' };
      return;
    }
    const change = missing.length + extra.length;
    if (change > Math.max(100, MAX_PATCH_SHARE * ids.length)) {
      const reason = `saved index is far behind SQLite (${missing.length} missing, ${extra.length} extra)`;
      this.log(`ann(${this.opts.modelId}): rebuilding from SQLite — ${reason}`);
      await this.rebuild(reason);
      await this.save();
      return;
    }
    for (const id of extra) this.apply({ kind: 'remove', id });
    const getVector = this.opts.store.db.prepare<[string, number], Buffer>(
      'SELECT vector FROM vectors WHERE model_id = ? AND photo_id = ?',
    ).pluck();
    for (const id of missing) {
      const blob = getVector.get(this.opts.modelId, id);
      if (blob) this.apply({ kind: 'upsert', id, vector: blobToVector(blob, this.opts.dim, id) });
    }
    const reason = `patched saved index: ${missing.length} added, ${extra.length} removed since it was saved`;
    this.log(`ann(${this.opts.modelId}): ${reason}`);
    this.openReport = { outcome: 'repaired', reason };
    await this.save();
  }

  /** Returns true when the saved files loaded, or the reason they cannot be used. */
  private async tryLoadFiles(): Promise<true | string> {
    const { store, modelId, dim } = this.opts;
    const state = store.db
      .prepare<[string], { count: number; checksum: string }>('SELECT count, checksum FROM ann_state WHERE model_id = ?')
      .get(modelId);
    if (!state) return 'no saved index state (first open, or vectors were replaced since the last save)';
    let saved: { v: number; labels: string; file: string };
    try {
      saved = JSON.parse(state.checksum);
    } catch {
      return 'saved index state is unreadable';
    }
    for (const f of [this.file, this.labelsFile]) {
      try {
        await stat(f);
      } catch {
        return `index file ${f} is missing`;
      }
    }
    const fileHash = await hashFiles([this.file, this.labelsFile]);
    if (fileHash !== saved.file) return `index file ${this.file} is damaged (checksum differs from the last save)`;
    const labelBytes = await readFile(this.labelsFile);
    if (labelBytes.byteLength % 4 !== 0) return 'labels file is damaged';
    const labels = new Uint32Array(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength / 4);
    if (labels.length !== state.count || hashLabels(labels) !== saved.labels) {
      return 'labels file does not match the saved state';
    }
    const hnsw = new HierarchicalNSW('ip', dim);
    try {
      await hnsw.readIndex(this.file);
    } catch (e) {
      return `hnswlib could not read ${this.file}: ${(e as Error).message}`;
    }
    if (hnsw.getNumDimensions() !== dim) return `index file has ${hnsw.getNumDimensions()} dimensions, expected ${dim}`;
    this.hnsw = hnsw;
    this.live = new Set(labels);
    this.cache = null; // loaded lazily from SQLite on the first exact scan
    this.dirty = false;
    return true;
  }

  private async rebuildNow(reason: string): Promise<void> {
    const started = Date.now();
    const count = (this.opts.store.db
      .prepare<[string], number>('SELECT COUNT(*) FROM vectors WHERE model_id = ?')
      .pluck()
      .get(this.opts.modelId) ?? 0);
    const hnsw = emptyHnsw(this.opts.dim, Math.max(1024, Math.ceil(count * 1.1)));
    const live = new Set<number>();
    const cache: Map<number, Float32Array> | null = count < this.exactBelow ? new Map() : null;
    let last = -1;
    let n = 0;
    for (const [id, v] of this.readVectorChunks()) {
      if (hnsw.getCurrentCount() + 1 > hnsw.getMaxElements()) hnsw.resizeIndex(Math.ceil(hnsw.getMaxElements() * 1.5));
      hnsw.addPoint(Array.from(v), id);
      live.add(id);
      cache?.set(id, v);
      last = id;
      // Yield now and then: a 100k rebuild takes minutes and must not freeze the app.
      if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    void last;
    this.hnsw = hnsw;
    this.live = live;
    this.cache = cache && live.size < this.exactBelow ? cache : null;
    this.dirty = true;
    if (live.size > 1000) {
      this.log(`ann(${this.opts.modelId}): rebuilt ${live.size} vectors in ${Date.now() - started} ms (${reason})`);
    }
  }

  private async writeFiles(): Promise<void> {
    const labels = Uint32Array.from([...this.live].sort((a, b) => a - b));
    const tmp = `${this.file}.tmp-${process.pid}`;
    const tmpLabels = `${this.labelsFile}.tmp-${process.pid}`;
    try {
      await this.hnsw.writeIndex(tmp);
      await writeFile(tmpLabels, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
      const fileHash = await hashFiles([tmp, tmpLabels]);
      // Forget the old state first: a crash between the two renames must not pair old state with new files.
      markIndexStale(this.opts.store, this.opts.modelId);
      await rename(tmp, this.file);
      await rename(tmpLabels, this.labelsFile);
      const checksum = JSON.stringify({ v: 1, labels: hashLabels(labels), file: fileHash });
      this.opts.store.db
        .prepare(
          `INSERT INTO ann_state(model_id, count, checksum, saved_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(model_id) DO UPDATE SET count = excluded.count, checksum = excluded.checksum, saved_at = excluded.saved_at`,
        )
        .run(this.opts.modelId, labels.length, checksum, Date.now());
      this.dirty = false;
    } finally {
      await rm(tmp, { force: true });
      await rm(tmpLabels, { force: true });
    }
  }
}

function emptyHnsw(dim: number, capacity: number): Hnsw {
  const h = new HierarchicalNSW('ip', dim);
  h.initIndex(capacity, M, EF_CONSTRUCTION, SEED);
  return h;
}

/** Model ids may hold any character; file names get a readable, collision-free form. */
function fileBase(modelId: string): string {
  const readable = modelId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  const tag = createHash('sha1').update(modelId).digest('hex').slice(0, 8);
  return `${readable}-${tag}`;
}

export function blobToVector(blob: Buffer, dim: number, photoId?: number): Float32Array {
  if (blob.byteLength !== dim * 4) {
    throw new Error(`stored vector${photoId === undefined ? '' : ` of photo ${photoId}`} has ${blob.byteLength} bytes, expected ${dim * 4}`);
  }
  // Copy: the Buffer may share an unaligned pool slab.
  const out = new Float32Array(dim);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function hashLabels(sorted: Uint32Array): string {
  return createHash('sha1').update(new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength)).digest('hex');
}

async function hashFiles(files: string[]): Promise<string> {
  const h = createHash('sha1');
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      createReadStream(f)
        .on('data', (c) => h.update(c))
        .on('end', resolve)
        .on('error', reject);
    });
  }
  return h.digest('hex');
}
