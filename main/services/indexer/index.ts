/**
 * indexer — turns pending photos into vectors: decodes several photos in parallel (sharp, via
 * media) ahead of one encoder batch in flight, writes each batch in one SQLite transaction, then
 * updates the ANN index. Reports progress, pauses and resumes.
 *
 * The queue is SQLite itself (`photos` rows still to do for this model), so it survives restarts
 * and kill -9 by construction: a batch is either fully committed or not at all, `vectors`' primary
 * key rules out duplicates, and the ANN index repairs itself from SQLite when it is behind.
 * Must never: create or delete photo rows (the library owns them), resurrect a row deleted while
 * its photo was being decoded, or hold a transaction across an `await`.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { FailedPhoto, IndexProgress } from '../../core/contract.ts';
import type { PreprocessSpec } from '../../core/model-spec.ts';
import { diskFullMessage, freeBytes, isDiskFull, type Store } from '../store/index.ts';
import type { Encoder } from '../encoder/index.ts';
import type { PreparedPhoto } from '../media/index.ts';
import { vectorToBlob, type VectorIndex } from '../ann/index.ts';
import { folderOfPhoto, folderWentOffline, markPhotoFailed, photoIndexedWriter } from '../library/index.ts';
import { ProgressMeter } from './progress.ts';
import { WorkQueue, type WorkItem } from './queue.ts';

export type { WorkItem } from './queue.ts';
// The same progress (count, rate, ETA) for other passes over the library (the OCR pass).
export { ProgressMeter } from './progress.ts';

export interface IndexerOptions {
  store: Store;
  encoder: Pick<Encoder, 'encodeImages' | 'dim'>;
  index: VectorIndex;
  modelId: string;
  preprocess: PreprocessSpec;
  /** Photos per encoder call. Default 8. */
  batchSize?: number;
  /** Photos decoded at once. Default: the number of cores. */
  decodeConcurrency?: number;
  /** Save the ANN index at most this often while working (it is always saved when idle). Default 10 s. */
  saveEveryMs?: number;
  /** After a full disk stopped indexing, how often free space is looked at (to go on by itself). Default 5 s. */
  spaceCheckMs?: number;
  /** Decodes a photo; media.preparePhoto unless a caller (the lab) needs another source. */
  prepare?: (path: string, spec: PreprocessSpec) => Promise<PreparedPhoto>;
  log?: (message: string) => void;
  /**
   * Writing must wait for this (the database check after an unclean stop, app/database-check.ts);
   * when it rejects, indexing stops with its message.
   */
  mayWrite?: () => Promise<void>;
}

export interface IndexerEvents {
  progress: [IndexProgress];
  indexed: [number[]];
  failed: [FailedPhoto];
}

interface Decoded {
  item: WorkItem;
  photo: PreparedPhoto;
}

export class Indexer extends EventEmitter<IndexerEvents> {
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly saveEveryMs: number;
  private readonly prepare: (path: string, spec: PreprocessSpec) => Promise<PreparedPhoto>;
  private readonly log: (m: string) => void;
  private readonly queue: WorkQueue;
  private readonly meter = new ProgressMeter();

  private loop: Promise<void> | null = null;
  private paused = false;
  private stopping = false;
  private encoding = false;
  private readonly decoding = new Set<Promise<void>>();
  private ready: Decoded[] = [];
  private poke: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private lastSave = Date.now();
  private saving: Promise<void> = Promise.resolve();
  /** Set while indexing is stopped by a full disk: polls free space and resumes when some was freed. */
  private spaceWatch: NodeJS.Timeout | null = null;

  constructor(private readonly opts: IndexerOptions) {
    super();
    this.batchSize = Math.max(1, opts.batchSize ?? 8);
    this.concurrency = Math.max(1, opts.decodeConcurrency ?? availableParallelism());
    this.saveEveryMs = opts.saveEveryMs ?? 10_000;
    // media (sharp, exifr) loads with the first photo decoded, not with the indexer: a command
    // that only searches opens the model's indexer but never decodes. Imported once, not per
    // photo: each import() of a loaded module still resolves it again (through tsx's loader
    // thread when run from source).
    let media: Promise<typeof import('../media/index.ts')> | null = null;
    this.prepare = opts.prepare ?? (async (path, spec) => (await (media ??= import('../media/index.ts'))).preparePhoto(path, spec));
    this.log = opts.log ?? ((m) => console.warn(m));
    if (opts.encoder.dim !== opts.index.dim) {
      throw new Error(`encoder gives ${opts.encoder.dim}-d vectors but the index holds ${opts.index.dim}-d`);
    }
    this.queue = new WorkQueue(opts.store, opts.modelId);
    this.meter.onEmit = (p) => this.emit('progress', p);
  }

