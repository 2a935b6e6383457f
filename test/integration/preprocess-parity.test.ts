/**
 * The app's encoder tensors against each model family's reference pipeline, re-done in Python/PIL
 * by test/fixtures/preprocess/make_reference.py (see its header for the exact recipes). The
 * committed reference crops are uint8 RGB before normalisation; normalisation is linear, so both
 * sides go through the same toClipTensor and the difference is in the model's own units.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS, type PreprocessSpec } from '../../main/core/model-spec.ts';
import { toClipTensor } from '../../main/core/preprocess.ts';
import { makeThumbnail, preparePhoto } from '../../main/services/media/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'preprocess');
const COCO = join(ROOT, '..', 'shared', 'data', 'coco-mini', 'images');
const BUDGET = 0.01;

type Recipe = 'openai-clip' | 'mobileclip-ente';

interface Fixture {
  kind: 'coco' | 'odd';
  source: string;
  recipe: Recipe;
  sha256: string;
  reference: string;
  resized: [number, number];
  cropOffset: [number, number];
  storedSize: [number, number];
  displayedSize: [number, number];
  mode: string;
  exifOrientation: number;
  hasIcc: boolean;
}

interface IccPatch {
  name: string;
  rgb: [number, number, number];
  box: [number, number, number, number];
  srgb: [number, number, number];
}

const index = JSON.parse(readFileSync(join(FIXTURES, 'index.json'), 'utf8')) as {
  fixtures: Fixture[];
  iccPatches: { source: string; patches: IccPatch[] };
};

/** The manifest settings of each family, as the catalog states them. */
const SPECS: Record<Recipe, PreprocessSpec> = {
  'openai-clip': CLIP_PREPROCESS,
  'mobileclip-ente': { size: 256, resize: 'cover', interpolation: 'bilinear', mean: null, std: null },
};

function sourcePath(f: Fixture): string {
  return f.kind === 'coco' ? join(COCO, f.source) : join(FIXTURES, f.source);
}

