/**
 * The model searches and indexing use right now: its encoder, its vector index and its indexer,
 * opened together on first need and replaced together on a switch. Every change of model or of
 * the settings that shape the encoder (threads, GPU) runs through one queue, so two quick
 * switches end on the last one chosen and no call ever sees half of a session.
 *
 * A switch to a model that has not indexed the library yet does not leave search empty: the new
 * model (the "candidate") indexes in the background while the current one keeps answering, and
 * takes over the moment it covers the library. `now` switches at once instead.
 */
import { join } from 'node:path';
import type { EncoderCrash, ExecutionInfo, IndexProgress, Settings, SwitchProgress } from '../core/contract.ts';
import type { Store } from '../services/store/index.ts';
import type { ModelRegistry } from '../services/models/index.ts';
// Types only: the encoder, the vector index (hnswlib) and the indexer (sharp) load when a session
// first opens, so `status` and other calls that need no model start without them.
import type { Encoder, EncoderLauncher } from '../services/encoder/index.ts';
import type { VectorIndex } from '../services/ann/index.ts';
import type { Indexer } from '../services/indexer/index.ts';
import { photosLeftToIndex, type LibraryChanges } from '../services/library/index.ts';

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
  /** A background switch moved on (null: it ended). */
  onSwitching: (s: SwitchProgress | null) => void;
  /** The model in use changed (a background switch completed). */
  onSwitched: (modelId: string) => void;
  /** How the encoder process is started (Electron passes its utilityProcess). */
  launcher?: EncoderLauncher;
  /** Indexing waits for this before it writes (the database check after an unclean stop). */
  mayWrite?: () => Promise<void>;
  /** The encoder process crashed (and was restarted unless `gaveUp`). */
  onCrash: (crash: EncoderCrash & { modelId: string; restarts: number; gaveUp: boolean }) => void;
}

const IDLE_PROGRESS: IndexProgress = { state: 'idle', done: 0, total: 0, failed: 0, rate: 0, etaSeconds: null, current: null };

