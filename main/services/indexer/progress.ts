/**
 * Indexing progress as the UI shows it: done/total/failed, a rate over a sliding window, an ETA,
 * and the file being read. Emits at most ten times a second (state changes go out at once),
 * because the UI redraws on each event.
 */
import type { IndexProgress } from '../../core/contract.ts';

const WINDOW_MS = 10_000;
const EMIT_EVERY_MS = 100;

export class ProgressMeter {
  onEmit: (p: IndexProgress) => void = () => {};
  private state: IndexProgress['state'] = 'idle';
  private done = 0;
  private failed = 0;
  private total = 0;
  private file: string | null = null;
  private startedAt = 0;
  private samples: { at: number; n: number }[] = [];
  private lastEmit = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped: string | null = null;

  /** A run starts; counters restart unless we are coming back from a pause. */
  begin(remaining: number): void {
    if (this.state === 'idle') {
      this.done = 0;
      this.failed = 0;
      this.samples = [];
      this.startedAt = Date.now();
    }
    this.state = 'running';
    this.total = this.done + remaining;
    this.emit(true);
  }

  current(path: string): void {
    this.file = path;
    this.emit(false);
  }

  /** `indexed` photos committed and `failed` photos given up on (both count as done). */
  processed(indexed: number, failed: number, remaining: number): void {
    this.done += indexed + failed;
    this.failed += failed;
    this.samples.push({ at: Date.now(), n: indexed + failed });
    this.total = this.done + remaining;
    this.emit(false);
  }

  adjustTotal(remaining: number): void {
    this.total = this.done + remaining;
    this.emit(false);
  }

  setState(state: IndexProgress['state'], remaining: number): void {
    this.state = state;
    this.total = this.done + remaining;
    if (state === 'idle') this.file = null;
    this.emit(true);
  }

  /** Why indexing paused by itself (a full disk), or null when it did not. */
  setStopped(reason: string | null): void {
    this.stopped = reason;
    this.emit(true);
  }

  snapshot(): IndexProgress {
    const now = Date.now();
    while (this.samples.length > 0 && now - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
    let rate = 0;
    if (this.state === 'running' && this.samples.length > 0) {
      const span = Math.max(500, Math.min(WINDOW_MS, now - this.startedAt));
      rate = this.samples.reduce((s, x) => s + x.n, 0) / (span / 1000);
    }
    const left = Math.max(0, this.total - this.done);
    return {
      state: this.state,
      done: this.done,
      total: this.total,
      failed: this.failed,
      rate,
      etaSeconds: rate > 0 ? left / rate : left === 0 ? 0 : null,
      current: this.file,
      ...(this.stopped ? { stopped: this.stopped } : {}),
    };
  }

  private emit(force: boolean): void {
    const now = Date.now();
    if (force || now - this.lastEmit >= EMIT_EVERY_MS) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.lastEmit = now;
      this.onEmit(this.snapshot());
      return;
    }
    // Throttled: make sure the latest state still goes out shortly.
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.lastEmit = Date.now();
      this.onEmit(this.snapshot());
    }, EMIT_EVERY_MS - (now - this.lastEmit));
    this.timer.unref?.();
  }
}
