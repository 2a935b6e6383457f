/** Shared set-up for the library tests: a temp photo folder, a real SQLite store, and polling waits. */
import { mkdir, mkdtemp, rm, chmod, readdir, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../main/services/store/index.ts';
import { Library, type LibraryChanges, type LibraryOptions } from '../../main/services/library/index.ts';
import type { PhotoRow } from '../../main/services/library/reconcile.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';

export type PhotoRowView = PhotoRow;

export interface Harness {
  dir: string;
  photos: string;
  dataDir: string;
  store: Store;
  library: Library;
  changes: LibraryChanges[];
  errors: { path: string; reason: string }[];
  rows(): PhotoRowView[];
  row(path: string): PhotoRowView | undefined;
  addVector(photoId: number): void;
  hasVector(photoId: number): boolean;
  close(): Promise<void>;
}

/** `dataInsidePhotos` puts the app's data folder (and the live SQLite files) inside the photo folder. */
export async function makeHarness(opts: Partial<LibraryOptions> & { dataInsidePhotos?: boolean } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'leanlens-library-'));
  const photos = join(dir, 'Photos');
  await mkdir(photos, { recursive: true });
  const dataDir = opts.dataInsidePhotos ? join(photos, 'LeanLens Data') : join(dir, 'data');
  const store = openStore(join(dataDir, 'library.db'));
  const library = new Library({ store, ignore: [dataDir], ...opts });
  const changes: LibraryChanges[] = [];
  const errors: { path: string; reason: string }[] = [];
  library.on('changed', (c) => changes.push(c));
  library.on('error', (e) => errors.push(e));
  return {
    dir,
    photos,
    dataDir,
    store,
    library,
    changes,
    errors,
    rows: () => store.db.prepare<[], PhotoRowView>('SELECT * FROM photos ORDER BY path').all(),
    row: (path) => store.db.prepare<[string], PhotoRowView>('SELECT * FROM photos WHERE path = ?').get(path),
    addVector(photoId) {
      store.db.prepare("INSERT OR IGNORE INTO models (id, dim, added_at) VALUES ('test-model', 4, 0)").run();
      store.db.prepare("INSERT INTO vectors (photo_id, model_id, vector) VALUES (?, 'test-model', ?)").run(photoId, Buffer.alloc(16));
    },
    hasVector: (photoId) => !!store.db.prepare('SELECT 1 FROM vectors WHERE photo_id = ?').get(photoId),
    async close() {
      await library.unwatch();
      store.close();
      await restorePermissions(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** chmod 000 folders would stop rm from cleaning up when not running as root. */
async function restorePermissions(dir: string): Promise<void> {
  await chmod(dir, 0o755).catch(() => undefined);
  const entries = await readdir(dir).catch(() => [] as string[]);
  for (const name of entries) {
    const p = join(dir, name);
    const st = await lstat(p).catch(() => null);
    if (st?.isDirectory()) await restorePermissions(p);
    else if (st?.isFile()) await chmod(p, 0o644).catch(() => undefined);
  }
}

/** Polls until `predicate` holds; watcher tests wait on outcomes, never on fixed sleeps. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** All ids reported under `key` across the collected 'changed' events. */
export function reported(changes: LibraryChanges[], key: keyof LibraryChanges): number[] {
  return changes.flatMap((c) => c[key]);
}

/** n small photos of distinct colours in `dir`, named `<prefix><i>.jpg`. */
export async function writePhotos(dir: string, n: number, prefix = 'p'): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `${prefix}${i}.jpg`);
    await writeSolidPhoto(p, [(i * 37) % 256, (i * 91) % 256, (i * 53 + 20) % 256], { width: 16, height: 12 });
    paths.push(p);
  }
  return paths;
}
