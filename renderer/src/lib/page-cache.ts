/**
 * Fixed-size pages of a long list fetched on demand, each at most once at a time. Plain (not
 * reactive): its owner bumps a version when `onLoaded` fires, so 100,000 rows never become proxies.
 */
export class PageCache<T> {
  private pages = new Map<number, T[]>();
  /** Pages kept on screen after a change until their fresh copy arrives (no flash of empty tiles). */
  private stale = new Set<number>();
  private inFlight = new Map<number, Promise<void>>();
  private generation = 0;

  constructor(
    readonly pageSize: number,
    private readonly fetchPage: (offset: number, limit: number) => Promise<T[]>,
    private readonly onLoaded: () => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  get(i: number): T | null {
    return this.pages.get(Math.floor(i / this.pageSize))?.[i % this.pageSize] ?? null;
  }

  /** Every page is out of date: still shown, fetched again when next wanted; answers in flight are dropped. */
  invalidate(): void {
    this.generation++;
    for (const p of this.pages.keys()) this.stale.add(p);
    this.inFlight.clear();
  }

  /** Loads the pages holding items `first` … `last - 1` (of `total`). */
  ensure(first: number, last: number, total: number): Promise<void> {
    const wanted: Promise<void>[] = [];
    for (let p = Math.floor(Math.max(0, first) / this.pageSize); p * this.pageSize < Math.min(last, total); p++) {
      if (this.pages.has(p) && !this.stale.has(p)) continue;
      let pending = this.inFlight.get(p);
      if (!pending) {
        const generation = this.generation;
        pending = this.fetchPage(p * this.pageSize, this.pageSize).then(
          (rows) => {
            if (generation !== this.generation) return;
            this.pages.set(p, rows);
            this.stale.delete(p);
            this.inFlight.delete(p);
            this.onLoaded();
          },
          (e: unknown) => {
            if (generation === this.generation) this.inFlight.delete(p);
            this.onError(e);
          },
        );
        this.inFlight.set(p, pending);
      }
      wanted.push(pending);
    }
    return Promise.all(wanted).then(() => undefined);
  }
}
