/**
 * ann — the nearest-neighbour index of one model's photo vectors (hnswlib-node, cosine via 'ip').
 *
 * Owns `<dataDir>/index/<model>.<generation>.hnsw` + `.labels`, that model's `ann_state` row and
 * its `ann_journal` rows. The index is derived data: SQLite's `vectors` table is the truth, and
 * whenever the files are missing, damaged or out of step with it, the index repairs or rebuilds
 * itself from there.
 * Must never: write to `vectors` or `photos`, or be trusted over SQLite.
 *
 * Persistence (issue 15 §1: no full rebuild in normal life, even after kill -9):
 * - Triggers on `vectors` (migration 008) append every added, replaced or removed photo id to
 *   `ann_journal`. A save writes a new generation of files, then in one transaction points
 *   `ann_state` at it with the journal position it reflects and trims the journal; the old
 *   generation is deleted only afterwards, so a crash at any moment leaves a complete pair.
 * - `ann_state.checksum` (JSON) = { v: 3, gen, labels: sha1(sorted ids as uint32 LE),
 *   file: sha1(.hnsw + .labels bytes), size, head: sha1(first 64 KiB of .hnsw) }: `file` catches
 *   truncated or garbage files, `labels` which photos it holds. hnswlib trusts its header (sizes
 *   from it decide allocations and reads), so `size` and `head` are checked before it reads; the
 *   whole-file hash runs while hnswlib reads (open costs the longer of the two, not both — at 1M
 *   photos each is over a second) and nothing is searched before it agrees. v2 states (no head)
 *   are hashed first, as before.
 * - At open the journal entries after the saved position are replayed (cheap: only what changed
 *   since the save); a count check against `vectors` backs that up with a full label diff.
 *   Only an unusable file, or a file whose photos were mostly deleted since, means a rebuild.
 */
import hnswlib from 'hnswlib-node';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskFull, isDiskFull, type Store } from '../store/index.ts';
import { TopK } from '../../core/ranking.ts';
import { hnswFileProblem } from './file-check.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

const M = 16;
const EF_CONSTRUCTION = 200;
const SEED = 100;
// 384, not 256: at 1M 512-d vectors ef = 256 found 0.953 of the exact top 10, 384 finds 0.976 at
// 8.1 ms p95 (512: 0.992 at 10.3 ms), test/bench/ef-sweep.bench.ts (docs/scale.md).
const DEFAULT_EF = 384;
/** The graph's parameters, as the scale bench prints them next to its figures. */
export const HNSW_PARAMS = `M=${M}, efConstruction=${EF_CONSTRUCTION}, ef=${DEFAULT_EF}`;
/** Rows read per chunk while rebuilding, so a big rebuild yields to the event loop. */
const CHUNK = 1000;
/** How often a long rebuild says how far it is. */
const REBUILD_REPORT_MS = 30_000;
/** Patch at open unless more than this share of the saved file was deleted since (a graph of tombstones). */
const MAX_REMOVED_SHARE = 0.5;
/**
 * A patch larger than this runs after open returns (searchable at once; the photos indexed just
 * before the crash join within seconds) — at 1M photos each addPoint costs milliseconds.
 */
const INLINE_PATCH = 500;
/** Periodic saves while busy keep writing the file to at most 1/this of the time (a 1M file takes seconds). */
const SAVE_TIME_FACTOR = 20;

