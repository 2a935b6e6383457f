/**
 * Text in photos end to end through the composed App: the real Tesseract engine (tesseract.js in
 * worker threads), real sharp, SQLite with FTS5, the bundled color-oracle model. A few generated
 * photos only (OCR is the slowest thing here and the machine is shared).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { createApp, type App } from '../../main/app/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { saveReading, TextEngine, findText, mayHaveText, FIRST_LOOK_SIZE, loadReader } from '../../main/services/text/index.ts';
import { readGreyscale } from '../../main/services/media/index.ts';
import { parseTextQuery } from '../../main/core/text-query.ts';
import { makeTextPhotos, type TextPhoto } from '../fixtures/text-photos.ts';
import { addFolder, addPhoto, tempStore } from '../fixtures/vector-db.ts';

let root: string;
let shots: string;
let app: App;
let set: TextPhoto[];
const byName = (name: string) => set.find((p) => p.file.includes(name))!;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'leanlens-text-'));
  set = await makeTextPhotos(join(root, 'made'), { signs: 2, screenshots: 2, none: 1 });
  shots = join(root, 'Screenshots');
  mkdirSync(shots);
  for (const name of ['sign-00-bakery.jpg', 'screenshot-00.png', 'screenshot-01.png', 'photo-00.jpg']) copyFileSync(byName(name).file, join(shots, name));
  // The same sign, stored turned a quarter and tagged EXIF orientation 6: displayed upright.
  await sharp(byName('sign-01-pharmacy.jpg').file).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toFile(join(shots, 'rotated-pharmacy.jpg'));
  app = await createApp({ dataDir: join(root, 'data') });
  await app['folders.add']({ path: shots });
  await app.sync();
}, 240_000);

afterAll(async () => {
  await app?.close();
  rmSync(root, { recursive: true, force: true });
});

const idOf = (name: string) => app.photoIdByPath(join(shots, name))!;

describe('text in photos', () => {
  it('reads a folder named Screenshots after embedding, and counts what it read', async () => {
    const [folder] = await app['folders.list']({});
    expect(folder!.ocr).toBe(true);
    const s = await app['index.status']({});
    expect(s.text).toMatchObject({ read: 5, withText: 4, pending: 0, failed: 0, enabled: true });
  });

  it('skips a photo without text at the first look, and stores words with boxes for the others', async () => {
    expect(await app['text.get']({ photoId: idOf('photo-00.jpg') })).toMatchObject({ state: 'none', words: [] });
    const sign = await app['text.get']({ photoId: idOf('sign-00-bakery.jpg') });
    expect(sign.state).toBe('text');
    const bakery = sign.words.find((w) => w.text === 'BAKERY');
    expect(bakery, sign.text).toBeDefined();
    // The sign sits in the middle of the photo: its word box says so, as fractions of the photo.
    const [x0, y0, x1, y1] = bakery!.box;
    expect(x0).toBeGreaterThan(0.2);
    expect(x1).toBeLessThan(0.8);
    expect(y0).toBeGreaterThan(0.2);
    expect(y1).toBeLessThan(0.8);
    expect(x1).toBeGreaterThan(x0);
  });

  it('reads a rotated photo in its displayed orientation (EXIF)', async () => {
    const t = await app['text.get']({ photoId: idOf('rotated-pharmacy.jpg') });
    expect(t.text).toMatch(/PHARMACY/);
    const w = t.words.find((x) => x.text === 'PHARMACY')!;
    // Upright: the word is wider than tall.
    expect(w.box[2] - w.box[0]).toBeGreaterThan(w.box[3] - w.box[1]);
  });

  it('finds photos by their words: fuzzy, numbers exact, phrases in order, with a text badge', async () => {
    const invoice = await app['search.text']({ text: 'invoce' });
    expect(invoice.hits[0]!.photo.name).toBe('screenshot-00.png');
    expect(invoice.hits[0]!.textMatch).toMatchObject({ words: ['invoice'] });
    expect(invoice.hits.filter((h) => h.textMatch)).toHaveLength(1);

    const both = await app['search.text']({ text: 'invoice 4471' });
    expect(both.hits[0]!.textMatch!.score).toBe(1);
    expect((await app['search.text']({ text: '4472', textOnly: true })).hits).toHaveLength(0);

    const gate = await app['search.text']({ text: '"gate b14"', textOnly: true });
    expect(gate.hits.map((h) => h.photo.name)).toEqual(['screenshot-01.png']);
    expect((await app['search.text']({ text: '"b14 gate"', textOnly: true })).hits).toHaveLength(0);
  });

  it('keeps a text match above the relevance cut-off, and text-only keeps nothing else', async () => {
    const r = await app['search.text']({ text: 'bakery', minScore: 0.99 });
    expect(r.hits.map((h) => h.photo.name)).toEqual(['sign-00-bakery.jpg']);
    expect(r.total).toBe(1);
    const only = await app['search.text']({ text: 'bakery', textOnly: true });
    expect(only.hits.map((h) => h.photo.name)).toEqual(['sign-00-bakery.jpg']);
  });

  it('keeps the text of a renamed photo and reads an edited one again', async () => {
    const store = openStore(join(root, 'data', 'library.db'));
    const readAt = () => store.db.prepare<[], number>("SELECT read_at FROM photo_text WHERE text LIKE '%BAKERY%'").pluck().get();
    const before = readAt();
    renameSync(join(shots, 'sign-00-bakery.jpg'), join(shots, 'renamed.jpg'));
    // Edited: other bytes (the museum sign) under an old name.
    copyFileSync(byName('sign-01-pharmacy.jpg').file, join(shots, 'screenshot-01.png'));
    await app.sync();
    expect(readAt()).toBe(before);
    expect((await app['search.text']({ text: 'bakery', textOnly: true })).hits.map((h) => h.photo.name)).toEqual(['renamed.jpg']);
    expect((await app['search.text']({ text: 'boarding', textOnly: true })).hits).toHaveLength(0);
    expect((await app['text.get']({ photoId: idOf('screenshot-01.png') })).text).toMatch(/PHARMACY/);
    store.close();
  });

  it('reads nothing in a folder switched off, and --no-ocr style syncs leave photos pending', async () => {
    const other = join(root, 'Holiday');
    mkdirSync(other);
    // Content never read before (text is keyed by content: a copy of a read photo has its text).
    const label = await sharp({ text: { text: '<span size="60pt">LIGHTHOUSE</span>', rgba: false, dpi: 150 } }).png().toBuffer();
    await sharp({ create: { width: 900, height: 500, channels: 3, background: '#ffffff' } }).composite([{ input: label, left: 60, top: 150 }]).jpeg().toFile(join(other, 'sign.jpg'));
    const folder = await app['folders.add']({ path: other });
    expect(folder.ocr).toBe(false);
    await app.sync();
    expect((await app['text.get']({ photoId: app.photoIdByPath(join(other, 'sign.jpg'))! })).state).toBe('off');
    await app['folders.setOcr']({ id: folder.id, on: true });
    await app.sync(undefined, { ocr: false });
    expect((await app['index.status']({})).text!.pending).toBe(1);
    await app.sync();
    expect((await app['text.get']({ photoId: app.photoIdByPath(join(other, 'sign.jpg'))! })).state).toBe('text');
  });
});

describe('text engine and pass', () => {
  it('fails clearly when a language is not installed', () => {
    expect(() => new TextEngine({ workers: 1, languages: ['fra'] })).toThrow(/npm install @tesseract.js-data\/fra/);
  });

  it('gives up on a photo that takes too long, with the reason', async () => {
    const engine = new TextEngine({ workers: 1, timeoutMs: 20 });
    const { readPhoto } = await loadReader();
    const r = await readPhoto(engine, byName('screenshot-00').file);
    await engine.close();
    expect(r).toMatchObject({ state: 'failed', error: expect.stringMatching(/longer than/) });
  });

  it('stores a failure for a corrupt photo and a huge one is read downscaled', async () => {
    const engine = new TextEngine({ workers: 1 });
    const { readPhoto } = await loadReader();
    const corrupt = join(root, 'corrupt.jpg');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]));
    const bad = await readPhoto(engine, corrupt);
    expect(bad.state).toBe('failed');
    expect(bad.error).toMatch(/corrupt|not a readable|unsupported|image/i);

    // 9,000 × 6,000 (54 MP) with one line of text.
    const label = await sharp({ text: { text: '<span size="120pt">HARBOUR</span>', rgba: false, dpi: 300 } }).png().toBuffer();
    const huge = join(root, 'huge.jpg');
    await sharp({ create: { width: 9000, height: 6000, channels: 3, background: '#ffffff' } })
      .composite([{ input: label, left: 2000, top: 2500 }])
      .jpeg()
      .toFile(huge);
    const big = await readPhoto(engine, huge);
    await engine.close();
    expect(big.state, big.error ?? '').toBe('text');
    expect(big.text).toMatch(/HARBOUR/);
  });

  it('finds a word among 10,000 words of one photo, and fuzzy lookups stay in the index', () => {
    const store = openStore(join(root, 'data', 'library.db'));
    const words = Array.from({ length: 10_000 }, (_, i) => `word${i}`);
    words[7777] = 'lighthouse';
    saveReading(store, 'h-10k', {
      state: 'text', text: words.join(' '), confidence: 90, skipped: false, error: null, engine: 't', ms: 1,
      words: words.map((t) => ({ text: t, confidence: 90, box: [0, 0, 0.01, 0.01] as [number, number, number, number] })),
    });
    const found = findText(store, parseTextQuery('lighthuose'));
    expect(found.get('h-10k')).toMatchObject({ matched: ['lighthouse'] });
    store.close();
  });

  it('the first look passes text and skips a plain photo', async () => {
    expect(mayHaveText(await readGreyscale(byName('sign-00').file, FIRST_LOOK_SIZE))).toBe(true);
    expect(mayHaveText(await readGreyscale(byName('photo-00').file, FIRST_LOOK_SIZE))).toBe(false);
  });

  it('reads a sign photographed at a tilt (straightened first), its word box on the sign', async () => {
    // The level pharmacy sign turned 14° clockwise on a larger canvas: Tesseract alone misses
    // tilts like this (deskew.ts); straightened, the word is read and boxed where it is.
    const tilted = join(root, 'tilted-pharmacy.jpg');
    await sharp(byName('sign-01-pharmacy.jpg').file).rotate(14, { background: '#777777' }).jpeg().toFile(tilted);
    const { readPhoto } = await loadReader();
    const engine = new TextEngine({ workers: 1 });
    try {
      const r = await readPhoto(engine, tilted);
      const w = r.words.find((x) => x.text === 'PHARMACY');
      expect(w, r.text).toBeDefined();
      // The sign is in the middle of the photo; the box (of the tilted word) stays inside it.
      const [x0, y0, x1, y1] = w!.box;
      expect(x0).toBeGreaterThan(0.15);
      expect(x1).toBeLessThan(0.85);
      expect(y0).toBeGreaterThan(0.15);
      expect(y1).toBeLessThan(0.85);
      expect(x1 - x0).toBeGreaterThan(y1 - y0);
    } finally {
      await engine.close();
    }
  }, 60_000);

  it('waits while embedding works, pauses between photos and resumes', async () => {
    const { store } = tempStore();
    const folder = addFolder(store, shots);
    const id = addPhoto(store, { folderId: folder, path: byName('screenshot-00').file, status: 'indexed' });
    store.db.prepare("UPDATE photos SET hash = 'h-wait' WHERE id = ?").run(id);
    let embedding = true;
    const engine = new TextEngine({ workers: 1 });
    const { TextReader } = await loadReader();
    const reader = new TextReader({ store, engine: () => engine, folders: () => [{ id: folder, path: shots }], enabled: () => true, busy: () => embedding, pollMs: 50 });
    reader.start();
    await new Promise((r) => setTimeout(r, 600));
    // Embedding first: nothing read while it works.
    expect(reader.progress()).toMatchObject({ state: 'running', done: 0, total: 1 });
    reader.pause();
    await reader.whenIdle();
    expect(reader.progress().state).toBe('paused');
    embedding = false;
    await new Promise((r) => setTimeout(r, 200));
    expect(reader.progress().done).toBe(0);
    reader.resume();
    await reader.whenIdle();
    expect(reader.progress()).toMatchObject({ state: 'idle', done: 1 });
    expect(findText(store, parseTextQuery('northwind')).has('h-wait')).toBe(true);
    await reader.close();
    await engine.close();
    store.close();
  });

  it('reads with the network unreachable (nothing is downloaded)', () => {
    if (spawnSync('unshare', ['-rn', 'true']).status !== 0) return void console.warn('skipped: unshare -rn is not available here');
    const script = `
      import { TextEngine } from ${JSON.stringify(resolve('main/services/text/index.ts'))};
      import { loadReader } from ${JSON.stringify(resolve('main/services/text/index.ts'))};
      const engine = new TextEngine({ workers: 1 });
      const r = await (await loadReader()).readPhoto(engine, ${JSON.stringify(byName('screenshot-01').file)});
      await engine.close();
      console.log(JSON.stringify(r));`;
    // A file, not -e: worker threads inherit the command line's flags, and --input-type breaks them.
    const file = join(root, 'offline.mts');
    writeFileSync(file, script);
    const run = spawnSync('unshare', ['-rn', process.execPath, '--import', 'tsx', file], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').pop()!).text).toMatch(/Boarding/);
  });
});
