/**
 * store — the SQLite database, LeanLens's source of truth.
 *
 * Owns the connection, its pragmas (WAL, foreign keys) and the numbered migrations in
 * `migrations/`. Services keep their own queries next to their logic and reach the database
 * through `Store.db`; the schema in the migrations is their shared contract.
 * Must never: touch the user's photos, or hold a transaction open across an `await`.
 */
import Database from 'better-sqlite3';
import type { PhotoStatus } from '../../core/contract.ts';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { checkIntegrity, DamagedDatabase, isCorruption } from './backup.ts';
import { PAGE_SIZE } from './page-size.ts';
import { isUnchecked, markChecked, markUnchecked } from './integrity-check.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** One row of the `photos` table (migrations/001_initial.sql) as better-sqlite3 returns it. */
export interface PhotoRecord {
  id: number;
  folder_id: number;
  path: string;
  size: number;
  mtime_ms: number;
  /** Inode change time and inode number (migrations/009): NULL until first seen after the upgrade. */
  ctime_ms: number | null;
  inode: number | null;
  hash: string | null;
  width: number | null;
  height: number | null;
  taken_at: number | null;
  /** Where `taken_at` came from (migration 007); null until indexed. */
  taken_at_source: 'exif' | 'file' | null;
  camera: string | null;
  format: string | null;
  status: PhotoStatus;
  error: string | null;
  missing_since: number | null;
  updated_at: number;
}

export interface Store {
  readonly db: Database.Database;
  readonly path: string;
  /**
   * A check is owed and was left for later (see `OpenOptions.checkLaterAbove`): the owner runs
   * `checkInBackground` and holds its writes until it passes.
   */
  readonly unchecked: boolean;
  /** Runs `fn` in one transaction (IMMEDIATE, so writers never deadlock on upgrade). */
  transaction<T>(fn: () => T): T;
  getSetting<T>(key: string, fallback: T): T;
  setSetting(key: string, value: unknown): void;
  close(): void;
}

export interface OpenOptions {
  readonly?: boolean;
  /**
   * The previous owner died without closing (crash, kill -9, power cut): the database needs
   * SQLite's quick_check whatever its size. It reads every page (about a second per few hundred
   * MB), so a big library that was closed cleanly skips it; small ones are checked at every open;
   * a file that is not a database at all is caught either way. A check left for later and not
   * passed since (integrity-check.ts) is owed too.
   */
  check?: boolean;
  /**
   * An owed check of a database bigger than this is not run at open but left for
   * `checkInBackground` (`Store.unchecked`). Without it, every owed check runs at open.
   */
  checkLaterAbove?: number;
}

/** Databases up to this size are checked at every open: the check costs milliseconds there. */
export const ALWAYS_CHECK_BYTES = 64 * 1024 * 1024;

export function openStore(path: string, options: OpenOptions = {}): Store {
  if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database | null = null;
  let unchecked = false;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    // A new library gets 16 KiB pages (page-size.ts: a photo's vector then fits in its page); it
    // must be said before the first table is written and before WAL. An existing file ignores it.
    if (!options.readonly) db.pragma(`page_size = ${PAGE_SIZE}`);
    if (!options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const owed = options.check || isUnchecked(path);
    const size = sizeOf(path);
    if (owed && options.checkLaterAbove !== undefined && size > options.checkLaterAbove && !options.readonly) {
      markUnchecked(path);
      unchecked = true;
    } else if (owed || size <= ALWAYS_CHECK_BYTES) {
      const problems = checkIntegrity(db);
      if (problems.length) throw new DamagedDatabase(path, problems);
      if (owed && !options.readonly) markChecked(path);
    }
    if (!options.readonly) migrate(db);
  } catch (err) {
    if (err instanceof DamagedDatabase || isCorruption(err)) {
      db?.close();
      throw err instanceof DamagedDatabase ? err : new DamagedDatabase(path, [(err as Error).message]);
    }
    // SQLite alone says only "unable to open database file" for a read-only data folder: name the
    // file and the reason, and say what to do. (Patched by the bench/fault-tests owner.)
    db?.close();
    throw new Error(`Cannot open the LeanLens database ${path}: ${whyNotWritable(dirname(path)) ?? (err as Error).message}. ` +
      'Make the data folder writable, or choose another one with --data or LEANLENS_DATA.', { cause: err });
  }

  const getSetting = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const setSetting = db.prepare('INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  return {
    db,
    path,
    unchecked,
    transaction: (fn) => db.transaction(fn).immediate(),
    getSetting<T>(key: string, fallback: T): T {
      const row = getSetting.get(key);
      return row ? (JSON.parse(row.value) as T) : fallback;
    },
    setSetting(key, value) {
      setSetting.run(key, JSON.stringify(value));
    },
    close: () => db.close(),
  };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Why the folder cannot be written to (e.g. 'read-only file system (EROFS)'), or null when it can. */
function whyNotWritable(dir: string): string | null {
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'EROFS' ? 'it is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : 'it cannot be written';
    return `the data folder ${dir} is not writable: ${what} (${code})`;
  }
}

/** Applies `migrations/NNN_name.sql` files above the database's `user_version`, each in one transaction. */
function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const files = readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_.+\.sql$/.test(f))
    .sort();
  for (const file of files) {
    const version = Number(file.slice(0, 3));
    if (version <= current) continue;
    const sql = readFileSync(join(migrationsDir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}

export { PAGE_SIZE, pageSizeOf, rewritePageSize, upgradePageSize, type PageSizeUpgrade } from './page-size.ts';
export { checkInBackground, isUnchecked, markChecked, type BackgroundCheck } from './integrity-check.ts';
export { DiskFull, diskFullMessage, freeBytes, isDiskFull } from './disk-full.ts';
export { claimDataFolder, describeOwner, LibraryInUse, libraryHolder, readOwner, type OwnerInfo, type Ownership } from './owner.ts';
export {
  backupDatabase,
  checkDatabaseFile,
  DamagedDatabase,
  listBackups,
  restoreNewestBackup,
  when,
  type BackupInfo,
  type BackupOptions,
  type RestoreResult,
} from './backup.ts';
