/**
 * The database check an unclean stop leaves owed, when the database is too big to check at open
 * (store/integrity-check.ts): the app opens and searches at once, and everything that writes the
 * library (the indexer, the watcher and the scan, folder changes) waits for `passed()`. When the
 * check finds damage, `passed()` rejects with the same message as a check at open (what is wrong,
 * `leanlens repair`), which status, the indexer's `stopped` and `leanlens index` pass on.
 */
import { checkInBackground, DamagedDatabase, type BackgroundCheck, type Store } from '../services/store/index.ts';

export class DatabaseCheck {
  private running: BackgroundCheck | null = null;
  private result: Promise<void> | null = null;
  private startedAt = 0;
  private damaged: string | null = null;
  private done: boolean;

  constructor(private readonly store: Store) {
    this.done = !store.unchecked;
  }

  /** Writes must wait: a check is owed and has not passed (or found damage). */
  get pending(): boolean {
    return !this.done;
  }

  /** Resolves once the database passed (at once when nothing is owed); starts the check on first call. */
  passed(): Promise<void> {
    if (this.done) return Promise.resolve();
    if (!this.result) {
      this.startedAt = Date.now();
      this.running = checkInBackground(this.store.path);
      this.result = this.running.problems.then(
        (problems) => {
          this.running = null;
          if (problems.length) {
            const err = new DamagedDatabase(this.store.path, problems);
            this.damaged = err.message;
            throw err;
          }
          this.done = true;
        },
        (err: Error) => {
          this.running = null;
          this.damaged = `The check of the database after LeanLens stopped without closing could not run (${err.message}); indexing waits for it. Start LeanLens again to check again.`;
          throw err;
        },
      );
      // Seen by status (and by whoever awaits it); never an unhandled rejection.
      this.result.catch(() => undefined);
    }
    return this.result;
  }

  /** For status: what the check is doing, or the damage it found; undefined once passed. */
  describe(): string | undefined {
    if (this.done) return undefined;
    if (this.damaged) return this.damaged;
    if (!this.running) {
      return 'Not checked since LeanLens last stopped without closing; the check runs when the library is next indexed or watched (leanlens index, serve or the app).';
    }
    const s = Math.round((Date.now() - this.startedAt) / 1000);
    return `Checking the database after LeanLens stopped without closing (${s} s so far); searches work meanwhile, indexing and folder changes wait for it.`;
  }

  /** Stops a check in progress; it is owed again at the next open. */
  close(): void {
    this.running?.stop();
    this.running = null;
  }
}
