/**
 * From scored pairs to groups: every pair at or above the threshold joins its two photos
 * (union-find), so a photo and its copies end in one group even when only some of the copies were
 * compared with each other directly. Pure, so the rule is unit-tested without photos.
 */

/** Two photos that were compared, and how alike they looked (1 = the same picture). */
export interface ScoredPair {
  a: number;
  b: number;
  similarity: number;
}

/** Disjoint sets over arbitrary ids, with path halving and union by size. */
export class UnionFind {
  private readonly parent = new Map<number, number>();
  private readonly size = new Map<number, number>();

  find(x: number): number {
    if (!this.parent.has(x)) {
      this.parent.set(x, x);
      this.size.set(x, 1);
      return x;
    }
    let p = this.parent.get(x)!;
    while (p !== x) {
      const grand = this.parent.get(p)!;
      this.parent.set(x, grand);
      x = p;
      p = this.parent.get(x)!;
    }
    return x;
  }

  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size.get(ra)! < this.size.get(rb)!) [ra, rb] = [rb, ra];
    this.parent.set(rb, ra);
    this.size.set(ra, this.size.get(ra)! + this.size.get(rb)!);
  }

  /** Every set of two or more members, each as its member ids. */
  sets(): number[][] {
    const byRoot = new Map<number, number[]>();
    for (const x of this.parent.keys()) {
      const r = this.find(x);
      const list = byRoot.get(r);
      if (list) list.push(x);
      else byRoot.set(r, [x]);
    }
    return [...byRoot.values()].filter((s) => s.length > 1);
  }
}

/** A group: its photo ids, and for each the best similarity it has to another member. */
export interface PairGroup {
  ids: number[];
  similarity: Map<number, number>;
}

/** Groups the photos joined by pairs scoring at least `threshold`. */
export function groupPairs(pairs: readonly ScoredPair[], threshold: number): PairGroup[] {
  const sets = new UnionFind();
  const best = new Map<number, number>();
  for (const p of pairs) {
    if (p.a === p.b || !(p.similarity >= threshold)) continue;
    sets.union(p.a, p.b);
    best.set(p.a, Math.max(best.get(p.a) ?? -Infinity, p.similarity));
    best.set(p.b, Math.max(best.get(p.b) ?? -Infinity, p.similarity));
  }
  return sets.sets().map((ids) => ({ ids, similarity: new Map(ids.map((id) => [id, best.get(id)!])) }));
}
