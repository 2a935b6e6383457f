/**
 * The soak's invariants (issue 15 §2), as pure functions over snapshots: what is on disk, what
 * SQLite holds, what the running app's index and searches answered, how memory moved. Kept free of
 * I/O so each check can be fed a broken state and shown to fail (test/unit/soak-invariants.test.ts).
 */

export const INVARIANTS = [
  'SQLite matches the files',
  'no photo twice',
  'no photo lost',
  'every failure has a reason',
  'vectors match the photos',
  'index matches SQLite (live app)',
  'index matches SQLite (reopened)',
  'no search failed',
  'memory bounded',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  invariant: Invariant;
  detail: string;
}

/** A photo file on disk under a library folder, as the soak wrote it. */
export interface DiskFile {
  path: string;
  /** Content hash with the library's own function (hashFile). */
  hash: string;
  /** 'bad': written broken on purpose (must end failed, with a reason); 'good': a real photo. */
  kind: 'good' | 'bad';
}

export interface RowState {
  id: number;
  folderId: number;
  path: string;
  hash: string | null;
  status: 'pending' | 'indexed' | 'failed';
  error: string | null;
  missingSince: number | null;
  /** Vectors this row has for the active model (0 or 1; more is impossible by the primary key). */
  vectors: number;
}

export interface FolderState {
  id: number;
  path: string;
  state: string;
  heldDeletions: number;
}

export interface LibrarySnapshot {
  folders: FolderState[];
  /** Files on disk, in the folders that are plugged in. */
  disk: DiskFile[];
  rows: RowState[];
  /** Folders the soak has unplugged, with the paths their rows had when it did (they must be kept). */
  unplugged: Map<number, Set<string>>;
}

/** SQLite against the file system, after the app said it is idle and the watcher has caught up. */
export function checkLibrary(s: LibrarySnapshot): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: Invariant, detail: string) => out.push({ invariant, detail });
  const byPath = new Map<string, RowState[]>();
  for (const r of s.rows) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const onDisk = new Map(s.disk.map((f) => [f.path, f]));

  for (const [path, rows] of byPath) if (rows.length > 1) v('no photo twice', `${rows.length} rows for ${path}`);
  for (const r of s.rows) {
    if (r.path.includes('\0')) v('no photo twice', `row ${r.id} has a left-over temporary path ${JSON.stringify(r.path)}`);
  }

  for (const f of s.folders) {
    const away = s.unplugged.get(f.id);
    if (away) {
      if (f.state !== 'offline') v('SQLite matches the files', `unplugged folder ${f.path} is '${f.state}', not 'offline'`);
      const kept = new Set(s.rows.filter((r) => r.folderId === f.id).map((r) => r.path));
      for (const p of away) if (!kept.has(p)) v('no photo lost', `photo ${p} of the unplugged folder ${f.path} was dropped`);
      continue;
    }
    if (f.state === 'offline') v('SQLite matches the files', `folder ${f.path} is plugged in but marked offline`);
    if (f.heldDeletions > 0 || f.state === 'held') v('SQLite matches the files', `folder ${f.path} still holds ${f.heldDeletions} deletions`);
  }

  const pluggedRows = s.rows.filter((r) => !s.unplugged.has(r.folderId));
  for (const r of pluggedRows) {
    const f = onDisk.get(r.path);
    if (!f) {
      v('SQLite matches the files', `row ${r.id} (${r.status}) for ${r.path}, which is not on disk`);
      continue;
    }
    if (r.missingSince !== null) v('SQLite matches the files', `row ${r.id} for ${r.path} is held as missing but the file is there`);
    if (f.kind === 'good' && r.hash !== f.hash) v('SQLite matches the files', `row ${r.id} for ${r.path} records other content (hash ${r.hash} ≠ ${f.hash})`);
    if (r.status === 'failed' && !(r.error ?? '').trim()) v('every failure has a reason', `row ${r.id} for ${r.path} failed without a reason`);
    if (f.kind === 'bad' && r.status !== 'failed') v('every failure has a reason', `broken file ${r.path} is '${r.status}', not failed`);
    if (f.kind === 'good' && r.status !== 'indexed') v('no photo lost', `photo ${r.path} is '${r.status}'${r.error ? ` (${r.error})` : ''}, not indexed`);
    if (r.status === 'indexed' && r.vectors !== 1) v('no photo lost', `indexed photo ${r.path} has ${r.vectors} vectors`);
    if (r.status !== 'indexed' && r.vectors !== 0) v('SQLite matches the files', `${r.status} photo ${r.path} still has a vector`);
  }
  for (const f of s.disk) if (!byPath.has(f.path)) v('no photo lost', `${f.kind} file ${f.path} has no row`);
  return out;
}

/** Stored vectors against the soak's own encoding of the file now on disk (cosine, unit vectors). */
export function checkVectors(pairs: { path: string; cosine: number }[], minCosine = 0.999): Violation[] {
  return pairs
    .filter((p) => !(p.cosine >= minCosine))
    .map((p) => ({ invariant: 'vectors match the photos' as const, detail: `${p.path}: stored vector has cosine ${p.cosine.toFixed(4)} with the photo's content` }));
}

/**
 * The live app's index, seen through "more like this" over every photo: it must return each other
 * indexed photo exactly once, with the score SQLite's vectors give.
 */
