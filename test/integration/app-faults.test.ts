/**
 * Bad input and faults, end to end through the composed App (createApp) and the real CLI: real
 * SQLite, hnswlib, ONNX Runtime (color-oracle / tiny-clip), sharp and chokidar on temp folders.
 * Every case checks two things: the bad item gets a clear error of its own, and nothing else is
 * lost (good photos stay indexed and searchable, the library survives).
 *
 * Complements cli.test.ts (which covers the four classic bad files through `leanlens index`) and
 * the per-service tests; nothing here asserts on timing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createApp, type App } from '../../main/app/index.ts';
import { COLOURS, writeBadFiles, writeColourLibrary, writeOversizedPng, writeSolidPhoto } from '../fixtures/photos.ts';

const REPO = resolve('.');
const BIN = join(REPO, 'bin', 'leanlens.mjs');
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-faults-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let opened: App[] = [];
afterEach(async () => {
  for (const app of opened.splice(0)) await app.close().catch(() => undefined);
});

let seq = 0;
/** A fresh photo folder and data folder under the suite's temp root. */
async function place(name = 'Photos'): Promise<{ dir: string; photos: string; data: string }> {
  const dir = join(root, `case-${++seq}`);
  const photos = join(dir, name);
  await mkdir(photos, { recursive: true });
  return { dir, photos, data: join(dir, 'data') };
}

async function open(dataDir: string, extra: Partial<Parameters<typeof createApp>[0]> = {}): Promise<App> {
  const app = await createApp({ dataDir, ...extra });
  opened.push(app);
  return app;
}

async function closeApp(app: App): Promise<void> {
  opened = opened.filter((a) => a !== app);
  await app.close();
}

async function searchPaths(app: App, text: string, limit = 50): Promise<string[]> {
  return (await app['search.text']({ text, limit, relevance: 'all' })).hits.map((h) => h.photo.path); // every photo, ranked
}

function reasonFor(errors: { path: string; reason: string }[], path: string): string | undefined {
  return errors.find((e) => e.path === path)?.reason;
}

