/**
 * Composes the services into one `App` that implements the contract. The CLI, the headless
 * server and the Electron main process all start here, so they behave the same.
 */
import { EventEmitter } from 'node:events';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, extname, join, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import {
  AppError,
  type EventName,
  type Events,
  type ExecutionInfo,
  type FailedPhoto,
  type IndexProgress,
  type ModelInfo,
  type Photo,
  type SearchResult,
  type Settings,
  type Status,
} from './core/contract.ts';
import type { App, AppOptions, PhotoFile } from './app-types.ts';
import type { ClipTokenizer } from './core/tokenizer.ts';
import { openStore, type Store } from './services/store/index.ts';
import { ModelRegistry, loadTokenizer } from './services/models/index.ts';
import { openEncoder, type Encoder } from './services/encoder/index.ts';
import { VectorIndex } from './services/ann/index.ts';
import { Library, type LibraryChanges } from './services/library/index.ts';
import { Indexer } from './services/indexer/index.ts';
import { searchByVector, photoVector, rowToPhoto } from './services/search/index.ts';
import { makeThumbnail, preparePhotoBuffer } from './services/media/index.ts';
import { createLabCalls } from './lab/app-calls.ts';
import { rememberQuery } from './lab/index.ts';
import { readDemo } from './services/demo.ts';

export type { App, AppOptions } from './app-types.ts';

/** The repo's (or the packaged app's) `models/` folder. */
export const BUNDLED_MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');

/** Used when the user has not chosen a model: hand-built, shipped, and good at colours only. */
export const FALLBACK_MODEL = 'color-oracle';

const DEFAULT_SETTINGS: Settings = {
  threads: Math.max(1, availableParallelism()),
  useGpu: true,
  thumbnailSize: 256,
  theme: 'system',
};

const CONTENT_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp',
  '.avif': 'image/avif', '.gif': 'image/gif', '.tif': 'image/tiff', '.tiff': 'image/tiff',
  '.heic': 'image/heic', '.heif': 'image/heif',
};

/** Set while the demo library is in the library: its folder, and the model active before it. */
interface DemoState {
  folderId: number;
  modelBefore: string;
}

/** Everything tied to one active model; rebuilt when the user switches models. */
interface ModelSession {
  modelId: string;
  encoder: Encoder;
  index: VectorIndex;
  indexer: Indexer;
}

