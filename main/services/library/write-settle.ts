/**
 * When a file being copied into a watched folder is finished, so that it is read once, whole, and
 * soon (issue 15 §4: a copied photo searchable in ≤ 0.5 s, a photo still being written never read).
 *
 * chokidar's awaitWriteFinish waits for the size to hold still for a fixed time (1 s here), which
 * was most of the delay before a new photo became searchable. Instead each added or changed file
 * is polled: once its size and modification time have held still for `quickMs`, its own format
 * is asked whether it is whole (whole-photo.ts). Whole: taken at once. A format we cannot walk:
 * taken after `stabilityMs` unchanged, as before. Partial by its own format: the writer has
 * paused (a slow network copy) — it is taken only after `partialMs` unchanged, when a truncated
 * file is then reported as one by the indexer.
 */
import { stat } from 'node:fs/promises';
import { photoWholeness, type Wholeness } from './whole-photo.ts';

export interface WriteSettlerOptions {
  /** Unchanged this long and whole by its format: written. */
  quickMs: number;
  /** Unchanged this long, for formats without a wholeness check: written. */
  stabilityMs: number;
  /** Unchanged this long although its format says it is cut short: given up waiting, taken as it is. */
  partialMs: number;
  pollMs: number;
  onSettled: (path: string) => void;
}

interface Tracked {
  size: number;
  mtimeMs: number;
  /** When the size or time last changed (or an event said it did). */
  since: number;
  /** What the format said of the file at this size and time: read once, not on every poll. */
  verdict: Wholeness | null;
  timer: NodeJS.Timeout | null;
}

export class WriteSettler {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly opts: WriteSettlerOptions) {}

  /** The file was added or changed: (re)start waiting for it to be written. */
  touch(path: string): void {
    const t = this.tracked.get(path);
    if (t) {
      t.since = Date.now();
      t.verdict = null;
      return;
    }
    const entry: Tracked = { size: -1, mtimeMs: -1, since: Date.now(), verdict: null, timer: null };
    this.tracked.set(path, entry);
    this.schedule(path, entry);
  }

  /** The file is gone (or the watcher closes): stop waiting for it. */
  forget(path: string): void {
    const t = this.tracked.get(path);
    if (t?.timer) clearTimeout(t.timer);
    this.tracked.delete(path);
  }

  /** How many files are still being waited for. */
  settling(): number {
    return this.tracked.size;
  }

  /** Whether this file is still being waited for. */
  has(path: string): boolean {
    return this.tracked.has(path);
  }

  close(): void {
    for (const path of [...this.tracked.keys()]) this.forget(path);
  }

  private schedule(path: string, t: Tracked): void {
    t.timer = setTimeout(() => void this.poll(path, t), this.opts.pollMs);
  }

  private async poll(path: string, t: Tracked): Promise<void> {
    t.timer = null;
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = await stat(path));
    } catch {
      return this.forget(path); // gone: its unlink event says so
    }
    if (this.tracked.get(path) !== t) return;
    if (size !== t.size || mtimeMs !== t.mtimeMs) {
      t.size = size;
      t.mtimeMs = mtimeMs;
      t.since = Date.now();
      t.verdict = null;
    } else if (Date.now() - t.since >= this.opts.quickMs) {
      const since = t.since;
      const verdict = t.verdict ?? (await photoWholeness(path, size));
      // Touched or closed while the file was being read: keep waiting (or stop).
      if (this.tracked.get(path) !== t) return;
      if (t.since !== since) return this.schedule(path, t);
      t.verdict = verdict;
      if (Date.now() - since >= waitFor(verdict, this.opts)) {
        this.tracked.delete(path);
        return this.opts.onSettled(path);
      }
    }
    this.schedule(path, t);
  }
}

function waitFor(wholeness: Wholeness, o: WriteSettlerOptions): number {
  return wholeness === 'whole' ? o.quickMs : wholeness === 'unknown' ? o.stabilityMs : o.partialMs;
}
