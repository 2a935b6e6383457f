// Lab transforms on the project's generated models, run in real ONNX Runtime (CPU).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PREPROCESS } from '../../main/core/model-spec.ts';
import { GraphBuilder } from '../../main/core/onnx/builder.ts';
import { COLOUR_ANCHORS, COLOUR_NAMES, colourTokenIds } from '../../main/core/onnx/color-oracle.ts';
import { decodeModel, encodeModel, type ModelProto } from '../../main/core/onnx/proto.ts';
import { SeededRandom } from '../../main/core/onnx/random.ts';
import { ModelRegistry } from '../../main/services/models/index.ts';
import { makeVariant, readModelFile, transformModel, weightMatrices, type VariantSpec } from '../../main/lab/transforms/index.ts';

const MODELS = path.resolve(import.meta.dirname, '../../models');
const SOT = 49406, EOT = 49407;
let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leanlens-lab-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(model: ModelProto | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await ort.InferenceSession.create(model instanceof Uint8Array ? model : encodeModel(model), { intraOpNumThreads: 1 });
  try {
    const out = (await s.run(feeds))[s.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await s.release();
  }
}

function cosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < dim; i++) { const u = a[r * dim + i]!, v = b[r * dim + i]!; ab += u * v; aa += u * u; bb += v * v; }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return out;
}

const load = (rel: string) => decodeModel(fs.readFileSync(path.join(MODELS, rel)));

describe('colour oracle: fp16 and int8 variants give the same search results', () => {
  const vocab = zlib.gunzipSync(fs.readFileSync(path.join(MODELS, 'bpe_simple_vocab_16e6.txt.gz'))).toString('utf8');
  const ids = colourTokenIds(vocab);
  const plane = 224 * 224;
  const pixels = new Float32Array(COLOUR_NAMES.length * 3 * plane);
  COLOUR_NAMES.forEach((name, n) => {
    const rgb = COLOUR_ANCHORS[name];
    for (let c = 0; c < 3; c++) pixels.fill((rgb[c]! / 255 - CLIP_PREPROCESS.mean[c]!) / CLIP_PREPROCESS.std[c]!, (n * 3 + c) * plane, (n * 3 + c + 1) * plane);
  });
  const tokens = new BigInt64Array(COLOUR_NAMES.length * 77);
  COLOUR_NAMES.forEach((name, r) => { tokens[r * 77] = BigInt(SOT); tokens[r * 77 + 1] = BigInt(ids[name]!); tokens[r * 77 + 2] = BigInt(EOT); });
  const image = load('color-oracle/image_fp32.onnx');
  const text = load('color-oracle/text_fp32.onnx');

  /** For each colour word, the photos ranked by cosine. */
  async function rankings(img: ModelProto, txt: ModelProto): Promise<number[][]> {
    const iv = (await run(img, { pixel_values: new ort.Tensor('float32', pixels, [COLOUR_NAMES.length, 3, 224, 224]) })).data;
    const tv = (await run(txt, { input_ids: new ort.Tensor('int64', tokens, [COLOUR_NAMES.length, 77]) })).data;
    const D = 12, K = COLOUR_NAMES.length;
    return Array.from({ length: K }, (_, q) => {
      const scores = Array.from({ length: K }, (_, p) => cosines(tv.subarray(q * D, q * D + D), iv.subarray(p * D, p * D + D), D)[0]!);
      return scores.map((s, p) => [s, p] as const).sort((a, b) => b[0] - a[0]).map(([, p]) => p);
    });
  }

  let reference: number[][];
  beforeAll(async () => {
    reference = await rankings(image, text);
    // The oracle itself: each colour word finds its own solid colour first.
    reference.forEach((order, q) => expect(order[0]).toBe(q));
  });

  it.each<[string, VariantSpec]>([
    ['fp16', { kind: 'fp16' }],
    ['int8 weight-only', { kind: 'int8', mode: 'weight-only' }],
    ['int8 weight-only asymmetric', { kind: 'int8', mode: 'weight-only', symmetric: false }],
    ['int8 dynamic', { kind: 'int8', mode: 'dynamic' }],
  ])('%s: same top result for every colour word, and the word table shrinks', async (_label, spec) => {
    const ti = transformModel(image, spec), tt = transformModel(text, spec);
    // The image side's colour maths are Constant nodes, not weights: nothing to quantize there.
    expect(ti.report.changed).toEqual([]);
    // The text side's word table is an axis-0 Gather table: fp16 storage or per-row int8.
    expect(tt.report.changed).toEqual(['colour_words']);
    expect(tt.report.bytesAfter).toBeLessThan(tt.report.bytesBefore * (spec.kind === 'fp16' ? 0.51 : 0.35)); // int8: 11 bytes + a 4-byte scale per row of 11 floats
    const got = await rankings(ti.model, tt.model);
    got.forEach((order, q) => expect(order[0]).toBe(reference[q]![0]));
  });
});

