/**
 * Composes the services into one `App` that implements the contract. The CLI, the headless
 * server and the Electron main process all start here, so they behave the same. This file only
 * builds the dependencies and joins the call groups; each group is the table of contents of its
 * area:
 *   library-calls  folders, indexing progress, status        search-calls  text and similar
 *   photo-calls    one photo and its files                   model-calls   models and settings
 *   demo-calls     the demo library                          lab-calls     the model lab
 *   album-calls    smart albums (saved searches)
 *   duplicate-calls  near-identical photos
 * The model in use (encoder + index + indexer) is the `ActiveModel`.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { EventName, Events, Settings } from '../core/contract.ts';
import type { ClipTokenizer } from '../core/tokenizer.ts';
import { AppError } from '../core/contract.ts';
import { ALWAYS_CHECK_BYTES, backupDatabase, claimDataFolder, diskFullMessage, isDiskFull, isUnchecked, LibraryInUse, openStore, upgradePageSize } from '../services/store/index.ts';
import { mkdirSync } from 'node:fs';
import { ModelRegistry, loadTokenizer } from '../services/models/index.ts';
import { Library } from '../services/library/index.ts';
import { ActiveModel } from './active-model.ts';
import { albumCalls } from './album-calls.ts';
import type { AppContext } from './context.ts';
import { DatabaseCheck } from './database-check.ts';
import { demoCalls } from './demo-calls.ts';
import { duplicateCalls } from './duplicate-calls.ts';
import { labCalls } from './lab-calls.ts';
import { libraryCalls, status } from './library-calls.ts';
import { modelCalls } from './model-calls.ts';
import { BUNDLED_MODELS_DIR } from './models-dir.ts';
import { photoCalls } from './photo-calls.ts';
import { searchCalls } from './search-calls.ts';
import { foldersWithOcr, textCalls } from './text-calls.ts';
import { TextPass } from './text-pass.ts';
import type { App, AppOptions } from './types.ts';


const DEFAULT_SETTINGS: Settings = {
  threads: Math.max(1, availableParallelism()),
  useGpu: true,
  thumbnailSize: 256,
  theme: 'system',
  ocr: true,
  showScores: false,
  showTestModels: false,
};

/**
 * Null when the folder cannot be written at all (read-only, not a folder): opening the database
 * then fails with the message that says why.
 */
function claimOwnership(dataDir: string, command: string) {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch {
    return null;
  }
  try {
    return claimDataFolder(dataDir, command);
  } catch (err) {
    if (err instanceof LibraryInUse) throw err;
    return null;
  }
}

