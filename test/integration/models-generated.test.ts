// The generated models, loaded from disk into real ONNX Runtime (CPU).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS, type Manifest } from '../../main/core/model-spec.ts';
import { buildImageTower, buildTextTower, imageTowerParameters, textTowerParameters } from '../../main/core/onnx/clip.ts';
import { COLOUR_ANCHORS, COLOUR_NAMES, COLOUR_WORDS, colourTokenIds, IMAGE_CONSTANT } from '../../main/core/onnx/color-oracle.ts';
import { countParameters, decodeModel } from '../../main/core/onnx/proto.ts';
import { BENCH_MODELS, generateBenchModels, generateBundledModels, MODELS_DIR, TINY_CLIP } from '../../scripts/generate-models.ts';

const VOCAB = path.join(MODELS_DIR, 'bpe_simple_vocab_16e6.txt.gz');
const vocabText = zlib.gunzipSync(fs.readFileSync(VOCAB)).toString('utf8');
const colourIds = colourTokenIds(vocabText);
const SOT = 49406, EOT = 49407;
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leanlens-models-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Token ids of a query: the project's tokenizer when present, else SOT, known word ids, EOT. */
let tokenizer: { encode(text: string): number[] } | null | undefined;
async function tokenize(text: string): Promise<number[]> {
  if (tokenizer === undefined) {
    try {
      const { ClipTokenizer } = await import('../../main/core/tokenizer.ts');
      tokenizer = new ClipTokenizer(vocabText);
    } catch {
      tokenizer = null;
    }
  }
  if (tokenizer) return tokenizer.encode(text);
  {
    const words = text.toLowerCase().split(/\s+/).map((w) => colourIds[w] ?? 320); // 320 = 'a</w>'
    return [SOT, ...words, EOT, ...new Array<number>(77 - words.length - 2).fill(0)];
  }
}

async function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
}

function textTensor(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [rows.length, 77]);
}

/** A CLIP-normalised [N,3,224,224] tensor of solid colours given as 0..255 sRGB. */
function solidImages(colours: [number, number, number][]): ort.Tensor {
  const plane = 224 * 224;
  const data = new Float32Array(colours.length * 3 * plane);
  colours.forEach((rgb, n) => {
    for (let c = 0; c < 3; c++) data.fill((rgb[c]! / 255 - CLIP_PREPROCESS.mean[c]!) / CLIP_PREPROCESS.std[c]!, (n * 3 + c) * plane, (n * 3 + c + 1) * plane);
  });
  return new ort.Tensor('float32', data, [colours.length, 3, 224, 224]);
}

function rows(t: ort.Tensor): number[][] {
  const [n, d] = t.dims as [number, number];
  const data = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => Array.from(data.slice(i * d, (i + 1) * d)));
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
  return dot / (Math.hypot(...a) * Math.hypot(...b));
}

describe('bundled models', () => {
  it('are reproducible byte for byte and match the files and manifest in the tree', () => {
    const dirs = [path.join(tmp, 'a'), path.join(tmp, 'b')];
    const runs = dirs.map((dir) => {
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(VOCAB, path.join(dir, path.basename(VOCAB)));
      return generateBundledModels(dir);
    });
    expect(runs[1]).toEqual(runs[0]);
    const committed = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8')) as Manifest;
    for (const entry of runs[0]!) {
      const inTree = committed.models.find((m) => m.id === entry.id);
      expect(inTree, `${entry.id} in models/manifest.json (run npx tsx scripts/generate-models.ts)`).toEqual(entry);
      for (const f of [entry.image, entry.text]) {
        expect(fs.statSync(path.join(MODELS_DIR, f.file)).size).toBe(f.bytes);
        expect(f.bytes).toBeLessThan(5_000_000);
      }
    }
  });
});

