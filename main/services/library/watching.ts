/**
 * Live watching with chokidar: turns its per-file events into debounced batches, so that a move
 * (unlink + add) lands in one batch and is recognised by its content hash, and a burst (a whole
 * folder copied or deleted) is judged as one change.
 */
import type { Stats } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';

export interface WatchEvent {
  path: string;
  /** 'dir' events (addDir/unlinkDir) make the batch rescan that whole subtree. */
  kind: 'file' | 'dir';
}

export interface FolderWatcherOptions {
  /** How long a file's size must stay unchanged before it counts as written (awaitWriteFinish). */
  stabilityMs: number;
  /** Quiet time after the last event before a batch is processed. */
  debounceMs: number;
  /** A steady stream of events is still processed at least this often. */
  maxWaitMs: number;
  isIgnored: (path: string, stats?: Stats) => boolean;
  onBatch: (events: WatchEvent[]) => Promise<void>;
  onError: (err: unknown) => void;
}

export class FolderWatcher {
  private readonly fsw: FSWatcher;
  private pending = new Map<string, WatchEvent['kind']>();
  /** Whether the pending batch holds a file deletion (see push). */
  private pendingUnlink = false;
  private firstPendingAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  readonly ready: Promise<void>;

  constructor(roots: string[], private readonly opts: FolderWatcherOptions) {
    this.fsw = watch(roots, {
      ignoreInitial: true,
      // Links are not followed live: a link back into the tree would be watched twice (or loop).
      // Photos reached through links that point outside are picked up by reconcile.
      followSymlinks: false,
      ignored: (path: string, stats?: Stats) => opts.isIgnored(path, stats),
      awaitWriteFinish: { stabilityThreshold: opts.stabilityMs, pollInterval: Math.max(20, Math.min(100, opts.stabilityMs / 4)) },
      ignorePermissionErrors: false,
    });
    // chokidar never emits 'ready' for an empty root list (checked with chokidar 5), which made
    // createApp({ live: true }) on a library with no folders hang forever; folders added later
    // go through add(). (Patched by the bench/fault-tests owner.)
    this.ready = roots.length === 0 ? Promise.resolve() : new Promise((resolve) => this.fsw.once('ready', () => resolve()));
    this.fsw.on('all', (event, path) => {
      if (event === 'addDir' || event === 'unlinkDir') this.push(path, 'dir');
      else if (event === 'add' || event === 'change' || event === 'unlink') this.push(path, 'file', event === 'unlink');
    });
    this.fsw.on('error', (err) => opts.onError(err));
  }

  add(root: string): void {
    this.fsw.add(root);
  }

  remove(root: string): void {
    this.fsw.unwatch(root);
  }

  /** Stops watching; events not yet processed are dropped (the next reconcile catches up). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
    await this.fsw.close();
    await this.flushing;
  }

  private push(path: string, kind: WatchEvent['kind'], unlink = false): void {
    if (this.closed) return;
    if (this.pending.size === 0) this.firstPendingAt = Date.now();
    if (this.pending.get(path) !== 'dir') this.pending.set(path, kind);
    if (unlink) this.pendingUnlink = true;
    if (this.timer) clearTimeout(this.timer);
    const waited = Date.now() - this.firstPendingAt;
    // A rename arrives as 'unlink' at once but its 'add' only after awaitWriteFinish has seen the
    // new path's size hold still (stabilityMs + polls). Flushing the unlink after the short quiet
    // time put the two halves in different batches, so a renamed photo was deleted and re-added
    // (re-encoded, new id). A batch holding a deletion therefore waits for that add.
    // (Patched by the bench/fault-tests owner; found by test/integration/app-live.test.ts.)
    const quiet = this.pendingUnlink ? this.opts.stabilityMs + 2 * this.pollMs() + this.opts.debounceMs : this.opts.debounceMs;
    this.timer = setTimeout(() => this.flush(), waited >= Math.max(this.opts.maxWaitMs, quiet) ? 0 : quiet);
  }

  private pollMs(): number {
    return Math.max(20, Math.min(100, this.opts.stabilityMs / 4));
  }

  private flush(): void {
    this.timer = null;
    if (this.closed || this.pending.size === 0) return;
    const events = [...this.pending].map(([path, kind]) => ({ path, kind }));
    this.pending.clear();
    this.pendingUnlink = false;
    this.flushing = this.flushing.then(() => this.opts.onBatch(events)).catch((err) => this.opts.onError(err));
  }
}