export async function createApp(options: AppOptions): Promise<App> {
  const { dataDir } = options;
  const modelsDir = options.modelsDir ?? BUNDLED_MODELS_DIR;
  const live = options.live ?? false;

  // One writer per data folder (see store/owner.ts): claimed before the database is opened, so a
  // second process never resets the folder states or the queue of the one that owns the library.
  const ownership = claimOwnership(dataDir, options.command ?? 'LeanLens');
  let store: ReturnType<typeof openStore>;
  try {
    // An older library is rewritten with larger pages once, off the event loop (store/page-size.ts):
    // the owner is the only writer, and nothing in this process has the file open yet. Not after a
    // crash, nor while a check from an earlier crash is still owed: a database that may be damaged
    // is not rewritten.
    const dbPath = join(dataDir, 'library.db');
    if (ownership && ownership.crashed == null && !isUnchecked(dbPath)) await upgradePageSize(dbPath);
    // After a crash the database gets SQLite's quick check even when it is big (see openStore):
    // at open up to the size checked at every open anyway (milliseconds to about a second), in
    // the background above it (database-check.ts), so a big library opens and searches at once.
    store = openStore(dbPath, {
      check: ownership?.crashed != null,
      checkLaterAbove: options.checkAtOpenBytes ?? ALWAYS_CHECK_BYTES,
    });
  } catch (err) {
    ownership?.release();
    throw err;
  }
  const check = new DatabaseCheck(store);
  const registry = ModelRegistry.open({ bundledDir: modelsDir, userDir: join(dataDir, 'models'), extraManifests: options.extraManifests });
  const library = new Library({ store, ignore: [dataDir] });
  const emitter = new EventEmitter();
  const emit = <E extends EventName>(event: E, payload: Events[E]) => void emitter.emit(event, payload);

  let settings: Settings = { ...DEFAULT_SETTINGS, ...store.getSetting<Partial<Settings>>('settings', {}) };
  const model = new ActiveModel({
    store,
    registry,
    dataDir,
    live,
    settings: () => settings,
    onProgress: (p) => {
      emit('index.progress', p);
      // Embedding done: the OCR pass reads what it embedded (live only; `sync` runs it itself).
      if (live && p.state === 'idle' && !check.pending) text.start();
    },
    mayWrite: () => check.passed(),
    onIndexed: (ids) => {
      emit('library.changed', { added: ids, changed: [], removed: [] });
      emit('folders.changed', foldersWithOcr(ctx));
    },
    onSwitching: (s) => emit('models.switching', s),
    onSwitched: () => emit('models.changed', ctx.models()),
    launcher: options.encoderLauncher,
    // Status carries restarts and the last crash; the progress event makes every UI look again.
    onCrash: (crash) => {
      console.warn(`The encoder for ${crash.modelId} crashed (${crash.reason}); ${crash.gaveUp ? 'not restarting it for now' : 'restarting it'}.`);
      emit('index.progress', model.progress());
    },
  });
  const text = new TextPass({
    store,
    library,
    settings: () => settings,
    embedding: () => model.progress().state === 'running',
    onProgress: (p) => emit('text.progress', p),
    onRead: (ids) => emit('library.changed', { added: [], changed: ids, removed: [] }),
  });
  let tokenizer: ClipTokenizer | null = null;
  const ctx: AppContext = {
    dataDir,
    modelsDir,
    live,
    store,
    registry,
    // Read on first use (the vocabulary takes a noticeable part of a second to load): `status`
    // and the other calls that encode no text never pay for it.
    get tokenizer() {
      return (tokenizer ??= loadTokenizer(modelsDir));
    },
    library,
    model,
    text,
    check,
    settings: () => settings,
    emit,
    models: () => registry.list().map((m) => ({ ...m, active: m.id === model.id })),
    shell: options.shell,
  };

  library.on('changed', (changes) => {
    model.libraryChanged(changes);
    if (changes.removed.length || changes.moved.length) {
      emit('library.changed', { added: [], changed: changes.moved, removed: changes.removed });
    }
    emit('folders.changed', foldersWithOcr(ctx));
  });
  library.on('folders', () => emit('folders.changed', foldersWithOcr(ctx)));

  const lab = labCalls(ctx);
  const models = modelCalls(ctx, (patch) => {
    settings = { ...settings, ...patch };
    store.setSetting('settings', settings);
    // OCR switched back on: the running app reads what it missed.
    if (patch.ocr && live) text.start();
  });
  // The demo and the library call each other (adding the demo adds a folder; removing its folder
  // switches back), so the library's calls reach the demo through this late-bound hook.
  let demo: ReturnType<typeof demoCalls> | null = null;
  const libraryApi = libraryCalls(ctx, (id) => demo?.folderRemoved(id) ?? Promise.resolve());
  demo = demoCalls(ctx, { 'models.use': models['models.use'], 'folders.add': libraryApi['folders.add'] });

  // The rolling backup (store/backup.ts): after indexing sessions, and hourly while live; at most
  // one a day. A failed backup is reported and leaves the older ones in place.
  const backupIfDue = async () => {
    try {
      await backupDatabase(store.db, store.path, { keep: options.backupsKept });
    } catch (err) {
      console.warn(`LeanLens could not back up its database: ${(err as Error).message}`);
    }
  };
  const backupTimer = live ? setInterval(() => void backupIfDue(), 3600_000) : null;
  backupTimer?.unref();
  // Albums run their searches through their own search calls: an album counted is not a query the
  // user typed, so the lab does not remember it.
  const albums = albumCalls(ctx, searchCalls(ctx, () => undefined));
  emitter.on('library.changed', () => albums.changed('library'));
  emitter.on('folders.changed', () => albums.changed('library'));
  emitter.on('models.changed', () => albums.changed('model'));

  let closed = false;
  const app: App = {
    ...libraryApi,
    ...demo.calls,
    ...searchCalls(ctx, lab.searched),
    ...photoCalls(ctx),
    ...textCalls(ctx),
    ...models,
    ...lab.calls,
    ...albums.calls,
    ...duplicateCalls(ctx),
    dataDir,
    on(event, listener) {
      emitter.on(event, listener as (p: unknown) => void);
      return () => emitter.off(event, listener as (p: unknown) => void);
    },
    async sync(onProgress, options = {}) {
      const off = onProgress ? app.on('index.progress', onProgress) : () => undefined;
      try {
        // Nothing is written before the check owed after a crash passed (it throws the damage).
        await check.passed();
        await library.reconcile();
        const s = await model.loaded();
        s.indexer.resume();
        s.indexer.start();
        await s.indexer.whenIdle();
        // Stopped by a full disk (or another cause no photo is to blame for): say so and what to do.
        const stopped = s.indexer.progress().stopped;
        if (stopped) throw new AppError('failed', stopped);
        await s.index.save();
        // A switch of model waiting for its indexing is carried out now, then the new model is in use.
        await model.finishSwitch(onProgress);
      } catch (err) {
        if (isDiskFull(err)) throw new AppError('failed', diskFullMessage(dataDir, status(ctx).pending));
        throw err;
      } finally {
        off();
      }
      // Text in photos is read after embedding, as its own pass.
      if (options.ocr !== false) await text.run(options.onTextProgress);
      await backupIfDue();
      return status(ctx);
    },
    async startLive() {
      if (check.pending) {
        // Searchable already; the indexer opens now and waits for the check (it reports damage
        // where indexing is shown: status, the Library view); the watcher and the scan write too.
        const checked = check.passed();
        (await model.loaded()).indexer.start();
        await checked;
      }
      // Watch first, then scan: a change after the watcher is ready is reported by it, one before
      // is seen by the scan. The other way round, a photo added, renamed or deleted between the
      // scan and the watcher being ready was missed until the next start (found by the soak after
      // each kill -9 and restart: chokidar takes what it finds while starting as already known).
      await library.watch();
      await library.reconcile();
      (await model.loaded()).indexer.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      check.close();
      if (backupTimer) clearInterval(backupTimer);
      albums.close();
      await lab.close();
      await text.close();
      await library.unwatch();
      await model.close();
      store.close();
      ownership?.release();
    },
  };

  if (live) {
    const started = app.startLive();
    // With a check owed the app is returned at once (searchable); what the check finds is in
    // status and the indexer's `stopped`, so nothing else is to be done with the failure here.
    if (check.pending) started.catch((err: Error) => console.warn(`LeanLens: the library is not watched or indexed: ${err.message}`));
    else await started;
  }
  return app;
}
