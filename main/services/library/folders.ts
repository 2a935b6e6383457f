/** Library folders: their rows, their counts, and checking a path a person chose. */
import { constants } from 'node:fs';
import { access, opendir, realpath, stat } from 'node:fs/promises';
import { AppError, type Folder, type FolderState } from '../../core/contract.ts';
import type { Store } from '../store/index.ts';
import { describeError } from './hashing.ts';
import { hasSkippedComponent, isInside } from './filters.ts';

export interface FolderRow {
  id: number;
  path: string;
  added_at: number;
  state: FolderState;
  held_deletions: number;
}

export function folderRows(store: Store): FolderRow[] {
  return store.db.prepare<[], FolderRow>('SELECT id, path, added_at, state, held_deletions FROM folders ORDER BY path').all();
}

export function folderRow(store: Store, id: number): FolderRow | undefined {
  return store.db
    .prepare<[number], FolderRow>('SELECT id, path, added_at, state, held_deletions FROM folders WHERE id = ?')
    .get(id);
}

export function listFolders(store: Store): Folder[] {
  const rows = store.db
    .prepare<[], FolderRow & { photos: number; indexed: number; failed: number; held: number }>(
      `SELECT f.id, f.path, f.added_at, f.state, f.held_deletions,
              count(p.id) AS photos,
              coalesce(sum(p.status = 'indexed'), 0) AS indexed,
              coalesce(sum(p.status = 'failed'), 0) AS failed,
              coalesce(sum(p.missing_since IS NOT NULL), 0) AS held
       FROM folders f LEFT JOIN photos p ON p.folder_id = f.id
       GROUP BY f.id ORDER BY f.path`,
    )
    .all();
  return rows.map((r) => ({
    id: r.id,
    path: r.path,
    state: r.state,
    photoCount: r.photos,
    indexedCount: r.indexed,
    failedCount: r.failed,
    heldDeletions: r.held,
    addedAt: r.added_at,
  }));
}

/**
 * The library folder a path belongs to: the one with the longest root containing it, so a
 * separately added hidden subfolder (which its parent's scan skips) owns its own files.
 */
export function owningFolder<F extends { path: string }>(folders: readonly F[], path: string): F | undefined {
  let best: F | undefined;
  for (const f of folders) {
    if (isInside(path, f.path) && (!best || f.path.length > best.path.length)) best = f;
  }
  return best;
}

/** True when a scan of `parent` walks `child` (inside it and not under a hidden or system folder). */
export function covers(parent: string, child: string): boolean {
  return isInside(child, parent) && !hasSkippedComponent(parent, child);
}

/** The real path of a folder a person chose, or an AppError saying plainly why it cannot be added. */
export async function resolveFolderPath(input: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new AppError('not-found', `Folder not found: ${input}`);
    throw new AppError('failed', `Cannot open folder ${input}: ${describeError(err)}`);
  }
  const st = await stat(real);
  if (!st.isDirectory()) throw new AppError('invalid-argument', `Not a folder: ${input} (choose the folder that holds your photos)`);
  try {
    await access(real, constants.R_OK | constants.X_OK);
    const dir = await opendir(real);
    await dir.close();
  } catch (err) {
    throw new AppError('failed', `Cannot read folder ${input}: ${describeError(err)}`);
  }
  return real;
}

/**
 * A photo vanished while being read: is it because its whole folder went away (a drive unplugged
 * mid-indexing)? Then the folder is marked offline, as a scan would, and true is returned: the
 * photo is not a failure, it waits for the drive.
 */
export async function folderWentOffline(store: Store, folder: { id: number; path: string } | null): Promise<boolean> {
  if (!folder) return false;
  const present = await stat(folder.path).then(
    (st) => st.isDirectory(),
    () => false,
  );
  if (present) return false;
  store.db.prepare("UPDATE folders SET state = 'offline' WHERE id = ?").run(folder.id);
  return true;
}
