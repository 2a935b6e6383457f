/**
 * Issue 15 §3, disk full: the data folder (library.db and its WAL, the index files, backups) sits
 * on a size-limited tmpfs, the photos elsewhere. Real `leanlens` processes, real SQLite, hnswlib,
 * sharp and ONNX Runtime (the bundled colour model). Indexing must stop with a clear error, leave
 * SQLite and the vector index consistent, and go on when space is freed: by itself in a running
 * app, with the next `leanlens index` otherwise. Mounting needs root; elsewhere the tests skip and
 * their name says why.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { hnswFileProblem } from '../../main/services/ann/file-check.ts';
import { backupDatabase, checkDatabaseFile, listBackups, openStore } from '../../main/services/store/index.ts';
import { createApp } from '../../main/app/index.ts';
import { ModelRegistry } from '../../main/services/models/index.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';
import { addPhoto, prng, putVector, randomUnitVector, seedRandomLibrary } from '../fixtures/vector-db.ts';
import { fillDisk, freeBytesOf, mountTmpfs, unmountTmpfs, whyNoTmpfs } from './tmpfs.ts';
import { runLeanlens } from '../fixtures/leanlens-cli.ts';

const MODEL = 'color-oracle';
const noTmpfs = whyNoTmpfs();
if (noTmpfs) console.warn(`disk-full tests skipped: ${noTmpfs}`);

let root = '';
const mounts: string[] = [];
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-diskfull-'));
});
afterAll(() => {
  for (const m of mounts.splice(0)) unmountTmpfs(m);
  rmSync(root, { recursive: true, force: true });
});

function tmpfs(name: string, bytes: number): string {
  const dir = join(root, name);
  mountTmpfs(dir, bytes);
  mounts.push(dir);
  return dir;
}

const cli = (data: string, args: string[]) => runLeanlens(data, args, { timeoutMs: 240_000 });

async function writePhotos(dir: string, n: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    await writeSolidPhoto(join(dir, `p${String(i).padStart(3, '0')}.jpg`), [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], { width: 32, height: 24 });
  }
}

/** Photo counts by status and vectors of the colour model, read straight from SQLite. */
function counts(data: string) {
  const db = new Database(join(data, 'library.db'), { readonly: true });
  try {
    const by = Object.fromEntries(
      db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM photos GROUP BY status').all().map((r) => [r.status, r.n]),
    ) as Record<string, number>;
    const vectors = db.prepare<[string], number>('SELECT COUNT(*) FROM vectors WHERE model_id = ?').pluck().get(MODEL) ?? 0;
    const indexedWithoutVector = db
      .prepare<[string], number>("SELECT COUNT(*) FROM photos p WHERE status = 'indexed' AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.photo_id = p.id AND v.model_id = ?)")
      .pluck()
      .get(MODEL) ?? 0;
    return { indexed: by.indexed ?? 0, pending: by.pending ?? 0, failed: by.failed ?? 0, vectors, indexedWithoutVector };
  } finally {
    db.close();
  }
}

/** updated_at of every indexed photo: it changes when a photo is encoded again. */
function indexedStamps(data: string): Map<number, number> {
  const db = new Database(join(data, 'library.db'), { readonly: true });
  try {
    return new Map(db.prepare<[], [number, number]>("SELECT id, updated_at FROM photos WHERE status = 'indexed'").raw().all());
  } finally {
    db.close();
  }
}

/** The vector index the app opens holds exactly the photos SQLite has vectors for. */
async function annMatchesSqlite(data: string): Promise<{ outcome: string; size: number; vectors: number }> {
  const store = openStore(join(data, 'library.db'));
  try {
    const dim = store.db.prepare<[string], number>('SELECT dim FROM models WHERE id = ?').pluck().get(MODEL)!;
    const index = await VectorIndex.open({ store, dir: join(data, 'index'), modelId: MODEL, dim, log: () => undefined });
    await index.whenPatched();
    const ids = store.db.prepare<[string], number>('SELECT photo_id FROM vectors WHERE model_id = ?').pluck().all(MODEL);
    const missing = ids.filter((id) => !index.has(id));
    expect(missing, 'photos with a vector but not in the index').toEqual([]);
    expect(index.size).toBe(ids.length);
    const report = { outcome: index.openReport.outcome, size: index.size, vectors: ids.length };
    await index.close();
    return report;
  } finally {
    store.close();
  }
}

function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((n) => /\.tmp|\.part/.test(n));
}

