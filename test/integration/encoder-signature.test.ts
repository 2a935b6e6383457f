/**
 * Issue 16 §2, the encoder part: each graph's own signature is checked at load against what the
 * manifest entry states, and the graph is fed exactly as it declares (fixed batch, int32 ids,
 * attention mask, pad id). Small graphs generated with the project's ONNX builder, run in real
 * ONNX Runtime in the real encoder process.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEncoder, type Encoder } from '../../main/services/encoder/index.ts';
import { CLIP_IO, CLIP_PREPROCESS, CLIP_TOKENS, type ModelIo, type ResolvedModel, type TokenSpec } from '../../main/core/model-spec.ts';
import { buildImageTower, buildTextTower, encodeModel, GraphBuilder, type ImageTowerConfig, type ModelProto, type TextTowerConfig } from '../../main/core/onnx/index.ts';

const SIZE = 64;
const DIM = 16;
let tmp: string;
const open: Encoder[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-signature-'));
});
// Each encoder is a process: stop them after every test rather than keep a dozen alive.
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let files = 0;
function write(model: ModelProto): string {
  const path = join(tmp, `g${files++}.onnx`);
  writeFileSync(path, encodeModel(model));
  return path;
}

const image = (extra: Partial<ImageTowerConfig> = {}) =>
  write(buildImageTower({ width: 32, layers: 1, heads: 2, patch: 32, imageSize: SIZE, embedDim: DIM, seed: 11, ...extra }));
const text = (extra: Partial<TextTowerConfig> = {}) =>
  write(buildTextTower({ width: 32, layers: 1, heads: 2, embedDim: DIM, seed: 12, tokenEmbedRank: 4, ...extra }));

/** A ResolvedModel as the registry builds it: `stated` is the entry's own `io`. */
function modelOf(paths: { image: string; text: string }, stated: Partial<ModelIo> = {}, more: { dim?: number; size?: number; tokens?: Partial<TokenSpec> } = {}): ResolvedModel {
  const dim = more.dim ?? DIM;
  return {
    id: `sig-${files}`,
    dim,
    imagePath: paths.image,
    textPath: paths.text,
    io: { ...CLIP_IO, ...stated },
    preprocess: { ...CLIP_PREPROCESS, size: more.size ?? SIZE },
    tokens: { ...CLIP_TOKENS, ...more.tokens },
    entry: {
      id: 'sig',
      name: 'signature test',
      role: 'other',
      dim,
      image: { file: paths.image, bytes: 0, sha256: '' },
      text: { file: paths.text, bytes: 0, sha256: '' },
      io: stated,
    },
  };
}

async function encoderOf(model: ResolvedModel): Promise<Encoder> {
  const e = await openEncoder(model, { threads: 1, providers: ['cpu'] });
  open.push(e);
  return e;
}

function pixels(count: number, seed: number): Float32Array {
  const out = new Float32Array(count * 3 * SIZE * SIZE);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (s / 0x7fffffff) * 4 - 2;
  }
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const framed = (...body: number[]) => [49406, ...body, 49407];
/** CLIP's own padding (what ClipTokenizer.encode gives callers): zeros after the end token. */
const zeroPadded = (row: number[], length = 77) => [...row, ...new Array(length - row.length).fill(0)];
const QUERIES = [framed(320, 2368), framed(320, 1125, 539, 320, 1929), framed(4516)];

