/**
 * HEIC/HEIF photos through the real decoder (libheif WebAssembly in its worker threads), real
 * sharp, and — for the library test — the real Library scan, Indexer, color-oracle ONNX model,
 * SQLite and hnswlib. The photos are the committed files in test/fixtures/heic/ (made with heif-enc).
 */
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS } from '../../main/core/model-spec.ts';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { Indexer } from '../../main/services/indexer/index.ts';
import { Library } from '../../main/services/library/index.ts';
import {
  MediaError,
  makeDisplayCopy,
  makeThumbnail,
  needsDisplayCopy,
  preparePhoto,
  preparePhotoBuffer,
  readPhotoFacts,
  stopHeicDecoders,
} from '../../main/services/media/index.ts';
import { decodeHeicFile } from '../../main/services/media/heic.ts';
import { searchByVector } from '../../main/services/search/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { COLOURS, writeHeicContainer } from '../fixtures/photos.ts';
import { resolveTestModel, tokens } from '../fixtures/vector-db.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'heic');
const fixture = (name: string) => join(FIXTURES, name);
const SIZE = CLIP_PREPROCESS.size;
const PLANE = SIZE * SIZE;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leanlens-heic-'));
});
afterAll(async () => {
  await stopHeicDecoders();
  await rm(dir, { recursive: true, force: true });
});

/** The 8-bit colour a CLIP tensor holds at (x, y), undoing the spec's normalisation. */
function rgbAt(t: Float32Array, x: number, y: number): [number, number, number] {
  const { mean, std } = CLIP_PREPROCESS;
  return [0, 1, 2].map((c) => Math.round((t[c * PLANE + y * SIZE + x]! * std[c]! + mean[c]!) * 255)) as [number, number, number];
}

const near = (got: number[], want: number[], tol: number) => got.every((v, i) => Math.abs(v - want[i]!) <= tol);

/** Mean colour of an image file's pixels, as sharp decodes them. */
async function meanRgb(file: string, region?: { left: number; top: number; width: number; height: number }): Promise<number[]> {
  // stats() reads its input, not the pipeline's output: cut the region out first.
  const input = region ? await sharp(file).extract(region).png().toBuffer() : file;
  const stats = await sharp(input).stats();
  return stats.channels.slice(0, 3).map((c) => Math.round(c.mean));
}

async function expectMediaError(p: Promise<unknown>, code: MediaError['code'], message: RegExp): Promise<MediaError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaError);
  expect((err as MediaError).code).toBe(code);
  expect((err as MediaError).message).toMatch(message);
  return err as MediaError;
}