async function waitFor<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v) return v as T;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bad photo files (per-item errors, nothing else lost)', () => {
  it('fails each broken file with its own reason; good photos stay searchable; a fixed file is indexed next time', async () => {
    const { photos, data } = await place();
    await writeColourLibrary(photos, ['red', 'green', 'blue']);
    const bad = await writeBadFiles(join(photos, 'bad'));
    // Beyond the CLI test's four: other photo extensions with wrong content, and a 900 MP header.
    const extra = {
      textPng: join(photos, 'bad', 'letter.png'),
      jpegAsWebp: join(photos, 'bad', 'halfjpeg.webp'),
      huge: join(photos, 'bad', 'huge.png'),
      randomTiff: join(photos, 'bad', 'noise.tiff'),
    };
    await writeFile(extra.textPng, 'Dear Sir,\nthis is not a PNG.\n');
    await writeFile(extra.jpegAsWebp, readFileSync(bad['truncated.jpg']!));
    await writeOversizedPng(extra.huge);
    await writeFile(extra.randomTiff, Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(500, 7)]));

    const app = await open(data);
    await app['folders.add']({ path: photos });
    const status = await app.sync();
    expect(status).toMatchObject({ files: 11, indexed: 3, failed: 8, pending: 0 });

    expect(reasonFor(status.errors, bad['zero-byte.jpg']!)).toMatch(/empty \(0 bytes\)/);
    expect(reasonFor(status.errors, bad['notanimage.jpg']!)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, bad['corrupt.jpg']!)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, bad['truncated.jpg']!)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, extra.textPng)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, extra.jpegAsWebp)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, extra.randomTiff)).toMatch(/not a readable image/);
    expect(reasonFor(status.errors, extra.huge)).toMatch(/too large to open \(more than \d+ megapixels\)/);
    // Per item: every failure names exactly one file, and no good photo is among them.
    expect(new Set(status.errors.map((e) => e.path)).size).toBe(8);
    for (const c of ['red', 'green', 'blue']) expect(reasonFor(status.errors, join(photos, `${c}.jpg`))).toBeUndefined();

    expect((await searchPaths(app, 'red', 1))[0]).toBe(join(photos, 'red.jpg'));
    expect(await searchPaths(app, 'a photo')).not.toContain(bad['corrupt.jpg']);

    // The user replaces a broken file with a good photo: the next sync indexes it, the rest stay failed.
    await rm(bad['corrupt.jpg']!);
    await writeSolidPhoto(bad['corrupt.jpg']!, COLOURS.yellow!, { noise: 4 });
    const again = await app.sync();
    expect(again).toMatchObject({ files: 11, indexed: 4, failed: 7 });
    expect((await searchPaths(app, 'yellow', 1))[0]).toBe(bad['corrupt.jpg']);
  }, 60_000);

  // chmod 000 does not stop root from reading, so this can only be checked as another user.
  it.skipIf(IS_ROOT)('an unreadable file and folder get their own error and the rest is indexed (skipped when running as root)', async () => {
    const { photos, data } = await place();
    await writeColourLibrary(photos, ['red', 'blue']);
    const lockedFile = join(photos, 'secret.jpg');
    const lockedDir = join(photos, 'private');
    await writeSolidPhoto(lockedFile, COLOURS.green!);
    await writeSolidPhoto(join(lockedDir, 'inside.jpg'), COLOURS.pink!);
    await chmod(lockedFile, 0o000);
    await chmod(lockedDir, 0o000);
    try {
      const app = await open(data);
      await app['folders.add']({ path: photos });
      const status = await app.sync();
      expect(status.indexed).toBe(2);
      expect(reasonFor(status.errors, lockedFile)).toMatch(/permission denied/);
      expect(reasonFor(status.errors, lockedDir)).toMatch(/permission denied|cannot read folder/);
      expect((await searchPaths(app, 'red', 1))[0]).toBe(join(photos, 'red.jpg'));
    } finally {
      await chmod(lockedFile, 0o644);
      await chmod(lockedDir, 0o755);
    }
  });

  it('a symlink loop ends, and each photo is indexed exactly once', async () => {
    const { photos, data } = await place();
    await writeColourLibrary(join(photos, 'a'), ['red', 'green']);
    await symlink('..', join(photos, 'a', 'up')); // a/up → photos: a loop back to the root
    await symlink(join(photos, 'a'), join(photos, 'again')); // a second way into a/
    await symlink('loop1', join(photos, 'loop2'));
    await symlink('loop2', join(photos, 'loop1.jpg')); // a link cycle with a photo extension
    const app = await open(data);
    await app['folders.add']({ path: photos });
    const status = await app.sync();
    expect(status).toMatchObject({ files: 2, indexed: 2, failed: 0 });
    const paths = await searchPaths(app, 'a photo');
    expect(paths.sort()).toEqual([join(photos, 'a', 'green.jpg'), join(photos, 'a', 'red.jpg')]);
  });

  it('a path with unicode and spaces is indexed, searched and served', async () => {
    const { photos, data } = await place('Fotos für Oma 📷');
    const file = join(photos, 'Sommer 2024 – Ærø', 'día de playa ✓ 日本.jpg');
    await writeSolidPhoto(file, COLOURS.orange!, { noise: 4 });
    await writeSolidPhoto(join(photos, 'plain.jpg'), COLOURS.blue!, { noise: 4 });
    const app = await open(join(data, 'Daten mit Leerzeichen ✓'));
    const folder = await app['folders.add']({ path: photos });
    expect(folder.path).toBe(photos);
    await app.sync();
    const hit = (await app['search.text']({ text: 'orange', limit: 1 })).hits[0]!;
    expect(hit.photo.path).toBe(file);
    expect(hit.photo.name).toBe('día de playa ✓ 日本.jpg');
    expect(app.photoIdByPath(file)).toBe(hit.photo.id);
    expect((await app.photoFile(hit.photo.id, 'original')).path).toBe(file);
    const thumb = await app.photoFile(hit.photo.id, 'thumbnail');
    expect(existsSync(thumb.path)).toBe(true);
  });

  it('a file that disappears between scan and decode fails as "no longer exists" and leaves at the next scan', async () => {
    const { photos, data } = await place();
    const paths = await writeColourLibrary(photos, ['red', 'green', 'blue', 'yellow']);
    const app = await open(data);
    await app['search.text']({ text: 'warm up', limit: 1 }); // opens the model session
    await app['index.pause']({});
    await app['folders.add']({ path: photos }); // scanned: four pending rows, indexer paused
    expect((await app['index.status']({})).pending).toBe(4);
    await unlink(paths[1]!); // green vanishes after the scan, before any decode
    await app['index.resume']({});
    const status = await waitFor(async () => {
      const s = await app['index.status']({});
      return s.pending === 0 && s.progress.state !== 'running' ? s : null;
    }, 'the indexer to finish');
    expect(status).toMatchObject({ indexed: 3, failed: 1 });
    expect(reasonFor(status.errors, paths[1]!)).toMatch(/no longer exists/);
    // The next reconcile sees the file is gone: the row (and its error) leave; nothing else changes.
    const after = await app.sync();
    expect(after).toMatchObject({ files: 3, indexed: 3, failed: 0, errors: [] });
    expect((await searchPaths(app, 'a photo')).sort()).toEqual([paths[0], paths[2], paths[3]].sort());
  });
});