describe('fixed batch', () => {
  it('a graph with a fixed batch of 1 encodes 5 images at batch 1, equal to per-image results and to its dynamic twin', async () => {
    const fixed = await encoderOf(modelOf({ image: image({ batch: 1 }), text: text() }, { imageBatch: 1 }));
    const dynamic = await encoderOf(modelOf({ image: image(), text: text() }));
    const px = pixels(5, 3);
    const per = 3 * SIZE * SIZE;
    const batch = await fixed.encodeImages(px, 5);
    const twin = await dynamic.encodeImages(px, 5);
    expect(batch).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      const [single] = await fixed.encodeImages(px.slice(i * per, (i + 1) * per), 1);
      expect(maxDiff(batch[i]!, single!)).toBeLessThan(1e-5);
      expect(maxDiff(batch[i]!, twin[i]!)).toBeLessThan(1e-4);
      expect(norm(batch[i]!)).toBeCloseTo(1, 5);
    }
    expect(maxDiff(batch[0]!, batch[1]!)).toBeGreaterThan(1e-3);
  });

  it('a fixed batch that is not stated is taken from the graph; a text graph fixed at batch 2 runs 3 queries (last chunk padded)', async () => {
    const fixed = await encoderOf(modelOf({ image: image({ batch: 1 }), text: text({ batch: 2 }) }));
    const dynamic = await encoderOf(modelOf({ image: image(), text: text() }));
    const a = await fixed.encodeTexts(QUERIES);
    const b = await dynamic.encodeTexts(QUERIES);
    expect(a).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(maxDiff(a[i]!, b[i]!)).toBeLessThan(1e-4);
    expect((await fixed.encodeImages(pixels(2, 5), 2)).length).toBe(2);
  });
});

describe('token ids and attention mask', () => {
  it('int32 ids are fed as int32 and give the same vectors as the int64 twin', async () => {
    const i32 = await encoderOf(modelOf({ image: image(), text: text({ idType: 'int32' }) }, { textIds: 'int32' }));
    const i64 = await encoderOf(modelOf({ image: image(), text: text() }));
    const a = await i32.encodeTexts(QUERIES);
    const b = await i64.encodeTexts(QUERIES);
    for (let i = 0; i < 3; i++) expect(maxDiff(a[i]!, b[i]!)).toBeLessThan(1e-5);
    expect(maxDiff(a[0]!, a[1]!)).toBeGreaterThan(1e-3);
  });

  /**
   * A text graph whose output is its own inputs: [ids as floats, mask as floats], so the test
   * reads back exactly what the encoder fed (the app's L2-normalisation only scales it; the start
   * token 49406 in column 0 gives the scale back).
   */
  function echoGraph(idType: 'int32' | 'int64', maskType: 'int32' | 'int64' | 'float32', length = 77): string {
    const g = new GraphBuilder();
    const ids = g.input('input_ids', idType, ['N', length]);
    const mask = g.input('attention_mask', maskType, ['N', length]);
    const out = g.op('Concat', [g.op('Cast', [ids], { to: 1 }), g.op('Cast', [mask], { to: 1 })], { axis: 1 });
    g.output(out, 'text_embeds', 'float32', ['N', 2 * length]);
    return write(g.toModel({ opset: 17 }));
  }

  function readBack(v: Float32Array, length = 77): { ids: number[]; mask: number[] } {
    const scale = 49406 / v[0]!;
    const all = Array.from(v, (x) => Math.round(x * scale));
    return { ids: all.slice(0, length), mask: all.slice(length) };
  }

  it('feeds 1 for real tokens (start and end included) and 0 for padding, pads with the pad id even when it is the end token', async () => {
    const enc = await encoderOf(
      modelOf({ image: image(), text: echoGraph('int64', 'int64') }, { textMask: 'attention_mask' }, { dim: 154, tokens: { padId: 49407 } }),
    );
    const rows = [zeroPadded(framed(320, 2368)), framed(5), [49406, ...new Array(100).fill(7), 49407]];
    const [a, b, c] = (await enc.encodeTexts(rows)).map((v) => readBack(v));
    // Row 1: a caller's zero-padded row is re-padded with the model's pad id (49407 here).
    expect(a!.ids.slice(0, 6)).toEqual([49406, 320, 2368, 49407, 49407, 49407]);
    expect(a!.ids.slice(4).every((id) => id === 49407)).toBe(true);
    // The mask counts real tokens, not "id differs from pad id": the end token (= pad id) is real.
    expect(a!.mask).toEqual([1, 1, 1, 1, ...new Array(73).fill(0)]);
    // Row 2: an unpadded row is padded to the context length.
    expect(b!.ids.slice(0, 3)).toEqual([49406, 5, 49407]);
    expect(b!.mask).toEqual([1, 1, 1, ...new Array(74).fill(0)]);
    // Row 3: an over-long row is cut to 77 with the end token kept last; every position is real.
    expect(c!.ids[76]).toBe(49407);
    expect(c!.ids[75]).toBe(7);
    expect(c!.mask).toEqual(new Array(77).fill(1));
  });

  it('feeds the mask in the dtype the graph declares (int32 ids + float mask) and pads with 0 by default', async () => {
    const enc = await encoderOf(modelOf({ image: image(), text: echoGraph('int32', 'float32') }, {}, { dim: 154 }));
    const [v] = await enc.encodeTexts([framed(320, 2368)]);
    const { ids, mask } = readBack(v!);
    expect(ids).toEqual([49406, 320, 2368, 49407, ...new Array(73).fill(0)]);
    expect(mask).toEqual([1, 1, 1, 1, ...new Array(73).fill(0)]);
    // The mask input was not stated: it was found in the graph (and the ids' int32 too).
  });

  it('a CLIP-shaped tower with an attention mask, custom names and normalised outputs works without stating them', async () => {
    const names = { inputName: 'tokens', outputName: 'embedding', attentionMask: 'mask', normalise: true } as const;
    const masked = await encoderOf(modelOf({ image: image({ inputName: 'image', outputName: 'embedding', normalise: true }), text: text(names) }));
    const plain = await encoderOf(modelOf({ image: image(), text: text() }));
    const a = await masked.encodeTexts(QUERIES.map((q) => zeroPadded(q)));
    const b = await plain.encodeTexts(QUERIES);
    // Padding comes after the end token, which a causal model never attends to: a correct mask
    // (1 up to and including the end token) leaves the vectors exactly as without one.
    for (let i = 0; i < 3; i++) expect(maxDiff(a[i]!, b[i]!)).toBeLessThan(1e-4);
    const [img] = await masked.encodeImages(pixels(1, 9), 1);
    const [ref] = await plain.encodeImages(pixels(1, 9), 1);
    expect(maxDiff(img!, ref!)).toBeLessThan(1e-4);
  });
});

