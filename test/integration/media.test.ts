import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS, type PreprocessSpec } from '../../main/core/model-spec.ts';
import {
  MediaError,
  PHOTO_EXTENSIONS,
  isPhotoPath,
  makeThumbnail,
  preparePhoto,
  preparePhotoBuffer,
  readPhotoFacts,
} from '../../main/services/media/index.ts';
import { toMediaError } from '../../main/services/media/errors.ts';
import {
  COLOURS,
  type PhotoFormat,
  writeAnimatedGif,
  writeBadFiles,
  writeHeicContainer,
  writeOversizedPng,
  writeRawPhoto,
  writeSolidPhoto,
  withExifOrientation,
} from '../fixtures/photos.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'leanlens-media-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SIZE = CLIP_PREPROCESS.size;
const PLANE = SIZE * SIZE;

/** Independent reference: CLIP's normalisation of one 8-bit value, written out from its formula. */
function expected(v: number, channel: 0 | 1 | 2, spec: PreprocessSpec = CLIP_PREPROCESS): number {
  return spec.mean && spec.std ? (v / 255 - spec.mean[channel]) / spec.std[channel] : v / 255;
}

/** Tensor value at (x, y) of channel c (CHW layout). */
function at(t: Float32Array, c: number, x: number, y: number, size = SIZE): number {
  return t[c * size * size + y * size + x];
}

/** Largest deviation of the whole tensor from a solid colour, in 8-bit steps. */
function maxStepsFromSolid(t: Float32Array, rgb: [number, number, number]): number {
  let worst = 0;
  for (let c = 0 as 0 | 1 | 2; c < 3; c++) {
    const want = expected(rgb[c], c);
    for (let i = 0; i < PLANE; i++) {
      worst = Math.max(worst, Math.abs(t[c * PLANE + i] - want) * CLIP_PREPROCESS.std[c] * 255);
    }
  }
  return worst;
}

async function expectMediaError(p: Promise<unknown>, code: MediaError['code'], message?: RegExp): Promise<MediaError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MediaError);
    const e = err as MediaError;
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
    return e;
  }
  throw new Error(`expected MediaError '${code}', but it succeeded`);
}

describe('photo file names', () => {
  it('recognises photo extensions case-insensitively', () => {
    for (const ext of ['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif', '.heic', '.heif']) {
      expect(PHOTO_EXTENSIONS.has(ext)).toBe(true);
    }
    expect(isPhotoPath('/a/b/IMG_0001.JPG')).toBe(true);
    expect(isPhotoPath('holiday.HeIc')).toBe(true);
    expect(isPhotoPath('notes.txt')).toBe(false);
    expect(isPhotoPath('jpg')).toBe(false);
    expect(isPhotoPath('/photos.jpg/readme')).toBe(false);
  });
});