describe('tiny-clip: int8 embeddings stay close to fp32', () => {
  const rng = new SeededRandom(11);
  const pixels = new ort.Tensor('float32', rng.normals(4 * 3 * 224 * 224, 1), [4, 3, 224, 224]);
  const ids = new BigInt64Array(4 * 77);
  for (let r = 0; r < 4; r++) {
    ids[r * 77] = BigInt(SOT);
    for (let i = 1; i <= 5 + r; i++) ids[r * 77 + i] = BigInt(1000 + Math.floor(rng.uniform() * 40000));
    ids[r * 77 + 6 + r] = BigInt(EOT);
  }
  const towers = [
    ['image', load('tiny-clip/image_fp32.onnx'), { pixel_values: pixels }],
    ['text', load('tiny-clip/text_fp32.onnx'), { input_ids: new ort.Tensor('int64', ids, [4, 77]) }],
  ] as const;

  it.each<[string, VariantSpec]>([
    ['weight-only symmetric', { kind: 'int8', mode: 'weight-only' }],
    ['weight-only asymmetric', { kind: 'int8', mode: 'weight-only', symmetric: false }],
    ['weight-only per-tensor', { kind: 'int8', mode: 'weight-only', perChannel: false }],
    ['dynamic symmetric', { kind: 'int8', mode: 'dynamic' }],
    ['dynamic asymmetric', { kind: 'int8', mode: 'dynamic', symmetric: false }],
  ])('int8 %s: cosine to fp32 ≥ 0.99 on both towers', async (_label, spec) => {
    for (const [tower, model, feeds] of towers) {
      const ref = await run(model, feeds);
      const { model: q, report } = transformModel(model, spec);
      expect(report.changed.length).toBe(weightMatrices(model).length + (tower === 'text' ? 1 : 0));
      const out = await run(q, feeds);
      expect(out.dims).toEqual(ref.dims);
      for (const c of cosines(out.data, ref.data, 64)) expect(c).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('int8 image file is ≤ 0.3× the fp32 file; fp16 ≈ 0.5×; int4 smaller still and close', async () => {
    const [, image, feeds] = towers[0];
    const fp32 = encodeModel(image).length;
    const int8 = encodeModel(transformModel(image, { kind: 'int8', mode: 'weight-only' }).model).length;
    const fp16 = encodeModel(transformModel(image, { kind: 'fp16' }).model).length;
    const int4 = transformModel(image, { kind: 'int4' }).model;
    expect(int8 / fp32).toBeLessThanOrEqual(0.3);
    expect(fp16 / fp32).toBeLessThanOrEqual(0.52);
    expect(encodeModel(int4).length / fp32).toBeLessThan(int8 / fp32);
    const ref = await run(image, feeds);
    for (const c of cosines((await run(int4, feeds)).data, ref.data, 64)) expect(c).toBeGreaterThanOrEqual(0.98);
    for (const c of cosines((await run(transformModel(image, { kind: 'fp16' }).model, feeds)).data, ref.data, 64)) expect(c).toBeGreaterThanOrEqual(0.9999);
  });

  it('the input model is not modified by a transform', () => {
    const [, image] = towers[0];
    const before = encodeModel(image);
    transformModel(image, { kind: 'int8', mode: 'dynamic' });
    transformModel(image, { kind: 'lowrank', rank: 8, minSize: 1000 });
    expect(Buffer.from(encodeModel(image)).equals(Buffer.from(before))).toBe(true);
  });
});

describe('low-rank', () => {
  /** x [N,64] → MatMul W1 [64,96] (exactly rank 8) → Relu → MatMul W2 [96,32] (full rank). */
  function lowRankModel(): ModelProto {
    const rng = new SeededRandom(3);
    const u = rng.normals(64 * 8, 1), v = rng.normals(8 * 96, 0.2);
    const w1 = new Float32Array(64 * 96);
    for (let i = 0; i < 64; i++) for (let j = 0; j < 96; j++) { let s = 0; for (let k = 0; k < 8; k++) s += u[i * 8 + k]! * v[k * 96 + j]!; w1[i * 96 + j] = s; }
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['N', 64]);
    const h = g.op('Relu', [g.op('MatMul', [x, g.initializer('w1', w1, [64, 96])])]);
    g.output(g.op('MatMul', [h, g.initializer('w2', rng.normals(96 * 32, 0.1), [96, 32])]), 'y', 'float32', ['N', 32]);
    return g.toModel();
  }

  it('factorises an exactly low-rank weight losslessly and runs in ORT with the same shapes', async () => {
    const model = lowRankModel();
    const { model: lr, report } = transformModel(model, { kind: 'lowrank', energy: 0.9999, minSize: 1024 });
    expect(report.changed).toEqual(['w1']); // w2 is full rank: factorising it would not be smaller
    expect(report.ranks!.w1!.rank).toBe(8);
    const inits = new Map(lr.graph!.initializer!.map((t) => [t.name, t.dims]));
    expect(inits.get('w1_lowrank_a')).toEqual([64, 8]);
    expect(inits.get('w1_lowrank_b')).toEqual([8, 96]);
    expect(lr.graph!.node!.filter((n) => n.opType === 'MatMul').length).toBe(3);
    const x = new ort.Tensor('float32', new SeededRandom(5).normals(5 * 64, 1), [5, 64]);
    const ref = await run(model, { x }), out = await run(lr, { x });
    expect(out.dims).toEqual([5, 32]);
    for (const c of cosines(out.data, ref.data, 32)) expect(c).toBeGreaterThan(0.99999);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
  });

  it('a fixed rank on tiny-clip runs with the expected output shape', async () => {
    const image = load('tiny-clip/image_fp32.onnx');
    const { model, report } = transformModel(image, { kind: 'lowrank', rank: 16, minSize: 4096 });
    expect(report.changed.length).toBeGreaterThan(0);
    for (const r of Object.values(report.ranks!)) expect(r.rank).toBe(16);
    const out = await run(model, { pixel_values: new ort.Tensor('float32', new Float32Array(2 * 3 * 224 * 224), [2, 3, 224, 224]) });
    expect(out.dims).toEqual([2, 64]);
  });
});

describe('bad input', () => {
  it('garbage bytes are a clear error, not a crash', () => {
    const file = path.join(tmp, 'garbage.onnx');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)));
    expect(() => readModelFile(file)).toThrow(/garbage\.onnx is not a valid ONNX model/);
    expect(() => transformModel({} as ModelProto, { kind: 'fp16' })).toThrow(/not an ONNX model/);
  });
  it('mixed precision naming a non-weight is an error', () => {
    const image = load('tiny-clip/image_fp32.onnx');
    expect(() => transformModel(image, { kind: 'mixed', bits: { 'no.such.weight': 8 } })).toThrow(/not weight matrices/);
  });
});

