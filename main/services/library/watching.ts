/**
 * Live watching with chokidar: turns its per-file events into debounced batches, so that a move
 * (unlink + add) lands in one batch and is recognised by its content hash, and a burst (a whole
 * folder copied or deleted) is judged as one change. New and changed files are passed on only
 * once written (write-settle.ts), not through chokidar's fixed-time awaitWriteFinish.
 *
 * Each root has its own chokidar watcher, so that add(root) can say when that root is watched:
 * chokidar lists a root it is given as "already there" (no events, even with ignoreInitial for
 * later add() calls), so a photo written while it walks a returning or new folder was never
 * reported. The library therefore scans a root only after add(root) resolves: what the scan
 * misses, the watcher sees.
 */
import type { Stats } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { photoWholeness } from './whole-photo.ts';
import { WriteSettler } from './write-settle.ts';

/**
 * A photo whole by its format and unchanged this long is taken (issue 15 §4: searchable in ≤ 0.5 s).
 * The format walk is the guard against half-written files; this only lets a writer that appends
 * after a whole image (a motion photo's video after the JPEG) or sets the time after closing finish.
 */
const QUICK_MS = 50;
/** A photo cut short by its own format waits this many stability times before it is taken as it is. */
const PARTIAL_STABILITY_TIMES = 10;

export interface WatchEvent {
  path: string;
  /** 'dir' events (addDir/unlinkDir) make the batch rescan that whole subtree. */
  kind: 'file' | 'dir';
}

export interface FolderWatcherOptions {
  /** How long a file's size must stay unchanged before it counts as written (see write-settle.ts). */
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
  private readonly watchers = new Map<string, { fsw: FSWatcher; ready: Promise<void>; done: () => void }>();
  /** Files seen added or changed, until they are written (chokidar's own awaitWriteFinish is off). */
  private readonly settler: WriteSettler;
  private pending = new Map<string, WatchEvent['kind']>();
  /** Whether the pending batch holds a file or folder deletion (see push). */
  private pendingUnlink = false;
  private firstPendingAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private closing: Promise<void>[] = [];
  private closed = false;
  /** Resolves when every root given to the constructor is watched. */
  readonly ready: Promise<void>;

  constructor(roots: string[], private readonly opts: FolderWatcherOptions) {
    this.settler = new WriteSettler({
      quickMs: Math.min(QUICK_MS, opts.stabilityMs),
      stabilityMs: opts.stabilityMs,
      partialMs: PARTIAL_STABILITY_TIMES * opts.stabilityMs,
      pollMs: this.pollMs(),
      onSettled: (path) => this.push(path, 'file'),
    });
    this.ready = Promise.all(roots.map((root) => this.add(root))).then(() => undefined);
  }

  /** Watches a root; resolves once chokidar has walked it and reports changes in it. */
  add(root: string): Promise<void> {
    const known = this.watchers.get(root);
    if (known) return known.ready;
    const fsw = watch(root, {
      ignoreInitial: true,
      // Links are not followed live: a link back into the tree would be watched twice (or loop).
      // Photos reached through links that point outside are picked up by reconcile.
      followSymlinks: false,
      ignored: (path: string, stats?: Stats) => this.opts.isIgnored(path, stats),
      awaitWriteFinish: false,
      ignorePermissionErrors: false,
    });
    let done = () => {};
    const ready = new Promise<void>((resolve) => (done = resolve));
    fsw.once('ready', done);
    fsw.on('all', (event, path) => {
      if (event === 'addDir') this.push(path, 'dir');
      // A folder renamed is 'unlinkDir' now and the new name's 'addDir' later (its files'
      // 'unlink's come ~100 ms after, and under load the new name later still): like a file's
      // 'unlink', it makes its batch wait for the other half, else a folder of fewer photos than
      // a hold needs was deleted and added again (re-encoded, new ids; found by the soak).
      else if (event === 'unlinkDir') this.push(path, 'dir', true);
      else if (event === 'add' || event === 'change') this.settler.touch(path);
      else if (event === 'unlink') {
        this.settler.forget(path);
        this.push(path, 'file', true);
      }
    });
    fsw.on('error', (err) => this.opts.onError(err));
    this.watchers.set(root, { fsw, ready, done });
    return ready;
  }

