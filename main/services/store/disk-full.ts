/**
 * A full disk under the data folder (issue 15 §3). SQLite says SQLITE_FULL and rolls the
 * transaction back; Node says ENOSPC (or EDQUOT for a quota); hnswlib says nothing at all (see
 * ann/file-check.ts). Whoever meets one of these stops writing and says so with this one message,
 * and nothing committed before is lost: the photos not written stay pending.
 */
import { statfs } from 'node:fs/promises';

const CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CODES.has(code);
}

/** Thrown where a write was cut short without an error code of its own (hnswlib's index files). */
export class DiskFull extends Error {
  readonly code = 'ENOSPC';
  constructor(what: string) {
    super(`${what}: no space left on the disk (or a write error)`);
    this.name = 'DiskFull';
  }
}

/** What the user reads when indexing stopped on a full disk. */
export function diskFullMessage(dataDir: string, waiting: number): string {
  return (
    `The disk holding the LeanLens data folder ${dataDir} is full: indexing stopped with ` +
    `${waiting} ${waiting === 1 ? 'photo' : 'photos'} still waiting; nothing indexed so far was lost. ` +
    'Free some space, then run leanlens index again (a running app goes on by itself).'
  );
}

/** Bytes an unprivileged writer may still use on the disk holding `dir`; null when unknown. */
export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}