describe('makeVariant', () => {
  it('writes both towers, registers the variant with its lineage, and the files load', async () => {
    const userDir = path.join(tmp, 'user-models');
    const registry = ModelRegistry.open({ bundledDir: MODELS, userDir });
    const steps: number[] = [];
    const info = await makeVariant(registry, 'tiny-clip', { kind: 'int8', mode: 'dynamic' }, { onProgress: (f) => steps.push(f) });
    expect(info.id).toBe('tiny-clip-int8-dynamic');
    expect(info.lineage).toMatchObject({ parent: 'tiny-clip', transform: 'int8', params: { mode: 'dynamic' } });
    expect(info.problems).toEqual([]);
    expect(steps.at(-1)).toBe(1);
    const resolved = registry.resolve(info.id);
    expect(path.basename(resolved.imagePath)).toBe('image_int8_dynamic.onnx');
    expect(fs.statSync(resolved.imagePath).size).toBeLessThan(0.3 * fs.statSync(path.join(MODELS, 'tiny-clip/image_fp32.onnx')).size);
    const out = await run(fs.readFileSync(resolved.textPath), { input_ids: new ort.Tensor('int64', new BigInt64Array(77).fill(1n), [1, 77]) });
    expect(out.dims).toEqual([1, 64]);
    await expect(makeVariant(registry, 'tiny-clip', { kind: 'int8', mode: 'dynamic' })).rejects.toThrow(/already exists/);
  });

  it('transforms off the main thread: timers keep firing while a variant is made; a bad spec registers nothing', async () => {
    const registry = ModelRegistry.open({ bundledDir: MODELS, userDir: path.join(tmp, 'user-models-2') });
    // Done synchronously, the whole transform would run before the first await returns and
    // the 1 ms timer could not fire until makeVariant had already resolved.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await makeVariant(registry, 'tiny-clip', { kind: 'fp16' });
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
    // A weight name neither tower has is an error naming it, and nothing is registered.
    await expect(makeVariant(registry, 'tiny-clip', { kind: 'mixed', bits: { no_such_weight: 8 } })).rejects.toThrow(/no_such_weight/);
    expect(registry.list().map((m) => m.id)).not.toContain('tiny-clip-mixed');
  });
});