describe.skipIf(noTmpfs)(`disk full${noTmpfs ? ` (skipped: ${noTmpfs})` : ''}`, () => {
  it('a vector index save on a full disk fails and keeps the saved generation; it saves once space is freed', async () => {
    // SQLite elsewhere, the index files on a 2 MB tmpfs: only hnswlib's write meets the full disk.
    const dim = 64;
    const store = openStore(join(root, 'ann-db', 'library.db'));
    try {
      const lib = seedRandomLibrary(store, { n: 1500, dim, modelId: 'm' });
      const dir = tmpfs('ann-index', 2 * 1024 * 1024);
      const index = await VectorIndex.open({ store, dir, modelId: 'm', dim, log: () => undefined });
      expect(index.size).toBe(1500);
      const stateBefore = store.db.prepare('SELECT checksum, journal_seq FROM ann_state').get();
      const filler = fillDisk(dir, 48 * 1024);
      // 300 more photos: the labels file (7 kB) fits in what is left, the graph (~700 kB) does not.
      const rand = prng(7);
      const folderId = lib.folderId;
      for (let i = 0; i < 300; i++) {
        const id = addPhoto(store, { folderId, path: `/photos/more${i}.jpg`, status: 'indexed' });
        const v = randomUnitVector(dim, rand);
        putVector(store, id, 'm', v);
        index.upsert(id, v);
      }
      await expect(index.save()).rejects.toMatchObject({ code: 'ENOSPC', message: expect.stringMatching(/not written whole/) });
      // The saved generation is still the one SQLite points at, whole; no half-written files are left.
      expect(store.db.prepare('SELECT checksum, journal_seq FROM ann_state').get()).toEqual(stateBefore);
      const files = readdirSync(dir).filter((n) => n.endsWith('.hnsw'));
      expect(files).toHaveLength(1);
      expect(await hnswFileProblem(join(dir, files[0]!))).toBeNull();
      expect(leftovers(dir)).toEqual([]);
      // A crash now reopens from the old file plus the journal: all 1800 photos.
      const reopened = await VectorIndex.open({ store, dir, modelId: 'm', dim, log: () => undefined });
      await reopened.whenPatched();
      expect(reopened.openReport.outcome).toBe('repaired');
      expect(reopened.size).toBe(1800);
      rmSync(filler);
      await index.save();
      await index.close();
      await reopened.close();
      const last = await VectorIndex.open({ store, dir, modelId: 'm', dim, log: () => undefined });
      expect(last.openReport.outcome).toBe('loaded');
      expect(last.size).toBe(1800);
      await last.close();
    } finally {
      store.close();
    }
  });

  it('leanlens index stops with a clear error, SQLite and the index stay consistent, and it goes on once space is freed', async () => {
    const N = 120;
    const photos = join(root, 'photos');
    await writePhotos(photos, N);
    const data = tmpfs('data', 8 * 1024 * 1024);
    expect(cli(data, ['folders', 'add', photos]).code).toBe(0);
    // A batch of 8 writes a few hundred kB of WAL (16 KiB pages; about 48 kB with the 4 KiB pages
    // of older libraries): 1 MiB free runs out after a few batches.
    const filler = fillDisk(data, 1024 * 1024);

    const full = cli(data, ['index', '--no-ocr']);
    expect(full.err).toMatch(/The disk holding the LeanLens data folder .* is full: indexing stopped with \d+ photos still waiting; nothing indexed so far was lost\. Free some space, then run leanlens index again/);
    expect(full.err, 'no stack trace, no raw SQLite error').not.toMatch(/SqliteError|\n\s+at /);
    expect(full.code).toBe(1);

    // Consistent while still full: SQLite passes its integrity check, every indexed photo has its
    // vector, nothing was marked failed (a full disk is no photo's fault), the rest is pending.
    expect(checkDatabaseFile(join(data, 'library.db'))).toEqual([]);
    const stopped = counts(data);
    expect(stopped.failed).toBe(0);
    expect(stopped.indexedWithoutVector).toBe(0);
    expect(stopped.indexed).toBe(stopped.vectors);
    expect(stopped.indexed).toBeGreaterThan(0);
    expect(stopped.pending).toBeGreaterThan(0);
    expect(stopped.indexed + stopped.pending).toBe(N);
    expect(leftovers(data)).toEqual([]);
    const before = indexedStamps(data);

    // Space freed: the next run indexes only what was left, and search answers.
    rmSync(filler);
    expect(freeBytesOf(data)).toBeGreaterThan(4 * 1024 * 1024);
    const again = cli(data, ['index', '--no-ocr']);
    expect(again.err).not.toMatch(/full/);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`${N} of ${N} photos indexed`);
    // Only what was left was encoded: the photos indexed before the disk filled were not touched.
    const after = indexedStamps(data);
    for (const [id, at] of before) expect(after.get(id), `photo ${id}`).toBe(at);
    expect(counts(data)).toMatchObject({ indexed: N, pending: 0, failed: 0, vectors: N });
    expect(checkDatabaseFile(join(data, 'library.db'))).toEqual([]);
    expect(await annMatchesSqlite(data)).toMatchObject({ size: N, vectors: N });
    const search = cli(data, ['search', 'red', '--json']);
    expect(search.code).toBe(0);
  }, 600_000);

  it('a backup that runs out of space leaves no partial backup and the database healthy; the next one works', async () => {
    const data = tmpfs('data-backup', 4 * 1024 * 1024);
    const store = openStore(join(data, 'library.db'));
    try {
      seedRandomLibrary(store, { n: 2000, dim: 64, modelId: 'm' }); // about 1 MB of vectors
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const filler = fillDisk(data, 200 * 1024);
      await expect(backupDatabase(store.db, store.path)).rejects.toMatchObject({ code: expect.stringMatching(/SQLITE_FULL|ENOSPC/) });
      expect(listBackups(store.path)).toEqual([]);
      expect(leftovers(data)).toEqual([]);
      expect(checkDatabaseFile(store.path)).toEqual([]);
      rmSync(filler);
      const made = await backupDatabase(store.db, store.path);
      expect(made && checkDatabaseFile(made.path)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('a model import cut by a full disk leaves no model and no half-written file to use', async () => {
    const bundledDir = resolve('models');
    const tiny = ModelRegistry.open({ bundledDir, userDir: join(root, 'probe-models') }).resolve('tiny-clip');
    const folder = join(root, 'My export');
    mkdirSync(folder);
    copyFileSync(tiny.imagePath, join(folder, 'vision_model.onnx'));
    copyFileSync(tiny.textPath, join(folder, 'text_model.onnx'));
    // 1 MB: the graphs are read and checked, then their copy runs out of space.
    const userDir = tmpfs('models', 1024 * 1024);
    const registry = ModelRegistry.open({ bundledDir, userDir });
    await expect(registry.importFolder(folder)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(registry.list().map((m) => m.id)).not.toContain('my-export');
    expect(readdirSync(userDir, { recursive: true })).toEqual([]);
    // The next start does not see it either; with space, the same import works.
    expect(ModelRegistry.open({ bundledDir, userDir }).list().map((m) => m.id)).not.toContain('my-export');
    unmountTmpfs(userDir);
    const info = await ModelRegistry.open({ bundledDir, userDir }).importFolder(folder);
    expect(info).toMatchObject({ id: 'my-export', installed: true, problems: [] });
  });

  it('a running app stops on a full disk, says so in status, and goes on by itself once space is freed', async () => {
    const N = 80;
    const photos = join(root, 'photos-live');
    await writePhotos(photos, N);
    const data = tmpfs('data-live', 8 * 1024 * 1024);
    const app = await createApp({ dataDir: data });
    let filler = '';
    try {
      await app['folders.add']({ path: photos });
      filler = fillDisk(data, 200 * 1024);
      await app.startLive();
      const stopped = await waitFor(async () => {
        const s = await app['index.status']({});
        return s.progress.stopped ? s : null;
      }, 180_000);
      expect(stopped.progress.stopped).toMatch(/is full: indexing stopped/);
      expect(stopped.progress.state).toBe('paused');
      expect(stopped.failed).toBe(0);
      expect(stopped.indexed).toBeLessThan(N);
      rmSync(filler);
      const done = await waitFor(async () => {
        const s = await app['index.status']({});
        return s.indexed === N && s.progress.state === 'idle' ? s : null;
      }, 180_000);
      expect(done.progress.stopped).toBeUndefined();
      expect(done.failed).toBe(0);
    } finally {
      await app.close();
    }
    expect(counts(data)).toMatchObject({ indexed: N, pending: 0, failed: 0, vectors: N });
    expect(await annMatchesSqlite(data)).toMatchObject({ size: N, vectors: N });
  }, 600_000);
});

async function waitFor<T>(probe: () => Promise<T | null>, ms: number): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