describe('tiny-clip in ONNX Runtime', () => {
  it('image encoder: [N,64], finite, input-dependent, batch-independent', async () => {
    const s = await session(path.join(MODELS_DIR, 'tiny-clip/image_fp32.onnx'));
    const both = solidImages([[200, 30, 30], [30, 30, 200]]);
    const out = rows((await s.run({ pixel_values: both })).image_embeds!);
    expect(out.length).toBe(2);
    expect(out[0]!.length).toBe(TINY_CLIP.image.embedDim);
    expect(out.flat().every(Number.isFinite)).toBe(true);
    expect(cosine(out[0]!, out[1]!)).toBeLessThan(0.9999);
    for (const [i, rgb] of ([[200, 30, 30], [30, 30, 200]] as [number, number, number][]).entries()) {
      const single = rows((await s.run({ pixel_values: solidImages([rgb]) })).image_embeds!)[0]!;
      single.forEach((v, k) => expect(v).toBeCloseTo(out[i]![k]!, 4));
    }
  });

  it('text encoder: [N,64], finite, input-dependent, batch-independent', async () => {
    const s = await session(path.join(MODELS_DIR, 'tiny-clip/text_fp32.onnx'));
    const queries = [await tokenize('a photo of a dog'), await tokenize('a photo of a cat')];
    const out = rows((await s.run({ input_ids: textTensor(queries) })).text_embeds!);
    expect(out.map((r) => r.length)).toEqual([64, 64]);
    expect(out.flat().every(Number.isFinite)).toBe(true);
    expect(cosine(out[0]!, out[1]!)).toBeLessThan(0.9999);
    for (let i = 0; i < 2; i++) {
      const single = rows((await s.run({ input_ids: textTensor([queries[i]!]) })).text_embeds!)[0]!;
      single.forEach((v, k) => expect(v).toBeCloseTo(out[i]![k]!, 4));
    }
  });
});

describe('color-oracle in ONNX Runtime', () => {
  // Everyday shades (CSS names mostly), deliberately not the anchors themselves.
  const shades: Record<string, [number, number, number]> = {
    red: [200, 0, 0], green: [0, 128, 0], blue: [0, 0, 255], yellow: [255, 220, 0], orange: [255, 140, 0], purple: [128, 0, 128],
    pink: [255, 105, 180], brown: [139, 69, 19], black: [20, 20, 20], white: [245, 245, 245], gray: [128, 128, 128],
  };
  let image: ort.InferenceSession, text: ort.InferenceSession;
  const embedImages = async (colours: [number, number, number][]) => rows((await image.run({ pixel_values: solidImages(colours) })).image_embeds!);
  const embedText = async (q: string) => rows((await text.run({ input_ids: textTensor([await tokenize(q)]) })).text_embeds!)[0]!;

  beforeAll(async () => {
    image = await session(path.join(MODELS_DIR, 'color-oracle/image_fp32.onnx'));
    text = await session(path.join(MODELS_DIR, 'color-oracle/text_fp32.onnx'));
  });

  it('uses the vocabulary ids the tokenizer produces for the colour words', async () => {
    expect(colourIds.red).toBe(736);
    for (const word of Object.keys(COLOUR_WORDS)) expect((await tokenize(word)).slice(0, 3)).toEqual([SOT, colourIds[word], EOT]);
  });

  it('ranks each colour’s photo first for its own colour word', async () => {
    const names = Object.keys(shades);
    const vectors = await embedImages(names.map((n) => shades[n]!));
    for (const word of [...COLOUR_NAMES, 'grey']) {
      const q = await embedText(word);
      const ranked = names.map((n, i) => ({ n, score: cosine(q, vectors[i]!) })).sort((a, b) => b.score - a.score);
      expect(ranked[0]!.n, `query '${word}'`).toBe(COLOUR_WORDS[word]);
    }
  });

  it('a darker red still ranks above blue for "red", and extra words do not matter', async () => {
    const [red, darkRed, blue] = await embedImages([shades.red!, [139, 0, 0], shades.blue!]);
    const q = await embedText('red');
    expect(cosine(q, red!)).toBeGreaterThan(cosine(q, darkRed!));
    expect(cosine(q, darkRed!)).toBeGreaterThan(cosine(q, blue!) + 0.1);
    const sentence = await embedText('a photo of a red car');
    sentence.forEach((v, i) => expect(v).toBeCloseTo(q[i]!, 6));
  });

  it('a half-red, half-blue photo answers both "red" and "blue", not "purple"', async () => {
    const plane = 224 * 224;
    const data = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) {
      const rgb = p < plane / 2 ? shades.red! : shades.blue!;
      data[c * plane + p] = (rgb[c]! / 255 - CLIP_PREPROCESS.mean[c]!) / CLIP_PREPROCESS.std[c]!;
    }
    const mixed = rows((await image.run({ pixel_values: new ort.Tensor('float32', data, [1, 3, 224, 224]) })).image_embeds!)[0]!;
    const [red, blue, purple] = await Promise.all(['red', 'blue', 'purple'].map(embedText));
    expect(cosine(red!, mixed)).toBeGreaterThan(0.6);
    expect(cosine(blue!, mixed)).toBeGreaterThan(0.6);
    expect(cosine(purple!, mixed)).toBeLessThan(0.1);
  });

  it('a query without colour words gives every photo the same score', async () => {
    const q = await embedText('a photo of a car');
    const vectors = await embedImages([shades.red!, shades.white!, COLOUR_ANCHORS.gray]);
    for (const v of vectors) expect(cosine(q, v)).toBeCloseTo(IMAGE_CONSTANT, 5);
  });
});