describe('HEIC decoding', () => {
  it('decodes a red HEIC to a red tensor and reports its size and format', async () => {
    const { facts, pixels } = await preparePhoto(fixture('red.heic'), CLIP_PREPROCESS);
    expect(facts).toMatchObject({ width: 64, height: 48, format: 'heic', takenAt: null, camera: null });
    expect(pixels.length).toBe(3 * PLANE);
    // Lossy HEVC with 4:2:0 chroma: within a few steps of the colour it was made from, everywhere.
    for (const [x, y] of [[0, 0], [SIZE / 2, SIZE / 2], [SIZE - 1, SIZE - 1]] as const) {
      expect(near(rgbAt(pixels, x, y), COLOURS.red!, 8), `pixel ${x},${y}: ${rgbAt(pixels, x, y)}`).toBe(true);
    }
  });

  it('tells the colours apart (green and blue HEICs)', async () => {
    for (const name of ['green', 'blue'] as const) {
      const { pixels } = await preparePhoto(fixture(`${name}.heic`), CLIP_PREPROCESS);
      expect(near(rgbAt(pixels, SIZE / 2, SIZE / 2), COLOURS[name]!, 8), `${name}: ${rgbAt(pixels, SIZE / 2, SIZE / 2)}`).toBe(true);
    }
  });

  it('turns a photo by its irot box once, not again by its EXIF orientation, and reads its capture date and camera', async () => {
    // Stored 64x48 with red on the left; irot and EXIF Orientation 6 both say "90° clockwise".
    const file = fixture('portrait.heic');
    const { facts, pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    expect(facts).toMatchObject({ width: 48, height: 64, format: 'heic', camera: 'Apple iPhone 15' });
    expect(facts.takenAt).toBe(new Date(2023, 6, 14, 15, 30, 0).getTime());
    // Upright: red on top, blue below. Turned twice it would be landscape with blue on the left.
    expect(near(rgbAt(pixels, SIZE / 2, 10), COLOURS.red!, 12), `top ${rgbAt(pixels, SIZE / 2, 10)}`).toBe(true);
    expect(near(rgbAt(pixels, SIZE / 2, SIZE - 10), COLOURS.blue!, 12), `bottom ${rgbAt(pixels, SIZE / 2, SIZE - 10)}`).toBe(true);
    // The header-only read agrees on size and date.
    expect(await readPhotoFacts(file)).toEqual(facts);
  });

  it('decodes HEIC bytes that are not a file (a dropped photo)', async () => {
    const { facts, pixels } = await preparePhotoBuffer(await readFile(fixture('blue.heic')), CLIP_PREPROCESS);
    expect(facts).toMatchObject({ width: 64, height: 48, format: 'heic' });
    expect(near(rgbAt(pixels, 5, 5), COLOURS.blue!, 8)).toBe(true);
  });

  it('writes an upright thumbnail of a HEIC', async () => {
    const thumb = join(dir, 'thumbs', 'portrait.webp');
    await makeThumbnail(fixture('portrait.heic'), thumb, 32);
    const meta = await sharp(thumb).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 24, 32]);
    expect(near(await meanRgb(thumb, { left: 0, top: 0, width: 24, height: 12 }), COLOURS.red!, 16)).toBe(true);
    expect(near(await meanRgb(thumb, { left: 0, top: 20, width: 24, height: 12 }), COLOURS.blue!, 16)).toBe(true);
    expect((await readdir(dirname(thumb))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('makes a full-size JPEG a browser can show, for HEIC and TIFF only', async () => {
    expect(needsDisplayCopy('/p/IMG_0001.HEIC')).toBe(true);
    expect(needsDisplayCopy('/p/a.heif')).toBe(true);
    expect(needsDisplayCopy('/p/scan.tif')).toBe(true);
    expect(needsDisplayCopy('/p/a.jpg')).toBe(false);
    expect(needsDisplayCopy('/p/a.avif')).toBe(false);
    const out = join(dir, 'display', 'portrait.jpg');
    const before = await readFile(fixture('portrait.heic'));
    await makeDisplayCopy(fixture('portrait.heic'), out);
    const meta = await sharp(out).metadata();
    // Full size (never enlarged, never cut), upright, JPEG.
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 48, 64]);
    expect(near(await meanRgb(out, { left: 0, top: 0, width: 48, height: 28 }), COLOURS.red!, 12)).toBe(true);
    // The original is only read.
    expect((await readFile(fixture('portrait.heic'))).equals(before)).toBe(true);
    // A bound on the longest side still holds for HEIC.
    await makeDisplayCopy(fixture('portrait.heic'), join(dir, 'display', 'small.jpg'), 16);
    expect(await sharp(join(dir, 'display', 'small.jpg')).metadata()).toMatchObject({ width: 12, height: 16 });
  });

  it('reports a truncated HEIC as corrupt, naming the file, and writes no thumbnail', async () => {
    const file = fixture('truncated.heic');
    const e = await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'corrupt', /not a readable image: the HEIC data is damaged/);
    expect(e.path).toBe(file);
    const thumb = join(dir, 'bad', 'truncated.jpg');
    await expectMediaError(makeThumbnail(file, thumb, 32), 'corrupt', /HEIC/);
    expect(await readdir(dirname(thumb))).toEqual([]);
  });

  it('reports a .heic that is not an image at all as corrupt, like any other file', async () => {
    const file = join(dir, 'notes.heic');
    await writeFile(file, 'this is a text file, not a photo');
    await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'corrupt', /not a readable image/);
  });

  it('refuses a HEIC whose header claims more pixels than the limit, before decoding it', async () => {
    const file = join(dir, 'huge.heic');
    await writeHeicContainer(file, 30000, 30000);
    const e = await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'too-large', /too large to open/);
    expect(e.path).toBe(file);
  });

  it('decodes several HEICs at once, a bad one among them, without losing the good ones', async () => {
    const names = ['red', 'truncated', 'green', 'blue', 'red', 'green'];
    const results = await Promise.allSettled(names.map((n) => preparePhoto(fixture(`${n}.heic`), CLIP_PREPROCESS)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const colour = (i: number) => rgbAt((results[i] as PromiseFulfilledResult<{ pixels: Float32Array }>).value.pixels, 100, 100);
    expect(near(colour(0), COLOURS.red!, 8)).toBe(true);
    expect(near(colour(2), COLOURS.green!, 8)).toBe(true);
    expect(near(colour(3), COLOURS.blue!, 8)).toBe(true);
  });

  it('finishes the photos in flight when the decoders are stopped, and starts fresh ones for the next', async () => {
    // Straight to the decoder, so the job is queued before stop is called.
    const inFlight = decodeHeicFile(fixture('green.heic'), 1e6);
    await stopHeicDecoders();
    const green = await inFlight;
    expect([green.width, green.height]).toEqual([64, 48]);
    expect(near([...green.rgba.subarray(0, 3)], COLOURS.green!, 8)).toBe(true);
    const after = await preparePhoto(fixture('red.heic'), CLIP_PREPROCESS);
    expect(near(rgbAt(after.pixels, 50, 50), COLOURS.red!, 8)).toBe(true);
  });
});

