/**
 * The background integrity check's own process (see integrity-check.ts): SQLite's quick_check on
 * its own read-only connection, the problems printed as one JSON line on stdout. A process, not a
 * worker thread, so that it can be stopped at once: a worker's terminate() and the process's exit
 * both wait for a native call in progress, which is the whole check (seconds per GB).
 */
import { checkDatabaseFile } from './backup.ts';

const path = process.argv[process.argv.length - 1]!;
process.stdout.write(JSON.stringify(checkDatabaseFile(path, false)) + '\n');
