/**
 * Reconciliation: turns "what is on disk now" into row changes. Full scans and watcher batches
 * both end here, so start-up, `leanlens index` and live watching follow exactly the same rules.
 *
 * Order of work: compare size+mtime (no I/O); hash only new and suspect files, a chunk at a time,
 * writing each chunk (moves, new content, new rows) in one transaction and yielding to the event
 * loop between chunks; deletions and holds come last, so a crash part-way never turns a move into
 * a delete plus a re-encode, and the next reconcile simply finishes the job.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { PhotoRecord, Store } from '../store/index.ts';
import { describeError, hashFile, mapLimited } from './hashing.ts';
import { isInside } from './filters.ts';
import type { FileOnDisk, Problem } from './scan.ts';

export interface LibraryChanges {
  added: number[];
  changed: number[];
  removed: number[];
  moved: number[];
}

export function noChanges(): LibraryChanges {
  return { added: [], changed: [], removed: [], moved: [] };
}

export function isEmpty(c: LibraryChanges): boolean {
  return !c.added.length && !c.changed.length && !c.removed.length && !c.moved.length;
}

/** The columns reconciliation reads (PHOTO_COLUMNS). */
export type PhotoRow = Pick<
  PhotoRecord,
  'id' | 'folder_id' | 'path' | 'size' | 'mtime_ms' | 'ctime_ms' | 'inode' | 'hash' | 'status' | 'error' | 'missing_since'
>;

/** What one folder looks like now, within the part of it that was looked at. */
export interface Observation {
  folderId: number;
  /** Photos on disk now, within the observed scope. */
  disk: FileOnDisk[];
  /** Database rows within the same scope. */
  known: PhotoRow[];
  /** Paths that could not be read: rows at or beneath them are left as they are. */
  unsure: string[];
}

export interface ReconcileOptions {
  holdThreshold: number;
  /** Fewer vanished photos than this are never held, whatever the share (one deleted photo of two is not a drive unplug). */
  holdMinimum: number;
  /**
   * How long after a hold began further vanishings join it (a drive going away can take several
   * watcher batches). Later ones are judged on their own: a folder held once must still apply an
   * ordinary deletion a week later.
   */
  holdJoinMs: number;
  /** State a folder returns to when nothing is held. */
  settledState: () => 'watching' | 'idle';
  onProblem: (p: Problem) => void;
  /** Called after each committed transaction with what it changed (so rows reach the indexer while a big scan goes on). */
  onChanges?: (delta: LibraryChanges) => void;
}

const BATCH = 500;
const HASH_CONCURRENCY = 4;
const PHOTO_COLUMNS = 'id, folder_id, path, size, mtime_ms, ctime_ms, inode, hash, status, error, missing_since';

/**
 * Unchanged without reading it: same size, mtime, inode change time and inode. A row from before
 * migration 009 (no ctime yet) is judged on size and mtime, as before, and gets them recorded.
 */
function looksUnchanged(row: PhotoRow, file: FileOnDisk): boolean {
  if (row.hash === null || row.size !== file.size || row.mtime_ms !== file.mtimeMs) return false;
  return row.ctime_ms === null || (row.ctime_ms === file.ctimeMs && row.inode === file.ino);
}

export function rowsInFolder(store: Store, folderId: number): PhotoRow[] {
  return store.db.prepare<[number], PhotoRow>(`SELECT ${PHOTO_COLUMNS} FROM photos WHERE folder_id = ?`).all(folderId);
}

/** Rows at `path` or beneath it (a range scan on the unique path index, no LIKE escaping). */
export function rowsUnder(store: Store, folderId: number, path: string, sep: string): PhotoRow[] {
  const prefix = path.endsWith(sep) ? path : path + sep;
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return store.db
    .prepare<[number, string, string, string], PhotoRow>(
      `SELECT ${PHOTO_COLUMNS} FROM photos WHERE folder_id = ? AND (path = ? OR (path >= ? AND path < ?))`,
    )
    .all(folderId, path, prefix, upper);
}

interface Hashed {
  file: FileOnDisk;
  folderId: number;
  row: PhotoRow | null;
  hash: string | null;
  error: string | null;
}

