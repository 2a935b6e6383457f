/**
 * `leanlens` — the command line over the same `App` the desktop shell uses.
 * Other tools are built against this interface: keep commands, flags and JSON shapes stable.
 * `--json` prints exactly one JSON document on stdout; everything else goes to stderr.
 */
import { parseArgs as parseFlags } from 'node:util';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
// Types only, and small modules: the app, the server and the lab load inside the commands that
// use them, so `--help`, usage errors and `tokenize` start in a fraction of a second, and
// `status`/`search` can ask an already-running app before loading anything heavy.
import type { App } from '../app/index.ts';
import type { Api, Folder, IndexProgress, ModelInfo, Status, TextStatus } from '../core/contract.ts';
import { findRunningApp, NotAnswering, RemoteError, type AppConnection } from '../server/local-socket-client.ts';
import { defaultDataDir } from './data-dir.ts';
import { albumsCommand, albumsRequest, ALBUM_CALLS, type AlbumsRequest } from './albums.ts';
import { count, formatDate, printable, progressLine, table } from './format.ts';
import { bytes } from '../core/units.ts';
import { checkCommandLine, joinNegativeNumbers } from './options.ts';
import { findFolder, folderIdOf, hitsJson, hitsText, searchRequest, type SearchRequest } from './search-request.ts';
import { intFlag, need, USAGE, UsageError } from './usage.ts';

const FLAGS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  limit: { type: 'string' },
  'min-score': { type: 'string' },
  all: { type: 'boolean' },
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
  now: { type: 'boolean' },
  // text in photos (OCR)
  ocr: { type: 'boolean' },
  'no-ocr': { type: 'boolean' },
  'text-only': { type: 'boolean' },
  // duplicates
  similarity: { type: 'string' },
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

/**
 * `leanlens search circles -red`: after `search`, a word with one leading dash is a negative term
 * of the query, not an unknown short option (a string option's value, as in --min-score -0.1, stays one).
 */