async function referenceTensor(f: Fixture): Promise<Float32Array> {
  const spec = SPECS[f.recipe];
  const { data, info } = await sharp(join(FIXTURES, f.reference)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([spec.size, spec.size, 3]);
  return toClipTensor(new Uint8Array(data.buffer, data.byteOffset, data.length), spec.size, spec.size, spec.mean, spec.std);
}

function difference(a: Float32Array, b: Float32Array): { mad: number; max: number } {
  expect(a.length).toBe(b.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mad: sum / a.length, max };
}

const measured: Array<{ fixture: Fixture; mad: number; max: number }> = [];

afterAll(() => {
  if (measured.length === 0) return;
  const lines = measured.map(
    ({ fixture: f, mad, max }) =>
      `${f.recipe.padEnd(16)} ${f.source.padEnd(36)} mean ${mad.toFixed(4)}  max ${max.toFixed(3)}${f.hasIcc ? '  (ICC)' : ''}`,
  );
  for (const recipe of Object.keys(SPECS) as Recipe[]) {
    for (const kind of ['coco', 'odd'] as const) {
      const rows = measured.filter((m) => m.fixture.recipe === recipe && m.fixture.kind === kind);
      if (rows.length === 0) continue;
      const mean = rows.reduce((s, r) => s + r.mad, 0) / rows.length;
      const worst = Math.max(...rows.map((r) => r.mad));
      const peak = Math.max(...rows.map((r) => r.max));
      lines.push(`${recipe} ${kind} (${rows.length}): mean of MADs ${mean.toFixed(4)}, worst MAD ${worst.toFixed(4)}, largest element diff ${peak.toFixed(3)}`);
    }
  }
  console.log(`preprocessing parity (normalised units, budget MAD ≤ ${BUDGET}):\n${lines.join('\n')}`);
});

function parityCase(f: Fixture): () => Promise<void> {
  return async () => {
    const src = sourcePath(f);
    const sha = createHash('sha256').update(readFileSync(src)).digest('hex');
    expect(sha, `${f.source} is not the photo the reference was made from`).toBe(f.sha256);
    const { facts, pixels } = await preparePhoto(src, SPECS[f.recipe]);
    expect([facts.width, facts.height]).toEqual(f.displayedSize);
    const { mad, max } = difference(pixels, await referenceTensor(f));
    measured.push({ fixture: f, mad, max });
    expect(mad, `${f.recipe} ${f.source}: mean abs diff ${mad}`).toBeLessThanOrEqual(BUDGET);
  };
}

describe('preprocessing parity with the reference pipelines: odd photos (committed)', () => {
  for (const f of index.fixtures.filter((x) => x.kind === 'odd')) {
    it(`${f.recipe}: ${f.source}`, parityCase(f));
  }

  it('enlarges small PNGs bit for bit like Pillow (no JPEG decoder in between)', async () => {
    // tiny.png is enlarged by both recipes; alpha.png (320x240) only by the 256 cover one.
    const enlarged = index.fixtures.filter(
      (f) => f.source.endsWith('.png') && (f.resized[0] > f.displayedSize[0] || f.resized[1] > f.displayedSize[1]),
    );
    expect(enlarged.map((f) => `${f.source} ${f.recipe}`).sort()).toEqual([
      'sources/alpha.png mobileclip-ente',
      'sources/tiny.png mobileclip-ente',
      'sources/tiny.png openai-clip',
    ]);
    for (const f of enlarged) {
      const { pixels } = await preparePhoto(sourcePath(f), SPECS[f.recipe]);
      const { max } = difference(pixels, await referenceTensor(f));
      if (f.source === 'sources/tiny.png') {
        expect(max, `${f.source} ${f.recipe}`).toBe(0);
      } else {
        // Flattening onto white rounds differently in libvips and PIL's alpha_composite: at most
        // one 8-bit step (1/255 in this recipe's units), which the resampling then carries through.
        expect(max, `${f.source} ${f.recipe}`).toBeLessThanOrEqual(1 / 255 + 1e-6);
      }
    }
  });

  it('applies EXIF orientation like ImageOps.exif_transpose (the photo as displayed)', async () => {
    const f = index.fixtures.find((x) => x.source === 'sources/exif-rotated.jpg' && x.recipe === 'openai-clip')!;
    expect(f.exifOrientation).toBe(6);
    expect(f.storedSize).toEqual([300, 400]);
    expect(f.displayedSize).toEqual([400, 300]);
    const { facts, pixels } = await preparePhoto(sourcePath(f), SPECS[f.recipe]);
    expect([facts.width, facts.height]).toEqual([400, 300]);
    expect(difference(pixels, await referenceTensor(f)).mad).toBeLessThanOrEqual(BUDGET);
  });
});

describe('embedded ICC profile: the tensor ignores it like the references, thumbnails honour it', () => {
  const src = join(FIXTURES, index.iccPatches.source);
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'leanlens-icc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the test photo really carries a non-sRGB profile', async () => {
    const meta = await sharp(src).metadata();
    expect(meta.icc?.length ?? 0).toBeGreaterThan(100);
    expect(index.fixtures.filter((f) => f.source === index.iccPatches.source).every((f) => f.hasIcc)).toBe(true);
  });

  it.each(['openai-clip', 'mobileclip-ente'] as const)('%s: tensor matches PIL (profile ignored), a colour-managed tensor would not', async (recipe) => {
    const f = index.fixtures.find((x) => x.source === index.iccPatches.source && x.recipe === recipe)!;
    const spec = SPECS[recipe];
    const reference = await referenceTensor(f);
    const { pixels } = await preparePhoto(src, spec);
    expect(difference(pixels, reference).mad).toBeLessThanOrEqual(BUDGET);

    // Control: the same geometry through sharp's default colour management (profile → sRGB) lands
    // far outside the budget, so the assertion above does decide the ICC question.
    const [w, h] = f.resized;
    const [left, top] = f.cropOffset;
    const { data } = await sharp(src)
      .resize(w, h, { fit: 'fill', kernel: recipe === 'openai-clip' ? 'cubic' : 'linear', fastShrinkOnLoad: false })
      .extract({ left, top, width: spec.size, height: spec.size })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const managed = toClipTensor(new Uint8Array(data), spec.size, spec.size, spec.mean, spec.std);
    expect(difference(managed, reference).mad).toBeGreaterThan(3 * BUDGET);
  });

  it('the thumbnail is converted to sRGB as a colour-managed viewer shows it', async () => {
    const dest = join(dir, 'thumb.webp');
    await makeThumbnail(src, dest, 400);
    const { data, info } = await sharp(dest).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([400, 300]);
    for (const patch of index.iccPatches.patches) {
      // Mean over the inner 40x40 of each flat 80x80 patch (away from lossy-coding edges).
      const [l, t] = patch.box;
      const mean = [0, 0, 0];
      for (let y = t + 20; y < t + 60; y++)
        for (let x = l + 20; x < l + 60; x++) for (let c = 0; c < 3; c++) mean[c] += data[(y * info.width + x) * 3 + c] / 1600;
      const toManaged = Math.max(...mean.map((v, c) => Math.abs(v - patch.srgb[c])));
      const toStored = Math.max(...mean.map((v, c) => Math.abs(v - patch.rgb[c])));
      expect(toManaged, `${patch.name}: ${mean.map(Math.round)} vs lcms ${patch.srgb}`).toBeLessThanOrEqual(4);
      expect(toStored, `${patch.name}: thumbnail kept the stored values ${patch.rgb}`).toBeGreaterThan(10);
    }
  });
});

describe('preprocessing parity with the reference pipelines: 20 coco-mini photos', () => {
  const coco = index.fixtures.filter((f) => f.kind === 'coco');
  if (!existsSync(COCO)) {
    it.skip(`coco-mini is not at ${COCO}: its ${coco.length} parity cases are skipped (the odd photos above still ran)`, () => {});
    console.warn(`preprocess-parity: coco-mini not found at ${COCO}, skipping its ${coco.length} cases`);
    return;
  }
  it('covers 20 photos, greyscale and portrait ones included', () => {
    const photos = new Set(coco.map((f) => f.source));
    expect(photos.size).toBe(20);
    expect(coco.filter((f) => f.mode === 'L').length).toBeGreaterThanOrEqual(2 * 2);
    expect(coco.filter((f) => f.displayedSize[1] > f.displayedSize[0]).length).toBeGreaterThanOrEqual(4 * 2);
  });
  for (const f of coco) {
    it(`${f.recipe}: ${f.source}`, parityCase(f));
  }
});
