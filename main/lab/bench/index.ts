/**
 * lab/bench — the benchmark runner and side-by-side comparison, plus `LabRunner`, which runs
 * lab runs in the background for the app (one at a time: they measure speed, and two at once
 * would measure each other), with progress and cancellation.
 *
 * Owns measuring models. Must never: change the active model, write to the user's photos, or
 * run two measurements at once.
 */
import type { LabProgress, LabRun } from '../../core/contract.ts';
import { runLab, type LabContext, type LabRunOptions } from './runner.ts';

export { runLab, CancelledError, type LabContext, type LabRunOptions } from './runner.ts';
export { compareModels } from './compare.ts';
export { machineInfo } from './machine.ts';
export { EVERYDAY_QUERIES, chooseQueries, rememberQuery } from '../../core/queries.ts';
export { readLabelledSet, type LabelledSet } from './labelled.ts';
export { measureSpeed } from './speed.ts';

export class LabRunner {
  private readonly running = new Map<number, { controller: AbortController; done: Promise<LabRun> }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly context: () => LabContext,
    private readonly emit: (p: LabProgress) => void,
  ) {}

  /**
   * Starts a run; resolves with its id once it is stored (after any run ahead of it finished).
   * Rejects when the run cannot start (unknown teacher, unreadable labelled set).
   */
  start(opts: Omit<LabRunOptions, 'signal' | 'onProgress' | 'onStart'>): Promise<number> {
    const controller = new AbortController();
    return new Promise<number>((resolveId, rejectId) => {
      let id: number | null = null;
      const done = this.queue.then(() =>
        runLab(this.context(), {
          ...opts,
          signal: controller.signal,
          onProgress: (p) => this.emit(p),
          onStart: (runId) => {
            id = runId;
            this.running.set(runId, { controller, done });
            resolveId(runId);
          },
        }),
      );
      this.queue = done.catch(() => undefined);
      done.then(
        (run) => this.running.delete(run.id),
        (err: Error) => {
          if (id === null) rejectId(err);
          else this.running.delete(id);
        },
      );
    });
  }

  /** Asks a running run to stop; false when it is not running. */
  cancel(runId: number): boolean {
    const r = this.running.get(runId);
    if (!r) return false;
    r.controller.abort();
    return true;
  }

  /** The finished run (resolves at once for unknown or finished ids with null). */
  async whenDone(runId: number): Promise<LabRun | null> {
    const r = this.running.get(runId);
    return r ? r.done : null;
  }

  /** Cancels everything and waits for the runs to wind down (app shutdown). */
  async close(): Promise<void> {
    for (const r of this.running.values()) r.controller.abort();
    await this.queue;
  }
}
