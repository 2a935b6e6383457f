/**
 * The indexer's work list, read from SQLite in id order: photos still pending, plus — for a
 * model other than the one photos were first indexed with — indexed photos with no vector for
 * this model yet. Photos on an offline folder or held as missing are left alone (decoding them
 * would only mark them failed while a drive is unplugged).
 */
import type { Store } from '../store/index.ts';
import { photosLeftToIndex, photosToIndexReader, type PhotoToIndex } from '../library/index.ts';

export interface WorkItem {
  id: number;
  path: string;
  /** Size and mtime when queued: a commit only applies if the file is still the same. */
  size: number;
  mtimeMs: number;
}


const PREFETCH = 64;
const COUNT_EVERY_MS = 1000;

export class WorkQueue {
  /** True once a full pass found nothing left that is not already claimed. */
  exhausted = false;
  private cursor = 0;
  private buffer: WorkItem[] = [];
  private readonly claimed = new Set<number>();
  private counted: { at: number; n: number } | null = null;
  private readonly page: (after: number, limit: number) => PhotoToIndex[];

  constructor(
    private readonly store: Store,
    private readonly modelId: string,
  ) {
    this.page = photosToIndexReader(store, modelId);
  }

  /** The next unclaimed photo to do, claimed for the caller; null when none is left. */
  next(): WorkItem | null {
    if (this.buffer.length === 0) this.refill();
    const item = this.buffer.shift() ?? null;
    if (item) this.claimed.add(item.id);
    return item;
  }

  /** The caller is done with a photo (committed, failed or dropped). */
  release(id: number): void {
    this.claimed.delete(id);
  }

  /** Look again from the start: new or re-queued photos may sit below the cursor. */
  rewind(): void {
    this.cursor = 0;
    this.exhausted = false;
    this.buffer = [];
    this.counted = null;
  }

  /** Whether SQLite holds work not yet claimed (cheap check, used after the loop winds down). */
  hasMore(): boolean {
    for (const r of this.page(0, this.claimed.size + 1)) {
      if (!this.claimed.has(r.id)) return true;
    }
    return false;
  }

  /** Photos still to do, including those in flight; recounted at most once a second unless `fresh`. */
  remaining(fresh = false): number {
    const now = Date.now();
    if (fresh || !this.counted || now - this.counted.at >= COUNT_EVERY_MS) {
      this.counted = { at: now, n: photosLeftToIndex(this.store, this.modelId) };
    }
    return this.counted.n;
  }

  private refill(): void {
    if (this.exhausted) return;
    let wrapped = this.cursor === 0;
    while (this.buffer.length === 0) {
      const rows = this.page(this.cursor, PREFETCH);
      if (rows.length === 0) {
        if (wrapped) {
          this.exhausted = true;
          return;
        }
        this.cursor = 0;
        wrapped = true;
        continue;
      }
      for (const r of rows) {
        this.cursor = r.id;
        if (!this.claimed.has(r.id)) this.buffer.push({ id: r.id, path: r.path, size: r.size, mtimeMs: r.mtime_ms });
      }
    }
  }
}

