/**
 * Walking photo folders: which photo files exist now, with their size and mtime. Never opens a
 * file's contents (hashing does that, and only when needed).
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, mapLimited } from './hashing.ts';
import { hasSkippedComponent, IgnoreList, isInside, isPhotoPath, isSkippedName } from './filters.ts';

export interface FileOnDisk {
  path: string;
  size: number;
  /** Whole milliseconds, as stored in photos.mtime_ms, so comparisons are exact. */
  mtimeMs: number;
  /**
   * Inode change time (whole ms) and inode number: an edit that keeps size and mtime still
   * changes the ctime, which no user tool can set back.
   */
  ctimeMs: number;
  ino: number;
}

export interface Problem {
  path: string;
  reason: string;
}

export interface ScanResult {
  files: FileOnDisk[];
  problems: Problem[];
  /** Folders or files that exist but could not be read: rows beneath them must be left alone, not deleted. */
  unsure: string[];
}

export interface ScanContext {
  /** The library folder's real path. */
  root: string;
  ignore: IgnoreList;
}

const STAT_CONCURRENCY = 16;

function toFile(path: string, st: { size: number; mtimeMs: number; ctimeMs: number; ino: number }): FileOnDisk {
  return { path, size: st.size, mtimeMs: Math.trunc(st.mtimeMs), ctimeMs: Math.trunc(st.ctimeMs), ino: st.ino };
}

/**
 * All photos under `start` (the folder root or a folder below it), recursively.
 *
 * Symlinks: a link whose target lies inside the library folder is skipped, because the real file
 * or folder is walked anyway and each photo must have one stable path; a link pointing outside is
 * followed. Every folder's real path is remembered, so link loops end after one visit.
 */
export async function scanTree(start: string, ctx: ScanContext): Promise<ScanResult> {
  const result: ScanResult = { files: [], problems: [], unsure: [] };
  try {
    const st = await stat(start);
    if (!st.isDirectory()) return result;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      result.problems.push({ path: start, reason: `cannot open folder: ${describeError(err)}` });
      result.unsure.push(start);
    }
    return result;
  }

  const visited = new Set<string>();
  // One report per scan: a loop is met again at every level it repeats.
  let loopReported = false;
  const stack = [start];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      const real = await realpath(dir);
      if (visited.has(real)) {
        if (!loopReported) {
          loopReported = true;
          result.problems.push({ path: dir, reason: `skipped: a symbolic link loop leads back to ${real}, which is scanned once` });
        }
        continue;
      }
      visited.add(real);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we walked
      result.problems.push({ path: dir, reason: `cannot read folder: ${describeError(err)}` });
      result.unsure.push(dir);
      continue;
    }
    // Sorted so that walks are repeatable (which of two links to one target wins, and so on).
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    const jobs: Dirent[] = [];
    for (const entry of entries) {
      if (isSkippedName(entry.name)) continue;
      const full = join(dir, entry.name);
      if (ctx.ignore.covers(full)) continue;
      if (entry.isDirectory()) subdirs.push(full);
      else if (entry.isSymbolicLink() || (entry.isFile() && isPhotoPath(entry.name))) jobs.push(entry);
    }
    await mapLimited(jobs, STAT_CONCURRENCY, async (entry) => {
      const full = join(dir, entry.name);
      try {
        if (entry.isSymbolicLink()) {
          const target = await realpath(full).catch(() => null); // dangling link: nothing there
          if (!target || isInside(target, ctx.root) || ctx.ignore.covers(target)) return;
          const st = await stat(full);
          if (st.isDirectory()) subdirs.push(full);
          else if (st.isFile() && isPhotoPath(entry.name)) result.files.push(toFile(full, st));
          return;
        }
        result.files.push(toFile(full, await stat(full)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        result.problems.push({ path: full, reason: `cannot read file: ${describeError(err)}` });
        result.unsure.push(full);
      }
    });
    subdirs.sort();
    // Reverse so the stack pops them in name order.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return result;
}

/**
 * One path reported by the watcher: the photo there now, or null when there is none (gone,
 * not a photo, hidden, ignored, or a link back into the library folder).
 */
export async function statPhoto(path: string, ctx: ScanContext): Promise<ScanResult> {
  const result: ScanResult = { files: [], problems: [], unsure: [] };
  if (!isPhotoPath(path) || hasSkippedComponent(ctx.root, path) || ctx.ignore.covers(path)) return result;
  try {
    const link = await lstat(path);
    if (link.isSymbolicLink()) {
      const target = await realpath(path).catch(() => null);
      if (!target || isInside(target, ctx.root) || ctx.ignore.covers(target)) return result;
    }
    const st = await stat(path);
    if (st.isFile()) result.files.push(toFile(path, st));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    result.problems.push({ path, reason: `cannot read file: ${describeError(err)}` });
    result.unsure.push(path);
  }
  return result;
}