describe('mismatches are one clear error naming expected and found', () => {
  const loadError = async (model: ResolvedModel, tower: 'image' | 'text') => {
    const enc = await encoderOf(model);
    return enc.load(tower).then(() => null, (e: Error) => e.message);
  };

  it('stated int64 ids against an int32 graph, and a stated mask the graph lacks', async () => {
    const msg = await loadError(modelOf({ image: image(), text: text({ idType: 'int32' }) }, { textIds: 'int64', textMask: 'attention_mask' }), 'text');
    expect(msg).toMatch(/text encoder of model .* does not match its manifest entry/);
    expect(msg).toContain('text ids: expected int64 (io.textIds), found input_ids int32 [N,77]');
    expect(msg).toContain('text mask: expected "attention_mask" (stated), found input_ids int32 [N,77]');
  });

  it('stated dynamic batch against a fixed-batch graph, wrong image size and wrong dim, all in one message', async () => {
    const msg = await loadError(modelOf({ image: image({ batch: 1 }), text: text() }, { imageBatch: null }, { size: 224, dim: 32 }), 'image');
    expect(msg).toContain('image input batch: expected dynamic (io.imageBatch), found 1 in pixel_values float32 [1,3,64,64]');
    expect(msg).toContain('image input: expected 224×224 pixels (preprocess.size), found 64×64');
    expect(msg).toContain('image output: expected 32-d vectors (dim), found 16-d');
    expect(msg!.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(3);
  });

  it('a context length that differs from the graph', async () => {
    const msg = await loadError(modelOf({ image: image(), text: text() }, {}, { tokens: { contextLength: 64 } }), 'text');
    expect(msg).toContain('text input: expected 64 tokens per row (tokens.contextLength), found 77 in input_ids int64 [N,77]');
  });
});
