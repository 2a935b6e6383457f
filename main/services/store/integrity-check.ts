/**
 * The integrity check after an unclean stop, when the database is too big to check at open
 * (quick_check reads every page: about a second per few hundred MB, ~12–20 s at 1M photos). The
 * owner opens such a database at once and checks it here, in a child process with its own
 * read-only connection, while searches go on; the app holds its writes until the check passed.
 *
 * Until a check passes, `<library.db>.unchecked` stays beside the database: a process that stops
 * before the check ends (a one-shot command, a second crash) leaves it, so the next owner checks.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { processEntry } from '../workers/index.ts';

const uncheckedMark = (dbPath: string) => `${dbPath}.unchecked`;

/** Whether a check is owed: it was left for later and has not passed since. */
export function isUnchecked(dbPath: string): boolean {
  return existsSync(uncheckedMark(dbPath));
}

export function markUnchecked(dbPath: string): void {
  writeFileSync(uncheckedMark(dbPath), `${new Date().toISOString()}\n`);
}

export function markChecked(dbPath: string): void {
  rmSync(uncheckedMark(dbPath), { force: true });
}

export interface BackgroundCheck {
  /** SQLite's problems, none when healthy (then the mark is removed). */
  readonly problems: Promise<string[]>;
  /** Stops the check at once (the mark stays: the next owner checks again). */
  stop(): void;
}

/** Runs quick_check on `dbPath` in a child process. */
export function checkInBackground(dbPath: string): BackgroundCheck {
  const entry = processEntry(import.meta.url, 'integrity-process');
  const child = spawn(process.execPath, [entry.script, ...entry.args, dbPath], {
    // In Electron's main process execPath is the Electron binary: this makes it run as Node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let stopped = false;
  const problems = new Promise<string[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (stopped) return reject(new Error('the database check was stopped'));
      let found: string[];
      try {
        found = JSON.parse(out) as string[];
      } catch {
        return reject(new Error(`the database check ended without an answer (${signal ?? `exit code ${code}`}): ${err.trim().slice(-500)}`));
      }
      if (!found.length) markChecked(dbPath);
      resolve(found);
    });
  });
  return {
    problems,
    stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
