/**
 * Damaged databases and the rolling backup. A disk error, a full disk at the wrong moment or a
 * sync tool copying a live file can leave `library.db` unreadable; LeanLens then says so at open
 * (never "unable to open" or a crash mid-search) and restores the newest good backup on
 * `leanlens repair`.
 *
 * Backups are SQLite online backups (`db.backup`, page by page, readers and the writer go on) of
 * a database that passed `quick_check`, written under a temporary name and renamed, so a backup is
 * whole and healthy or absent. They hold the vectors too (re-encoding a library takes hours), so
 * each is about the size of the database: only the newest `keep` are kept.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const BACKUP_DIR = 'backups';
const NAME = /^library-(\d+)\.db$/;

export interface BackupInfo {
  path: string;
  /** ms since epoch */
  at: number;
  bytes: number;
}

/** The database cannot be read as SQLite, or fails its integrity check. */
export class DamagedDatabase extends Error {
  constructor(
    readonly dbPath: string,
    readonly problems: string[],
  ) {
    const newest = listBackups(dbPath)[0];
    super(
      `The LeanLens database ${dbPath} is damaged (${summary(problems)}). ` +
        (newest
          ? `Run "leanlens repair" to restore the backup of ${when(newest.at)}; photos changed since then are scanned again.`
          : 'There is no backup yet: move the file aside to start a new library (your photos are untouched), then run leanlens index.'),
    );
    this.name = 'DamagedDatabase';
  }
}

/** SQLite's findings on one line: the first two, and how many more. */
function summary(problems: string[]): string {
  const lines = problems.flatMap((p) => p.split('\n')).map((l) => l.trim()).filter((l) => l && !/^\*\*\* in database/.test(l));
  return lines.slice(0, 2).join('; ') + (lines.length > 2 ? `; and ${lines.length - 2} more` : '');
}

export function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

/** SQLite's own codes for "this is not (any more) a database". */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/** `quick_check` (structure, O(pages)) or `integrity_check` (also indexes against tables): problems, none when healthy. */
export function checkIntegrity(db: Database.Database, thorough = false): string[] {
  const rows = db.pragma(thorough ? 'integrity_check(20)' : 'quick_check(20)') as Array<Record<string, string>>;
  const lines = rows.map((r) => Object.values(r)[0] ?? '');
  return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
}

/** Problems of the database file at `path` (opened read-only), none when healthy. */
export function checkDatabaseFile(path: string, thorough = true): string[] {
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return checkIntegrity(db, thorough);
  } catch (err) {
    return [(err as Error).message];
  } finally {
    db?.close();
  }
}

export function backupDir(dbPath: string): string {
  return join(dirname(dbPath), BACKUP_DIR);
}

/** Backups of this database, newest first. */
export function listBackups(dbPath: string): BackupInfo[] {
  const dir = backupDir(dbPath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: NAME.exec(n) }))
    .filter((x) => x.m)
    .map(({ n, m }) => ({ path: join(dir, n), at: Number(m![1]), bytes: statSync(join(dir, n)).size }))
    .sort((a, b) => b.at - a.at);
}

export interface BackupOptions {
  /** Backups kept, newest first. Default 2. */
  keep?: number;
  /** No new backup while the newest is younger than this. Default one day. */
  minAgeMs?: number;
  now?: number;
}

/**
 * Backs the open database up when the newest backup is old enough. Null when none was due.
 * Throws DamagedDatabase instead of backing up a database that fails its quick check (the good
 * backups stay).
 */
export async function backupDatabase(db: Database.Database, dbPath: string, opts: BackupOptions = {}): Promise<BackupInfo | null> {
  const now = opts.now ?? Date.now();
  const keep = Math.max(1, opts.keep ?? 2);
  const newest = listBackups(dbPath)[0];
  if (newest && now - newest.at < (opts.minAgeMs ?? 24 * 3600_000)) return null;
  const problems = checkIntegrity(db);
  if (problems.length) throw new DamagedDatabase(dbPath, problems);
  const dir = backupDir(dbPath);
  mkdirSync(dir, { recursive: true });
  const final = join(dir, `library-${now}.db`);
  const tmp = `${final}.tmp`;
  try {
    await db.backup(tmp);
    // A backup copies the WAL flag too; a plain rollback-journal file is one file, and reading it
    // (checks, restore) leaves no -wal/-shm beside it.
    const copy = new Database(tmp);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    renameSync(tmp, final);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  for (const old of listBackups(dbPath).slice(keep)) rmSync(old.path, { force: true });
  return { path: final, at: now, bytes: statSync(final).size };
}

export interface RestoreResult {
  restored: BackupInfo;
  /** Where the damaged database was moved (kept for the curious; never deleted). */
  movedAside: string | null;
}

/**
 * Puts the newest healthy backup in place of the database (closed: the caller owns the data
 * folder and has not opened it). The damaged file and its WAL are moved aside, not deleted.
 */
export function restoreNewestBackup(dbPath: string, now = Date.now()): RestoreResult | null {
  const good = listBackups(dbPath).find((b) => checkDatabaseFile(b.path, false).length === 0);
  if (!good) return null;
  let movedAside: string | null = null;
  if (existsSync(dbPath)) {
    movedAside = `${dbPath}.damaged-${now}`;
    renameSync(dbPath, movedAside);
  }
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(dbPath + suffix)) renameSync(dbPath + suffix, `${movedAside ?? `${dbPath}.damaged-${now}`}${suffix}`);
  }
  const tmp = `${dbPath}.restoring`;
  copyFileSync(good.path, tmp);
  renameSync(tmp, dbPath);
  return { restored: good, movedAside };
}