describe('preparePhoto: formats', () => {
  const cases: Array<[PhotoFormat, string, number]> = [
    // [format, extension, tolerance in 8-bit steps]: lossless formats must be exact.
    ['jpeg', 'jpg', 3],
    ['png', 'png', 0],
    ['webp', 'webp', 0],
    ['tiff', 'tif', 0],
    ['gif', 'gif', 0],
    ['avif', 'avif', 3],
  ];
  it.each(cases)('decodes %s into the normalised colour everywhere', async (format, ext, tolerance) => {
    const file = join(dir, `formats/orange.${ext}`);
    const rgb = COLOURS.orange;
    await writeSolidPhoto(file, rgb, { format, lossless: true });
    const { facts, pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    expect(pixels).toBeInstanceOf(Float32Array);
    expect(pixels).toHaveLength(3 * PLANE);
    expect(facts).toMatchObject({ width: 64, height: 48, format });
    expect(maxStepsFromSolid(pixels, rgb)).toBeLessThanOrEqual(tolerance + 1e-3);
  });

  it('reads only the first frame of an animated GIF', async () => {
    const file = join(dir, 'anim.gif');
    await writeAnimatedGif(file, [COLOURS.red, COLOURS.blue, COLOURS.green]);
    expect((await sharp(file, { pages: -1 }).metadata()).pages).toBe(3);
    const { facts, pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    expect(facts).toMatchObject({ width: 64, height: 48, format: 'gif' });
    expect(maxStepsFromSolid(pixels, COLOURS.red)).toBeLessThanOrEqual(1);
  });

  it('reports a HEIC whose HEVC data is not a picture as corrupt, naming the file, but still reads its header', async () => {
    const file = join(dir, 'phone.heic');
    await writeHeicContainer(file, 64, 48);
    const e = await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'corrupt', /HEIC data is damaged/);
    expect(e.path).toBe(file);
    expect(await readPhotoFacts(file)).toMatchObject({ width: 64, height: 48, format: 'heic' });
  });
});

describe('preparePhoto: geometry', () => {
  /** A w×h PNG whose first `redColumns` columns are red and the rest blue. */
  async function leftRed(file: string, w: number, h: number, redColumns: number): Promise<void> {
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) px.set(x < redColumns ? COLOURS.red : COLOURS.blue, (y * w + x) * 3);
    await writeRawPhoto(file, px, w, h, 3, { format: 'png' });
  }

  /** First column (scanning the middle row) where the red channel is closer to blue than to red. */
  function firstBlueColumn(t: Float32Array): number {
    const mid = (expected(COLOURS.red[0], 0) + expected(COLOURS.blue[0], 0)) / 2;
    for (let x = 0; x < SIZE; x++) if (at(t, 0, x, SIZE / 2) < mid) return x;
    return SIZE;
  }

  // Downscaling, as for real photos: 896x448 with 336 red columns.
  it("'shortest' resizes the short side to 224 and crops the centre", async () => {
    // → resized 448x224 (×0.5): red ends at 168; the crop starts at (448-224)/2 = 112, so in the crop the
    // edge lies between columns 55 and 56. Bicubic blurs it symmetrically: col 55 is as far above the
    // midpoint as col 56 is below it.
    const file = join(dir, 'geom/left-red.png');
    await leftRed(file, 896, 448, 336);
    const { pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    expect(firstBlueColumn(pixels)).toBe(56);
    const mid = (expected(COLOURS.red[0], 0) + expected(COLOURS.blue[0], 0)) / 2;
    expect(at(pixels, 0, 55, 100) - mid).toBeCloseTo(mid - at(pixels, 0, 56, 100), 1);
    // Away from the edge the colours are exact, top to bottom.
    for (const y of [0, 100, 223]) {
      expect(at(pixels, 0, 10, y)).toBeCloseTo(expected(COLOURS.red[0], 0), 4);
      expect(at(pixels, 2, 200, y)).toBeCloseTo(expected(COLOURS.blue[2], 2), 4);
    }
  });

  it("'squash' resizes both sides to 224 without cropping", async () => {
    // Same image squashed to 224x224: the edge lands at 336 × 224/896 = 84.
    const file = join(dir, 'geom/left-red.png');
    const { pixels } = await preparePhoto(file, { ...CLIP_PREPROCESS, resize: 'squash' });
    expect(pixels).toHaveLength(3 * PLANE);
    expect(firstBlueColumn(pixels)).toBe(84);
  });

  it("'shortest' crops the centre of tall photos too", async () => {
    // 448x896 with the top 336 rows red, as a rotated copy of the case above: edge at row 56.
    const w = 448;
    const h = 896;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(y < 336 ? COLOURS.red : COLOURS.blue, (y * w + x) * 3);
    const file = join(dir, 'geom/top-red.png');
    await writeRawPhoto(file, px, w, h, 3, { format: 'png' });
    const { pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    const mid = (expected(COLOURS.red[0], 0) + expected(COLOURS.blue[0], 0)) / 2;
    expect(at(pixels, 0, 100, 55)).toBeGreaterThan(mid);
    expect(at(pixels, 0, 100, 56)).toBeLessThan(mid);
  });

  it('honours another input size', async () => {
    const file = join(dir, 'geom/small.png');
    await writeSolidPhoto(file, COLOURS.green, { format: 'png', width: 300, height: 200 });
    const { pixels } = await preparePhoto(file, { ...CLIP_PREPROCESS, size: 32 });
    expect(pixels).toHaveLength(3 * 32 * 32);
    expect(pixels[0]).toBeCloseTo(expected(COLOURS.green[0], 0), 4);
  });

  it('applies EXIF orientation: Orientation=6 matches an upright reference', async () => {
    // Stored 64x48 landscape: left half red, right half blue. Orientation 6 = rotate 90° clockwise,
    // so it displays as 48x64 with red on top and blue below.
    const w = 64;
    const h = 48;
    const stored = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) stored.set(x < w / 2 ? COLOURS.red : COLOURS.blue, (y * w + x) * 3);
    const rotatedFile = join(dir, 'orient/rotated.png');
    await writeRawPhoto(rotatedFile, stored, w, h, 3, { format: 'png', exif: { Orientation: 6 } });
    expect((await sharp(rotatedFile).metadata()).orientation).toBe(6);

    const upright = Buffer.alloc(w * h * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < h; x++) upright.set(y < w / 2 ? COLOURS.red : COLOURS.blue, (y * h + x) * 3);
    const uprightFile = join(dir, 'orient/upright.png');
    await writeRawPhoto(uprightFile, upright, h, w, 3, { format: 'png' });

    const rotated = await preparePhoto(rotatedFile, CLIP_PREPROCESS);
    const reference = await preparePhoto(uprightFile, CLIP_PREPROCESS);
    expect(rotated.facts).toMatchObject({ width: 48, height: 64 });
    expect(await readPhotoFacts(rotatedFile)).toMatchObject({ width: 48, height: 64 });
    let worst = 0;
    for (let i = 0; i < rotated.pixels.length; i++) worst = Math.max(worst, Math.abs(rotated.pixels[i] - reference.pixels[i]));
    expect(worst).toBeLessThan(1e-5);
    expect(at(rotated.pixels, 0, SIZE / 2, 5)).toBeCloseTo(expected(COLOURS.red[0], 0), 4); // top is red
    expect(at(rotated.pixels, 2, SIZE / 2, SIZE - 5)).toBeCloseTo(expected(COLOURS.blue[2], 2), 4); // bottom is blue
  });

  it('also rotates JPEGs (the usual case for phone photos)', async () => {
    const file = join(dir, 'orient/rotated.jpg');
    await writeSolidPhoto(file, COLOURS.purple, { width: 80, height: 40, exif: { Orientation: 6 } });
    const { facts } = await preparePhoto(file, CLIP_PREPROCESS);
    expect(facts).toMatchObject({ width: 40, height: 80, format: 'jpeg' });
  });

  it('decodes an EXIF-rotated camera JPEG like the same photo upright: shrunk on load, then turned', async () => {
    // A detailed 2400x1600 JPEG and the very same bytes with an EXIF Orientation=6 block. The
    // upright one is shrunk while decoding (JPEG shrink-on-load); the rotated one must be too,
    // then be turned after resizing — its tensor is then exactly the other's turned 90° clockwise.
    // Turning before resizing (what sharp does when asked to crop after auto-orienting) rules out
    // shrink-on-load: a full-size decode, ~6× the CPU on 12 MP photos, and other pixels.
    const w = 2400;
    const h = 1600;
    const px = Buffer.alloc(w * h * 3);
    let seed = 7;
    for (let i = 0; i < px.length; i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      const x = Math.floor(i / 3) % w;
      px[i] = Math.min(255, Math.floor((x / w) * 160) + (seed >>> 26)); // a gradient with grain
    }
    const jpeg = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const uprightFile = join(dir, 'orient/camera-upright.jpg');
    const rotatedFile = join(dir, 'orient/camera-rotated.jpg');
    await writeFile(uprightFile, jpeg);
    await writeFile(rotatedFile, withExifOrientation(jpeg, 6));
    expect((await sharp(rotatedFile).metadata()).orientation).toBe(6);

    const upright = await preparePhoto(uprightFile, CLIP_PREPROCESS);
    const rotated = await preparePhoto(rotatedFile, CLIP_PREPROCESS);
    expect(rotated.facts).toMatchObject({ width: h, height: w });
    // Turned 90° clockwise: the rotated tensor's (x, y) is the upright one's (y, 223 - x).
    let worst = 0;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++) worst = Math.max(worst, Math.abs(at(rotated.pixels, c, x, y) - at(upright.pixels, c, y, SIZE - 1 - x)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('flattens transparency onto white', async () => {
    const w = 32;
    const h = 32;
    const px = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) px.set([...COLOURS.red, i < (w * h) / 2 ? 0 : 128], i * 4); // top half clear, bottom half 50%
    const file = join(dir, 'alpha.png');
    await writeRawPhoto(file, px, w, h, 4, { format: 'png' });
    expect((await sharp(file).metadata()).hasAlpha).toBe(true);
    const { pixels } = await preparePhoto(file, CLIP_PREPROCESS);
    // Fully transparent → white.
    for (const c of [0, 1, 2] as const) expect(at(pixels, c, 100, 10)).toBeCloseTo(expected(255, c), 4);
    // alpha 128/255 over white: v·a + 255·(1−a), by hand for red (220,30,30) → 237.4, 142.4, 142.4.
    const a = 128 / 255;
    for (const c of [0, 1, 2] as const) {
      const blended = COLOURS.red[c] * a + 255 * (1 - a);
      expect(Math.abs(at(pixels, c, 100, 200) - expected(blended, c)) * CLIP_PREPROCESS.std[c] * 255).toBeLessThanOrEqual(1);
    }
  });
});

describe('photo facts', () => {
  it('reads capture time (local) and camera from EXIF', async () => {
    const file = join(dir, 'facts/exif.jpg');
    await writeSolidPhoto(file, COLOURS.gray, {
      exif: { DateTimeOriginal: '2021:07:14 15:30:05', Make: 'Canon', Model: 'Canon EOS 5D Mark IV' },
    });
    const want = { width: 64, height: 48, format: 'jpeg', takenAt: new Date(2021, 6, 14, 15, 30, 5).getTime(), camera: 'Canon EOS 5D Mark IV' };
    expect(await readPhotoFacts(file)).toEqual(want);
    expect((await preparePhoto(file, CLIP_PREPROCESS)).facts).toEqual(want);
  });

  it('joins Make and Model when the model does not repeat the make', async () => {
    const file = join(dir, 'facts/make.webp');
    await writeSolidPhoto(file, COLOURS.gray, { format: 'webp', exif: { Make: 'FUJIFILM ', Model: ' X-T3' } });
    expect(await readPhotoFacts(file)).toMatchObject({ camera: 'FUJIFILM X-T3', takenAt: null, format: 'webp' });
  });

  it('gives nulls when there is no EXIF', async () => {
    const file = join(dir, 'facts/plain.png');
    await writeSolidPhoto(file, COLOURS.gray, { format: 'png' });
    expect(await readPhotoFacts(file)).toEqual({ width: 64, height: 48, format: 'png', takenAt: null, camera: null });
  });
});

describe('bad input', () => {
  let bad: Record<string, string>;
  beforeAll(async () => {
    bad = await writeBadFiles(join(dir, 'bad'));
  });

  it('zero-byte file → empty', async () => {
    await expectMediaError(preparePhoto(bad['zero-byte.jpg'], CLIP_PREPROCESS), 'empty', /empty \(0 bytes\)/);
    await expectMediaError(readPhotoFacts(bad['zero-byte.jpg']), 'empty');
  });

  it('truncated JPEG → corrupt, naming the reason', async () => {
    await expectMediaError(preparePhoto(bad['truncated.jpg'], CLIP_PREPROCESS), 'corrupt', /^not a readable image: .*premature end/i);
  });

  it('corrupt JPEG → corrupt', async () => {
    await expectMediaError(preparePhoto(bad['corrupt.jpg'], CLIP_PREPROCESS), 'corrupt', /^not a readable image: /);
  });

  it('text file with a photo extension → corrupt', async () => {
    await expectMediaError(preparePhoto(bad['notanimage.jpg'], CLIP_PREPROCESS), 'corrupt', /not in any known image format/);
    await expectMediaError(readPhotoFacts(bad['notanimage.jpg']), 'corrupt');
  });

  it('vanished file → missing', async () => {
    const e = await expectMediaError(preparePhoto(join(dir, 'gone.jpg'), CLIP_PREPROCESS), 'missing', /no longer exists/);
    expect(e.path).toBe(join(dir, 'gone.jpg'));
    await expectMediaError(readPhotoFacts(join(dir, 'gone.jpg')), 'missing');
  });

  it('a folder → unreadable', async () => {
    await expectMediaError(preparePhoto(join(dir, 'bad'), CLIP_PREPROCESS), 'unreadable', /folder/);
  });

  it('permission denied → unreadable', async () => {
    // A real EACCES needs a non-root user; root reads everything, so check the mapping directly too.
    const mapped = toMediaError(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), '/x.jpg', 1);
    expect(mapped.code).toBe('unreadable');
    expect(mapped.message).toMatch(/permission denied/);
    if (process.getuid?.() === 0) {
      console.warn('media.test: running as root, so the on-disk EACCES case is skipped (mapping checked above)');
      return;
    }
    const file = join(dir, 'locked.jpg');
    await writeSolidPhoto(file, COLOURS.red);
    await chmod(file, 0o000);
    try {
      await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'unreadable', /permission denied/);
    } finally {
      await chmod(file, 0o644);
    }
  });

  it('absurd dimensions → too-large, refused from the header', async () => {
    const file = join(dir, 'huge-header.png');
    await writeOversizedPng(file, 30000, 30000);
    await expectMediaError(preparePhoto(file, CLIP_PREPROCESS), 'too-large', /too large.*300 megapixels/);
  });

  it('one bad file does not disturb the next good one', async () => {
    const good = join(dir, 'bad/good.jpg');
    await writeSolidPhoto(good, COLOURS.blue);
    const results = await Promise.allSettled(
      [bad['truncated.jpg'], good, bad['notanimage.jpg']].map((p) => preparePhoto(p, CLIP_PREPROCESS)),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
  });
});

describe('preparePhotoBuffer', () => {
  it('gives the same result as the file it came from', async () => {
    const file = join(dir, 'buffer/src.jpg');
    await writeSolidPhoto(file, COLOURS.pink, { noise: 20, width: 100, height: 70, exif: { Model: 'Pixel 8' } });
    const fromFile = await preparePhoto(file, CLIP_PREPROCESS);
    const fromBuffer = await preparePhotoBuffer(await readFile(file), CLIP_PREPROCESS);
    expect(fromBuffer.facts).toEqual(fromFile.facts);
    expect(fromBuffer.facts.camera).toBe('Pixel 8');
    expect(Array.from(fromBuffer.pixels)).toEqual(Array.from(fromFile.pixels));
  });

  it('rejects empty and non-image bytes', async () => {
    await expectMediaError(preparePhotoBuffer(Buffer.alloc(0), CLIP_PREPROCESS), 'empty');
    const e = await expectMediaError(preparePhotoBuffer(Buffer.from('hello'), CLIP_PREPROCESS), 'corrupt');
    expect(e.path).toBeNull();
  });
});

describe('makeThumbnail', () => {
  const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');

  it('writes an upright JPEG no larger than maxSize and leaves the source untouched', async () => {
    const src = join(dir, 'thumb/src.jpg');
    await writeSolidPhoto(src, COLOURS.brown, { width: 600, height: 300, noise: 10, exif: { Orientation: 6 } });
    const before = await sha(src);
    const mtime = (await stat(src)).mtimeMs;
    const dest = join(dir, 'thumb/cache/nested/deeper/t.jpg');
    await makeThumbnail(src, dest, 128);
    const meta = await sharp(dest).metadata();
    expect(meta.format).toBe('jpeg');
    expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(128);
    expect({ w: meta.width, h: meta.height }).toEqual({ w: 64, h: 128 }); // rotated to portrait, aspect kept
    expect(meta.orientation ?? 1).toBe(1);
    expect(await sha(src)).toBe(before);
    expect((await stat(src)).mtimeMs).toBe(mtime);
    expect((await readdir(join(dir, 'thumb/cache/nested/deeper'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes WebP for a .webp destination and never enlarges small photos', async () => {
    const src = join(dir, 'thumb/small.png');
    await writeSolidPhoto(src, COLOURS.yellow, { format: 'png', width: 50, height: 40 });
    const dest = join(dir, 'thumb/small.webp');
    await makeThumbnail(src, dest, 256);
    const meta = await sharp(dest).metadata();
    expect(meta.format).toBe('webp');
    expect({ w: meta.width, h: meta.height }).toEqual({ w: 50, h: 40 });
  });

  it('replaces an existing thumbnail in one step', async () => {
    const src = join(dir, 'thumb/src.jpg');
    const dest = join(dir, 'thumb/replace.jpg');
    await writeFile(dest, 'old');
    await makeThumbnail(src, dest, 32);
    expect((await sharp(dest).metadata()).format).toBe('jpeg');
  });

  it('fails with a MediaError and leaves no file for a broken source', async () => {
    const bad = await writeBadFiles(join(dir, 'thumb-bad'));
    const dest = join(dir, 'thumb-bad/out/t.jpg');
    await expectMediaError(makeThumbnail(bad['truncated.jpg'], dest, 64), 'corrupt');
    await expectMediaError(makeThumbnail(bad['zero-byte.jpg'], dest, 64), 'empty');
    await expect(stat(dest)).rejects.toThrow();
    expect(await readdir(join(dir, 'thumb-bad/out'))).toEqual([]);
  });
});

describe('huge photos', () => {
  it(
    'decodes a 200-megapixel JPEG without holding it at full size in memory',
    async () => {
      const file = join(dir, 'huge.jpg');
      const w = 16384;
      const h = 12288;
      // Streamed straight to disk; optimiseCoding off so the encoder does not buffer the whole image.
      await sharp({ create: { width: w, height: h, channels: 3, background: { r: 40, g: 120, b: 200 } }, limitInputPixels: false })
        .jpeg({ quality: 30, optimiseCoding: false })
        .toFile(file);
      expect((await sharp(file).metadata()).width).toBe(w);

      const fullRaw = w * h * 3; // ≈ 604 MB if decoded at full size
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 2);
      let result;
      try {
        result = await preparePhoto(file, CLIP_PREPROCESS);
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(result.facts).toMatchObject({ width: w, height: h, format: 'jpeg' });
      expect(maxStepsFromSolid(result.pixels, [40, 120, 200])).toBeLessThanOrEqual(3);
      expect(peak - before).toBeLessThan(fullRaw / 4);
    },
    120_000,
  );
});