describe('benchmark model generator', () => {
  it('writes reduced-depth CLIP-shaped models whose parameter counts follow the formula and that run', async () => {
    // One block per tower keeps this to ~150 MB of files; the full depth is checked below without writing.
    const reduced = BENCH_MODELS.filter((s) => s.id !== 'vits16-t6-shaped').map((s) => ({ ...s, image: { ...s.image, layers: 1 }, text: { ...s.text, layers: 1 } }));
    const dir = path.join(tmp, 'bench');
    const entries = generateBenchModels(dir, undefined, reduced);
    expect(entries.map((e) => e.id)).toEqual(['vitb32-shaped', 'vits16-t4-shaped']);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.models.map((m) => m.role)).toEqual(['teacher', 'student']);
    for (const [i, spec] of reduced.entries()) {
      const imageModel = decodeModel(fs.readFileSync(path.join(dir, entries[i]!.image.file)));
      expect(countParameters(imageModel.graph)).toBe(imageTowerParameters(spec.image));
      const textModel = decodeModel(fs.readFileSync(path.join(dir, entries[i]!.text.file)));
      expect(countParameters(textModel.graph)).toBe(textTowerParameters(spec.text));
    }
    const s = await session(path.join(dir, entries[1]!.image.file));
    const out = (await s.run({ pixel_values: solidImages([[10, 200, 30]]) })).image_embeds!;
    expect(out.dims).toEqual([1, 512]);
    expect(Array.from(out.data as Float32Array).every(Number.isFinite)).toBe(true);
  }, 180_000);

  it('full configs have exactly CLIP ViT-B/32’s parameter counts and CLIP’s signature', () => {
    const teacher = BENCH_MODELS.find((s) => s.id === 'vitb32-shaped')!;
    // OpenAI CLIP ViT-B/32: visual 87,849,216; text side 63,428,096 (37,828,608 in its 12 blocks).
    expect(imageTowerParameters(teacher.image)).toBe(87_849_216);
    expect(textTowerParameters(teacher.text)).toBe(63_428_096);
    const image = buildImageTower({ ...teacher.image, weights: 'zeros' });
    expect(countParameters(image.graph)).toBe(87_849_216);
    const conv = image.graph!.initializer!.find((t) => t.name === 'visual.conv1.weight')!;
    expect(conv.dims).toEqual([768, 3, 32, 32]);
    expect(image.graph!.initializer!.find((t) => t.name === 'visual.positional_embedding')!.dims).toEqual([50, 768]);
    expect(image.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'N' }, { dimValue: 3 }, { dimValue: 224 }, { dimValue: 224 }]);
    expect(image.graph!.output![0]!.name).toBe('image_embeds');
    const textModel = buildTextTower({ ...teacher.text, weights: 'zeros' });
    expect(countParameters(textModel.graph)).toBe(63_428_096);
    expect(textModel.graph!.output![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'N' }, { dimValue: 512 }]);
    const student = BENCH_MODELS.find((s) => s.id === 'vits16-t4-shaped')!;
    expect(imageTowerParameters(student.image)).toBe(384 * 3 * 256 + 384 + 197 * 384 + 4 * 384 + 12 * (12 * 384 * 384 + 13 * 384) + 384 * 512);
  });
});
