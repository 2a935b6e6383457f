/**
 * `leanlens` — the command line over the same `App` the desktop shell uses.
 * Other tools are built against this interface: keep commands, flags and JSON shapes stable.
 * `--json` prints exactly one JSON document on stdout; everything else goes to stderr.
 */
import { parseArgs as parseFlags } from 'node:util';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApp, type App } from '../app/index.ts';
import { AppError, type IndexProgress, type ModelInfo, type SearchResult } from '../core/contract.ts';
import { defaultDataDir } from './data-dir.ts';
import { formatDate, parseDate, progressLine, table } from './format.ts';
import { LAB_USAGE, LabUsageError, labAppOptions, labCommand } from './lab.ts';

const USAGE = `Usage: leanlens [--data <dir>] <command> [options]

Library
  folders add <path>            add a photo folder (then run: leanlens index)
  folders remove <path>         forget a folder (your photos are never touched)
  folders list [--json]
  index [--watch] [--json]      bring the index up to date; --watch keeps watching until Ctrl-C
  status [--json]
  demo [--json]                 add the bundled ShapesWorld demo library, switch to its trained model, index it
Search
  search <text> [--limit N] [--min-score S] [--folder P] [--from DATE] [--to DATE] [--sort relevance|date] [--json]
  similar <path> [--limit N] [--json]   photos like a library photo or any image file
Models
  models list [--json]          the catalog and your models: size, licence, installed or not
  models use <id>
  models download <id> [--accept-license]   asks before a licence that needs acceptance
  models import <folder> [--variant quantized|fp16|fp32]   your own pair, an Immich model folder or a Hugging Face snapshot
  tokenize <text> [--json]      the 77 CLIP token ids
${LAB_USAGE}
Other
  serve [--port N] [--host H]   the app in your browser (headless server)
  bench                          run the benchmarks (same as npm run bench)

Data folder: --data <dir>, else $LEANLENS_DATA, else ${defaultDataDir()}`;

/** An error whose message already says what to do; printed without a stack. */
class UsageError extends Error {}

const FLAGS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  limit: { type: 'string' },
  'min-score': { type: 'string' },
  folder: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  sort: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // lab (see ./lab.ts)
  teacher: { type: 'string' },
  labelled: { type: 'string' },
  queries: { type: 'string' },
  iterations: { type: 'string' },
  fp16: { type: 'boolean' },
  int8: { type: 'boolean' },
  int4: { type: 'boolean' },
  dynamic: { type: 'boolean' },
  mixed: { type: 'boolean' },
  'budget-mb': { type: 'string' },
  rank: { type: 'string' },
  energy: { type: 'string' },
  'text-layers': { type: 'string' },
  id: { type: 'string' },
  csv: { type: 'boolean' },
  // models
  'accept-license': { type: 'boolean' },
  variant: { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseFlags<{ options: typeof FLAGS; allowPositionals: true }>>['values'];

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Asks a question on the terminal and returns the answer; absent when no one can answer (not a TTY). */
  ask?: (question: string) => Promise<string>;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  isTTY: Boolean(process.stderr.isTTY),
  ...(process.stdin.isTTY && process.stderr.isTTY ? { ask: askOnTerminal } : {}),
};

