/**
 * The model searches and indexing use right now: its encoder, its vector index and its indexer,
 * opened together on first need and replaced together on a switch. Every change of model or of
 * the settings that shape the encoder (threads, GPU) runs through one queue, so two quick
 * switches end on the last one chosen and no call ever sees half of a session.
 */
import { join } from 'node:path';
import type { ExecutionInfo, IndexProgress, Settings } from '../core/contract.ts';
import type { Store } from '../services/store/index.ts';
import type { ModelRegistry } from '../services/models/index.ts';
// Types only: the encoder, the vector index (hnswlib) and the indexer (sharp) load when a session
// first opens, so `status` and other calls that need no model start without them.
import type { Encoder } from '../services/encoder/index.ts';
import type { VectorIndex } from '../services/ann/index.ts';
import type { Indexer } from '../services/indexer/index.ts';
import type { LibraryChanges } from '../services/library/index.ts';

/** Used when the user has not chosen a model: hand-built, shipped, and good at colours only. */
export const FALLBACK_MODEL = 'color-oracle';

/** Everything tied to one model; built and closed as a unit. */
export interface ModelSession {
  modelId: string;
  encoder: Encoder;
  index: VectorIndex;
  indexer: Indexer;
}

export interface ActiveModelOptions {
  store: Store;
  registry: ModelRegistry;
  dataDir: string;
  settings: () => Settings;
  /** Start the background indexer whenever a session opens (the desktop app and `serve`). */
  live: boolean;
  onProgress: (p: IndexProgress) => void;
  onIndexed: (photoIds: number[]) => void;
}

export const IDLE_PROGRESS: IndexProgress = { state: 'idle', done: 0, total: 0, failed: 0, rate: 0, etaSeconds: null, current: null };

export class ActiveModel {
  private current: ModelSession | null = null;
  /** Opens, switches and closes, one at a time, in the order they were asked for. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The encoder settings the open session was built with, to tell whether a change needs a reopen. */
  private builtWith: Pick<Settings, 'threads' | 'useGpu'> | null = null;
  private closed = false;

  constructor(private readonly o: ActiveModelOptions) {}

  /** The chosen model, or the fallback when none was chosen or the chosen one is gone. */
  get id(): string {
    const chosen = this.o.store.getSetting<string | null>('activeModel', null);
    return chosen && this.o.registry.entry(chosen) ? chosen : FALLBACK_MODEL;
  }

  /** The open session, if one is open now (no waiting, no opening). */
  get open(): ModelSession | null {
    return this.current;
  }

  /** The session, opened on first need; waits for any switch in progress. */
  session(): Promise<ModelSession> {
    if (this.current && !this.busy) return Promise.resolve(this.current);
    return this.serial(() => this.ensure());
  }

  /**
   * The session with its image tower loaded: a broken model fails here, before any photo is
   * touched, and the execution provider actually used is known (and remembered for `status`).
   */
  async loaded(): Promise<ModelSession> {
    const s = await this.session();
    await s.encoder.load('image');
    this.o.store.setSetting('lastExecution', s.encoder.info());
    return s;
  }

  /** Makes `id` the model in use. Quick successive calls run in order, so the last one wins. */
  switchTo(id: string): Promise<void> {
    return this.serial(async () => {
      this.o.store.setSetting('activeModel', id);
      if (this.current?.modelId === id) return;
      await this.closeSession();
      const s = await this.ensure();
      if (this.o.live) {
        await s.encoder.load('image');
        s.indexer.start();
      }
    });
  }

  /** Threads and GPU use take effect now: the encoder is reopened when they changed. */
  applySettings(): Promise<void> {
    return this.serial(async () => {
      const s = this.o.settings();
      if (!this.current || !this.builtWith) return;
      if (this.builtWith.threads === s.threads && this.builtWith.useGpu === s.useGpu) return;
      await this.closeSession();
      const next = await this.ensure();
      if (this.o.live) next.indexer.start();
    });
  }

  /** Keeps the open index in step with the library: removed and changed photos leave the ANN at once. */
  libraryChanged(changes: LibraryChanges): void {
    const s = this.current;
    if (!s) return;
    for (const id of changes.removed) s.index.remove(id);
    // Changed content must not keep its old vector in the ANN until re-encoded.
    for (const id of changes.changed) s.index.remove(id);
    s.indexer.wake();
  }

  forget(photoIds: number[]): void {
    if (this.current) for (const id of photoIds) this.current.index.remove(id);
  }

  progress(): IndexProgress {
    return this.current ? this.current.indexer.progress() : IDLE_PROGRESS;
  }

  /** The provider in use, or the one used last time when no session is open. */
  execution(): ExecutionInfo | null {
    const live = this.current?.encoder.info();
    return live && live.provider !== 'not loaded' ? live : this.o.store.getSetting<ExecutionInfo | null>('lastExecution', null);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.serial(() => this.closeSession());
  }

  private pending = 0;
  private get busy(): boolean {
    return this.pending > 0;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(fn).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ensure(): Promise<ModelSession> {
    if (this.current) return this.current;
    if (this.closed) throw new Error('The app is closing.');
    const modelId = this.id;
    const settings = this.o.settings();
    const model = this.o.registry.resolve(modelId);
    const [{ openEncoder }, { VectorIndex }, { Indexer }] = await Promise.all([
      import('../services/encoder/index.ts'),
      import('../services/ann/index.ts'),
      import('../services/indexer/index.ts'),
    ]);
    const encoder = await openEncoder(model, { threads: settings.threads, providers: settings.useGpu ? 'auto' : ['cpu'] });
    try {
      const index = await VectorIndex.open({ store: this.o.store, dir: join(this.o.dataDir, 'index'), modelId, dim: model.dim });
      const indexer = new Indexer({ store: this.o.store, encoder, index, modelId, preprocess: model.preprocess });
      indexer.on('progress', this.o.onProgress);
      indexer.on('indexed', this.o.onIndexed);
      this.current = { modelId, encoder, index, indexer };
      this.builtWith = { threads: settings.threads, useGpu: settings.useGpu };
      return this.current;
    } catch (err) {
      await encoder.close();
      throw err;
    }
  }

  private async closeSession(): Promise<void> {
    const s = this.current;
    this.current = null;
    this.builtWith = null;
    if (!s) return;
    await s.indexer.stop();
    await s.index.close();
    await s.encoder.close();
  }
}
