// The query language and adaptive relevance through the real app (SQLite, hnswlib, ONNX Runtime,
// sharp) on the demo's ShapesWorld photos with the trained teacher: a negative term pushes its
// photos away, filters written as words restrict by folder name, date, type and camera, a
// filters-only query lists by date, and the default result set is the query's relevant photos.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODELS_DIR, createApp, type App } from '../../main/app/index.ts';
import { readDemo } from '../../main/app/demo.ts';
import { AppError } from '../../main/core/contract.ts';

const demo = readDemo(BUNDLED_MODELS_DIR);
const labelled = JSON.parse(readFileSync(demo.labelled, 'utf8')) as { file: string; scene: { objects: { shape: string; color: string }[] } }[];
const scenes = new Map(labelled.map((e) => [basename(e.file).replace(/\.\w+$/, ''), e.scene]));
const redCircle = (path: string) => scenes.get(basename(path).replace(/\.\w+$/, ''))!.objects.some((o) => o.shape === 'circle' && o.color === 'red');
const files = readdirSync(demo.photos).sort();
/** Photo i: odd ones in Holidays/, even ones in Work/; every third taken in July 2021, the others in July 2023. */
const folderOf = (i: number) => (i % 2 ? 'Holidays' : 'Work');
const yearOf = (i: number) => (i % 3 === 0 ? 2021 : 2023);

describe('search intent: query language and adaptive relevance', () => {
  let dir: string;
  let app: App;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leanlens-intent-'));
    const photos = join(dir, 'photos');
    for (const [i, f] of files.entries()) {
      const to = join(photos, folderOf(i));
      mkdirSync(to, { recursive: true });
      let dest = join(to, f);
      if (i === 1) {
        // One PNG copy, and one JPEG carrying a camera in its EXIF.
        dest = dest.replace(/\.jpg$/, '.png');
        await sharp(join(demo.photos, f)).png().toFile(dest);
      } else if (i === 3) {
        await sharp(join(demo.photos, f)).withExif({ IFD0: { Make: 'Apple', Model: 'iPhone 15' } }).jpeg().toFile(dest);
      } else {
        copyFileSync(join(demo.photos, f), dest);
      }
      const t = new Date(yearOf(i), 6, 1 + (i % 28), 12);
      utimesSync(dest, t, t);
    }
    app = await createApp({ dataDir: join(dir, 'data') });
    await app['models.use']({ id: demo.model, now: true });
    await app['folders.add']({ path: photos });
    const status = await app.sync();
    expect(status.indexed).toBe(files.length);
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('returns the relevant photos by default, every photo with relevance "all", and a fixed cut-off with minScore', async () => {
    const adaptive = await app['search.text']({ text: 'two red circles', limit: 200 });
    expect(adaptive.cutoff!.mode).toBe('adaptive');
    expect(adaptive.total).toBeGreaterThan(0);
    expect(adaptive.total).toBeLessThan(files.length / 4);
    expect(adaptive.cutoff!.below).toBe(files.length - adaptive.total);
    expect(adaptive.hits.every((h) => h.score >= adaptive.cutoff!.minScore!)).toBe(true);

    const all = await app['search.text']({ text: 'two red circles', limit: 200, relevance: 'all' });
    expect(all.total).toBe(files.length);
    expect(all.cutoff).toMatchObject({ mode: 'all', minScore: null, adaptive: adaptive.cutoff!.adaptive, below: 0 });
    // The relevant set is the head of the full ranking.
    expect(all.hits.slice(0, adaptive.total).map((h) => h.photo.id)).toEqual(adaptive.hits.map((h) => h.photo.id));

    const fixed = await app['search.text']({ text: 'two red circles', limit: 200, minScore: 0.5 });
    expect(fixed.cutoff).toMatchObject({ mode: 'fixed', minScore: 0.5 });
    expect(fixed.hits.every((h) => h.score >= 0.5)).toBe(true);
    expect(fixed.total + fixed.cutoff!.below).toBe(files.length);
  });

  it('"circles -red" pushes the red circles away and drops the reddest', async () => {
    const ranks = async (text: string) => {
      const r = await app['search.text']({ text, limit: 200, relevance: 'all' });
      return { total: r.total, red: r.hits.map((h, i) => (redCircle(h.photo.path) ? i : -1)).filter((i) => i >= 0), query: r.query! };
    };
    const plain = await ranks('circles');
    const negative = await ranks('circles -red');
    expect(plain.red.length).toBeGreaterThanOrEqual(3);
    expect(negative.query).toMatchObject({ positives: [{ text: 'circles', weight: 1 }], negatives: [{ text: 'red', weight: 1 }] });
    // Photos the negative's own cut-off finds red are dropped; the rest rank lower.
    expect(negative.total).toBeLessThan(plain.total);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(negative.red)).toBeGreaterThan(mean(plain.red) + 10);
    expect(Math.min(...negative.red)).toBeGreaterThan(Math.min(...plain.red));
    // "not red" is the same query.
    expect((await ranks('circles not red')).red).toEqual(negative.red);
  });

  it('filters written as words: folder name, year, month, range, type and camera; filters only list by date', async () => {
    const listed = await app['search.text']({ text: 'in:holidays 2023', limit: 200 });
    const expected = files.filter((_, i) => folderOf(i) === 'Holidays' && yearOf(i) === 2023).length;
    expect(listed.total).toBe(expected);
    expect(listed.cutoff).toMatchObject({ mode: 'all', adaptive: null });
    expect(listed.query!.chips.map((c) => c.label)).toEqual(['in holidays', '2023']);
    const taken = listed.hits.map((h) => h.photo.takenAt!);
    expect(taken).toEqual([...taken].sort((a, b) => b - a));
    expect(listed.hits.every((h) => h.photo.path.includes('/Holidays/') && new Date(h.photo.takenAt!).getFullYear() === 2023)).toBe(true);

    const red = await app['search.text']({ text: 'red in:Work before:2022', limit: 200, relevance: 'all' });
    expect(red.total).toBe(files.filter((_, i) => folderOf(i) === 'Work' && yearOf(i) === 2021).length);
    expect(red.hits[0]!.score).toBeGreaterThan(0);

    const july = await app['search.text']({ text: 'July 2023 from:2023-07-01 to:2023-07-03', limit: 200 });
    expect(july.total).toBe(files.filter((_, i) => yearOf(i) === 2023 && i % 28 < 3).length);

    const png = await app['search.text']({ text: 'type:png', limit: 10 });
    expect(png.hits.map((h) => h.photo.format)).toEqual(['png']);
    const phone = await app['search.text']({ text: 'camera:iphone', limit: 10 });
    expect(phone.hits.map((h) => h.photo.camera)).toEqual([expect.stringMatching(/iPhone 15/)]);
    // The call's own date range and the query's dates must both hold.
    const both = await app['search.text']({ text: 'in:Holidays', from: new Date(2023, 0, 1).getTime(), limit: 200 });
    expect(both.total).toBe(expected);
  });

  it('malformed queries fail with a message that says what to write, and nothing else breaks', async () => {
    for (const [text, message] of [
      ['circles "red', /never closed/],
      ['2021 2023', /no day is in all/],
      ['type:bmp', /not a photo type/],
      ['colour:red', /unknown filter/],
    ] as const) {
      const err = await app['search.text']({ text }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('invalid-argument');
      expect((err as AppError).message).toMatch(message);
    }
    expect((await app['search.text']({ text: 'circles' })).hits.length).toBeGreaterThan(0);
  });
});