export interface VectorIndexOptions {
  store: Store;
  /** `<dataDir>/index` */
  dir: string;
  modelId: string;
  dim: number;
  /** Below this many vectors, searches scan exactly (fast enough, and perfect). Default 5000. */
  exactBelow?: number;
  /**
   * HNSW search breadth; the search uses max(ef, 2k). Default 384: recall@10 ≥ 0.97 up to a
   * million 512-d vectors within the 10 ms query budget (DEFAULT_EF).
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

/** What happened at open: 'loaded', 'repaired' or 'rebuilt', why, and how many photos were patched. */
export interface OpenReport {
  outcome: 'loaded' | 'repaired' | 'rebuilt';
  reason: string;
  /** Photos added, replaced or removed on top of the saved file (0 unless 'repaired'). */
  patched: number;
  ms: number;
}

interface SavedState {
  v: number;
  gen?: number;
  labels: string;
  file: string;
  /** v3: the .hnsw file's size and the hash of its first HEAD_BYTES. */
  size?: number;
  head?: string;
}

/** hnswlib's header (sizes, counts, entry point) lies in the first bytes; checked before it reads. */
const HEAD_BYTES = 64 * 1024;

type Op = { kind: 'upsert'; id: number; vector: Float32Array } | { kind: 'remove'; id: number };

/** Deletes a model's vectors (and its index state, by cascade), its journal and its index files. */
export async function dropModelIndex(store: Store, dir: string, modelId: string): Promise<void> {
  store.transaction(() => {
    store.db.prepare('DELETE FROM models WHERE id = ?').run(modelId);
    store.db.prepare('DELETE FROM ann_journal WHERE model_id = ?').run(modelId);
  });
  await removeGenerations(dir, fileBase(modelId), null);
}

export class VectorIndex {
  /** How the index came to be at open (for logs, status and tests). */
  openReport: OpenReport = { outcome: 'rebuilt', reason: 'not opened', patched: 0, ms: 0 };

  private hnsw: Hnsw;
  private live = new Set<number>();
  /** Exact-scan cache: the vectors themselves while the index is small; null when not held. */
  private cache: Map<number, Float32Array> | null = new Map();
  /** Mutations that arrive while hnswlib is being written or rebuilt (its threads must not race). */
  private deferred: Op[] | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private patching: Promise<void> = Promise.resolve();
  private dirty = false;
  private closed = false;
  /** Generation of the files on disk that `ann_state` points at (0: none yet). */
  private gen = 0;
  private lastSaveAt = 0;
  private lastSaveMs = 0;
  private readonly exactBelow: number;
  private readonly log: (m: string) => void;
  private readonly base: string;

  private constructor(private readonly opts: VectorIndexOptions) {
    this.exactBelow = opts.exactBelow ?? 5000;
    this.log = opts.log ?? ((m) => console.warn(m));
    this.base = fileBase(opts.modelId);
    this.hnsw = emptyHnsw(opts.dim, 1024);
  }

  static async open(opts: VectorIndexOptions): Promise<VectorIndex> {
    const started = performance.now();
    const index = new VectorIndex(opts);
    await mkdir(opts.dir, { recursive: true });
    index.ensureModelRow();
    await index.load();
    index.openReport.ms = performance.now() - started;
    return index;
  }

  get modelId(): string {
    return this.opts.modelId;
  }

  get dim(): number {
    return this.opts.dim;
  }

  /** Resolves when the patch started at open (journal replay after a crash) is applied. */
  whenPatched(): Promise<void> {
    return this.patching;
  }

  /** Number of live (searchable) vectors. */
  get size(): number {
    return this.live.size;
  }

  has(photoId: number): boolean {
    return this.live.has(photoId);
  }

  /** The photos it holds (searchable labels), ascending: lets a check compare it with SQLite. */
  labels(): number[] {
    return [...this.live].sort((a, b) => a - b);
  }

