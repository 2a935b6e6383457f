/**
 * Ranking helpers, pure: keep the best K of a stream of scored items without sorting the stream.
 */

export interface Scored {
  id: number;
  score: number;
}

/**
 * Keeps the K highest-scoring items seen (a bounded min-heap), so an exact scan over N vectors
 * costs O(N log K) and O(K) memory instead of sorting everything. Ties keep the smaller id first.
 */
export class TopK {
  private readonly heap: Scored[] = [];
  constructor(readonly k: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** Lowest score currently kept; -Infinity while fewer than K are held. */
  get threshold(): number {
    return this.heap.length < this.k ? -Infinity : this.heap[0]!.score;
  }

  push(id: number, score: number): void {
    if (this.k <= 0) return;
    const h = this.heap;
    if (h.length < this.k) {
      h.push({ id, score });
      this.up(h.length - 1);
    } else if (worse(h[0]!, { id, score })) {
      h[0] = { id, score };
      this.down(0);
    }
  }

  /** Best first. */
  sorted(): Scored[] {
    return [...this.heap].sort(byScoreDesc);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && worse(h[l]!, h[m]!)) m = l;
      if (r < h.length && worse(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** a ranks below b: lower score, or equal score and larger id. */
function worse(a: Scored, b: Scored): boolean {
  return a.score < b.score || (a.score === b.score && a.id > b.id);
}

/** Sort comparator: best score first, then smaller id (stable, deterministic paging). */
export function byScoreDesc(a: Scored, b: Scored): number {
  return b.score - a.score || a.id - b.id;
}