async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let flags: Flags;
  let words: string[];
  try {
    const parsed = parseFlags({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
    flags = parsed.values;
    words = parsed.positionals;
  } catch (err) {
    io.err(`leanlens: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help || words.length === 0) {
    (words.length === 0 && !flags.help ? io.err : io.out)(USAGE);
    return words.length === 0 && !flags.help ? 2 : 0;
  }

  const [command, ...rest] = words;
  // Commands that need no library.
  if (command === 'tokenize') return tokenizeCommand(rest, flags, io);
  if (command === 'bench') return benchCommand(io);

  const dataDir = resolve(flags.data ?? defaultDataDir());
  let app: App | null = null;
  try {
    if (command === 'serve') return await serveCommand(dataDir, flags, io);
    app = await createApp({ dataDir, ...(command === 'lab' ? labAppOptions() : {}) });
    switch (command) {
      case 'folders':
        return await foldersCommand(app, rest, flags, io);
      case 'index':
        return await indexCommand(app, flags, io);
      case 'status':
        return await statusCommand(app, flags, io);
      case 'demo':
        return await demoCommand(app, flags, io);
      case 'search':
        return await searchCommand(app, rest, flags, io);
      case 'similar':
        return await similarCommand(app, rest, flags, io);
      case 'models':
        return await modelsCommand(app, rest, flags, io);
      case 'lab':
        return await labCommand(app, rest, flags, io);
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    const message = err instanceof UsageError || err instanceof AppError ? err.message : (err as Error).message ?? String(err);
    io.err(`leanlens: ${message}`);
    if (process.env.LEANLENS_DEBUG && err instanceof Error) io.err(err.stack ?? '');
    return err instanceof UsageError || err instanceof LabUsageError ? 2 : 1;
  } finally {
    await app?.close();
  }
}

function need(words: string[], count: number, usage: string): string[] {
  if (words.length < count) throw new UsageError(`missing argument\nusage: leanlens ${usage}`);
  return words;
}

function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got "${value}"`);
  return n;
}

function print(io: CliIo, flags: Flags, json: unknown, text: () => string): number {
  if (flags.json) io.out(JSON.stringify(json, null, 2));
  else io.out(text());
  return 0;
}

async function foldersCommand(app: App, words: string[], flags: Flags, io: CliIo): Promise<number> {
  const [sub, path] = words;
  if (sub === 'list') {
    const folders = await app['folders.list']({});
    return print(io, flags, folders, () =>
      folders.length === 0
        ? 'No folders yet. Add one with: leanlens folders add <path>'
        : table([
            ['PATH', 'STATE', 'PHOTOS', 'INDEXED', 'FAILED'],
            ...folders.map((f) => [f.path, f.state, String(f.photoCount), String(f.indexedCount), String(f.failedCount)]),
          ]),
    );
  }
  if (sub === 'add') {
    need(words, 2, 'folders add <path>');
    const folder = await app['folders.add']({ path: resolve(path!) });
    return print(io, flags, folder, () => `Added ${folder.path} (${folder.photoCount} photos). Run "leanlens index" to index them.`);
  }
  if (sub === 'remove') {
    need(words, 2, 'folders remove <path>');
    const wanted = resolve(path!);
    const real = existsSync(wanted) ? realpathSync(wanted) : wanted;
    const folder = (await app['folders.list']({})).find((f) => f.path === wanted || f.path === real);
    if (!folder) throw new UsageError(`"${wanted}" is not a library folder; see: leanlens folders list`);
    await app['folders.remove']({ id: folder.id });
    return print(io, flags, { removed: folder.path }, () => `Removed ${folder.path} from the library (files untouched).`);
  }
  throw new UsageError('usage: leanlens folders add|remove|list');
}

async function indexCommand(app: App, flags: Flags, io: CliIo): Promise<number> {
  const showBar = io.isTTY && !flags.json;
  let last = 0;
  const onProgress = (p: IndexProgress) => {
    if (!showBar) return;
    const now = Date.now();
    if (now - last < 100 && p.done < p.total) return;
    last = now;
    process.stderr.write(`\r${progressLine(p)}\x1b[K`);
  };
  let status = await app.sync(onProgress);
  if (showBar) process.stderr.write('\n');
  if (flags.watch) {
    io.err(`Watching ${(await app['folders.list']({})).length} folder(s) for changes. Press Ctrl-C to stop.`);
    await app.startLive();
    const stopProgress = app.on('index.progress', onProgress);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    stopProgress();
    status = await app['index.status']({});
  }
  return print(io, flags, status, () => {
    const lines = [`${status.indexed} of ${status.files} photos indexed with ${status.model}, ${status.failed} failed.`];
    for (const e of status.errors.slice(0, 20)) lines.push(`  failed: ${e.path}: ${e.reason}`);
    if (status.errors.length > 20) lines.push(`  … and ${status.errors.length - 20} more (leanlens status --json lists all)`);
    return lines.join('\n');
  });
}

async function demoCommand(app: App, flags: Flags, io: CliIo): Promise<number> {
  const demo = await app['library.demo']({});
  const status = await app.sync();
  return print(io, flags, { ...demo, status }, () =>
    [
      `Added the demo library ${demo.folder.path}: ${status.indexed} of ${status.files} photos indexed with ${status.model}.`,
      demo.model ? '' : 'Its trained model is not installed, so the active model is used (results will mean little).',
      'Try:',
      ...demo.queries.map((q) => `  leanlens search "${q}"`),
    ].filter(Boolean).join('\n'),
  );
}

async function statusCommand(app: App, flags: Flags, io: CliIo): Promise<number> {
  const s = await app['index.status']({});
  return print(io, flags, s, () => {
    const exec = s.execution
      ? `${s.execution.provider} (${s.execution.threads} threads)${s.execution.fallbackReasons.length ? ` — fell back: ${s.execution.fallbackReasons.join('; ')}` : ''}`
      : 'not loaded yet';
    return [
      `Data folder: ${s.dataDir}`,
      `Model:       ${s.model ?? 'none'}  on ${exec}`,
      `Photos:      ${s.files} (${s.indexed} indexed, ${s.pending} pending, ${s.failed} failed)`,
      ...s.errors.slice(0, 20).map((e) => `  failed: ${e.path}: ${e.reason}`),
    ].join('\n');
  });
}

function hitsJson(result: SearchResult) {
  return result.hits.map((h) => ({
    path: h.photo.path,
    score: Number(h.score.toFixed(6)),
    id: h.photo.id,
    takenAt: h.photo.takenAt,
    width: h.photo.width,
    height: h.photo.height,
  }));
}

function hitsText(result: SearchResult): string {
  if (result.hits.length === 0) return 'No photos match. Try other words, or a lower --min-score.';
  return table(result.hits.map((h) => [h.score.toFixed(3), formatDate(h.photo.takenAt), h.photo.path]));
}

async function searchCommand(app: App, words: string[], flags: Flags, io: CliIo): Promise<number> {
  need(words, 1, 'search <text>');
  let folderId: number | undefined;
  if (flags.folder) {
    const wanted = resolve(flags.folder);
    const real = existsSync(wanted) ? realpathSync(wanted) : wanted;
    const folder = (await app['folders.list']({})).find((f) => f.path === wanted || f.path === real);
    if (!folder) throw new UsageError(`--folder "${flags.folder}" is not a library folder; see: leanlens folders list`);
    folderId = folder.id;
  }
  const minScore = flags['min-score'] === undefined ? undefined : Number(flags['min-score']);
  if (minScore !== undefined && !(minScore >= -1 && minScore <= 1)) throw new UsageError('--min-score must be a number between -1 and 1');
  if (flags.sort && flags.sort !== 'relevance' && flags.sort !== 'date') throw new UsageError('--sort must be relevance or date');
  let from: number | undefined;
  let to: number | undefined;
  try {
    from = flags.from ? parseDate(flags.from) : undefined;
    to = flags.to ? parseDate(flags.to, true) : undefined;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const result = await app['search.text']({
    text: words.join(' '),
    limit: intFlag(flags.limit, 'limit') ?? 20,
    minScore,
    folderId,
    from,
    to,
    sort: flags.sort as 'relevance' | 'date' | undefined,
  });
  return print(io, flags, hitsJson(result), () => hitsText(result));
}

async function similarCommand(app: App, words: string[], flags: Flags, io: CliIo): Promise<number> {
  need(words, 1, 'similar <path>');
  const path = resolve(words[0]!);
  if (!existsSync(path)) throw new UsageError(`no such file: ${path}`);
  const limit = intFlag(flags.limit, 'limit') ?? 20;
  const photoId = app.photoIdByPath(realpathSync(path));
  const result =
    photoId !== null
      ? await app['search.similar']({ photoId, limit })
      : await app['search.similar']({ imageBase64: readFileSync(path).toString('base64'), limit });
  return print(io, flags, hitsJson(result), () => hitsText(result));
}

async function modelsCommand(app: App, words: string[], flags: Flags, io: CliIo): Promise<number> {
  const [sub, arg] = words;
  if (sub === 'list') {
    const models = await app['models.list']({});
    return print(io, flags, models, () =>
      table([
        ['', 'ID', 'ROLE', 'DIM', 'SIZE', 'LICENCE', 'STATE'],
        ...models.map((m) => [
          m.active ? '*' : '',
          m.id,
          m.role,
          String(m.dim),
          `${(m.bytes / 1e6).toFixed(1)} MB`,
          `${m.licence ?? '-'}${m.requiresAcceptance ? ' (accept to download)' : ''}`,
          modelState(m),
        ]),
      ]),
    );
  }
  if (sub === 'use') {
    need(words, 2, 'models use <id>');
    const m = await app['models.use']({ id: arg! });
    return print(io, flags, m, () => `Now using ${m.id}. Run "leanlens index" to build its vectors for your library.`);
  }
  if (sub === 'download') {
    need(words, 2, 'models download <id> [--accept-license]');
    const acceptLicense = await licenceAccepted(app, arg!, flags, io);
    let last = 0;
    const off = app.on('models.download', (p) => {
      if (!io.isTTY || flags.json || Date.now() - last < 200) return;
      last = Date.now();
      const pct = p.total ? ` ${((100 * p.received) / p.total).toFixed(1)}%` : '';
      process.stderr.write(`\rDownloading ${p.modelId}: ${(p.received / 1e6).toFixed(1)} MB${pct}\x1b[K`);
    });
    try {
      const m = await app['models.download']({ id: arg!, ...(acceptLicense ? { acceptLicense } : {}) });
      if (io.isTTY && !flags.json) process.stderr.write('\n');
      return print(io, flags, m, () => `Downloaded and verified ${m.id}.`);
    } finally {
      off();
    }
  }
  if (sub === 'import') {
    need(words, 2, 'models import <folder> [--variant quantized|fp16|fp32]');
    const variant = flags.variant;
    if (variant !== undefined && variant !== 'quantized' && variant !== 'fp16' && variant !== 'fp32') {
      throw new UsageError(`--variant must be quantized, fp16 or fp32, got "${variant}"`);
    }
    const m = await app['models.import']({ path: resolve(arg!), ...(variant ? { variant } : {}) });
    return print(io, flags, m, () => `Imported ${m.id} (${m.dim}-d). Use it with: leanlens models use ${m.id}`);
  }
  throw new UsageError('usage: leanlens models list|use|download|import');
}

/**
 * The benchmarks live with the tests (test/bench) and generate what they measure; they run as
 * their own process, so the CLI never loads test code and a packaged app says where they are.
 */
async function benchCommand(io: CliIo): Promise<number> {
  const { BUNDLED_MODELS_DIR } = await import('../app/index.ts');
  const root = resolve(BUNDLED_MODELS_DIR, '..');
  const script = join(root, 'test', 'bench', 'run.ts');
  if (!existsSync(script)) {
    io.err('The benchmarks ship with the source checkout (test/bench); run `npm run bench` there.');
    return 2;
  }
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: 'inherit' });
  return r.status ?? 1;
}

/** A catalog model not downloaded yet is "available", not a problem: its files are missing by design. */
function modelState(m: ModelInfo): string {
  const notYet = m.downloadable && !m.installed && m.problems.every((p) => /file missing/.test(p));
  if (notYet) return 'available (leanlens models download)';
  if (m.problems.length) return `problem: ${m.problems.join('; ')}`;
  return m.installed ? 'installed' : m.downloadable ? 'available (leanlens models download)' : 'missing';
}

/**
 * Whether the user accepted the model's licence: --accept-license, else asked on a terminal. A
 * licence that needs acceptance is never accepted silently: without a terminal and without the
 * flag the download is refused, naming the licence and the flag.
 */
async function licenceAccepted(app: App, id: string, flags: Flags, io: CliIo): Promise<boolean> {
  const m = (await app['models.list']({})).find((x) => x.id === id);
  if (!m?.requiresAcceptance) return flags['accept-license'] === true; // unknown ids fail in the download itself
  if (flags['accept-license']) return true;
  const terms = `${m.id} is distributed under ${m.licence ?? 'its own licence'}${m.licenceUrl ? ` (${m.licenceUrl})` : ''}.`;
  if (!io.ask || flags.json) {
    throw new UsageError(`${terms} Read it, then run: leanlens models download ${m.id} --accept-license`);
  }
  const answer = await io.ask(`${terms}\nDo you accept its terms? [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError(`Not downloaded: the licence of ${m.id} was not accepted.`);
  return true;
}

async function tokenizeCommand(words: string[], flags: Flags, io: CliIo): Promise<number> {
  need(words, 1, 'tokenize <text>');
  const { loadTokenizer, BUNDLED_MODELS_DIR } = await import('../app/index.ts');
  const ids = loadTokenizer(BUNDLED_MODELS_DIR).encode(words.join(' '));
  return print(io, flags, ids, () => ids.join(' '));
}

async function serveCommand(dataDir: string, flags: Flags, io: CliIo): Promise<number> {
  const { startServer } = await import('../server/index.ts');
  const host = flags.host ?? '127.0.0.1';
  const port = flags.port === undefined ? 7117 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${flags.port}"`);
  const app = await createApp({ dataDir, live: true });
  const server = await startServer(app, { host, port });
  if (server.warning) io.err(`WARNING: ${server.warning}`);
  io.err(`LeanLens is running. Open this address in your browser:\n\n  ${server.url}\n\nData folder: ${dataDir}. Press Ctrl-C to stop.`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  await app.close();
  return 0;
}