  /** Starts working through the queue; idles when it is empty (call wake() on new work). */
  start(): void {
    if (this.stopping || this.paused || this.loop) return;
    const allowed = this.opts.mayWrite?.();
    // A check stopped because the app closes is no reason to report a stop.
    const work = allowed ? allowed.then(() => this.run(), (err: unknown) => { if (!this.stopping) throw err; }) : this.run();
    this.loop = work
      .catch((err) => this.stopOnError(err))
      .finally(() => {
      this.loop = null;
      this.settleIdle();
      // Work may have arrived while the loop was winding down.
      if (!this.paused && !this.stopping && this.queue.hasMore()) this.start();
    });
  }

  /** New pending work (the library added or changed photos). */
  wake(): void {
    this.queue.rewind();
    this.poke?.();
    this.start();
  }

  /** Stops taking new photos; the batch being encoded completes. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.poke?.();
    this.meter.setState('paused', this.queue.remaining(true));
    this.settleIdle();
  }

  resume(): void {
    this.stopWatchingSpace();
    if (!this.paused) return;
    this.paused = false;
    this.meter.setStopped(null);
    this.queue.rewind();
    this.start();
  }

  progress(): IndexProgress {
    return this.meter.snapshot();
  }

  /** Resolves when the queue is empty and nothing is in flight, or once paused with no batch in flight. */
  whenIdle(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Finishes the batch in flight, lets decodes finish (their photos stay pending), saves the index. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopWatchingSpace();
    this.poke?.();
    await this.loop;
    await Promise.allSettled([...this.decoding]);
    this.ready = [];
    await this.saveIndex();
    this.meter.setState('idle', this.queue.remaining(true));
    this.settleIdle();
  }

  // -------------------------------------------------------------------------------------------

  private isSettled(): boolean {
    if (this.encoding) return false;
    if (this.paused || this.stopping) return true;
    return this.loop === null;
  }