export async function createApp(options: AppOptions): Promise<App> {
  const dataDir = options.dataDir;
  const modelsDir = options.modelsDir ?? BUNDLED_MODELS_DIR;
  const live = options.live ?? false;

  const store: Store = openStore(join(dataDir, 'library.db'));
  const registry = ModelRegistry.open({
    bundledDir: modelsDir,
    userDir: join(dataDir, 'models'),
    extraManifests: options.extraManifests,
  });
  const tokenizer: ClipTokenizer = loadTokenizer(modelsDir);
  const library = new Library({ store, ignore: [dataDir] });
  const emitter = new EventEmitter();
  const emit = <E extends EventName>(event: E, payload: Events[E]) => emitter.emit(event, payload);

  let settings: Settings = { ...DEFAULT_SETTINGS, ...store.getSetting<Partial<Settings>>('settings', {}) };
  let session: ModelSession | null = null;
  let opening: Promise<ModelSession> | null = null;
  let closed = false;

  function activeModelId(): string {
    const chosen = store.getSetting<string | null>('activeModel', null);
    if (chosen && registry.entry(chosen)) return chosen;
    return FALLBACK_MODEL;
  }

  /** Opens the active model's encoder, index and indexer once, on first need. */
  function ensureSession(): Promise<ModelSession> {
    if (session) return Promise.resolve(session);
    opening ??= (async () => {
      const modelId = activeModelId();
      const model = registry.resolve(modelId);
      const encoder = await openEncoder(model, {
        threads: settings.threads,
        providers: settings.useGpu ? 'auto' : ['cpu'],
      });
      const index = await VectorIndex.open({ store, dir: join(dataDir, 'index'), modelId, dim: model.dim });
      const indexer = new Indexer({ store, encoder, index, modelId, preprocess: model.preprocess });
      indexer.on('progress', (p: IndexProgress) => emit('index.progress', p));
      indexer.on('indexed', (ids: number[]) => {
        emit('library.changed', { added: ids, changed: [], removed: [] });
        emit('folders.changed', library.listFolders());
      });
      session = { modelId, encoder, index, indexer };
      opening = null;
      return session;
    })().catch((err) => {
      opening = null;
      throw err;
    });
    return opening;
  }

  /**
   * The session with its image tower loaded: a broken model fails here, before any photo is
   * touched, and the execution provider actually used is known (and remembered for `status`).
   */
  async function loadedSession(): Promise<ModelSession> {
    const s = await ensureSession();
    await s.encoder.load('image');
    store.setSetting('lastExecution', s.encoder.info());
    return s;
  }

  async function closeSession(): Promise<void> {
    const s = session;
    session = null;
    if (!s) return;
    await s.indexer.stop();
    await s.index.close();
    await s.encoder.close();
  }

  library.on('changed', (changes: LibraryChanges) => {
    if (session) {
      for (const id of changes.removed) session.index.remove(id);
      // Changed content must not keep its old vector in the ANN until re-encoded.
      for (const id of changes.changed) session.index.remove(id);
      session.indexer.wake();
    }
    if (changes.removed.length || changes.moved.length) {
      emit('library.changed', { added: [], changed: changes.moved, removed: changes.removed });
    }
    emit('folders.changed', library.listFolders());
  });
  library.on('folders', (folders) => emit('folders.changed', folders));

  const idleProgress = (): IndexProgress => ({ state: 'idle', done: 0, total: 0, failed: 0, rate: 0, etaSeconds: null, current: null });

  function getPhotoRow(id: number): Photo {
    const row = store.db.prepare('SELECT * FROM photos WHERE id = ?').get(id);
    if (!row) throw new AppError('not-found', `no photo with id ${id} in the library`);
    return rowToPhoto(row);
  }

  /** Resolves a photo id to its real path, refusing anything outside its library folder. */
  function libraryPath(id: number): string {
    const row = store.db
      .prepare<[number], { path: string; folder: string }>(
        'SELECT p.path AS path, f.path AS folder FROM photos p JOIN folders f ON f.id = p.folder_id WHERE p.id = ?',
      )
      .get(id);
    if (!row) throw new AppError('not-found', `no photo with id ${id} in the library`);
    let real: string;
    let folder: string;
    try {
      real = realpathSync(row.path);
      folder = realpathSync(row.folder);
    } catch {
      throw new AppError('not-found', `the photo file is missing: ${row.path}`);
    }
    const rel = relative(folder, real);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new AppError('not-found', `the photo resolves outside its library folder: ${row.path}`);
    }
    return real;
  }

  function modelInfos(): ModelInfo[] {
    const active = activeModelId();
    return registry.list().map((m) => ({ ...m, active: m.id === active }));
  }

  function status(): Status {
    const counts = store.db
      .prepare<[], { files: number; indexed: number; pending: number; failed: number }>(
        `SELECT count(*) AS files,
                coalesce(sum(status = 'indexed'), 0) AS indexed,
                coalesce(sum(status = 'pending'), 0) AS pending,
                coalesce(sum(status = 'failed'), 0) AS failed
         FROM photos`,
      )
      .get()!;
    // The provider is only known once a session ran; between runs report the last one used.
    const live = session?.encoder.info();
    const execution: ExecutionInfo | null =
      live && live.provider !== 'not loaded' ? live : store.getSetting<ExecutionInfo | null>('lastExecution', null);
    return {
      ...counts,
      errors: library.failures().map((f: FailedPhoto) => ({ path: f.path, reason: f.reason })),
      model: session?.modelId ?? activeModelId(),
      execution,
      progress: session ? session.indexer.progress() : idleProgress(),
      dataDir,
    };
  }

  async function embedText(text: string): Promise<{ s: ModelSession; vector: Float32Array }> {
    const s = await ensureSession();
    const [vector] = await s.encoder.encodeTexts([tokenizer.encode(text)]);
    return { s, vector: vector! };
  }

  // The model lab's calls (issue 5); it reuses the active session's index for the active model.
  const lab = createLabCalls({
    store,
    registry,
    tokenizer,
    modelsDir,
    indexDir: join(dataDir, 'index'),
    settings: () => settings,
    activeSession: (id) => (session && session.modelId === id ? { index: session.index, indexer: session.indexer } : null),
    models: modelInfos,
    emitProgress: (p) => emit('lab.progress', p),
    modelsChanged: () => emit('models.changed', modelInfos()),
  });

  const app: App = {
    ...lab.calls,
    dataDir,
    on(event, listener) {
      emitter.on(event, listener as (p: unknown) => void);
      return () => emitter.off(event, listener as (p: unknown) => void);
    },

    async 'folders.list'() {
      return library.listFolders();
    },
    async 'folders.add'({ path }) {
      // addFolder scans the new folder itself; its 'changed' events wake the indexer.
      const folder = await library.addFolder(path);
      if (live) {
        (await loadedSession()).indexer.start();
        await library.watch();
      }
      return library.listFolders().find((f) => f.id === folder.id) ?? folder;
    },
    async 'library.demo'() {
      const demo = readDemo(modelsDir);
      // The demo's model understands ShapesWorld; switch to it unless it is missing or broken.
      const model = registry.entry(demo.model) && registry.verify(demo.model).length === 0 ? demo.model : null;
      const before = activeModelId();
      if (model && model !== before) await app['models.use']({ id: model });
      const folder = await app['folders.add']({ path: demo.photos });
      // Remembered so that removing the demo puts back the model the user's own photos were using.
      if (!store.getSetting<DemoState | null>('demo', null)) store.setSetting('demo', { folderId: folder.id, modelBefore: before } satisfies DemoState);
      return { folder, model, queries: demo.queries };
    },
    async 'library.demoInfo'() {
      let demo;
      try {
        demo = readDemo(modelsDir);
      } catch {
        return null; // not installed: the UI simply offers no demo
      }
      const student = registry.list().find((m) => m.lineage?.parent === demo.model && m.lineage.transform === 'distill')?.id ?? null;
      return { photos: demo.photos, labelled: demo.labelled, model: demo.model, student, queries: demo.queries };
    },
    async 'folders.remove'({ id }) {
      const ids = store.db.prepare<[number], { id: number }>('SELECT id FROM photos WHERE folder_id = ?').all(id).map((r) => r.id);
      library.removeFolder(id);
      if (session) for (const pid of ids) session.index.remove(pid);
      emit('library.changed', { added: [], changed: [], removed: ids });
      const demo = store.getSetting<DemoState | null>('demo', null);
      if (demo?.folderId === id) {
        store.setSetting('demo', null);
        if (demo.modelBefore !== activeModelId() && registry.entry(demo.modelBefore)) await app['models.use']({ id: demo.modelBefore });
      }
    },
    async 'folders.confirmDeletions'({ id }) {
      library.confirmDeletions(id);
    },

    async 'index.status'() {
      return status();
    },
    async 'index.pause'() {
      const s = await ensureSession();
      s.indexer.pause();
      return s.indexer.progress();
    },
    async 'index.resume'() {
      const s = await ensureSession();
      s.indexer.resume();
      return s.indexer.progress();
    },
    async 'index.failures'() {
      return library.failures();
    },

    async 'search.text'(args) {
      const { s, vector } = await embedText(args.text);
      rememberQuery(store, args.text);
      return searchByVector({ store, index: s.index, modelId: s.modelId }, vector, args);
    },
    async 'search.similar'(args): Promise<SearchResult> {
      const s = await ensureSession();
      let vector: Float32Array | null;
      const excludeIds: number[] = [];
      if (args.photoId !== undefined) {
        getPhotoRow(args.photoId);
        vector = photoVector(store, args.photoId, s.modelId);
        if (!vector) throw new AppError('failed', 'this photo is not indexed yet; try again when indexing has finished');
        excludeIds.push(args.photoId);
      } else {
        const prepared = await preparePhotoBuffer(Buffer.from(args.imageBase64!, 'base64'), s.encoder.model.preprocess).catch((err: Error) => {
          throw new AppError('invalid-argument', `the dropped file is not a readable image: ${err.message}`);
        });
        [vector] = await s.encoder.encodeImages(prepared.pixels, 1);
      }
      return searchByVector({ store, index: s.index, modelId: s.modelId }, vector!, { ...args, excludeIds });
    },

    async 'photos.get'({ id }) {
      return getPhotoRow(id);
    },
    async 'photos.open'({ id }) {
      if (!options.shell) throw new AppError('unsupported', 'opening files works in the desktop app; in the browser use the original link');
      await options.shell.openPath(libraryPath(id));
    },
    async 'photos.showInFolder'({ id }) {
      if (!options.shell) throw new AppError('unsupported', 'showing files in their folder works in the desktop app only');
      options.shell.showItemInFolder(libraryPath(id));
    },

    async 'models.list'() {
      return modelInfos();
    },
    async 'models.use'({ id }) {
      const problems = registry.verify(id);
      if (problems.length) throw new AppError('failed', `model "${id}" cannot be used: ${problems.join('; ')}`);
      store.setSetting('activeModel', id);
      await closeSession();
      if (live) (await loadedSession()).indexer.start();
      else await ensureSession();
      emit('models.changed', modelInfos());
      return modelInfos().find((m) => m.id === id)!;
    },
    async 'models.download'({ id }) {
      const info = await registry.download(id, { onProgress: (p) => emit('models.download', p) });
      emit('models.changed', modelInfos());
      return { ...info, active: info.id === activeModelId() };
    },
    async 'models.import'({ path }) {
      const info = await registry.importFolder(path);
      emit('models.changed', modelInfos());
      return { ...info, active: info.id === activeModelId() };
    },

    async 'settings.get'() {
      return settings;
    },
    async 'settings.set'(patch) {
      settings = { ...settings, ...patch };
      store.setSetting('settings', settings);
      return settings;
    },

    async photoFile(id, kind): Promise<PhotoFile> {
      const original = libraryPath(id);
      if (kind === 'original') {
        return { path: original, contentType: CONTENT_TYPES[extname(original).toLowerCase()] ?? 'application/octet-stream' };
      }
      const photo = getPhotoRow(id);
      const thumb = join(dataDir, 'thumbnails', `${id}-${settings.thumbnailSize}-${Math.round(photo.mtimeMs)}.jpg`);
      if (!existsSync(thumb)) await makeThumbnail(original, thumb, settings.thumbnailSize);
      return { path: thumb, contentType: 'image/jpeg' };
    },

    photoIdByPath(path) {
      const row = store.db.prepare<[string], { id: number }>('SELECT id FROM photos WHERE path = ?').get(path);
      return row?.id ?? null;
    },

    async sync(onProgress) {
      await library.reconcile();
      const s = await loadedSession();
      const off = onProgress ? app.on('index.progress', onProgress) : () => undefined;
      try {
        s.indexer.resume();
        s.indexer.start();
        await s.indexer.whenIdle();
        await s.index.save();
      } finally {
        off();
      }
      return status();
    },

    async startLive() {
      await library.reconcile();
      await library.watch();
      (await loadedSession()).indexer.start();
    },

    async close() {
      if (closed) return;
      closed = true;
      await lab.close();
      await library.unwatch();
      if (opening) await opening.catch(() => undefined);
      await closeSession();
      store.close();
    },
  };

  if (live) await app.startLive();
  return app;
}
