/**
 * One writer per data folder. Two processes writing one library (the desktop app and `leanlens
 * index`, or two CLIs) would encode the same photos twice, reset each other's folder states and
 * save the HNSW file over each other. The owner of a data folder holds an exclusive SQLite lock on
 * `<data>/leanlens.lock` for as long as it runs; everyone else is told who holds it.
 *
 * Why a SQLite lock and not a pid file: the kernel releases it when the process dies (also after
 * `kill -9` or a power cut), so a stale lock cannot exist and no pid is ever guessed dead or
 * alive. The pid, start time and command are written beside it (`leanlens.owner.json`) only to
 * describe the owner to the next process; the lock is the truth.
 */
import Database from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'leanlens.lock';
export const OWNER_FILE = 'leanlens.owner.json';

export interface OwnerInfo {
  pid: number;
  /** ms since epoch */
  startedAt: number;
  /** What the owner runs, e.g. "leanlens index" or "the desktop app". */
  command: string;
}

/** Another live process owns the data folder; the message says who and what to do. */
export class LibraryInUse extends Error {
  constructor(
    readonly owner: OwnerInfo | null,
    dataDir: string,
  ) {
    super(`${describeOwner(owner)} is using the library in ${dataDir}; only one program can change it at a time. ` +
      'Wait for it to finish or stop it, then try again (status, search and similar ask it directly while it answers).');
    // Entry points recognise it by name: they do not import services.
    this.name = 'LibraryInUse';
  }
}

export function describeOwner(owner: OwnerInfo | null): string {
  if (!owner) return 'Another LeanLens';
  const started = new Date(owner.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  return `LeanLens (${owner.command}, pid ${owner.pid}, started ${started} UTC)`;
}

export interface Ownership {
  readonly owner: OwnerInfo;
  /** The owner before this one, when it died without releasing the folder (crash, kill -9, power cut). */
  readonly crashed: OwnerInfo | null;
  release(): void;
}

/** The owner described in the folder, if one wrote its description (it may have died since: check with the lock). */
export function readOwner(dataDir: string): OwnerInfo | null {
  try {
    const o = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as OwnerInfo;
    return typeof o.pid === 'number' && typeof o.startedAt === 'number' && typeof o.command === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** How long a claim waits for the lock: long enough to outlast a `libraryHolder` look, short for a real owner. */
const CLAIM_WAIT_MS = 250;

/**
 * Who holds the data folder now, without taking it: `{owner}` (null when it left no description)
 * while a live process holds the lock, null when it is free. Reading the lock file needs a shared
 * lock, which the owner's exclusive lock refuses: the kernel's answer, not a guess from a pid.
 */
export function libraryHolder(dataDir: string): { owner: OwnerInfo | null } | null {
  const mine = held.get(dataDir);
  if (mine) return { owner: mine.ownership.owner };
  let db: Database.Database | null = null;
  try {
    db = new Database(join(dataDir, LOCK_FILE), { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') ? { owner: readOwner(dataDir) } : null;
  } finally {
    db?.close();
  }
}

/** In-process claims by folder: several App instances in one process share the process's lock. */
const held = new Map<string, { ownership: Ownership; count: number; db: Database.Database }>();

/**
 * Claims the data folder for this process, or throws `LibraryInUse`. Other errors (a read-only
 * folder) propagate: then no one can write there anyway.
 */
export function claimDataFolder(dataDir: string, command: string): Ownership {
  const existing = held.get(dataDir);
  if (existing) {
    existing.count++;
    return releaseOnce(dataDir, existing.ownership.owner, null);
  }
  // A moment's patience: `libraryHolder` in another process may be reading the lock just now.
  const db = new Database(join(dataDir, LOCK_FILE), { timeout: CLAIM_WAIT_MS });
  try {
    // EXCLUSIVE locking mode keeps the lock taken by the first write until the connection closes.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER, started_at INTEGER, command TEXT)');
    db.exec('BEGIN EXCLUSIVE; DELETE FROM owner; COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY') || (err as { code?: string }).code?.startsWith('SQLITE_LOCKED')) {
      throw new LibraryInUse(readOwner(dataDir), dataDir);
    }
    throw err;
  }
  // A description left behind means its writer never released the folder: it died.
  const crashed = readOwner(dataDir);
  const owner: OwnerInfo = { pid: process.pid, startedAt: Date.now(), command };
  const file = join(dataDir, OWNER_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(owner));
  renameSync(tmp, file);
  const ownership: Ownership = { owner, crashed, release: () => undefined };
  held.set(dataDir, { ownership, count: 1, db });
  return releaseOnce(dataDir, owner, crashed);
}

function releaseOnce(dataDir: string, owner: OwnerInfo, crashed: OwnerInfo | null): Ownership {
  let released = false;
  return {
    owner,
    crashed,
    release() {
      if (released) return;
      released = true;
      const entry = held.get(dataDir);
      if (!entry || --entry.count > 0) return;
      held.delete(dataDir);
      // The description first: once the lock is free a new owner may write its own.
      if (readOwner(dataDir)?.pid === process.pid) rmSync(join(dataDir, OWNER_FILE), { force: true });
      entry.db.close();
    },
  };
}