  private settleIdle(): void {
    if (!this.isSettled()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    this.meter.begin(this.queue.remaining(true));
    let finished = false;
    while (!this.stopping && !this.paused) {
      this.fill();
      const drained = this.decoding.size === 0 && this.queue.exhausted;
      if (this.ready.length >= this.batchSize || (this.ready.length > 0 && drained)) {
        await this.encodeBatch(this.ready.splice(0, this.batchSize));
        continue;
      }
      if (this.decoding.size > 0) {
        await new Promise<void>((resolve) => (this.poke = resolve));
        this.poke = null;
        continue;
      }
      if (drained && this.ready.length === 0) {
        finished = true;
        break;
      }
    }
    if (finished) {
      await this.saveIndex();
      this.meter.setState('idle', this.queue.remaining(true));
    }
  }

  /** Starts decodes while there is room: bounded parallel decodes, at most two batches ready. */
  private fill(): void {
    const ahead = Math.max(2 * this.batchSize, this.concurrency);
    while (
      !this.paused &&
      !this.stopping &&
      this.decoding.size < this.concurrency &&
      this.decoding.size + this.ready.length < ahead
    ) {
      const item = this.queue.next();
      if (!item) break;
      this.meter.current(item.path);
      const job: Promise<void> = this.decode(item).finally(() => {
        this.decoding.delete(job);
        this.fill(); // keep decoding ahead while a batch is being encoded
        this.poke?.();
      });
      this.decoding.add(job);
    }
  }

  private async decode(item: WorkItem): Promise<void> {
    try {
      const photo = await this.prepare(item.path, this.opts.preprocess);
      if (this.stopping) return this.queue.release(item.id);
      this.ready.push({ item, photo });
    } catch (err) {
      try {
        // An unplugged drive is not a broken photo: it stays pending, its folder goes offline, and
        // the photos are indexed when the drive returns.
        if ((err as { code?: string }).code === 'missing' && (await folderWentOffline(this.opts.store, folderOfPhoto(this.opts.store, item.id)))) {
          this.queue.release(item.id);
          this.meter.adjustTotal(this.queue.remaining());
          return;
        }
        this.markFailed(item, reasonOf(err));
      } catch (writeErr) {
        // Writing down the failure failed (a full disk): the photo stays pending.
        this.queue.release(item.id);
        this.stopOnError(writeErr);
      }
    }
  }

  private markFailed(item: WorkItem, reason: string): void {
    this.queue.release(item.id);
    // Guarded by path/mtime/size: a photo replaced or moved meanwhile is re-queued, a deleted row stays deleted.
    if (markPhotoFailed(this.opts.store, item, reason)) {
      this.meter.processed(0, 1, this.queue.remaining());
      this.emit('failed', { id: item.id, path: item.path, reason });
    } else {
      // Changed, moved or deleted while it was decoded. The library's wake for that change came
      // while this photo was claimed, so look again from the start: a moved or changed photo is
      // still pending and must be picked up at its new path or content.
      this.queue.rewind();
      this.meter.adjustTotal(this.queue.remaining());
    }
  }

  private async encodeBatch(batch: Decoded[]): Promise<void> {
    this.encoding = true;
    try {
      await this.encodeAndCommit(batch);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // Nothing of the batch is lost: its transaction rolled back, so its photos stay pending.
      for (const d of batch) this.queue.release(d.item.id);
      this.stopOnError(err);
      return;
    } finally {
      this.encoding = false;
    }
    if (Date.now() - this.lastSave >= this.saveEveryMs) void this.saveIndex({ whileBusy: true });
  }

  private async encodeAndCommit(batch: Decoded[]): Promise<void> {
    let vectors: Float32Array[] | null = null;
    try {
      vectors = await this.encode(batch);
    } catch (err) {
      if (isUnavailable(err)) return this.holdBack(batch, err);
      // One bad tensor must not fail its neighbours: retry one by one, fail only the culprits.
      // This is also the crash rule: when the encoder process dies with a batch in flight, each
      // of its photos is retried once, alone, after the restart — only a photo that fails again
      // (e.g. one that crashes ONNX Runtime every time) is marked failed, with the reason.
      this.log(`indexer: batch of ${batch.length} failed to encode (${reasonOf(err)}); retrying one by one`);
    }
    if (vectors) this.commit(batch, vectors);
    else {
      for (let i = 0; i < batch.length; i++) {
        const d = batch[i]!;
        try {
          this.commit([d], await this.encode([d]));
        } catch (err) {
          if (isUnavailable(err)) return this.holdBack(batch.slice(i), err);
          if (isDiskFull(err)) throw err; // not this photo's fault
          this.markFailed(d.item, `could not be encoded: ${reasonOf(err)}`);
        }
      }
    }
  }

  /**
   * Indexing cannot go on for a reason no photo is to blame for. A full disk pauses it with the
   * message status shows, and free space is then looked at every few seconds: once some was freed
   * indexing resumes by itself (a `leanlens index` run exits with the message instead). Anything
   * else unexpected also pauses, with its reason, rather than killing the process.
   */
  private stopOnError(err: unknown): void {
    if (this.meter.snapshot().stopped) return;
    const dataDir = dirname(this.opts.store.path);
    let message: string;
    if (isDiskFull(err)) {
      let waiting = 0;
      try {
        waiting = this.queue.remaining(true);
      } catch {
        // counting is only for the message
      }
      message = diskFullMessage(dataDir, waiting);
      void this.watchForSpace(dataDir);
    } else {
      message = `Indexing stopped: ${reasonOf(err)}`;
    }
    this.log(`indexer: stopped (${reasonOf(err)})`);
    this.pause();
    this.meter.setStopped(message);
  }

  private async watchForSpace(dataDir: string): Promise<void> {
    this.stopWatchingSpace();
    const atStop = (await freeBytes(dataDir)) ?? 0;
    if (this.stopping) return;
    // Resume once at least 1 MiB more is free than when it stopped (the next batch needs a few pages).
    this.spaceWatch = setInterval(() => {
      void freeBytes(dataDir).then((free) => {
        if (free !== null && free >= atStop + 1024 * 1024 && this.spaceWatch) {
          this.log(`indexer: space was freed in ${dataDir}; indexing goes on`);
          this.resume();
        }
      });
    }, this.opts.spaceCheckMs ?? 5000);
    this.spaceWatch.unref();
  }

  private stopWatchingSpace(): void {
    if (this.spaceWatch) clearInterval(this.spaceWatch);
    this.spaceWatch = null;
  }

  /**
   * The encoder cannot take work at all (it gave up after repeated crashes, or was closed): the
   * photos are not at fault, so they stay pending instead of being marked failed one after the
   * other, and indexing pauses until someone resumes it.
   */
  private holdBack(items: Decoded[], err: unknown): void {
    for (const d of items) this.queue.release(d.item.id);
    this.log(`indexer: the encoder is unavailable (${reasonOf(err)}); pausing with the remaining photos left pending`);
    this.pause();
  }

  private async encode(batch: Decoded[]): Promise<Float32Array[]> {
    const per = batch[0]!.photo.pixels.length;
    const pixels = new Float32Array(per * batch.length);
    batch.forEach((d, i) => {
      if (d.photo.pixels.length !== per) throw new Error('decoded tensors differ in size');
      pixels.set(d.photo.pixels, i * per);
    });
    const out = await this.opts.encoder.encodeImages(pixels, batch.length);
    if (out.length !== batch.length) throw new Error(`encoder returned ${out.length} vectors for ${batch.length} photos`);
    return out;
  }

  /** One transaction per batch: vectors + photo facts + status; then the ANN index. */
  private commit(batch: Decoded[], vectors: Float32Array[]): void {
    const { store, modelId } = this.opts;
    const now = Date.now();
    const markIndexed = photoIndexedWriter(store);
    const put = store.db.prepare(
      `INSERT INTO vectors(photo_id, model_id, vector) VALUES (?, ?, ?)
       ON CONFLICT(photo_id, model_id) DO UPDATE SET vector = excluded.vector`,
    );
    const written: { id: number; vector: Float32Array }[] = [];
    // A replaced vector needs no mark: the `vectors` triggers journal it for the ANN index.
    store.transaction(() => {
      batch.forEach((d, i) => {
        const { item, photo } = d;
        const f = photo.facts;
        // Zero rows: deleted or changed on disk since it was queued — drop it (a change re-queues it).
        // No EXIF date: the file's time stands in, and the row says so (the UI shows "date from file").
        const taken = f.takenAt != null ? { takenAt: f.takenAt, takenAtSource: 'exif' as const } : { takenAt: item.mtimeMs, takenAtSource: 'file' as const };
        if (!markIndexed(item, { ...f, ...taken }, now)) return;
        put.run(item.id, modelId, vectorToBlob(vectors[i]!));
        written.push({ id: item.id, vector: vectors[i]! });
      });
    });
    for (const d of batch) this.queue.release(d.item.id);
    // A photo dropped here changed on disk while it was encoded; as in markFailed, its re-queue
    // may have been announced while it was claimed.
    if (written.length < batch.length) this.queue.rewind();
    for (const w of written) this.opts.index.upsert(w.id, w.vector);
    this.meter.processed(written.length, 0, this.queue.remaining());
    if (written.length > 0) this.emit('indexed', written.map((w) => w.id));
  }

  private saveIndex(opts: { whileBusy?: boolean } = {}): Promise<void> {
    this.lastSave = Date.now();
    this.saving = this.saving
      .then(() => this.opts.index.save(opts))
      // Nothing is lost (the journal covers what the file lacks); a full disk is reported once, by stopOnError.
      .catch((err) => (isDiskFull(err) ? this.stopOnError(err) : this.log(`indexer: could not save the vector index: ${reasonOf(err)}`)));
    return this.saving;
  }
}

/** The encoder's "cannot take requests" error (EncoderUnavailableError), told apart by its code. */
function isUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENCODER_UNAVAILABLE';
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
