/**
 * Which options and sub-commands each command takes, checked before anything is opened: a
 * mistyped command or option costs nothing and never creates a library in the data folder.
 */
import { UsageError } from './usage.ts';

/** Options every command takes. */
const GLOBAL = ['data', 'help'];

const LAB_OPTIONS = [
  'json', 'limit', 'teacher', 'labelled', 'queries', 'iterations', 'fp16', 'int8', 'int4', 'dynamic', 'mixed',
  'budget-mb', 'rank', 'energy', 'text-layers', 'id', 'csv',
];

const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  folders: ['json', 'ocr'],
  index: ['watch', 'json', 'no-ocr'],
  status: ['json'],
  demo: ['json'],
  search: ['limit', 'min-score', 'all', 'folder', 'from', 'to', 'sort', 'text-only', 'json'],
  similar: ['limit', 'json'],
  albums: ['limit', 'min-score', 'all', 'folder', 'from', 'to', 'sort', 'json'],
  duplicates: ['similarity', 'json'],
  models: ['json', 'accept-license', 'variant', 'now'],
  tokenize: ['json'],
  lab: LAB_OPTIONS,
  serve: ['port', 'host'],
  repair: ['json'],
  bench: [],
};

const SUBCOMMANDS: Record<string, readonly string[]> = {
  folders: ['add', 'remove', 'list', 'ocr', 'confirm', 'restore'],
  albums: ['list', 'show', 'save', 'rename', 'remove'],
  models: ['list', 'use', 'download', 'import', 'remove'],
  lab: ['variant', 'bench', 'compare', 'results', 'init-student'],
};

export const COMMANDS: ReadonlySet<string> = new Set(Object.keys(COMMAND_OPTIONS));

/** Throws a UsageError for an unknown command or sub-command, or an option the command does not take. */
export function checkCommandLine(command: string, rest: readonly string[], given: Record<string, unknown>): void {
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command "${command}"; see: leanlens --help`);
  const subs = SUBCOMMANDS[command];
  if (subs && !subs.includes(rest[0] ?? '')) {
    throw new UsageError(`${rest[0] ? `unknown: leanlens ${command} ${rest[0]}` : 'missing sub-command'}\nusage: leanlens ${command} ${subs.join('|')}`);
  }
  const wrong = Object.keys(given).filter((k) => given[k] !== undefined && !GLOBAL.includes(k) && !allowed.includes(k));
  if (wrong.length) {
    const takes = allowed.length ? `it takes ${allowed.map((o) => `--${o}`).join(', ')}` : 'it takes none';
    throw new UsageError(`leanlens ${command} has no option ${wrong.map((o) => `--${o}`).join(', ')} (${takes})`);
  }
}

/**
 * `--min-score -0.1` as `--min-score=-0.1`: node's parser takes a value starting with "-" for an
 * option and refuses it, although a negative number is the only sensible reading.
 */
export function joinNegativeNumbers(argv: readonly string[], valueOptions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && valueOptions.has(a.slice(2)) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}