export async function applyObservations(
  store: Store,
  observations: Observation[],
  opts: ReconcileOptions,
): Promise<LibraryChanges> {
  const db = store.db;
  const now = Date.now();
  const changes = noChanges();
  const toHash: Hashed[] = [];
  const reappeared: Array<{ row: PhotoRow; file: FileOnDisk }> = [];
  const vanishedByFolder = new Map<number, PhotoRow[]>();
  const touchedFolders = new Set<number>();

  for (const obs of observations) {
    touchedFolders.add(obs.folderId);
    const known = new Map(obs.known.map((r) => [r.path, r]));
    const seen = new Set<string>();
    for (const file of obs.disk) {
      if (seen.has(file.path)) continue;
      seen.add(file.path);
      const row = known.get(file.path) ?? null;
      if (row && looksUnchanged(row, file)) {
        // Unchanged: never re-read. Only a held deletion needs undoing, or the identity recording.
        if (row.missing_since !== null || row.ctime_ms === null) reappeared.push({ row, file });
      } else {
        toHash.push({ file, folderId: obs.folderId, row, hash: null, error: null });
      }
    }
    const vanished = obs.known.filter((r) => !seen.has(r.path) && !obs.unsure.some((u) => isInside(r.path, u)));
    if (vanished.length) vanishedByFolder.set(obs.folderId, [...(vanishedByFolder.get(obs.folderId) ?? []), ...vanished]);
  }

  const ops: Array<() => void> = [];
  const folderExists = db.prepare<[number], { id: number }>('SELECT id FROM folders WHERE id = ?');
  const deleteVectors = db.prepare('DELETE FROM vectors WHERE photo_id = ?');
  const heldByHash = db.prepare<[string], PhotoRow>(
    `SELECT ${PHOTO_COLUMNS} FROM photos WHERE hash = ? AND missing_since IS NOT NULL ORDER BY id`,
  );
  const anyHeld = !!db.prepare('SELECT 1 FROM photos WHERE missing_since IS NOT NULL LIMIT 1').get();
  // Every write records the file's identity (size, mtime, ctime, inode) as the scan saw it: @size…@ino.
  const IDENTITY = 'size = @size, mtime_ms = @mtime, ctime_ms = @ctime, inode = @ino';
  const identity = (f: FileOnDisk) => ({ size: f.size, mtime: f.mtimeMs, ctime: f.ctimeMs, ino: f.ino });
  const move = db.prepare(
    `UPDATE photos SET folder_id = @folder, path = @path, ${IDENTITY}, missing_since = NULL, updated_at = @now WHERE id = @id`,
  );
  const touch = db.prepare(`UPDATE photos SET ${IDENTITY}, missing_since = NULL, updated_at = @now WHERE id = @id`);
  const changed = db.prepare(
    `UPDATE photos SET ${IDENTITY}, hash = @hash, status = 'pending', error = NULL, width = NULL, height = NULL,
       taken_at = NULL, taken_at_source = NULL, camera = NULL, format = NULL, missing_since = NULL, updated_at = @now WHERE id = @id`,
  );
  const failed = db.prepare(
    `UPDATE photos SET ${IDENTITY}, hash = NULL, status = 'failed', error = @error, missing_since = NULL, updated_at = @now WHERE id = @id`,
  );
  const insert = db.prepare(
    `INSERT INTO photos (folder_id, path, size, mtime_ms, ctime_ms, inode, hash, status, error, updated_at)
     SELECT @folder, @path, @size, @mtime, @ctime, @ino, @hash, @status, @error, @now WHERE EXISTS (SELECT 1 FROM folders WHERE id = @folder)
     ON CONFLICT(path) DO NOTHING`,
  );

  // Vanished rows by content hash: a new path with the same bytes is a move (the pool is known
  // before any hashing, so moves are recognised whichever chunk the new path falls in).
  const pool = new Map<string, PhotoRow[]>();
  for (const rows of vanishedByFolder.values()) {
    for (const r of rows) {
      if (!r.hash) continue;
      const list = pool.get(r.hash);
      if (list) list.push(r);
      else pool.set(r.hash, [r]);
    }
  }
  const movedIds = new Set<number>();
  const takeMoveSource = (hash: string): PhotoRow | undefined => {
    const list = pool.get(hash);
    while (list?.length) {
      const r = list.shift()!;
      if (!movedIds.has(r.id)) return r;
    }
    // A photo held as missing (this folder or another) that turns up at a new path.
    return anyHeld ? heldByHash.all(hash).find((r) => !movedIds.has(r.id)) : undefined;
  };

  /** The write for one hashed file: a move, a touch, new content, a failure, or a new row. */
  const planWrite = (h: Hashed): void => {
    const { file, row } = h;
    if (h.error) opts.onProblem({ path: file.path, reason: h.error });
    if (!row) {
      if (!h.hash && !h.error) return; // vanished between the walk and the hash
      const source = h.hash ? takeMoveSource(h.hash) : undefined;
      if (source) {
        movedIds.add(source.id);
        touchedFolders.add(source.folder_id);
        ops.push(() => {
          if (!folderExists.get(h.folderId)) return;
          if (move.run({ folder: h.folderId, path: file.path, ...identity(file), now, id: source.id }).changes) delta.moved.push(source.id);
        });
        return;
      }
      const status = h.error ? 'failed' : 'pending';
      ops.push(() => {
        const info = insert.run({ folder: h.folderId, path: file.path, ...identity(file), hash: h.hash, status, error: h.error, now });
        if (info.changes) delta.added.push(Number(info.lastInsertRowid));
      });
    } else if (h.error) {
      // Still unreadable and otherwise untouched: nothing new to record.
      if (row.status === 'failed' && row.error === h.error && row.size === file.size && row.mtime_ms === file.mtimeMs) return;
      ops.push(() => {
        deleteVectors.run(row.id);
        if (failed.run({ ...identity(file), error: h.error, now, id: row.id }).changes) delta.changed.push(row.id);
      });
    } else if (!h.hash) {
      return;
    } else if (h.hash === row.hash) {
      ops.push(() => void touch.run({ ...identity(file), now, id: row.id }));
    } else {
      ops.push(() => {
        deleteVectors.run(row.id);
        if (changed.run({ ...identity(file), hash: h.hash, now, id: row.id }).changes) delta.changed.push(row.id);
      });
    }
  };

  /**
   * Files whose names were swapped (or rotated): each row follows its content to the other path,
   * with its vectors. Two steps, because the paths are unique: first aside, then in place.
   */
  const setAside = db.prepare(`UPDATE photos SET path = path || char(0) || 'swap' WHERE id = ?`);
  const planSwaps = (swapped: Map<Hashed, PhotoRow>): void => {
    ops.push(() => {
      for (const source of swapped.values()) setAside.run(source.id);
      for (const [h, source] of swapped) {
        if (move.run({ folder: h.folderId, path: h.file.path, ...identity(h.file), now, id: source.id }).changes) delta.moved.push(source.id);
      }
    });
  };

  let delta = noChanges();
  /** Writes the planned ops in one transaction and reports what they changed, so the indexer can start early. */
  const commit = async (): Promise<void> => {
    if (!ops.length) return;
    delta = noChanges();
    const batch = ops.splice(0);
    store.transaction(() => {
      for (const op of batch) op();
    });
    for (const k of ['added', 'changed', 'removed', 'moved'] as const) changes[k].push(...delta[k]);
    if (!isEmpty(delta)) opts.onChanges?.(delta);
    await yieldToEventLoop();
  };

  // 1+2. New and suspect files, hashed and written one chunk at a time. A file whose content
  // changed waits until every chunk is hashed: its old content may have gone to a name in a later
  // chunk (swapped or rotated names), and then its row follows that content instead of being
  // encoded again. Changed files are few in a big scan, so new rows still reach the indexer early.
  const changedContent: Hashed[] = [];
  for (let i = 0; i < toHash.length; i += BATCH) {
    const chunk = toHash.slice(i, i + BATCH);
    await mapLimited(chunk, HASH_CONCURRENCY, async (h) => {
      try {
        h.hash = await hashFile(h.file.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // gone again; the next event or scan settles it
        h.error = `cannot read file: ${describeError(err)}`;
      }
    });
    for (const h of chunk) {
      if (contentChanged(h)) changedContent.push(h);
      else planWrite(h);
    }
    await commit();
  }
  const swapped = swappedNames(changedContent);
  if (swapped.size) planSwaps(swapped);
  for (const h of changedContent) {
    if (swapped.has(h)) continue;
    planWrite(h);
    if (ops.length >= BATCH) await commit();
  }
  await commit();
  for (const { row, file } of reappeared) {
    ops.push(() => void touch.run({ ...identity(file), now, id: row.id }));
    if (ops.length >= BATCH) await commit();
  }
  await commit();

  // 3. Vanished rows: deleted, unless so many went at once that it looks like an unplugged drive or a bad sync.
  const hold = db.prepare('UPDATE photos SET missing_since = ? WHERE id = ? AND missing_since IS NULL');
  const remove = db.prepare('DELETE FROM photos WHERE id = ?');
  const countInFolder = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM photos WHERE folder_id = ?');
  const latestHold = db.prepare<[number], { at: number | null }>(
    'SELECT max(missing_since) AS at FROM photos WHERE folder_id = ? AND missing_since IS NOT NULL',
  );
  for (const [folderId, rows] of vanishedByFolder) {
    const gone = rows.filter((r) => !movedIds.has(r.id) && r.missing_since === null);
    if (!gone.length) continue;
    const total = countInFolder.get(folderId)?.n ?? 0;
    const heldAt = latestHold.get(folderId)?.at ?? null;
    const joinsHold = heldAt !== null && now - heldAt <= opts.holdJoinMs;
    const tooMany = gone.length >= opts.holdMinimum && gone.length > opts.holdThreshold * total;
    for (const r of gone) {
      if (joinsHold || tooMany) ops.push(() => void hold.run(now, r.id));
      else ops.push(() => void (remove.run(r.id).changes && delta.removed.push(r.id)));
      if (ops.length >= BATCH) await commit();
    }
  }
  await commit();

  store.transaction(() => {
    for (const folderId of touchedFolders) settleFolder(store, folderId, opts.settledState());
  });
  return changes;
}

/** A known file read again whose bytes are not the ones its row has. */
function contentChanged(h: Hashed): boolean {
  return h.row !== null && h.hash !== null && h.row.hash !== null && h.hash !== h.row.hash;
}

/**
 * Paths whose new content is another path's old content, closed under that relation (a swap of
 * two names, or a rotation of several): each maps to the row that held its content. A changed
 * file whose old content went nowhere in the set is left to the ordinary rules.
 *
 * Each file points at the file whose old content it now has; the swaps and rotations are the
 * cycles of that graph. Found in one walk per file (linear: the set is the whole scan's changed
 * files, and a renaming tool can produce long chains that are not cycles).
 */
function swappedNames(changed: Hashed[]): Map<Hashed, PhotoRow> {
  const out = new Map<Hashed, PhotoRow>();
  if (changed.length < 2) return out;
  const byOldHash = new Map<string, Hashed>();
  for (const h of changed) if (!byOldHash.has(h.row!.hash!)) byOldHash.set(h.row!.hash!, h);
  const source = (h: Hashed) => byOldHash.get(h.hash!);
  const ON_WALK = 1;
  const DONE = 2;
  const state = new Map<Hashed, number>();
  for (const start of changed) {
    const walk: Hashed[] = [];
    let h: Hashed | undefined = start;
    while (h && !state.has(h)) {
      state.set(h, ON_WALK);
      walk.push(h);
      h = source(h);
    }
    if (h && state.get(h) === ON_WALK) {
      for (let i = walk.indexOf(h); i < walk.length; i++) out.set(walk[i]!, source(walk[i]!)!.row!);
    }
    for (const w of walk) state.set(w, DONE);
  }
  return out;
}

/** Recounts held deletions and sets the folder's state from them. */
export function settleFolder(store: Store, folderId: number, settled: 'watching' | 'idle'): void {
  const held = store.db
    .prepare<[number], { n: number }>('SELECT count(*) AS n FROM photos WHERE folder_id = ? AND missing_since IS NOT NULL')
    .get(folderId)!.n;
  store.db
    .prepare('UPDATE folders SET held_deletions = ?, state = ? WHERE id = ?')
    .run(held, held > 0 ? 'held' : settled, folderId);
}