  remove(root: string): void {
    const w = this.watchers.get(root);
    if (!w) return;
    this.watchers.delete(root);
    w.done(); // no one waits forever for a root removed before chokidar was ready
    const closing: Promise<void> = w.fsw.close().finally(() => (this.closing = this.closing.filter((c) => c !== closing)));
    this.closing.push(closing);
  }

  /**
   * Of the files a folder scan found (a folder copied or moved in), those not written yet: still
   * settling, or modified lately and cut short by their own format. The library leaves them out
   * of that scan; from now on they are settled like any new file and come back as events.
   * Older files are not read: a folder of old photos moved in is not read twice.
   */
  async notYetWritten(files: readonly { path: string; mtimeMs: number; size: number }[]): Promise<Set<string>> {
    const later = new Set<string>();
    const recent = Date.now() - PARTIAL_STABILITY_TIMES * this.opts.stabilityMs;
    for (const f of files) {
      if (this.settler.has(f.path)) later.add(f.path);
      else if (f.mtimeMs >= recent && (await photoWholeness(f.path, f.size)) === 'partial') {
        later.add(f.path);
        this.settler.touch(f.path);
      }
    }
    return later;
  }

  /** Stops watching; events not yet processed are dropped (the next reconcile catches up). */
  async close(): Promise<void> {
    this.closed = true;
    this.settler.close();
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
    for (const root of [...this.watchers.keys()]) this.remove(root);
    await Promise.all(this.closing);
    await this.flushing;
  }

  private push(path: string, kind: WatchEvent['kind'], unlink = false): void {
    if (this.closed) return;
    if (this.pending.size === 0) this.firstPendingAt = Date.now();
    if (this.pending.get(path) !== 'dir') this.pending.set(path, kind);
    if (unlink) this.pendingUnlink = true;
    if (this.timer) clearTimeout(this.timer);
    const waited = Date.now() - this.firstPendingAt;
    // A rename arrives as 'unlink' at once but its 'add' only after the settler has seen the new
    // path hold still (up to stabilityMs + polls). Flushing the unlink after the short quiet
    // time put the two halves in different batches, so a renamed photo was deleted and re-added
    // (re-encoded, new id). A batch holding a deletion therefore waits for that add.
    // (Patched by the bench/fault-tests owner; found by test/integration/app-live.test.ts.)
    const quiet = this.pendingUnlink ? this.opts.stabilityMs + 2 * this.pollMs() + this.opts.debounceMs : this.opts.debounceMs;
    this.timer = setTimeout(() => this.flush(), waited >= Math.max(this.opts.maxWaitMs, quiet) ? 0 : quiet);
  }

  private pollMs(): number {
    // A stat every 25 ms, and only while a file is settling.
    return Math.max(10, Math.min(25, this.opts.stabilityMs / 4));
  }

  private flush(): void {
    this.timer = null;
    if (this.closed || this.pending.size === 0) return;
    // The other half of a rename may still be settling (a busy machine can take longer than the
    // quiet time to see it hold still): a batch holding a deletion waits for it, up to maxWaitMs.
    if (this.pendingUnlink && this.settler.settling() > 0 && Date.now() - this.firstPendingAt < this.opts.maxWaitMs) {
      this.timer = setTimeout(() => this.flush(), this.pollMs());
      return;
    }
    const events = [...this.pending].map(([path, kind]) => ({ path, kind }));
    this.pending.clear();
    this.pendingUnlink = false;
    this.flushing = this.flushing.then(() => this.opts.onBatch(events)).catch((err) => this.opts.onError(err));
  }
}