export function checkLiveIndex(
  probe: number,
  hits: { id: number; score: number }[],
  expected: Map<number, number>,
  tolerance = 1e-4,
): Violation[] {
  const out: Violation[] = [];
  const v = (detail: string) => out.push({ invariant: 'index matches SQLite (live app)', detail });
  const seen = new Set<number>();
  for (const h of hits) {
    if (seen.has(h.id)) out.push({ invariant: 'no photo twice', detail: `photo ${h.id} appears twice in one search` });
    seen.add(h.id);
    const want = expected.get(h.id);
    if (want === undefined) v(`photo ${h.id} is in the app's index but not indexed in SQLite`);
    else if (Math.abs(want - h.score) > tolerance) v(`photo ${h.id} scores ${h.score.toFixed(5)} against photo ${probe}; SQLite's vectors give ${want.toFixed(5)}`);
  }
  for (const id of expected.keys()) if (!seen.has(id)) v(`photo ${id} is indexed in SQLite but missing from the app's index`);
  return out;
}

/** What reopening the saved index (as the next start does) gave, against SQLite. */
export interface ReopenedIndex {
  outcome: 'loaded' | 'repaired' | 'rebuilt';
  reason: string;
  /** Labels the reopened index holds. */
  labels: number[];
  /** photo id → cosine between the index's vector and SQLite's, for every SQLite vector it holds. */
  agreement: Map<number, number>;
  sqliteIds: number[];
}

export function checkReopenedIndex(r: ReopenedIndex, minCosine = 0.9999): Violation[] {
  const out: Violation[] = [];
  const v = (detail: string) => out.push({ invariant: 'index matches SQLite (reopened)', detail });
  if (r.outcome === 'rebuilt') v(`the saved index had to be rebuilt: ${r.reason}`);
  const labels = new Set(r.labels);
  if (labels.size !== r.labels.length) out.push({ invariant: 'no photo twice', detail: 'the index holds a label twice' });
  const want = new Set(r.sqliteIds);
  for (const id of want) if (!labels.has(id)) v(`photo ${id} has a vector in SQLite but not in the index`);
  for (const id of labels) if (!want.has(id)) v(`the index holds photo ${id}, which has no vector in SQLite`);
  for (const [id, c] of r.agreement) if (!(c >= minCosine)) v(`photo ${id}: the index's vector differs from SQLite's (cosine ${c.toFixed(4)})`);
  return out;
}

export interface SearchTally {
  ok: number;
  /** Calls in flight when the soak itself killed the app (expected, counted apart). */
  cutByKill: number;
  failed: { at: number; message: string }[];
}

export function checkSearches(t: SearchTally): Violation[] {
  return t.failed.map((f) => ({ invariant: 'no search failed' as const, detail: f.message }));
}

/** One RSS sample of the app (its process and its encoder process), MB. */
export interface RssSample {
  /** Seconds since the soak started. */
  t: number;
  pid: number;
  mb: number;
}

export interface MemoryVerdict {
  /** MB per minute over the judged samples (least squares), null when too few. */
  slope: number | null;
  /** The process lifetime judged: the longest one, after its warm-up. */
  pid: number | null;
  seconds: number;
  peakMb: number;
}

/**
 * Samples of one process lifetime after its first `warmupShare` are judged; the longest lifetime
 * counts. Less than `minSeconds` judged is no verdict (slope null): start-up and the first
 * indexing dominate a short life, so a slope there says nothing about a leak.
 */
export function memoryTrend(samples: RssSample[], warmupShare = 0.25, minSeconds = 120): MemoryVerdict {
  const byPid = new Map<number, RssSample[]>();
  for (const s of samples) byPid.set(s.pid, [...(byPid.get(s.pid) ?? []), s]);
  let best: RssSample[] = [];
  for (const list of byPid.values()) if (span(list) > span(best)) best = list;
  const peakMb = samples.reduce((m, s) => Math.max(m, s.mb), 0);
  if (best.length < 4) return { slope: null, pid: null, seconds: 0, peakMb };
  const start = best[0]!.t + warmupShare * span(best);
  const judged = best.filter((s) => s.t >= start);
  if (judged.length < 3 || span(judged) < minSeconds) return { slope: null, pid: best[0]!.pid, seconds: span(judged), peakMb };
  const n = judged.length;
  const mt = judged.reduce((a, s) => a + s.t, 0) / n;
  const mm = judged.reduce((a, s) => a + s.mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of judged) {
    num += (s.t - mt) * (s.mb - mm);
    den += (s.t - mt) ** 2;
  }
  return { slope: den > 0 ? (num / den) * 60 : 0, pid: best[0]!.pid, seconds: span(judged), peakMb };
}

/**
 * Bounded: over the judged stretch, RSS may not rise by more than `maxRiseMb` (a working set that
 * settles stays well under it; a leak proportional to the churn crosses it as the soak goes on).
 */
export function checkMemory(m: MemoryVerdict, maxRiseMb: number): Violation[] {
  if (m.slope === null) return [];
  const rise = (m.slope * m.seconds) / 60;
  return rise > maxRiseMb
    ? [{ invariant: 'memory bounded', detail: `RSS of pid ${m.pid} rose ${rise.toFixed(0)} MB over ${m.seconds.toFixed(0)} s (${m.slope.toFixed(1)} MB/min)` }]
    : [];
}

function span(list: RssSample[]): number {
  return list.length ? list[list.length - 1]!.t - list[0]!.t : -1;
}