describe('models that cannot be used', () => {
  const TINY = JSON.parse(readFileSync(join(REPO, 'models', 'manifest.json'), 'utf8')).models.find((m: { id: string }) => m.id === 'tiny-clip');

  /** A library indexed with color-oracle, to show that a bad model loses none of it. */
  async function indexedLibrary(extraManifests?: string[]) {
    const p = await place();
    await writeColourLibrary(p.photos, ['red', 'green', 'blue']);
    const app = await open(p.data, { extraManifests });
    await app['folders.add']({ path: p.photos });
    await app.sync();
    const before = await app['search.text']({ text: 'red', limit: 3 });
    expect(before.hits[0]!.photo.path).toBe(join(p.photos, 'red.jpg'));
    return { ...p, app, before };
  }

  async function expectLibraryIntact(app: App, before: Awaited<ReturnType<App['search.text']>>) {
    await app['models.use']({ id: 'color-oracle' });
    const status = await app.sync();
    expect(status).toMatchObject({ files: 3, indexed: 3, failed: 0, model: 'color-oracle' });
    const after = await app['search.text']({ text: 'red', limit: 3 });
    expect(after.hits.map((h) => [h.photo.id, h.score.toFixed(5)])).toEqual(before.hits.map((h) => [h.photo.id, h.score.toFixed(5)]));
  }

  /** A manifest in its own folder listing a copy of tiny-clip's files, with `patch` applied to the entry. */
  async function extraManifest(dir: string, id: string, patch: (e: typeof TINY) => void, damage?: (modelDir: string) => Promise<void>) {
    const modelDir = join(dir, 'models', id);
    await cp(join(REPO, 'models', 'tiny-clip'), modelDir, { recursive: true });
    if (damage) await damage(modelDir);
    const entry = structuredClone(TINY);
    entry.id = id;
    entry.hidden = false;
    entry.image.file = `${id}/image_fp32.onnx`;
    entry.text.file = `${id}/text_fp32.onnx`;
    patch(entry);
    const file = join(dir, 'models', 'manifest.json');
    await writeFile(file, JSON.stringify({ version: 1, models: [entry] }));
    return file;
  }

  it('models import of a folder with a garbage model file is refused clearly; the library is intact', async () => {
    const { dir, app, before } = await indexedLibrary();
    const broken = join(dir, 'my-model');
    await cp(join(REPO, 'models', 'tiny-clip'), broken, { recursive: true });
    await writeFile(join(broken, 'image_fp32.onnx'), Buffer.alloc(4096, 0x5a));
    await expect(app['models.import']({ path: broken })).rejects.toThrow(/image_fp32\.onnx|not a valid ONNX|protobuf|load/i);
    expect((await app['models.list']({})).map((m) => m.id)).not.toContain('my-model');
    await expectLibraryIntact(app, before);
  });

  it('a manifest whose model file is garbage (size and sha256 matching) fails at load with a clear error; the library is intact', async () => {
    const p = await place();
    let garbage = Buffer.alloc(0);
    const manifest = await extraManifest(
      p.dir,
      'garbled',
      (e) => {
        e.image.bytes = garbage.length;
        e.image.sha256 = execFileSync('sha256sum', [join(p.dir, 'models', 'garbled', 'image_fp32.onnx')], { encoding: 'utf8' }).split(' ')[0];
      },
      async (modelDir) => {
        garbage = Buffer.alloc(TINY.image.bytes, 0x33);
        await writeFile(join(modelDir, 'image_fp32.onnx'), garbage);
      },
    );
    const { app, before } = await indexedLibrary([manifest]);
    await app['models.use']({ id: 'garbled' }); // files verify: the damage is only visible to ONNX Runtime
    await expect(app.sync()).rejects.toThrow(/Could not load the image encoder of model "garbled".*not a valid ONNX model/s);
    const status = await app['index.status']({});
    expect(status.files).toBe(3);
    await expectLibraryIntact(app, before);
  });

  it('a damaged model file that fails verification is refused by models.use with the reason', async () => {
    const p = await place();
    const manifest = await extraManifest(p.dir, 'tampered', () => {}, async (modelDir) => {
      const f = join(modelDir, 'text_fp32.onnx');
      const bytes = readFileSync(f);
      bytes[bytes.length - 10] ^= 0xff; // same size, different sha256
      await writeFile(f, bytes);
    });
    const { app, before } = await indexedLibrary([manifest]);
    await expect(app['models.use']({ id: 'tampered' })).rejects.toThrow(/model "tampered" cannot be used: text encoder .* is corrupt \(sha256/);
    expect((await app['index.status']({})).model).toBe('color-oracle');
    await expectLibraryIntact(app, before);
  });

  it('a mismatched model (wrong io names, wrong dim) is refused at load with what to fix', async () => {
    const p = await place();
    const wrongIo = await extraManifest(join(p.dir, 'io'), 'wrong-io', (e) => {
      e.io.imageInput = 'images';
    });
    const wrongDim = await extraManifest(join(p.dir, 'dim'), 'wrong-dim', (e) => {
      e.dim = 512;
    });
    const { app, before } = await indexedLibrary([wrongIo, wrongDim]);
    await app['models.use']({ id: 'wrong-io' });
    await expect(app.sync()).rejects.toThrow(/does not match its manifest entry:.*image input: expected "images" \(stated\), found pixel_values.*Fix the model's "io"/s);
    await app['models.use']({ id: 'wrong-dim' });
    await expect(app.sync()).rejects.toThrow(/image output: expected 512-d vectors \(dim\), found 64-d/);
    await expectLibraryIntact(app, before);
  });
});

describe('the vector index files', () => {
  for (const damage of ['deleted', 'corrupted'] as const) {
    it(`a ${damage} HNSW index file is rebuilt at the next open with the same search results`, async () => {
      const { photos, data } = await place();
      // More than the exact-search threshold is not needed: the files are written and checked whatever the size.
      await writeColourLibrary(photos);
      let app = await open(data);
      await app['folders.add']({ path: photos });
      await app.sync();
      const queries = ['red', 'blue', 'purple'];
      const before = await Promise.all(queries.map((q) => app['search.text']({ text: q, limit: 5 })));
      await closeApp(app);

      const indexDir = join(data, 'index');
      const files = (await readdir(indexDir)).filter((f) => f.endsWith('.hnsw'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        if (damage === 'deleted') await unlink(join(indexDir, f));
        else await writeFile(join(indexDir, f), Buffer.alloc(1000, 0xab));
      }

      app = await open(data);
      const after = await Promise.all(queries.map((q) => app['search.text']({ text: q, limit: 5 })));
      const view = (r: typeof before) => r.map((x) => x.hits.map((h) => [h.photo.path, h.score.toFixed(5)]));
      expect(view(after)).toEqual(view(before));
      await closeApp(app);
      // Rebuilt and saved again: a valid file is back in place (as a new generation since the ANN journal, so under a new name).
      const rebuilt = (await readdir(indexDir)).filter((f) => f.endsWith('.hnsw'));
      expect(rebuilt.length).toBeGreaterThan(0);
      for (const f of rebuilt) expect(readFileSync(join(indexDir, f)).length).toBeGreaterThan(1000);
    });
  }
});

describe('a data folder that cannot be written', () => {
  /** A read-only file system holding a complete library: tmpfs remounted ro (needs root), else chmod -w (non-root). */
  async function readOnlyData(): Promise<{ data: string; photos: string; restore: () => Promise<void> } | string> {
    const { dir, photos, data } = await place();
    await writeColourLibrary(photos, ['red', 'blue']);
    if (IS_ROOT) {
      const mnt = join(dir, 'mnt');
      await mkdir(mnt);
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
      if (m.status !== 0) return `running as root, chmod does not block writes, and tmpfs cannot be mounted here (${String(m.stderr).trim()})`;
      const roData = join(mnt, 'data');
      const app = await open(roData);
      await app['folders.add']({ path: photos });
      await app.sync();
      await closeApp(app);
      const r = spawnSync('mount', ['-o', 'remount,ro', mnt]);
      if (r.status !== 0) {
        spawnSync('umount', [mnt]);
        return `cannot remount tmpfs read-only (${String(r.stderr).trim()})`;
      }
      return { data: roData, photos, restore: async () => void spawnSync('umount', ['-l', mnt]) };
    }
    const app = await open(data);
    await app['folders.add']({ path: photos });
    await app.sync();
    await closeApp(app);
    const all = [data, ...(await readdir(data, { recursive: true })).map((f) => join(data, f))];
    for (const f of all.reverse()) await chmod(f, 0o555);
    return { data, photos, restore: async () => void spawnSync('chmod', ['-R', 'u+w', data]) };
  }

  it('opening or indexing a read-only data folder fails with a clear error, without crashing', async (ctx) => {
    const ro = await readOnlyData();
    if (typeof ro === 'string') {
      console.warn(`skipped: ${ro}`);
      ctx.skip();
      return;
    }
    try {
      let error: Error | null = null;
      try {
        const app = await open(ro.data);
        await app.sync();
      } catch (err) {
        error = err as Error;
      }
      expect(error, 'a read-only data folder must be refused').not.toBeNull();
      expect(error!.message).toMatch(/Cannot open the LeanLens database .*library\.db: the data folder .* is not writable: (it is on a read-only file system \(EROFS\)|permission denied)/);
      // The CLI turns it into one line on stderr and exit code 1 (no stack trace, no crash).
      const r = spawnSync(process.execPath, [BIN, '--data', ro.data, 'status', '--json'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^leanlens: Cannot open the LeanLens database .* is not writable/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      for (const app of opened.splice(0)) await app.close().catch(() => undefined);
      await ro.restore();
    }
  }, 60_000);

  it('a data folder path that cannot be created (under a file) is a clear error', async () => {
    const { dir } = await place();
    const file = join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    await expect(createApp({ dataDir: join(file, 'data') })).rejects.toThrow(/not-a-folder/);
    const r = spawnSync(process.execPath, [BIN, '--data', join(file, 'data'), 'status'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^leanlens: .*not-a-folder/m);
  });
});

describe('kill -9 during indexing (real CLI child process)', () => {
  it('a restart indexes every photo exactly once and search works', async () => {
    const { photos, data } = await place();
    const N = 80;
    const names = Object.keys(COLOURS);
    for (let i = 0; i < N; i++) {
      const base = COLOURS[names[i % names.length]!]!;
      const rgb = base.map((c) => Math.max(0, Math.min(255, c + ((i * 7) % 21) - 10))) as [number, number, number];
      await writeSolidPhoto(join(photos, `${String(i).padStart(3, '0')}-${names[i % names.length]}.jpg`), rgb, { width: 1200, height: 900, noise: 12 });
    }
    const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, '--data', data, ...args], { encoding: 'utf8', timeout: 180_000 });
    expect(cli('folders', 'add', photos).status).toBe(0);

    const dbPath = join(data, 'library.db');
    const vectorCount = () => {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('SELECT COUNT(*) FROM vectors').pluck().get() as number;
      } finally {
        db.close();
      }
    };

    // First run: SIGKILL as soon as some vectors are committed.
    const child = spawn(process.execPath, [BIN, '--data', data, 'index'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    const exit = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => ((exited = true), r({ code, signal }))));
    let atKill = 0;
    await waitFor(() => {
      if (exited) return true;
      try {
        atKill = vectorCount();
      } catch {
        return false;
      }
      return atKill >= 8;
    }, 'some vectors to be committed', 120_000);
    child.kill('SIGKILL');
    const ended = await exit;
    expect(ended.signal, 'the child must be killed mid-run, not finish first').toBe('SIGKILL');
    const partial = vectorCount();
    expect(partial).toBeGreaterThanOrEqual(8);
    expect(partial).toBeLessThan(N);

    // Restart: finishes the job.
    const again = cli('index', '--json');
    expect(again.status, again.stderr).toBe(0);
    const status = JSON.parse(again.stdout);
    expect(status).toMatchObject({ files: N, indexed: N, pending: 0, failed: 0 });

    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) FROM photos').pluck().get()).toBe(N);
      expect(db.prepare('SELECT COUNT(*) FROM vectors').pluck().get()).toBe(N);
      expect(db.prepare('SELECT COUNT(DISTINCT photo_id) FROM vectors').pluck().get()).toBe(N);
      expect(db.prepare('SELECT COUNT(DISTINCT path) FROM photos').pluck().get()).toBe(N);
    } finally {
      db.close();
    }

    const found = cli('search', 'red', '--limit', '10', '--all', '--json');
    expect(found.status, found.stderr).toBe(0);
    const hits = JSON.parse(found.stdout) as { path: string }[];
    expect(hits).toHaveLength(10);
    expect(new Set(hits.map((h) => h.path)).size).toBe(10);
    expect(hits[0]!.path).toMatch(/-red\.jpg$/);
  }, 240_000);
});