export class ActiveModel {
  private current: ModelSession | null = null;
  /** The model a switch is waiting for, indexing in the background. */
  private candidate: ModelSession | null = null;
  /** Opens, switches and closes, one at a time, in the order they were asked for. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** The encoder settings the open session was built with, to tell whether a change needs a reopen. */
  private builtWith: Pick<Settings, 'threads' | 'useGpu'> | null = null;
  /** Calls running on the open session (see `use`); closing waits for them. */
  private readonly leases = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: ActiveModelOptions) {}

  /** The chosen model, or the fallback when none was chosen or the chosen one is gone. */
  get id(): string {
    return this.known(this.o.store.getSetting<string | null>('activeModel', null)) ?? FALLBACK_MODEL;
  }

  /** The model a pending switch waits for, or null. Remembered across restarts. */
  get switchingTo(): string | null {
    const to = this.known(this.o.store.getSetting<string | null>('switchingTo', null));
    return to && to !== this.id ? to : null;
  }

  /** The open session, if one is open now (no waiting, no opening). */
  get open(): ModelSession | null {
    return this.current;
  }

  /** The session, opened on first need; waits for any switch in progress. */
  session(): Promise<ModelSession> {
    if (this.current && this.pending === 0) return Promise.resolve(this.current);
    return this.serial(() => this.ensure());
  }

  /**
   * Runs `fn` on the session and keeps that session open until `fn` ends: a switch asked for
   * meanwhile waits for it, so a search in flight is answered by the model it started with.
   */
  async use<T>(fn: (s: ModelSession) => Promise<T>): Promise<T> {
    const s = await this.session();
    const run = fn(s);
    const lease = run.then(
      () => undefined,
      () => undefined,
    );
    this.leases.add(lease);
    try {
      return await run;
    } finally {
      this.leases.delete(lease);
    }
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

  /**
   * Makes `id` the model in use: at once when it covers the library already (or `now`), else once
   * it has indexed it in the background. Quick successive calls run in order; the last one wins.
   */
  switchTo(id: string, opts: { now?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      if (this.candidate && this.candidate.modelId !== id) await this.closeCandidate();
      if (id === this.id) {
        this.setSwitching(null);
        return;
      }
      if (opts.now || photosLeftToIndex(this.o.store, id) === 0) {
        await this.closeCandidate();
        this.o.store.setSetting('activeModel', id);
        this.setSwitching(null);
        await this.closeSession();
        const s = await this.ensure();
        if (this.o.live) {
          await s.encoder.load('image');
          s.indexer.start();
        }
        return;
      }
      this.o.store.setSetting('switchingTo', id);
      // A one-shot CLI only records the switch; `index` or a running app carries it out.
      if (this.o.live) await this.startCandidate();
      this.o.onSwitching(this.switchProgress());
    });
  }

  /**
   * Carries a pending switch out to the end: the new model indexes what it lacks, then takes over
   * (the CLI's `index`). `onProgress` sees the new model's indexing.
   */
  async finishSwitch(onProgress?: (p: IndexProgress) => void): Promise<void> {
    if (!this.switchingTo) return;
    const c = await this.serial(() => this.startCandidate());
    if (!c) return;
    const off = onProgress ? (c.indexer.on('progress', onProgress), () => c.indexer.off('progress', onProgress)) : () => undefined;
    try {
      c.indexer.resume();
      await c.indexer.whenIdle();
      await this.serial(() => this.completeSwitch(c));
    } finally {
      off();
    }
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

  /** Keeps the open indexes in step with the library: removed and changed photos leave the ANN at once. */
  libraryChanged(changes: LibraryChanges): void {
    for (const s of this.sessions()) {
      for (const id of changes.removed) s.index.remove(id);
      // Changed content must not keep its old vector in the ANN until re-encoded.
      for (const id of changes.changed) s.index.remove(id);
      s.indexer.wake();
    }
  }

  forget(photoIds: number[]): void {
    for (const s of this.sessions()) for (const id of photoIds) s.index.remove(id);
  }

  /** Pauses indexing, the background switch's included. */
  pause(): void {
    for (const s of this.sessions()) s.indexer.pause();
  }

  resume(): void {
    for (const s of this.sessions()) s.indexer.resume();
  }

  progress(): IndexProgress {
    return this.current ? this.current.indexer.progress() : IDLE_PROGRESS;
  }

  switchProgress(): SwitchProgress | null {
    const to = this.switchingTo;
    if (!to) return null;
    const progress = this.candidate?.modelId === to ? this.candidate.indexer.progress() : { ...IDLE_PROGRESS, total: photosLeftToIndex(this.o.store, to) };
    return { from: this.id, to, progress };
  }

  /** The provider in use, or the one used last time when no session is open. */
  execution(): ExecutionInfo | null {
    const live = this.current?.encoder.info();
    return live && live.provider !== 'not loaded' ? live : this.o.store.getSetting<ExecutionInfo | null>('lastExecution', null);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.serial(async () => {
      await this.closeCandidate();
      await this.closeSession();
    });
  }

  private known(id: string | null): string | null {
    return id && this.o.registry.entry(id) ? id : null;
  }

  private sessions(): ModelSession[] {
    return [this.current, this.candidate].filter((s): s is ModelSession => s !== null);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const run = this.queue.then(fn).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private setSwitching(to: string | null): void {
    this.o.store.setSetting('switchingTo', to);
    if (!to) this.o.onSwitching(null);
  }

  private async openSession(modelId: string): Promise<ModelSession> {
    if (this.closed) throw new Error('The app is closing.');
    const settings = this.o.settings();
    const model = this.o.registry.resolve(modelId);
    const [{ openEncoder }, { VectorIndex }, { Indexer }] = await Promise.all([
      import('../services/encoder/index.ts'),
      import('../services/ann/index.ts'),
      import('../services/indexer/index.ts'),
    ]);
    const encoder = await openEncoder(model, {
      threads: settings.threads,
      providers: settings.useGpu ? 'auto' : ['cpu'],
      launcher: this.o.launcher,
      onCrash: (crash) => this.o.onCrash({ ...crash, modelId }),
    });
    try {
      const index = await VectorIndex.open({ store: this.o.store, dir: join(this.o.dataDir, 'index'), modelId, dim: model.dim });
      const indexer = new Indexer({ store: this.o.store, encoder, index, modelId, preprocess: model.preprocess, mayWrite: this.o.mayWrite });
      return { modelId, encoder, index, indexer };
    } catch (err) {
      await encoder.close();
      throw err;
    }
  }

  private async ensure(): Promise<ModelSession> {
    if (this.current) return this.current;
    const s = await this.openSession(this.id);
    s.indexer.on('progress', this.o.onProgress);
    s.indexer.on('indexed', this.o.onIndexed);
    const settings = this.o.settings();
    this.current = s;
    this.builtWith = { threads: settings.threads, useGpu: settings.useGpu };
    return s;
  }

  /** Opens the pending switch's model and starts it indexing in the background. */
  private async startCandidate(): Promise<ModelSession | null> {
    const to = this.switchingTo;
    if (!to) return null;
    if (this.candidate?.modelId === to) return this.candidate;
    await this.closeCandidate();
    const c = await this.openSession(to);
    await c.encoder.load('image');
    this.candidate = c;
    c.indexer.on('progress', (progress) => this.o.onSwitching({ from: this.id, to, progress }));
    c.indexer.start();
    if (this.o.live) void this.takeOverWhenCovered(c);
    return c;
  }

  /** Waits until the candidate has indexed everything (not merely paused), then switches to it. */
  private async takeOverWhenCovered(c: ModelSession): Promise<void> {
    while (this.candidate === c) {
      await c.indexer.whenIdle();
      if (this.candidate !== c) return;
      if (photosLeftToIndex(this.o.store, c.modelId) === 0) {
        await this.serial(() => this.completeSwitch(c));
        return;
      }
      // Paused, or new photos arrived: wait for the next change of its progress.
      await new Promise((resolve) => c.indexer.once('progress', resolve));
    }
  }

  private async completeSwitch(c: ModelSession): Promise<void> {
    if (this.candidate !== c || photosLeftToIndex(this.o.store, c.modelId) > 0) return;
    this.candidate = null;
    await this.closeSession();
    c.indexer.removeAllListeners('progress');
    c.indexer.on('progress', this.o.onProgress);
    c.indexer.on('indexed', this.o.onIndexed);
    await c.index.save();
    const settings = this.o.settings();
    this.current = c;
    this.builtWith = { threads: settings.threads, useGpu: settings.useGpu };
    this.o.store.setSetting('activeModel', c.modelId);
    this.setSwitching(null);
    this.o.onSwitched(c.modelId);
  }

  private async closeCandidate(): Promise<void> {
    const c = this.candidate;
    this.candidate = null;
    if (c) await closeSessionParts(c);
  }

  private async closeSession(): Promise<void> {
    const s = this.current;
    this.current = null;
    this.builtWith = null;
    if (!s) return;
    await Promise.all(this.leases);
    await closeSessionParts(s);
  }
}

async function closeSessionParts(s: ModelSession): Promise<void> {
  await s.indexer.stop();
  await s.index.close();
  await s.encoder.close();
}
