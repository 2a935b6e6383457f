/**
 * Each soak invariant (test/soak/invariants.ts) can fail: a consistent state passes, and every
 * way of breaking it that the soak guards against is reported under the right invariant.
 */
import { describe, expect, it } from 'vitest';
import {
  checkLibrary,
  checkLiveIndex,
  checkMemory,
  checkReopenedIndex,
  checkSearches,
  checkVectors,
  memoryTrend,
  type LibrarySnapshot,
  type RowState,
} from '../soak/invariants.ts';

const row = (id: number, path: string, extra: Partial<RowState> = {}): RowState => ({
  id,
  folderId: 1,
  path,
  hash: `h${id}`,
  status: 'indexed',
  error: null,
  missingSince: null,
  vectors: 1,
  ...extra,
});

function healthy(): LibrarySnapshot {
  return {
    folders: [
      { id: 1, path: '/p/Camera', state: 'watching', heldDeletions: 0 },
      { id: 2, path: '/p/Drive', state: 'offline', heldDeletions: 0 },
    ],
    disk: [
      { path: '/p/Camera/a.jpg', hash: 'h1', kind: 'good' },
      { path: '/p/Camera/b.jpg', hash: 'h2', kind: 'good' },
      { path: '/p/Camera/bad.jpg', hash: 'h3', kind: 'bad' },
    ],
    rows: [
      row(1, '/p/Camera/a.jpg'),
      row(2, '/p/Camera/b.jpg'),
      row(3, '/p/Camera/bad.jpg', { status: 'failed', error: 'not a readable image: corrupt', vectors: 0 }),
      row(4, '/p/Drive/d.jpg', { folderId: 2 }),
    ],
    unplugged: new Map([[2, new Set(['/p/Drive/d.jpg'])]]),
  };
}

const broken = (change: (s: LibrarySnapshot) => void) => {
  const s = healthy();
  change(s);
  return checkLibrary(s).map((v) => v.invariant);
};

