/**
 * `leanlens repair`: checks the database thoroughly and, when it is damaged, puts the newest
 * healthy backup in its place (store/backup.ts). Works on a database that cannot be opened, so it
 * does not go through createApp; it owns the data folder while it works, like any writer.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkDatabaseFile, claimDataFolder, listBackups, markChecked, restoreNewestBackup } from '../services/store/index.ts';

export interface RepairResult {
  state: 'healthy' | 'restored' | 'no-backup';
  /** What the check found (empty when healthy). */
  problems: string[];
  /** Backups available before the repair, newest first (ms since epoch, bytes). */
  backups: { at: number; bytes: number }[];
  /** The backup put in place, when one was. */
  restoredFrom?: number;
  /** Where the damaged database was moved. */
  movedAside?: string | null;
}

export function repairLibrary(dataDir: string): RepairResult {
  const dbPath = join(dataDir, 'library.db');
  const ownership = claimDataFolder(dataDir, 'leanlens repair');
  try {
    const backups = listBackups(dbPath).map((b) => ({ at: b.at, bytes: b.bytes }));
    const problems = existsSync(dbPath) ? checkDatabaseFile(dbPath, true) : ['the database file is missing'];
    if (!problems.length) {
      // integrity_check is the thorough form of the check an unclean stop leaves owed.
      markChecked(dbPath);
      return { state: 'healthy', problems, backups };
    }
    const restored = restoreNewestBackup(dbPath);
    if (!restored) return { state: 'no-backup', problems, backups };
    // Backups are made of checked databases only: nothing is owed for the one put in place.
    markChecked(dbPath);
    // The HNSW files hold the damaged database's vectors: the next open rebuilds them from the restored one.
    rmSync(join(dataDir, 'index'), { recursive: true, force: true });
    return { state: 'restored', problems, backups, restoredFrom: restored.restored.at, movedAside: restored.movedAside };
  } finally {
    ownership.release();
  }
}