  /** The vector HNSW holds for a photo (what its searches score), or null when it holds none. */
  storedVector(photoId: number): Float32Array | null {
    if (!this.live.has(photoId)) return null;
    return Float32Array.from(this.hnsw.getPoint(photoId));
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

  /**
   * Persists the index as a new generation of files, then `ann_state`. `whileBusy` (periodic saves
   * during indexing) skips the write while the last one is recent compared with how long it took:
   * the journal covers what is not saved yet, and a 1M-photo file costs seconds to write.
   */
  save(opts: { whileBusy?: boolean } = {}): Promise<void> {
    return this.exclusive(async () => {
      if (!this.dirty) return;
      if (opts.whileBusy && Date.now() - this.lastSaveAt < SAVE_TIME_FACTOR * this.lastSaveMs) return;
      await this.writeFiles();
    });
  }

  /** Rebuilds from the `vectors` table (searches keep using the old index meanwhile). */
  rebuild(reason = 'asked to rebuild'): Promise<void> {
    return this.exclusive(async () => {
      await this.rebuildNow(reason);
      this.openReport = { outcome: 'rebuilt', reason, patched: 0, ms: 0 };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.save();
    } catch (err) {
      // The journal holds what the file lacks: the next open patches it. A full disk was already
      // reported by whoever met it first (the indexer, or the save that ends indexing).
      if (!isDiskFull(err)) this.log(`ann(${this.opts.modelId}): could not save the index at close (${(err as Error).message}); the next open catches up from SQLite`);
    }
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
      if (!this.live.has(op.id)) this.ensureCapacity(this.hnsw.getCurrentCount() + 1);
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

  /** Load the saved files when they verify, replay the journal since the save, otherwise rebuild. */
  private async load(): Promise<void> {
    const loaded = await this.tryLoadFiles();
    if (typeof loaded === 'string') return this.rebuildAtOpen(loaded);
    const { store, modelId } = this.opts;
    // Everything changed since the save, by the journal the triggers keep.
    const changed = store.db
      .prepare<[string, number], number>('SELECT DISTINCT photo_id FROM ann_journal WHERE model_id = ? AND seq > ?')
      .pluck()
      .all(modelId, loaded.journalSeq);
    const getVector = store.db
      .prepare<[string, number], Buffer>('SELECT vector FROM vectors WHERE model_id = ? AND photo_id = ?')
      .pluck();
    const upserts: number[] = [];
    const removals: number[] = [];
    for (const id of changed) (getVector.get(modelId, id) ? upserts : removals).push(id);
    // Backstop: the counts must agree after the replay; if not, diff the label sets in full.
    const sqliteCount = this.vectorCount();
    const afterReplay = this.live.size + upserts.filter((id) => !this.live.has(id)).length - removals.filter((id) => this.live.has(id)).length;
    if (afterReplay !== sqliteCount) {
      const ids = this.sqliteIds();
      const want = new Set(ids);
      const seen = new Set(changed);
      for (const id of ids) if (!this.live.has(id) && !seen.has(id)) upserts.push(id);
      for (const id of this.live) if (!want.has(id) && !seen.has(id)) removals.push(id);
    }
    const removed = removals.filter((id) => this.live.has(id)).length;
    if (removed > MAX_REMOVED_SHARE * Math.max(this.live.size, 200)) {
      return this.rebuildAtOpen(`most of the saved index was deleted since (${removed} of ${this.live.size})`);
    }
    if (upserts.length === 0 && removals.length === 0) {
      this.openReport = { outcome: 'loaded', reason: 'saved index matches SQLite', patched: 0, ms: 0 };
      return;
    }
    const reason = `patched saved index: ${upserts.length} added or replaced, ${removals.length} removed since it was saved`;
    this.openReport = { outcome: 'repaired', reason, patched: upserts.length + removals.length, ms: 0 };
    const patch = async () => {
      let n = 0;
      for (const id of removals) this.apply({ kind: 'remove', id });
      for (const id of upserts) {
        const blob = getVector.get(modelId, id);
        if (blob) this.apply({ kind: 'upsert', id, vector: blobToVector(blob, this.opts.dim, id) });
        if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      this.log(`ann(${modelId}): ${reason}`);
    };
    if (upserts.length <= INLINE_PATCH) return patch();
    // Mutations meanwhile are queued behind the patch, so they land on top of it in order.
    this.patching = this.exclusive(patch);
  }

  private async rebuildAtOpen(why: string): Promise<void> {
    // Nothing to say when there is nothing to rebuild (a new library, or a model not used yet).
    if (this.vectorCount() > 0) this.log(`ann(${this.opts.modelId}): rebuilding from SQLite — ${why}`);
    await this.rebuild(why);
    await this.save();
  }

  private vectorCount(): number {
    return (
      this.opts.store.db.prepare<[string], number>('SELECT COUNT(*) FROM vectors WHERE model_id = ?').pluck().get(this.opts.modelId) ?? 0
    );
  }

  private files(gen: number | undefined): { file: string; labelsFile: string } {
    // Files saved before generations (state v1) have no generation in their names.
    const stem = join(this.opts.dir, gen === undefined ? this.base : `${this.base}.${gen}`);
    return { file: `${stem}.hnsw`, labelsFile: `${stem}.labels` };
  }

  /** The saved journal position when the saved files loaded, or the reason they cannot be used. */
  private async tryLoadFiles(): Promise<{ journalSeq: number } | string> {
    const { store, modelId, dim } = this.opts;
    const state = store.db
      .prepare<[string], { count: number; checksum: string; journal_seq: number }>(
        'SELECT count, checksum, journal_seq FROM ann_state WHERE model_id = ?',
      )
      .get(modelId);
    if (!state) return 'no saved index state (first open)';
    let saved: SavedState;
    try {
      saved = JSON.parse(state.checksum) as SavedState;
    } catch {
      return 'saved index state is unreadable';
    }
    const { file, labelsFile } = this.files(saved.gen);
    let size = 0;
    for (const f of [file, labelsFile]) {
      try {
        const st = await stat(f);
        if (f === file) size = st.size;
      } catch {
        return `index file ${f} is missing`;
      }
    }
    const damaged = `index file ${file} is damaged (checksum differs from the last save)`;
    const headerChecked = saved.head !== undefined && saved.size !== undefined;
    if (headerChecked && (size !== saved.size || (await hashHead(file)) !== saved.head)) return damaged;
    // With a verified header hnswlib may read while the whole file is hashed; without, hash first.
    const hnsw = new HierarchicalNSW('ip', dim);
    const read = () => hnsw.readIndex(file).then(() => null, (e: Error) => e.message);
    const [fileHash, readError] = headerChecked
      ? await Promise.all([hashFiles([file, labelsFile]), read()])
      : [await hashFiles([file, labelsFile]), null];
    if (fileHash !== saved.file) return damaged;
    const readFailed = headerChecked ? readError : await read();
    if (readFailed !== null) return `hnswlib could not read ${file}: ${readFailed}`;
    const labelBytes = await readFile(labelsFile);
    if (labelBytes.byteLength % 4 !== 0) return 'labels file is damaged';
    const labels = new Uint32Array(labelBytes.buffer, labelBytes.byteOffset, labelBytes.byteLength / 4);
    if (labels.length !== state.count || hashLabels(labels) !== saved.labels) {
      return 'labels file does not match the saved state';
    }
    if (hnsw.getNumDimensions() !== dim) return `index file has ${hnsw.getNumDimensions()} dimensions, expected ${dim}`;
    this.hnsw = hnsw;
    this.live = new Set(labels);
    this.cache = null; // loaded lazily from SQLite on the first exact scan
    this.dirty = false;
    this.gen = saved.gen ?? 0;
    return { journalSeq: state.journal_seq };
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
    let lastReport = started;
    for (const [id, v] of this.readVectorChunks()) {
      if (hnsw.getCurrentCount() + 1 > hnsw.getMaxElements()) hnsw.resizeIndex(Math.ceil(hnsw.getMaxElements() * 1.5));
      hnsw.addPoint(Array.from(v), id);
      live.add(id);
      cache?.set(id, v);
      last = id;
      // Yield now and then: a 100k rebuild takes minutes and must not freeze the app.
      if (++n % 200 === 0) await new Promise((r) => setImmediate(r));
      if (Date.now() - lastReport >= REBUILD_REPORT_MS) {
        lastReport = Date.now();
        const rate = n / ((lastReport - started) / 1000);
        this.log(`ann(${this.opts.modelId}): rebuilding ${n} of ${count} (${rate.toFixed(0)}/s, about ${Math.ceil((count - n) / rate / 60)} min left)`);
      }
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
    const started = Date.now();
    const { store, modelId } = this.opts;
    // Taken before writing, while no mutation can land (exclusive): every journal entry up to
    // here is in memory, so in the file; later ones are replayed at the next open.
    const journalSeq =
      store.db.prepare<[string], number>('SELECT COALESCE(MAX(seq), 0) FROM ann_journal WHERE model_id = ?').pluck().get(modelId) ?? 0;
    const labels = Uint32Array.from([...this.live].sort((a, b) => a - b));
    const gen = this.gen + 1;
    const { file, labelsFile } = this.files(gen);
    const tmp = `${file}.tmp-${process.pid}`;
    const tmpLabels = `${labelsFile}.tmp-${process.pid}`;
    try {
      await writeFile(tmpLabels, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
      await this.hnsw.writeIndex(tmp);
      // hnswlib reports no write error (a full disk leaves a cut-off file): check the file is whole
      // before it is hashed and trusted; the saved generation and the journal stay as they were.
      const problem = await hnswFileProblem(tmp);
      if (problem) throw new DiskFull(`The vector index file ${file} was not written whole (${problem})`);
      const [fileHash, head, { size }] = await Promise.all([hashFiles([tmp, tmpLabels]), hashHead(tmp), stat(tmp)]);
      // New names: the files `ann_state` points at stay untouched until the state moves on.
      await rename(tmp, file);
      await rename(tmpLabels, labelsFile);
      const checksum = JSON.stringify({ v: 3, gen, labels: hashLabels(labels), file: fileHash, size, head } satisfies SavedState);
      store.transaction(() => {
        store.db
          .prepare(
            `INSERT INTO ann_state(model_id, count, checksum, saved_at, journal_seq) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(model_id) DO UPDATE SET count = excluded.count, checksum = excluded.checksum,
               saved_at = excluded.saved_at, journal_seq = excluded.journal_seq`,
          )
          .run(modelId, labels.length, checksum, Date.now(), journalSeq);
        store.db.prepare('DELETE FROM ann_journal WHERE model_id = ? AND seq <= ?').run(modelId, journalSeq);
      });
      this.gen = gen;
      this.dirty = false;
    } finally {
      await rm(tmp, { force: true });
      await rm(tmpLabels, { force: true });
    }
    await removeGenerations(this.opts.dir, this.base, gen);
    this.lastSaveAt = Date.now();
    this.lastSaveMs = this.lastSaveAt - started;
  }
}

/** Deletes this model's index files other than generation `keep` (all of them when null). */
async function removeGenerations(dir: string, base: string, keep: number | null): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const mine = new RegExp(`^${base.replace(/[.]/g, '\\.')}(\\.(\\d+))?\\.(hnsw|labels)$`);
  await Promise.all(
    names
      .filter((n) => {
        const m = mine.exec(n);
        return m !== null && (keep === null || m[2] !== String(keep));
      })
      .map((n) => rm(join(dir, n), { force: true })),
  );
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

async function hashHead(file: string): Promise<string> {
  const h = createHash('sha1');
  await hashInto(h, file, HEAD_BYTES);
  return h.digest('hex');
}

async function hashFiles(files: string[]): Promise<string> {
  const h = createHash('sha1');
  for (const f of files) await hashInto(h, f);
  return h.digest('hex');
}

/** Feeds a file (its first `bytes` when given) to a hash, streamed. */
function hashInto(h: ReturnType<typeof createHash>, file: string, bytes?: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    createReadStream(file, bytes === undefined ? {} : { start: 0, end: bytes - 1 })
      .on('data', (c) => h.update(c))
      .on('end', resolve)
      .on('error', reject);
  });
}