const oracle = resolveTestModel('color-oracle');

describe.skipIf(!oracle)('a library of HEIC photos (Library scan → Indexer → search, color-oracle)', () => {
  it('finds, indexes and searches HEIC photos by colour; the truncated one fails with its reason', async () => {
    const root = join(dir, 'library');
    const photos = join(root, 'iPhone');
    await mkdir(photos, { recursive: true });
    for (const n of ['red', 'green', 'blue', 'portrait', 'truncated']) await copyFile(fixture(`${n}.heic`), join(photos, `${n}.heic`));
    // A different case of extension, as cameras write it.
    await copyFile(fixture('blue.heic'), join(photos, 'IMG_0002.HEIC'));

    const store = openStore(join(root, 'data', 'library.db'));
    const library = new Library({ store, ignore: [join(root, 'data')] });
    const encoder = await openEncoder(oracle!, { threads: 1, providers: ['cpu'] });
    const index = await VectorIndex.open({ store, dir: join(root, 'data', 'index'), modelId: oracle!.id, dim: oracle!.dim, log: () => {} });
    try {
      await library.addFolder(photos);
      const indexer = new Indexer({ store, encoder, index, modelId: oracle!.id, preprocess: oracle!.preprocess, decodeConcurrency: 2 });
      const failed: { path: string; reason: string }[] = [];
      indexer.on('failed', (f) => failed.push(f));
      indexer.start();
      await indexer.whenIdle();
      await indexer.stop();

      const rows = (
        store.db.prepare('SELECT path, status, width, height, taken_at AS takenAt, error FROM photos').all() as {
          path: string;
        status: string;
        width: number;
        height: number;
          takenAt: number | null;
          error: string | null;
        }[]
      )
        .map((r) => ({ ...r, name: basename(r.path) }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(rows.map((r) => [r.name, r.status])).toEqual([
        ['IMG_0002.HEIC', 'indexed'],
        ['blue.heic', 'indexed'],
        ['green.heic', 'indexed'],
        ['portrait.heic', 'indexed'],
        ['red.heic', 'indexed'],
        ['truncated.heic', 'failed'],
      ]);
      const portrait = rows.find((r) => r.name === 'portrait.heic')!;
      expect([portrait.width, portrait.height]).toEqual([48, 64]);
      expect(portrait.takenAt).toBe(new Date(2023, 6, 14, 15, 30, 0).getTime());
      expect(rows.find((r) => r.name === 'truncated.heic')!.error).toMatch(/HEIC data is damaged/);
      expect(failed.map((f) => f.path)).toEqual([join(photos, 'truncated.heic')]);
      expect(index.size).toBe(5);

      const search = async (text: string) => {
        const [q] = await encoder.encodeTexts([tokens(text)]);
        return searchByVector({ store, index, modelId: oracle!.id }, q!, {}).hits.map((h) => h.photo.name);
      };
      expect((await search('green'))[0]).toBe('green.heic');
      expect((await search('blue')).slice(0, 2).sort()).toEqual(['IMG_0002.HEIC', 'blue.heic']);
      // red.heic is all red; the portrait is half red, half blue: both above the green one.
      const red = await search('red');
      expect(red[0]).toBe('red.heic');
      expect(red.indexOf('portrait.heic')).toBeLessThan(red.indexOf('green.heic'));
    } finally {
      await library.unwatch();
      await index.close();
      await encoder.close();
      store.close();
    }
  }, 60_000);
});
