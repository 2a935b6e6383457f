/**
 * The encoder against real ONNX Runtime and the project's generated tiny-clip model
 * (models/tiny-clip, from `npx tsx scripts/generate-models.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openEncoder, providerOrder, type Encoder } from '../../main/services/encoder/index.ts';
import { ModelRegistry, loadTokenizer } from '../../main/services/models/index.ts';
import type { ResolvedModel } from '../../main/core/model-spec.ts';
import type { ClipTokenizer } from '../../main/core/tokenizer.ts';

const repo = resolve(import.meta.dirname, '../..');
const bundledDir = join(repo, 'models');
let tmp: string;
let model: ResolvedModel;
let tokenizer: ClipTokenizer;

function tinyClip(userDir: string): ResolvedModel {
  const registry = ModelRegistry.open({ bundledDir, userDir });
  if (!registry.entry('tiny-clip')) {
    throw new Error('models/manifest.json has no tiny-clip: run `npx tsx scripts/generate-models.ts` first');
  }
  return registry.resolve('tiny-clip');
}

/** Deterministic pseudo-random pixels so failures reproduce. */
function pixels(count: number, size: number, seed = 1): Float32Array {
  const out = new Float32Array(count * 3 * size * size);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = (s / 0x7fffffff) * 4 - 2;
  }
  return out;
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-encoder-'));
  model = tinyClip(join(tmp, 'user'));
  tokenizer = loadTokenizer(bundledDir);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('encoder on tiny-clip', () => {
  let encoder: Encoder;
  beforeAll(async () => {
    encoder = await openEncoder(model, { threads: 1, providers: ['cpu'] });
  });
  afterAll(() => encoder.close());

  it('loads towers lazily and reports session load times', async () => {
    expect(encoder.loadTimes()).toEqual({ imageMs: null, textMs: null });
    expect(encoder.info().provider).toBe('not loaded');
    await encoder.encodeTexts([tokenizer.encode('a red car')]);
    const times = encoder.loadTimes();
    expect(times.imageMs).toBeNull(); // a text query must not load the image tower
    expect(times.textMs).toBeGreaterThan(0);
    expect(encoder.info()).toEqual({ provider: 'cpu', requested: ['cpu'], fallbackReasons: [], threads: 1, restarts: 0, lastCrash: null });
  });

  it('returns L2-normalised image and text vectors of the model dim', async () => {
    const size = model.preprocess.size;
    const images = await encoder.encodeImages(pixels(3, size), 3);
    const texts = await encoder.encodeTexts(tokenizer.encodeBatch(['a photo of a dog', 'sunset over the sea']));
    expect(images).toHaveLength(3);
    expect(texts).toHaveLength(2);
    for (const v of [...images, ...texts]) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(model.dim);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // Different inputs give different vectors (the graph really ran on them).
    expect(maxDiff(images[0], images[1])).toBeGreaterThan(1e-3);
    expect(maxDiff(texts[0], texts[1])).toBeGreaterThan(1e-3);
  });

  it('a batch of N equals N single calls', async () => {
    const size = model.preprocess.size;
    const per = 3 * size * size;
    const all = pixels(4, size, 7);
    const batch = await encoder.encodeImages(all.slice(), 4);
    for (let i = 0; i < 4; i++) {
      const [single] = await encoder.encodeImages(all.slice(i * per, (i + 1) * per), 1);
      expect(maxDiff(batch[i], single)).toBeLessThan(1e-5);
    }
    const queries = ['a cat', 'two people on a beach', 'snowy mountain at dawn'];
    const textBatch = await encoder.encodeTexts(tokenizer.encodeBatch(queries));
    for (let i = 0; i < queries.length; i++) {
      const [single] = await encoder.encodeTexts([tokenizer.encode(queries[i])]);
      expect(maxDiff(textBatch[i], single)).toBeLessThan(1e-5);
    }
  });

  it("leaves the caller's pixel buffer as it was (it is copied to the encoder process)", async () => {
    const size = model.preprocess.size;
    const px = pixels(2, size);
    const before = px.slice();
    await encoder.encodeImages(px, 2);
    expect(maxDiff(px, before)).toBe(0);
  });

  it('runs ONNX Runtime in a child process, not in this one', async () => {
    const pid = encoder.processId();
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    expect(() => process.kill(pid!, 0)).not.toThrow(); // alive
  });

  it('rejects input of the wrong size with a clear message, and keeps working', async () => {
    await expect(encoder.encodeImages(new Float32Array(10), 1)).rejects.toThrow(/needs 150528 per image \(3×224×224\)/);
    await expect(encoder.encodeTexts([[49406, 1.5, 49407]])).rejects.toThrow(/token row 0 has an invalid id at 1 \(1.5\)/);
    await expect(encoder.encodeTexts([[49406, -3, 49407]])).rejects.toThrow(/token row 0 has an invalid id/);
    const [v] = await encoder.encodeTexts([tokenizer.encode('still fine')]);
    expect(norm(v)).toBeCloseTo(1, 5);
  });

  it('keeps the event loop ticking while a batch of 32 encodes', async () => {
    let ticks = 0;
    let running = true;
    const spin = () => {
      ticks++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const vectors = await encoder.encodeImages(pixels(32, model.preprocess.size), 32);
    running = false;
    expect(vectors).toHaveLength(32);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('execution providers', () => {
  it('orders providers per platform for "auto"', () => {
    expect(providerOrder('auto', 'linux')).toEqual(['cuda', 'cpu']);
    expect(providerOrder('auto', 'win32')).toEqual(['cuda', 'dml', 'cpu']);
    expect(providerOrder('auto', 'darwin')).toEqual(['coreml', 'cpu']);
    expect(providerOrder(['cpu', 'cpu'], 'linux')).toEqual(['cpu']);
  });

  it('falls back from cuda to cpu and records the real reason', async () => {
    const encoder = await openEncoder(model, { threads: 1, providers: ['cuda', 'cpu'] });
    try {
      const [v] = await encoder.encodeTexts([tokenizer.encode('a tree')]);
      expect(norm(v)).toBeCloseTo(1, 5);
      const info = encoder.info();
      expect(info.provider).toBe('cpu');
      expect(info.requested).toEqual(['cuda', 'cpu']);
      expect(info.fallbackReasons).toHaveLength(1);
      expect(info.fallbackReasons[0]).toMatch(/^cuda: .*\S/);
      expect(info.fallbackReasons[0].toLowerCase()).toContain('cuda');
    } finally {
      await encoder.close();
    }
  });

  it('fails clearly when no requested provider exists', async () => {
    const encoder = await openEncoder(model, { threads: 1, providers: ['coreml'] });
    try {
      await expect(encoder.load('text')).rejects.toThrow(/Could not load the text encoder of model "tiny-clip".*coreml/);
    } finally {
      await encoder.close();
    }
  });
});

describe('bad model files', () => {
  it('a truncated .onnx file gives an error naming the file and what to do', async () => {
    const broken = join(tmp, 'truncated_image.onnx');
    writeFileSync(broken, readFileSync(model.imagePath).subarray(0, 5000));
    const encoder = await openEncoder({ ...model, imagePath: broken }, { threads: 1, providers: ['cpu'] });
    try {
      const err = await encoder.encodeImages(pixels(1, model.preprocess.size), 1).then(() => null, (e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toContain(broken);
      expect(err!.message).toMatch(/not a valid ONNX model/);
      expect(err!.message).toMatch(/download or import the model again/);
      // The text tower is unaffected.
      const [v] = await encoder.encodeTexts([tokenizer.encode('ok')]);
      expect(norm(v)).toBeCloseTo(1, 5);
    } finally {
      await encoder.close();
    }
  });

  it('a garbage file is rejected the same way', async () => {
    const garbage = join(tmp, 'garbage_text.onnx');
    writeFileSync(garbage, 'this is not a protobuf at all '.repeat(100));
    const encoder = await openEncoder({ ...model, textPath: garbage }, { threads: 1, providers: ['cpu'] });
    try {
      await expect(encoder.load('text')).rejects.toThrow(new RegExp(`text encoder.*${garbage}.*not a valid ONNX model`));
    } finally {
      await encoder.close();
    }
  });

  it('a missing file fails at openEncoder', async () => {
    await expect(openEncoder({ ...model, imagePath: join(tmp, 'nope.onnx') })).rejects.toThrow(/image encoder of model "tiny-clip" is missing/);
  });

  it('io names that do not match the graph give an error naming expected and actual names', async () => {
    const encoder = await openEncoder(
      { ...model, io: { ...model.io, imageInput: 'pixels', imageOutput: 'features' } },
      { threads: 1, providers: ['cpu'] },
    );
    try {
      const err = await encoder.load('image').then(() => null, (e: Error) => e);
      expect(err!.message).toMatch(/image encoder of model "tiny-clip" .* does not match its manifest entry/);
      expect(err!.message).toContain('image input: expected "pixels" (stated), found pixel_values float32 [N,3,224,224]');
      expect(err!.message).toContain('image output: expected "features" (stated), found image_embeds float32 [N,64]');
    } finally {
      await encoder.close();
    }
  });

  it('a manifest dim that differs from the graph is caught', async () => {
    const encoder = await openEncoder({ ...model, dim: 128 }, { threads: 1, providers: ['cpu'] });
    try {
      await expect(encoder.load('text')).rejects.toThrow(/text output: expected 128-d vectors \(dim\), found 64-d in text_embeds/);
    } finally {
      await encoder.close();
    }
  });
});

describe('close', () => {
  it('rejects later calls', async () => {
    const encoder = await openEncoder(model, { threads: 1, providers: ['cpu'] });
    await encoder.encodeTexts([tokenizer.encode('x')]);
    await encoder.close();
    await expect(encoder.encodeTexts([tokenizer.encode('y')])).rejects.toThrow(/is closed/);
  });

  it('stops the encoder process: a process that closes its encoder exits on its own', async () => {
    // A live encoder process (its IPC channel) keeps Node's event loop alive, so without close() the child never exits.
    const script = join(tmp, 'close-child.mts');
    const modelJson = join(tmp, 'model.json');
    writeFileSync(modelJson, JSON.stringify(model));
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { openEncoder } from ${JSON.stringify(join(repo, 'main/services/encoder/index.ts'))};
const model = JSON.parse(readFileSync(${JSON.stringify(modelJson)}, 'utf8'));
const enc = await openEncoder(model, { threads: 1, providers: ['cpu'] });
const ids = new Array(77).fill(0); ids[0] = 49406; ids[1] = 49407;
const [v] = await enc.encodeTexts([ids]);
console.log('dim', v.length);
if (process.argv[2] === 'close') await enc.close();
`,
    );
    const tsx = join(repo, 'node_modules/.bin/tsx');
    const closed = await promisify(execFile)(tsx, [script, 'close'], { timeout: 60_000, cwd: repo });
    expect(closed.stdout).toContain('dim 64');

    // Control: the same child without close() is still alive well after it finished encoding.
    const child = spawn(tsx, [script, 'keep'], { cwd: repo });
    try {
      await new Promise<void>((done, fail) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('dim 64') && done());
        child.on('exit', (code) => fail(new Error(`child exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 1500));
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill();
    }
  });
});