describe('soak invariants', () => {
  it('a consistent library passes', () => {
    expect(checkLibrary(healthy())).toEqual([]);
  });

  it('SQLite matches the files: a row for a deleted file, stale content, a kept vector, an offline folder plugged in, a hold left', () => {
    expect(broken((s) => s.disk.splice(1, 1))).toContain('SQLite matches the files');
    expect(broken((s) => (s.rows[0]!.hash = 'old'))).toEqual(['SQLite matches the files']);
    expect(broken((s) => Object.assign(s.rows[2]!, { vectors: 1 }))).toEqual(['SQLite matches the files']);
    expect(broken((s) => s.unplugged.clear())).toContain('SQLite matches the files');
    expect(broken((s) => Object.assign(s.folders[0]!, { state: 'held', heldDeletions: 2 }))).toEqual(['SQLite matches the files']);
    expect(broken((s) => (s.rows[0]!.missingSince = 1))).toEqual(['SQLite matches the files']);
  });

  it('no photo twice: two rows for one path, a left-over swap path', () => {
    expect(broken((s) => s.rows.push(row(9, '/p/Camera/a.jpg')))).toContain('no photo twice');
    expect(broken((s) => (s.rows[1]!.path = '/p/Camera/b.jpg\0swap'))).toContain('no photo twice');
  });

  it('no photo lost: a file without a row, a photo left pending or failed, an indexed row without a vector, an unplugged photo dropped', () => {
    expect(broken((s) => s.disk.push({ path: '/p/Camera/new.jpg', hash: 'h9', kind: 'good' }))).toEqual(['no photo lost']);
    expect(broken((s) => Object.assign(s.rows[0]!, { status: 'pending', vectors: 0 }))).toEqual(['no photo lost']);
    expect(broken((s) => Object.assign(s.rows[0]!, { status: 'failed', error: 'the file no longer exists', vectors: 0 }))).toEqual(['no photo lost']);
    expect(broken((s) => (s.rows[0]!.vectors = 0))).toEqual(['no photo lost']);
    expect(broken((s) => s.rows.splice(3, 1))).toEqual(['no photo lost']);
  });

  it('every failure has a reason: a failure without one, a broken file taken as a photo', () => {
    expect(broken((s) => (s.rows[2]!.error = ' '))).toEqual(['every failure has a reason']);
    expect(broken((s) => Object.assign(s.rows[2]!, { status: 'indexed', error: null, vectors: 1 }))).toEqual(['every failure has a reason']);
  });

  it('vectors match the photos: a stale vector is reported', () => {
    expect(checkVectors([{ path: '/a', cosine: 1 }])).toEqual([]);
    expect(checkVectors([{ path: '/a', cosine: 0.93 }]).map((v) => v.invariant)).toEqual(['vectors match the photos']);
    expect(checkVectors([{ path: '/a', cosine: Number.NaN }])).toHaveLength(1);
  });

  it('index matches SQLite (live app): missing, extra, wrong score, twice', () => {
    const expected = new Map([
      [2, 0.5],
      [3, -0.2],
    ]);
    expect(checkLiveIndex(1, [{ id: 2, score: 0.5 }, { id: 3, score: -0.2 }], expected)).toEqual([]);
    const names = (hits: { id: number; score: number }[]) => checkLiveIndex(1, hits, expected).map((v) => v.invariant);
    expect(names([{ id: 2, score: 0.5 }])).toEqual(['index matches SQLite (live app)']);
    expect(names([{ id: 2, score: 0.5 }, { id: 3, score: -0.2 }, { id: 7, score: 0.1 }])).toEqual(['index matches SQLite (live app)']);
    expect(names([{ id: 2, score: 0.4 }, { id: 3, score: -0.2 }])).toEqual(['index matches SQLite (live app)']);
    expect(names([{ id: 2, score: 0.5 }, { id: 2, score: 0.5 }, { id: 3, score: -0.2 }])).toEqual(['no photo twice']);
  });

  it('index matches SQLite (reopened): a rebuild, a missing or extra label, a different vector', () => {
    const ok = { outcome: 'repaired' as const, reason: 'patched', labels: [1, 2], agreement: new Map([[1, 1], [2, 1]]), sqliteIds: [1, 2] };
    expect(checkReopenedIndex(ok)).toEqual([]);
    const names = (patch: Partial<typeof ok> | { outcome: 'rebuilt' }) => checkReopenedIndex({ ...ok, ...patch }).map((v) => v.invariant);
    expect(names({ outcome: 'rebuilt' })).toEqual(['index matches SQLite (reopened)']);
    expect(names({ labels: [1] })).toEqual(['index matches SQLite (reopened)']);
    expect(names({ labels: [1, 2, 3] })).toEqual(['index matches SQLite (reopened)']);
    expect(names({ agreement: new Map([[1, 1], [2, 0.2]]) })).toEqual(['index matches SQLite (reopened)']);
  });

  it('no search failed: any failure counts; searches cut by the soak\'s own kills do not', () => {
    expect(checkSearches({ ok: 10, cutByKill: 3, failed: [] })).toEqual([]);
    expect(checkSearches({ ok: 10, cutByKill: 0, failed: [{ at: 1, message: 'socket closed' }] })).toHaveLength(1);
  });

  it('memory bounded: a steady working set passes, a leak over the judged stretch does not, a short life is not judged', () => {
    const flat = Array.from({ length: 600 }, (_, i) => ({ t: i, pid: 7, mb: 400 + 20 * Math.sin(i / 5) }));
    const flatTrend = memoryTrend(flat);
    expect(Math.abs(flatTrend.slope!)).toBeLessThan(5);
    expect(checkMemory(flatTrend, 100)).toEqual([]);
    const leak = Array.from({ length: 600 }, (_, i) => ({ t: i, pid: 8, mb: 400 + i * 0.5 })); // 30 MB/min
    const leakTrend = memoryTrend(leak);
    expect(leakTrend.slope).toBeCloseTo(30, 0);
    expect(checkMemory(leakTrend, 100).map((v) => v.invariant)).toEqual(['memory bounded']);
    // The longest lifetime is judged, after its warm-up; a short one gives no verdict.
    expect(memoryTrend([...flat.slice(0, 50).map((s) => ({ ...s, pid: 1 })), ...leak]).pid).toBe(8);
    expect(memoryTrend(leak.slice(0, 30)).slope).toBeNull();
  });
});
