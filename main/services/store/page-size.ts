/**
 * The library's page size (issue 15 §1: a folder of 1,000 photos in a big library is scored
 * exactly, so its 1,000 vectors are read from SQLite on every search).
 *
 * A 512-d vector is 2 KiB. With SQLite's default 4 KiB pages a row of the WITHOUT ROWID `vectors`
 * table keeps only ~500 bytes in its b-tree page and spills the rest to an overflow page of its
 * own, which SQLite reads with one system call every time, past its page cache
 * (DIRECT_OVERFLOW_READ): 1,000 vectors cost 23–28 ms of CPU on the 2-core development machine,
 * nearly all of it in those reads (the keys alone: 2 ms). With 16 KiB pages a row of up to ~4,000
 * bytes stays in its page, about seven vectors of neighbouring photos share one page and the page
 * cache serves them: 4.7–5.1 ms for the same 1,000 (docs/scale.md). The file also halves: the
 * overflow pages were 60 % empty.
 *
 * New libraries are created with it (openStore). An older library is converted once, by a VACUUM
 * in a worker thread before the app opens it (`upgradePageSize`): ~10 s at 100k photos here. If
 * that cannot run (another process has the library open, less than twice the file is free on its
 * disk, the disk fills up anyway), nothing is lost: SQLite rolls a failed VACUUM back, the library
 * stays as it was and the next open tries again.
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../workers/index.ts';
import { freeBytes } from './disk-full.ts';

export const PAGE_SIZE = 16384;

/** The page size written in a database file's header, or null when there is no such database yet. */
export function pageSizeOf(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return null;
    const size = header.readUInt16BE(16);
    return size === 1 ? 65536 : size; // the header writes 65,536 as 1
  } finally {
    closeSync(fd);
  }
}

/** The database file and its WAL. */
function fileBytes(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      // no WAL
    }
  }
  return n;
}

export interface PageSizeUpgrade {
  from: number;
  to: number;
  seconds: number;
}

/**
 * Rewrites the database at `path` with PAGE_SIZE pages (VACUUM), in this thread. It needs the
 * only connection to the file: WAL mode is left for the rewrite (SQLite cannot change the page size
 * of a WAL database) and put back after. Throws when it could not (busy, disk full); SQLite has then
 * left the database as it was.
 */
export function rewritePageSize(path: string, pageSize = PAGE_SIZE): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    // No busy wait: while another connection has the file open SQLite refuses to leave WAL
    // (SQLITE_BUSY), and the library is left for the next open.
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE');
    db.pragma(`page_size = ${pageSize}`);
    db.exec('VACUUM');
  } finally {
    try {
      db.pragma('journal_mode = WAL');
    } finally {
      db.close();
    }
  }
}

/**
 * Converts an existing library to PAGE_SIZE pages, once, in a worker thread (a VACUUM of a 1M-photo
 * library takes minutes and must not block the event loop). Null when there is nothing to do; a
 * failure is logged and the library is used as it is.
 */
export async function upgradePageSize(path: string, log: (message: string) => void = console.warn): Promise<PageSizeUpgrade | null> {
  const from = pageSizeOf(path);
  if (from === null || from >= PAGE_SIZE) return null;
  // VACUUM writes a temporary copy, then the file again through a journal: up to twice its size.
  // On a disk without that room it would work for minutes (at 1M photos) and fail at every open.
  const need = 2 * fileBytes(path);
  const free = await freeBytes(dirname(path));
  if (free !== null && free < need) {
    log(`The library keeps its ${from / 1024} KiB pages for now: rewriting it needs ${Math.ceil(need / 2 ** 20)} MiB free, the disk has ${Math.floor(free / 2 ** 20)} MiB.`);
    return null;
  }
  const started = performance.now();
  log(`Rewriting the library with ${PAGE_SIZE / 1024} KiB pages (once; photo vectors then read several times faster): ${path}`);
  const entry = workerEntry(import.meta.url, 'page-size-worker');
  const error = await new Promise<string | null>((resolve) => {
    const worker = new Worker(entry.file, { workerData: { script: entry.script, path, pageSize: PAGE_SIZE } });
    worker.once('message', (m: { error: string | null }) => resolve(m.error));
    worker.once('error', (err) => resolve(err.message));
    worker.once('exit', (code) => resolve(`the worker exited with ${code}`));
  });
  const seconds = (performance.now() - started) / 1000;
  if (error !== null) {
    log(`The library keeps its ${from / 1024} KiB pages for now (${error}); the next open tries again.`);
    return null;
  }
  log(`Library rewritten with ${PAGE_SIZE / 1024} KiB pages in ${seconds.toFixed(1)} s.`);
  return { from, to: PAGE_SIZE, seconds };
}