function searchNegatives(argv: string[]): { args: string[]; negatives: string[] } {
  const args: string[] = [];
  const negatives: string[] = [];
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const option = a.startsWith('--') ? FLAGS[a.slice(2) as keyof typeof FLAGS] : undefined;
    if (option?.type === 'string' && i + 1 < argv.length) {
      args.push(a, argv[++i]!);
    } else if (command === 'search' && /^-[^-]/.test(a) && a !== '-h') {
      negatives.push(a);
    } else {
      if (command === undefined && !a.startsWith('-')) command = a;
      args.push(a);
    }
  }
  return { args, negatives };
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  let flags: Flags;
  let words: string[];
  try {
    const valueOptions = new Set(Object.entries(FLAGS).filter(([, o]) => o.type === 'string').map(([k]) => k));
    const { args, negatives } = searchNegatives(joinNegativeNumbers(argv, valueOptions));
    const parsed = parseFlags({ args, options: FLAGS, allowPositionals: true, strict: true });
    flags = parsed.values;
    words = [...parsed.positionals, ...negatives];
  } catch (err) {
    io.err(`leanlens: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help || words.length === 0) {
    (words.length === 0 && !flags.help ? io.err : io.out)(USAGE);
    return words.length === 0 && !flags.help ? 2 : 0;
  }

  const [command, ...rest] = words;
  try {
    checkCommandLine(command!, rest, flags);
  } catch (err) {
    io.err(`leanlens: ${(err as Error).message}`);
    return 2;
  }
  // Commands that need no library.
  if (command === 'tokenize') return tokenizeCommand(rest, flags, io);
  if (command === 'bench') return benchCommand(io);

  const dataDir = resolve(flags.data ?? defaultDataDir());
  let app: App | null = null;
  try {
    if (command === 'serve') return await serveCommand(dataDir, flags, io);
    if (command === 'repair') return await repairCommand(dataDir, flags, io);
    const read = ASKS_RUNNING_APP.has(command!) ? readRequest(command!, rest, flags) : null;
    if (read && !process.env.LEANLENS_STANDALONE) {
      const answered = await askRunningApp(dataDir, (calls) => readCommand(read, calls, flags, io), io);
      if (answered !== null) return answered;
    }
    const lab = command === 'lab' ? await import('./lab.ts') : null;
    const { createApp } = await import('../app/index.ts');
    app = await createApp({ dataDir, command: `leanlens ${command}`, ...(lab ? lab.labAppOptions() : {}) });
    if (read) return await readCommand(read, app, flags, io);
    switch (command) {
      case 'index':
        return await indexCommand(app, flags, io);
      case 'demo':
        return await demoCommand(app, flags, io);
      case 'models':
        return await modelsCommand(app, rest, flags, io);
      case 'lab':
        return await lab!.labCommand(app, rest, flags, io);
      case 'duplicates':
        return await duplicatesCommand(app, flags, io);
      default:
        throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    io.err(`leanlens: ${(err as Error)?.message ?? String(err)}`);
    if (process.env.LEANLENS_DEBUG && err instanceof Error) io.err(err.stack ?? '');
    return err instanceof UsageError ? 2 : 1;
  } finally {
    await app?.close();
  }
}

/**
 * Commands the app already running on the data folder answers (it owns the library: a second
 * process must not open it, see store/owner.ts); without one, this process opens the library.
 * Albums go there too: saved there, an album shows up at once in that app's sidebar.
 */
const ASKS_RUNNING_APP: ReadonlySet<string> = new Set(['status', 'search', 'similar', 'folders', 'albums']);

const FOLDER_CALLS = ['folders.list', 'folders.add', 'folders.remove', 'folders.setOcr', 'folders.confirmDeletions', 'folders.restoreDeletions'] as const;
const FORWARDED_CALLS = ['index.status', 'search.text', 'search.similar', ...FOLDER_CALLS, ...ALBUM_CALLS] as const;

/** What those commands call: the app itself, or the running app through the local socket. */
type ReadCalls = Pick<Api, (typeof FORWARDED_CALLS)[number]> & {
  photoIdByPath(path: string): number | null | Promise<number | null>;
};

type ReadRequest =
  | { command: 'status' }
  | { command: 'search'; search: SearchRequest }
  | { command: 'similar'; similar: SimilarRequest }
  | { command: 'folders'; words: string[] }
  | { command: 'albums'; albums: AlbumsRequest };

function readRequest(command: string, rest: string[], flags: Flags): ReadRequest {
  if (command === 'search') return { command, search: searchRequest(rest, flags) };
  if (command === 'similar') return { command, similar: similarRequest(rest, flags) };
  if (command === 'folders') return { command, words: rest };
  if (command === 'albums') return { command, albums: albumsRequest(rest, flags) };
  return { command: 'status' };
}

function readCommand(request: ReadRequest, calls: ReadCalls, flags: Flags, io: CliIo): Promise<number> {
  if (request.command === 'search') return searchCommand(calls, request.search, flags, io);
  if (request.command === 'similar') return similarCommand(calls, request.similar, flags, io);
  if (request.command === 'folders') return foldersCommand(calls, request.words, flags, io);
  if (request.command === 'albums') return albumsCommand(calls, request.albums, (out) => print(io, flags, out.json, out.text));
  return statusCommand(calls, flags, io);
}

/**
 * Runs a read command against the app running on this data folder, if one answers. Null: none
 * answered (or it must not be trusted, or it went away mid-call), so the caller opens the library
 * itself. Errors the app returns for the call are the command's errors.
 */
async function askRunningApp(dataDir: string, run: (calls: ReadCalls) => Promise<number>, io: CliIo): Promise<number | null> {
  const found = await findRunningApp(dataDir);
  if (found.kind === 'refused') {
    await refuseWhileOwned(dataDir, found.reason);
    io.err(`leanlens: not asking the running app: ${found.reason}. Its owner is gone: opening the library here instead.`);
    return null;
  }
  if (found.kind === 'none') return null;
  const conn: AppConnection = found.app;
  const calls = {
    ...Object.fromEntries(FORWARDED_CALLS.map((name) => [name, (a: unknown) => conn.call(name, a)])),
    photoIdByPath: (path: string) => conn.call<number | null>('photoIdByPath', { path }),
  } as ReadCalls;
  try {
    const code = await run(calls);
    io.err(`(answered by the running LeanLens, pid ${conn.pid})`);
    return code;
  } catch (err) {
    if (err instanceof NotAnswering) {
      await refuseWhileOwned(dataDir, `stopped answering (${err.message})`);
      io.err(`leanlens: the running app stopped answering (${err.message}) and is gone; opening the library here instead.`);
      return null;
    }
    if (err instanceof RemoteError) throw new Error(err.message);
    throw err;
  } finally {
    conn.close();
  }
}

/**
 * The running app could not be asked. While a live process holds the library (its lock, not a
 * pid, says so) this process must not open it: say who holds it instead of trying (and being
 * refused by the lock with a second, different message).
 */
async function refuseWhileOwned(dataDir: string, why: string): Promise<void> {
  const { libraryHolderDescription } = await import('../app/index.ts');
  const holder = await libraryHolderDescription(dataDir);
  if (holder) {
    throw new Error(`${holder} has the library in ${dataDir} open, but could not be asked (${why}). ` +
      'Only one program can open the library at a time, so this command does not open it itself: try again in a moment (a busy app answers late), or stop that program.');
  }
}

function print(io: CliIo, flags: Flags, json: unknown, text: () => string): number {
  if (flags.json) io.out(JSON.stringify(json, null, 2));
  else io.out(text());
  return 0;
}

async function foldersCommand(app: Pick<Api, (typeof FOLDER_CALLS)[number]>, words: string[], flags: Flags, io: CliIo): Promise<number> {
  const [sub, path] = words;
  if (sub === 'list') {
    const folders = await app['folders.list']({});
    return print(io, flags, folders, () =>
      folders.length === 0
        ? 'No folders yet. Add one with: leanlens folders add <path>'
        : [
            table([
              ['PATH', 'STATE', 'PHOTOS', 'INDEXED', 'FAILED', 'OCR'],
              ...folders.map((f) => [
                printable(f.path),
                f.state,
                String(f.photoCount),
                String(f.indexedCount),
                String(f.failedCount),
                f.ocr ? 'on' : 'off',
              ]),
            ]),
            ...attention(folders),
          ].join('\n'),
    );
  }
  if (sub === 'add') {
    need(words, 2, 'folders add <path> [--ocr]');
    const folder = await app['folders.add']({ path: resolve(path!), ...(flags.ocr ? { ocr: true } : {}) });
    const ocr = folder.ocr ? ' Text in its photos will be read (OCR).' : '';
    return print(io, flags, folder, () => `Added ${printable(folder.path)} (${count(folder.photoCount, 'photo')}).${ocr} Run "leanlens index" to index them.`);
  }
  if (sub === 'ocr') {
    const on = words[2];
    if (words.length < 3 || (on !== 'on' && on !== 'off')) throw new UsageError('usage: leanlens folders ocr <path> on|off');
    const folder = await app['folders.setOcr']({ id: (await folderByPath(app, path!)).id, on: on === 'on' });
    return print(io, flags, folder, () => `Reading text (OCR) in ${printable(folder.path)}: ${folder.ocr ? 'on. Run "leanlens index" to read it.' : 'off.'}`);
  }
  if (sub === 'remove') {
    need(words, 2, 'folders remove <path>');
    const folder = await folderByPath(app, path!);
    await app['folders.remove']({ id: folder.id });
    return print(io, flags, { removed: folder.path }, () => `Removed ${printable(folder.path)} from the library (files untouched).`);
  }
  if (sub === 'confirm') {
    need(words, 2, 'folders confirm <path>');
    const folder = await folderByPath(app, path!);
    await app['folders.confirmDeletions']({ id: folder.id });
    const after = await folderByPath(app, folder.path);
    return print(io, flags, after, () =>
      folder.heldDeletions
        ? `Removed ${count(folder.heldDeletions, 'missing photo')} of ${printable(folder.path)} from the library (files untouched).`
        : `Nothing was held in ${printable(folder.path)}.`,
    );
  }
  if (sub === 'restore') {
    need(words, 2, 'folders restore <path>');
    const folder = await folderByPath(app, path!);
    const after = await app['folders.restoreDeletions']({ id: folder.id });
    const back = Math.max(0, folder.heldDeletions - after.heldDeletions);
    return print(io, flags, after, () =>
      [
        `${count(back, 'photo')} of ${printable(after.path)} found again and kept as indexed.`,
        after.state === 'offline'
          ? `The folder is not reachable: plug its drive in, then run this again.`
          : after.heldDeletions
            ? `${count(after.heldDeletions, 'photo')} still missing: put them back and run this again, or remove them from the library with: leanlens folders confirm ${quoteArg(after.path)}`
            : '',
      ].filter(Boolean).join('\n'),
    );
  }
  throw new UsageError('usage: leanlens folders add|remove|list|ocr|confirm|restore');
}

async function folderByPath(app: Pick<Api, 'folders.list'>, path: string): Promise<Folder> {
  const folder = await findFolder(app, path);
  if (!folder) throw new UsageError(`"${resolve(path)}" is not a library folder; see: leanlens folders list`);
  return folder;
}

/** A path as a shell argument the user can paste. */
function quoteArg(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Folders that need the user: held deletions and offline drives, each with what to do. */
function attention(folders: Folder[]): string[] {
  const lines: string[] = [];
  for (const f of folders) {
    const p = quoteArg(printable(f.path));
    if (f.heldDeletions > 0) {
      lines.push(
        `Held:        ${printable(f.path)}: ${count(f.heldDeletions, 'photo')} vanished at once and are kept until you decide.` +
          `\n             Deleted on purpose: leanlens folders confirm ${p}    Put back: leanlens folders restore ${p}`,
      );
    }
    if (f.state === 'offline') {
      lines.push(`Offline:     ${printable(f.path)} is not reachable (drive unplugged?); its ${count(f.photoCount, 'photo')} are kept. Reconnect it and run: leanlens index`);
    }
  }
  return lines;
}

/** What `status --json` and `index --json` add to the status: the folders that need the user. */
function attentionJson(folders: Folder[]) {
  return folders
    .filter((f) => f.heldDeletions > 0 || f.state === 'offline')
    .map((f) => ({
      path: f.path,
      state: f.state,
      photos: f.photoCount,
      held: f.heldDeletions,
      action: f.state === 'offline' ? 'reconnect the drive, then: leanlens index' : `leanlens folders confirm|restore ${quoteArg(f.path)}`,
    }));
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
  // Ctrl-C while indexing stops at once (every written batch is committed, the next run goes on);
  // while watching it ends the watch. Either way the socket files go with the process.
  let reading = false;
  const onTextProgress = (p: IndexProgress) => {
    if (showBar && !reading) process.stderr.write('\nReading text in photos (OCR)\n');
    reading = true;
    onProgress(p);
  };
  let syncing = true;
  let local: { close(): Promise<void> } | null = null;
  let stopRequested = false;
  let stopWatching = () => undefined as void;
  const onSignal = () => {
    if (!syncing) {
      stopRequested = true;
      return stopWatching();
    }
    void (local?.close() ?? Promise.resolve()).then(() => {
      io.err('\nStopped. Run leanlens index again to go on where it stopped.');
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // While this process indexes, `status`, `search` and `folders` from other processes ask it.
    local = await answerLocally(app, io);
    let status = await app.sync(onProgress, { ocr: !flags['no-ocr'], onTextProgress });
    syncing = false;
    if (showBar) process.stderr.write('\n');
    if (flags.watch) {
      io.err(`Watching ${count((await app['folders.list']({})).length, 'folder')} for changes. Press Ctrl-C to stop.`);
      await app.startLive();
      const stopProgress = app.on('index.progress', onProgress);
      await new Promise<void>((done) => (stopRequested ? done() : (stopWatching = done)));
      stopProgress();
      status = await app['index.status']({});
    }
    return await printIndexed(app, status, flags, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await local?.close();
  }
}

async function printIndexed(app: App, status: Status, flags: Flags, io: CliIo): Promise<number> {
  const folders = await app['folders.list']({});
  return print(io, flags, { ...status, attention: attentionJson(folders) }, () => {
    const lines = [`${status.indexed} of ${count(status.files, 'photo')} indexed with ${status.model}, ${status.failed} failed.`];
    for (const e of status.errors.slice(0, 20)) lines.push(`  failed: ${printable(e.path)}: ${e.reason}`);
    if (status.text) lines.push(textLine(status.text));
    if (status.errors.length > 20) lines.push(`  … and ${status.errors.length - 20} more (leanlens status --json lists all)`);
    if (folders.length === 0) lines.push('No folders yet. Add one with: leanlens folders add <path>');
    return [...lines, ...attention(folders)].join('\n');
  });
}

/** "Text (OCR):  12 photos read, 5 with text, 3 pending, 0 failed". */
function textLine(t: TextStatus): string {
  const off = t.enabled ? '' : ' — OCR is off in the settings';
  return `Text (OCR):  ${t.read} photos read, ${t.withText} with text, ${t.pending} pending, ${t.failed} failed${off}`;
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

async function statusCommand(app: ReadCalls, flags: Flags, io: CliIo): Promise<number> {
  const s = await app['index.status']({});
  const folders = await app['folders.list']({});
  return print(io, flags, { ...s, attention: attentionJson(folders) }, () => {
    const exec = s.execution
      ? `${s.execution.provider} (${s.execution.threads} threads)${s.execution.fallbackReasons.length ? ` — fell back: ${s.execution.fallbackReasons.join('; ')}` : ''}`
      : 'not loaded yet';
    const restarts = s.execution?.restarts
      ? [`Encoder:     crashed and was restarted ${s.execution.restarts}×${s.execution.lastCrash ? ` (last: ${s.execution.lastCrash.reason})` : ''}`]
      : [];
    const switching = s.switching
      ? [`Switching:   to ${s.switching.to}, ${s.switching.progress.done} of ${s.switching.progress.total} photos indexed; search uses ${s.switching.from} until then (run: leanlens index)`]
      : [];
    const testModel =
      s.testModel && s.files > 0
        ? [`Note:        ${s.model} is a test model and cannot understand real photos. For real search: leanlens models download clip-vit-b32 && leanlens models use clip-vit-b32`]
        : [];
    return [
      `Data folder: ${s.dataDir}`,
      ...(s.databaseCheck ? [`Database:    ${s.databaseCheck}`] : []),
      `Model:       ${s.model ?? 'none'}  on ${exec}`,
      ...restarts,
      ...switching,
      ...testModel,
      `Folders:     ${folders.length}${folders.length ? '' : ' (add one with: leanlens folders add <path>)'}`,
      `Photos:      ${s.files} (${s.indexed} indexed, ${s.pending} pending${s.pending ? ': run leanlens index' : ''}, ${s.failed} failed)`,
      ...(s.text ? [textLine(s.text)] : []),
      ...(s.progress.stopped ? [`Stopped:     ${s.progress.stopped}`] : []),
      ...attention(folders),
      ...s.errors.slice(0, 20).map((e) => `  failed: ${printable(e.path)}: ${e.reason}`),
    ].join('\n');
  });
}

/**
 * Why nothing can be searched (no folders, nothing indexed yet), or null. Said instead of "No
 * photos match", which would send the user looking for other words.
 */
async function nothingToSearch(app: ReadCalls): Promise<string | null> {
  const s = await app['index.status']({});
  if (s.indexed > 0) return null;
  const folders = await app['folders.list']({});
  if (folders.length === 0) return 'the library has no folders yet; add one with: leanlens folders add <path>, then run: leanlens index';
  if (s.pending > 0) return `${count(s.pending, 'photo')} ${s.pending === 1 ? 'is' : 'are'} waiting to be indexed; run: leanlens index`;
  if (folders.every((f) => f.state === 'offline')) return 'every library folder is offline; reconnect its drive and run: leanlens index';
  return s.files === 0 ? 'the library folders hold no photos yet' : 'no photo could be indexed; see: leanlens status';
}

interface SimilarRequest {
  path: string;
  limit: number;
}

function similarRequest(words: string[], flags: Flags): SimilarRequest {
  need(words, 1, 'similar <path>');
  const path = resolve(words[0]!);
  if (!existsSync(path)) throw new UsageError(`no such file: ${path}`);
  return { path: realpathSync(path), limit: intFlag(flags.limit, 'limit') ?? 20 };
}

async function searchCommand(app: ReadCalls, request: SearchRequest, flags: Flags, io: CliIo): Promise<number> {
  const folderId = await folderIdOf(app, request.folder);
  const missing = await nothingToSearch(app);
  if (missing) throw new Error(`nothing to search: ${missing}`);
  const result = await app['search.text']({ ...request.args, folderId });
  const waiting = (await app['index.status']({})).pending;
  if (waiting > 0 && !flags.json) io.err(`(${count(waiting, 'photo')} not indexed yet: run leanlens index to search them too)`);
  return print(io, flags, hitsJson(result), () => hitsText(result));
}

async function similarCommand(app: ReadCalls, { path, limit }: SimilarRequest, flags: Flags, io: CliIo): Promise<number> {
  const photoId = await app.photoIdByPath(path);
  const missing = await nothingToSearch(app);
  if (missing) throw new Error(`nothing to search: ${missing}`);
  const result =
    photoId !== null
      ? await app['search.similar']({ photoId, limit })
      : await app['search.similar']({ imageBase64: readFileSync(path).toString('base64'), limit });
  return print(io, flags, hitsJson(result), () => hitsText(result));
}

/**
 * Groups of near-identical photos over what is indexed. It lists them and never deletes or moves
 * anything: --json gives the list to act on.
 */
async function duplicatesCommand(app: App, flags: Flags, io: CliIo): Promise<number> {
  const similarity = flags.similarity === undefined ? undefined : Number(flags.similarity);
  if (similarity !== undefined && !(similarity >= 0.5 && similarity <= 1)) throw new UsageError('--similarity must be a number between 0.5 and 1');
  const showProgress = io.isTTY && !flags.json;
  const off = app.on('duplicates.progress', (p) => {
    if (showProgress && p.stage !== 'done' && p.total > 0) process.stderr.write(`\r${p.stage}: ${progressLine({ state: 'running', done: p.done, total: p.total, failed: 0, rate: p.rate, etaSeconds: p.etaSeconds, current: null })}\x1b[K`);
  });
  let result;
  try {
    result = await app['duplicates.find']({ ...(similarity !== undefined ? { similarity } : {}) });
  } finally {
    off();
    if (showProgress) process.stderr.write('\r\x1b[K');
  }
  const { duplicatesJson } = await import('../app/index.ts');
  return print(io, flags, duplicatesJson(result), () => {
    if (result.photos === 0) return 'No indexed photos yet. Add a folder and run: leanlens index';
    const lines = [
      `${count(result.groups.length, 'group')} of near-identical photos among ${result.photos} indexed photos (similarity ≥ ${result.similarity}).`,
      'LeanLens deletes nothing: review the groups, then act on them yourself (--json lists them).',
    ];
    result.groups.forEach((g, i) => {
      lines.push('', `Group ${i + 1} (${g.photos.length} photos)`);
      lines.push(
        table(
          g.photos.map((m) => [
            m.similarity.toFixed(3),
            bytes(m.photo.size ?? 0),
            m.photo.width && m.photo.height ? `${m.photo.width}×${m.photo.height}` : '?',
            formatDate(m.photo.takenAt),
            m.photo.path,
          ]),
        ),
      );
    });
    for (const u of result.unreadable.slice(0, 20)) lines.push(`  not readable: ${u.path}: ${u.reason}`);
    return lines.join('\n');
  });
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
    need(words, 2, 'models use <id> [--now]');
    const m = await app['models.use']({ id: arg!, ...(flags.now ? { now: true } : {}) });
    return print(io, flags, m, () =>
      m.active
        ? `Now using ${m.id} for search.${flags.now ? ' Run "leanlens index" to build its vectors for your library.' : ''}`
        : `Using ${m.id} for search once it has indexed your library ("leanlens index", or the running app does it); search keeps using the current model until then. --now uses it at once.`,
    );
  }
  if (sub === 'remove') {
    need(words, 2, 'models remove <id>');
    const models = await app['models.remove']({ id: arg! });
    return print(io, flags, models, () => `Removed ${arg} and its vectors.`);
  }
  if (sub === 'download') {
    need(words, 2, 'models download <id> [--accept-license]');
    const acceptLicense = await licenceAccepted(app, arg!, flags, io);
    let last = 0;
    let start: { at: number; received: number } | null = null;
    const off = app.on('models.download', (p) => {
      start ??= { at: Date.now(), received: p.received };
      if (!io.isTTY || flags.json || Date.now() - last < 200) return;
      last = Date.now();
      const pct = p.total ? ` ${((100 * p.received) / p.total).toFixed(1)}%` : '';
      const seconds = (Date.now() - start.at) / 1000;
      const rate = seconds > 1 ? (p.received - start.received) / seconds : 0;
      const pace = rate > 0 ? `, ${(rate / 1e6).toFixed(1)} MB/s${p.total ? `, ${Math.ceil((p.total - p.received) / rate)} s left` : ''}` : '';
      process.stderr.write(`\rDownloading ${p.modelId}: ${(p.received / 1e6).toFixed(1)} MB${pct}${pace} (Ctrl-C stops; run again to resume)\x1b[K`);
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

/**
 * While this process keeps the app open (serve, index --watch), other `leanlens` commands on the
 * same data folder ask it over the local socket. Not being able to answer is not an error.
 */
async function answerLocally(app: App, io: CliIo): Promise<{ close(): Promise<void> } | null> {
  const { startLocalSocket } = await import('../server/local-socket.ts');
  try {
    const started = await startLocalSocket(app);
    if (started.ok) return started.socket;
    io.err(`Note: other leanlens commands will not ask this process: ${started.reason}.`);
  } catch (err) {
    io.err(`Note: could not open the local socket (${(err as Error).message}); other leanlens commands will load the library themselves.`);
  }
  return null;
}

/** Checks the database (it may be too damaged to open) and restores the newest healthy backup. */
async function repairCommand(dataDir: string, flags: Flags, io: CliIo): Promise<number> {
  const { repairLibrary } = await import('../app/index.ts');
  if (!existsSync(join(dataDir, 'library.db')) && !existsSync(join(dataDir, 'backups'))) {
    throw new UsageError(`there is no library in ${dataDir}`);
  }
  const r = await repairLibrary(dataDir);
  const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  const newest = r.backups[0];
  print(io, flags, r, () => {
    if (r.state === 'healthy') {
      return `The database passed its integrity check; nothing to repair. ${newest ? `Newest backup: ${at(newest.at)}.` : 'No backup yet (one is made after indexing).'}`;
    }
    const found = `The database is damaged: ${r.problems.slice(0, 3).join('; ')}.`;
    if (r.state === 'no-backup') return `${found}\nThere is no healthy backup to restore. Move ${join(dataDir, 'library.db')} aside to start a new library (your photos are untouched).`;
    return [
      found,
      `Restored the backup of ${at(r.restoredFrom!)}.${r.movedAside ? ` The damaged file was kept as ${r.movedAside}.` : ''}`,
      'Run leanlens index: photos changed since the backup are scanned again, and the search index is rebuilt.',
    ].join('\n');
  });
  return r.state === 'no-backup' ? 1 : 0;
}

async function serveCommand(dataDir: string, flags: Flags, io: CliIo): Promise<number> {
  const { startServer } = await import('../server/index.ts');
  const { createApp } = await import('../app/index.ts');
  const host = flags.host ?? '127.0.0.1';
  const port = flags.port === undefined ? 7117 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${flags.port}"`);
  const app = await createApp({ dataDir, live: true, command: 'leanlens serve' });
  const server = await startServer(app, { host, port });
  const local = await answerLocally(app, io);
  if (server.warning) io.err(`WARNING: ${server.warning}`);
  io.err(`LeanLens is running. Open this address in your browser:\n\n  ${server.url}\n\nData folder: ${dataDir}. Press Ctrl-C to stop.`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await local?.close();
  await server.close();
  await app.close();
  return 0;
}
