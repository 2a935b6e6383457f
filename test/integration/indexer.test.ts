/**
 * The indexer with real photos (sharp), the real color-oracle/tiny-clip ONNX models in the
 * encoder's own process, real SQLite and hnswlib — including a kill -9 in a child process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { IndexProgress } from '../../main/core/contract.ts';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { openEncoder, type Encoder } from '../../main/services/encoder/index.ts';
import { Indexer } from '../../main/services/indexer/index.ts';
import { Library } from '../../main/services/library/index.ts';
import { preparePhoto } from '../../main/services/media/index.ts';
import type { Store } from '../../main/services/store/index.ts';
import { COLOURS, writeBadFiles, writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';
import { addFolder, addPhotoFile, resolveTestModel, tempStore } from '../fixtures/vector-db.ts';

const oracle = resolveTestModel('color-oracle');
const tiny = resolveTestModel('tiny-clip');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function library(files: (dir: string) => Promise<string[]>) {
  const { store, dir } = tempStore();
  const photosDir = join(dir, 'photos');
  const paths = await files(photosDir);
  const folderId = addFolder(store, photosDir);
  const ids = new Map<string, number>();
  for (const p of paths) ids.set(p, addPhotoFile(store, folderId, p));
  cleanups.push(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, dir, photosDir, folderId, paths, ids, indexDir: join(dir, 'index') };
}

async function encoderFor(model: NonNullable<typeof oracle>): Promise<Encoder> {
  const enc = await openEncoder(model, { threads: 1, providers: ['cpu'] });
  cleanups.push(() => enc.close());
  return enc;
}

async function indexFor(store: Store, indexDir: string, model: NonNullable<typeof oracle>) {
  const index = await VectorIndex.open({ store, dir: indexDir, modelId: model.id, dim: model.dim, log: () => {} });
  cleanups.push(() => index.close());
  return index;
}

const count = (store: Store, sql: string, ...params: unknown[]) => store.db.prepare(sql).pluck().get(...params) as number;

describe.skipIf(!oracle)('Indexer (color-oracle)', () => {
  it('indexes good photos, fails bad files with reasons, fills facts, reports progress to done == total', async () => {
    const lib = await library(async (d) => {
      const good = await writeColourLibrary(d);
      const dated = join(d, 'dated.jpg');
      await writeSolidPhoto(dated, COLOURS.red!, { exif: { DateTimeOriginal: '2019:05:04 10:20:30', Make: 'Acme', Model: 'Cam 1' } });
      const bad = Object.values(await writeBadFiles(d));
      return [...good, dated, ...bad];
    });
    const model = oracle!;
    const index = await indexFor(lib.store, lib.indexDir, model);
    const indexer = new Indexer({ store: lib.store, encoder: await encoderFor(model), index, modelId: model.id, preprocess: model.preprocess, batchSize: 4, decodeConcurrency: 2 });
    const events: IndexProgress[] = [];
    const failed: { id: number; path: string; reason: string }[] = [];
    const indexed: number[] = [];
    indexer.on('progress', (p) => events.push(p));
    indexer.on('failed', (f) => failed.push(f));
    indexer.on('indexed', (ids) => indexed.push(...ids));
    indexer.start();
    await indexer.whenIdle();

    const good = Object.keys(COLOURS).length + 1;
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(good);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', model.id)).toBe(good);
    expect(index.size).toBe(good);
    expect(new Set(indexed).size).toBe(good);

    const bad = lib.store.db.prepare("SELECT path, error FROM photos WHERE status = 'failed' ORDER BY path").all() as { path: string; error: string }[];
    expect(bad.map((b) => b.path.split('/').pop())).toEqual(['corrupt.jpg', 'notanimage.jpg', 'truncated.jpg', 'zero-byte.jpg']);
    for (const b of bad) expect(b.error.length).toBeGreaterThan(5);
    expect(bad.find((b) => b.path.endsWith('zero-byte.jpg'))!.error).toMatch(/empty|0 bytes/i);
    expect(failed.map((f) => f.reason).sort()).toEqual(bad.map((b) => b.error).sort());

    const red = lib.store.db.prepare('SELECT * FROM photos WHERE path = ?').get(join(lib.photosDir, 'red.jpg')) as Record<string, unknown>;
    expect(red).toMatchObject({ width: 64, height: 48, format: 'jpeg', camera: null, taken_at: red.mtime_ms, taken_at_source: 'file', error: null });
    const dated = lib.store.db.prepare('SELECT * FROM photos WHERE path = ?').get(join(lib.photosDir, 'dated.jpg')) as Record<string, unknown>;
    expect(dated.taken_at).toBe(new Date(2019, 4, 4, 10, 20, 30).getTime());
    expect(dated.taken_at_source).toBe('exif');
    expect(dated.camera).toMatch(/Acme/);

    const last = events.at(-1)!;
    expect(last).toMatchObject({ state: 'idle', done: good + 4, total: good + 4, failed: 4 });
    expect(events.some((e) => e.state === 'running')).toBe(true);
    for (const e of events) expect(e.done).toBeLessThanOrEqual(e.total);
    expect(indexer.progress()).toMatchObject({ done: good + 4, total: good + 4 });

    // New work wakes it up again, and only the new photo is done.
    const extra = join(lib.photosDir, 'extra.png');
    await writeSolidPhoto(extra, COLOURS.blue!, { format: 'png' });
    const extraId = addPhotoFile(lib.store, lib.folderId, extra);
    indexed.length = 0;
    indexer.wake();
    await indexer.whenIdle();
    expect(indexed).toEqual([extraId]);
    expect(indexer.progress()).toMatchObject({ state: 'idle', done: 1, total: 1, failed: 0 });
    await indexer.stop();
  });

  it('pauses (in-flight batch completes, nothing more taken) and resumes to the end', async () => {
    const lib = await library(async (d) => {
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        const p = join(d, `p${String(i).padStart(2, '0')}.jpg`);
        await writeSolidPhoto(p, [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256]);
        out.push(p);
      }
      return out;
    });
    const model = oracle!;
    const index = await indexFor(lib.store, lib.indexDir, model);
    const indexer = new Indexer({ store: lib.store, encoder: await encoderFor(model), index, modelId: model.id, preprocess: model.preprocess, batchSize: 2, decodeConcurrency: 1 });
    indexer.once('indexed', () => indexer.pause());
    indexer.start();
    await indexer.whenIdle();
    expect(indexer.progress().state).toBe('paused');
    const atPause = count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'");
    expect(atPause).toBeGreaterThan(0);
    expect(atPause).toBeLessThan(30);
    await new Promise((r) => setTimeout(r, 400));
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(atPause);

    indexer.resume();
    await indexer.whenIdle();
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(30);
    expect(indexer.progress()).toMatchObject({ state: 'idle', done: 30, total: 30 });
    expect(index.size).toBe(30);
    await indexer.stop();
  });

  it('drops a photo whose row is deleted while it is being decoded, without resurrecting it', async () => {
    const lib = await library((d) => writeColourLibrary(d, ['red', 'green', 'blue', 'yellow']));
    const model = oracle!;
    const index = await indexFor(lib.store, lib.indexDir, model);
    const victim = lib.ids.get(join(lib.photosDir, 'green.jpg'))!;
    const indexer = new Indexer({
      store: lib.store, encoder: await encoderFor(model), index, modelId: model.id, preprocess: model.preprocess,
      // The library deletes the row (file removed) while the indexer holds it.
      prepare: async (path, spec) => {
        if (path.endsWith('green.jpg')) lib.store.db.prepare('DELETE FROM photos WHERE id = ?').run(victim);
        return preparePhoto(path, spec);
      },
    });
    indexer.start();
    await indexer.whenIdle();
    expect(count(lib.store, 'SELECT COUNT(*) FROM photos WHERE id = ?', victim)).toBe(0);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE photo_id = ?', victim)).toBe(0);
    expect(index.has(victim)).toBe(false);
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(3);
    expect(indexer.progress()).toMatchObject({ done: 3, total: 3 });
    await indexer.stop();
  });

  /**
   * Three photos known to the real library (it recognises a rename by content: same row, new path,
   * same size and mtime), and an indexer whose decode of green.jpg first runs `beforeDecode`.
   */
  async function renameCase(beforeDecode: (path: string, folders: Library, renamed: string) => Promise<void>) {
    const lib = await library((d) => writeColourLibrary(d, ['red', 'green', 'blue']));
    const model = oracle!;
    const index = await indexFor(lib.store, lib.indexDir, model);
    const moved = lib.ids.get(join(lib.photosDir, 'green.jpg'))!;
    const renamed = join(lib.photosDir, 'green renamed.jpg');
    const folders = new Library({ store: lib.store });
    await folders.reconcile();
    const indexer = new Indexer({
      store: lib.store, encoder: await encoderFor(model), index, modelId: model.id, preprocess: model.preprocess,
      prepare: async (path, spec) => {
        if (path.endsWith('green.jpg')) await beforeDecode(path, folders, renamed);
        return preparePhoto(path, spec);
      },
    });
    return { lib, index, moved, renamed, folders, indexer };
  }

  it('indexes a photo renamed while it is being decoded at its new name, never failing it as "no longer exists" (found by the soak)', async () => {
    let renames = 0;
    const { lib, index, moved, renamed, indexer } = await renameCase(async (path, folders, to) => {
      if (renames++ > 0) return;
      renameSync(path, to);
      await folders.reconcile();
    });
    indexer.start();
    await indexer.whenIdle();
    await indexer.stop();
    expect(renames).toBe(1);
    const row = lib.store.db.prepare('SELECT path, status, error FROM photos WHERE id = ?').get(moved);
    expect(row).toEqual({ path: renamed, status: 'indexed', error: null });
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE photo_id = ?', moved)).toBe(1);
    expect(index.has(moved)).toBe(true);
    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(3);
  });

  it('a photo failed as "no longer exists" mid-rename is tried again when the library sees the rename (found by the soak)', async () => {
    // Renamed just before the decode, and the library has not seen it yet: the failure is the old path's.
    const { lib, index, moved, renamed, folders, indexer } = await renameCase(async (path, _folders, to) => renameSync(path, to));
    indexer.start();
    await indexer.whenIdle();
    expect(lib.store.db.prepare('SELECT status, error FROM photos WHERE id = ?').get(moved)).toEqual({ status: 'failed', error: 'the file no longer exists' });
    await folders.reconcile(); // the watcher's batch for the rename, or the next start
    indexer.wake();
    await indexer.whenIdle();
    await indexer.stop();
    expect(lib.store.db.prepare('SELECT path, status, error FROM photos WHERE id = ?').get(moved)).toEqual({ path: renamed, status: 'indexed', error: null });
    expect(index.has(moved)).toBe(true);
  });

  it.skipIf(!tiny)('builds a second model\'s vectors while the first stays intact', async () => {
    const lib = await library((d) => writeColourLibrary(d, ['red', 'green', 'blue']));
    const first = new Indexer({ store: lib.store, encoder: await encoderFor(oracle!), index: await indexFor(lib.store, lib.indexDir, oracle!), modelId: oracle!.id, preprocess: oracle!.preprocess });
    first.start();
    await first.whenIdle();
    await first.stop();
    const tinyIndex = await indexFor(lib.store, lib.indexDir, tiny!);
    const second = new Indexer({ store: lib.store, encoder: await encoderFor(tiny!), index: tinyIndex, modelId: tiny!.id, preprocess: tiny!.preprocess });
    second.start();
    await second.whenIdle();
    await second.stop();
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(3);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', tiny!.id)).toBe(3);
    expect(tinyIndex.size).toBe(3);
    expect(second.progress()).toMatchObject({ done: 3, total: 3 });
  });

  it('survives kill -9 mid-run: a restart finishes with every photo indexed exactly once', async () => {
    const n = 60;
    const lib = await library(async (d) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const p = join(d, `k${String(i).padStart(2, '0')}.jpg`);
        await writeSolidPhoto(p, [(i * 41) % 256, (i * 17) % 256, (i * 89) % 256], { width: 640, height: 480, noise: 20 });
        out.push(p);
      }
      return out;
    });
    const dbPath = lib.store.path;
    const kills: number[] = [];
    // Kill at two different depths, then let a third run finish.
    for (const killAfter of [4, 24]) {
      const seen = await runChild(dbPath, lib.indexDir, oracle!.id, killAfter);
      kills.push(seen);
    }
    const doneBeforeLast = count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'");
    expect(doneBeforeLast).toBeLessThan(n); // the kills really landed mid-run
    const final = await runChild(dbPath, lib.indexDir, oracle!.id, null);
    expect(final).toBe(n);

    expect(count(lib.store, "SELECT COUNT(*) FROM photos WHERE status = 'indexed'")).toBe(n);
    expect(count(lib.store, 'SELECT COUNT(*) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(n);
    expect(count(lib.store, 'SELECT COUNT(DISTINCT photo_id) FROM vectors WHERE model_id = ?', oracle!.id)).toBe(n);
    const index = await indexFor(lib.store, lib.indexDir, oracle!);
    expect(index.size).toBe(n);
    expect(index.openReport.outcome).toBe('loaded');
    for (const id of lib.ids.values()) expect(index.has(id)).toBe(true);
  }, 120_000);
});

/** Runs the indexer child; SIGKILLs it once it reports `killAfter` photos indexed. Returns the last count seen ('idle' count when it finished). */
function runChild(db: string, indexDir: string, modelId: string, killAfter: number | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/indexer-child.ts', db, indexDir, modelId], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = 0;
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (const line of String(chunk).split('\n')) {
        const m = /^(indexed|idle) (\d+)/.exec(line);
        if (!m) continue;
        last = Number(m[2]);
        if (m[1] === 'indexed' && killAfter !== null && last >= killAfter) child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(last);
      else reject(new Error(`indexer child exited with ${code}:\n${out}\n${err}`));
    });
  });
}
