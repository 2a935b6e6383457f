/**
 * The catalog of real models (models/manifest.json), proven without their weights: each entry's
 * signature twin (random weights, exactly its inputs/outputs/dtypes/shapes/normalisation) is
 * checked in real ONNX Runtime and fed through the real encoder, and downloading each catalog
 * entry is tested against a local HTTP server on 127.0.0.1 serving its twin: progress, resume,
 * wrong hash, wrong size, licence acceptance and cancel. The real entries stay untouched: the
 * tests write a manifest copying each entry with the twin's bytes/sha256 and a local URL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LicenceNotAcceptedError, ModelRegistry, loadTokenizer } from '../../main/services/models/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import type { Manifest, ManifestEntry } from '../../main/core/model-spec.ts';
import type { DownloadProgress } from '../../main/core/contract.ts';
import { catalogEntries, generateTwins } from '../../scripts/generate-models.ts';
import { buildTwin } from '../../main/core/onnx/twin.ts';
import { writeModelFile } from '../../main/services/models/model-file.ts';
import { serveFile, type ServeMode } from '../fixtures/download-server.ts';

const repo = resolve(import.meta.dirname, '../..');
const bundledDir = join(repo, 'models');
let tmp: string;
let twins: ManifestEntry[];
const twin = (id: string) => twins.find((t) => t.id === id)!;
/** Bytes the server serves, by URL path. */
const served = new Map<string, Buffer>();

let mode: ServeMode = 'ok';
let seen: { url: string; range: string | undefined }[] = [];
let server: http.Server;
let base: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-catalog-'));
  twins = generateTwins(join(tmp, 'twins'));
  for (const t of twins) {
    for (const f of [t.image, t.text]) served.set(`/files/${f.file}`, readFileSync(join(tmp, 'twins', f.file)));
  }
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', range: req.headers.range });
    const body = served.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    serveFile(req, res, body, mode);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  mode = 'ok';
  seen = [];
});

let n = 0;
/**
 * A bundled folder whose manifest copies the real catalog entries, with each file's URL pointed
 * at the local server and its bytes/sha256 those of the twin (`patch` may change more).
 */
function localCatalog(patch: (e: ManifestEntry) => ManifestEntry = (e) => e) {
  const root = join(tmp, `dl-${++n}`);
  const bundled = join(root, 'bundled');
  mkdirSync(bundled, { recursive: true });
  const models = catalogEntries().map((real) => {
    const t = twin(real.id);
    return patch({
      ...real,
      image: { ...t.image, url: `${base}/files/${t.image.file}` },
      text: { ...t.text, url: `${base}/files/${t.text.file}` },
    });
  });
  writeFileSync(join(bundled, 'manifest.json'), JSON.stringify({ version: 1, models } satisfies Manifest));
  const userDir = join(root, 'user');
  return { registry: ModelRegistry.open({ bundledDir: bundled, userDir }), userDir };
}

describe('the catalog in models/manifest.json', () => {
  it('pins each real model to a revision with exact sizes, sha256, licence and signature', () => {
    const byId = Object.fromEntries(catalogEntries().map((e) => [e.id, e]));
    expect(Object.keys(byId).sort()).toEqual(['clip-vit-b32', 'clip-vit-b32-int8', 'mobileclip-s2']);

    const b32 = byId['clip-vit-b32']!;
    const immich = 'https://huggingface.co/immich-app/ViT-B-32__openai/resolve/a857c8de2c07bbcfa6646adfcf31b798845afa1e';
    expect(b32.image).toMatchObject({ url: `${immich}/visual/model.onnx`, bytes: 351_613_724, sha256: '33a3df41ceef21acdf371af00f6dd0456ec1f9eba24d03a7720f9c3734e40859' });
    expect(b32.text).toMatchObject({ url: `${immich}/textual/model.onnx`, bytes: 254_193_396, sha256: 'b80cf0af751533a6712d92247f0ddc0c95208748bc59a1a27f33e67be6864e3b' });
    expect(b32.io).toEqual({ imageInput: 'image', imageOutput: 'embedding', textInput: 'text', textMask: null, textOutput: 'embedding', textIds: 'int32', imageBatch: 1, textBatch: 1, normalised: true });
    expect(b32.preprocess).toMatchObject({ size: 224, resize: 'shortest', interpolation: 'bicubic', mean: [0.48145466, 0.4578275, 0.40821073] });
    expect(b32.tokens).toEqual({ contextLength: 77, padId: 49407 });
    expect(b32).toMatchObject({ licence: 'MIT', dim: 512, requiresAcceptance: false });

    const int8 = byId['clip-vit-b32-int8']!;
    const xenova = 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/d15189d7028b43f1d3e65039190477f6af591c2a/onnx';
    expect(int8.image).toMatchObject({ url: `${xenova}/vision_model_quantized.onnx`, bytes: 89_117_001, sha256: '583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299' });
    expect(int8.text).toMatchObject({ url: `${xenova}/text_model_quantized.onnx`, bytes: 64_504_507, sha256: '73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a' });
    // Names not confirmed from the files: left out, so they come from the defaults / the graph.
    expect(Object.keys(int8.io ?? {})).not.toContain('imageInput');
    expect(int8.io).toMatchObject({ textIds: 'int64', imageBatch: null, normalised: false });

    const mc = byId['mobileclip-s2']!;
    expect(mc.image).toMatchObject({ url: 'https://models.ente.com/mobileclip_s2_image_gelu_opset20.onnx', bytes: 143_057_352, sha256: '205a430af825e501c5138e5bb9abea942482a7a4fd4a680e98e47cf0830dce7e' });
    expect(mc.text).toMatchObject({ url: 'https://models.ente.com/mobileclip_s2_text_opset18_quant.onnx', bytes: 67_144_712, sha256: 'd92f33dfcff83077fc2e0d3414250710efbb51795dfd89767bdbefb5fdc47322' });
    expect(mc.io).toMatchObject({ imageInput: 'input', imageOutput: 'output', textInput: 'input', textOutput: 'output', textIds: 'int32', imageBatch: 1, normalised: false });
    expect(mc.preprocess).toEqual({ size: 256, resize: 'cover', interpolation: 'bilinear', mean: null, std: null });
    expect(mc.tokens).toEqual({ contextLength: 77, padId: 0 });
    expect(mc).toMatchObject({ requiresAcceptance: true, licenceUrl: 'https://github.com/apple/ml-mobileclip/blob/main/LICENSE_weights_data' });
  });

  it('lists each entry with size, licence and whether it is installed', () => {
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'list-user') });
    const visible = registry.list({ visibleOnly: true });
    const mc = visible.find((m) => m.id === 'mobileclip-s2')!;
    expect(mc).toMatchObject({ installed: false, downloadable: true, bytes: 143_057_352 + 67_144_712, requiresAcceptance: true, licenceUrl: expect.stringContaining('LICENSE_weights_data') });
    expect(visible.find((m) => m.id === 'clip-vit-b32')).toMatchObject({ licence: 'MIT', requiresAcceptance: false, revision: expect.stringContaining('a857c8de') });
  });
});

describe('signature twins', () => {
  it('have exactly the signature each catalog entry states', async () => {
    const expected: Record<string, { image: unknown; text: unknown }> = {
      'clip-vit-b32': {
        image: [{ name: 'image', type: 'float32', shape: [1, 3, 224, 224] }, { name: 'embedding', type: 'float32', shape: [1, 512] }],
        text: [{ name: 'text', type: 'int32', shape: [1, 77] }, { name: 'embedding', type: 'float32', shape: [1, 512] }],
      },
      'clip-vit-b32-int8': {
        image: [{ name: 'pixel_values', type: 'float32', shape: ['N', 3, 224, 224] }, { name: 'image_embeds', type: 'float32', shape: ['N', 512] }],
        text: [{ name: 'input_ids', type: 'int64', shape: ['N', 77] }, { name: 'text_embeds', type: 'float32', shape: ['N', 512] }],
      },
      'mobileclip-s2': {
        image: [{ name: 'input', type: 'float32', shape: [1, 3, 256, 256] }, { name: 'output', type: 'float32', shape: [1, 512] }],
        text: [{ name: 'input', type: 'int32', shape: [1, 77] }, { name: 'output', type: 'float32', shape: [1, 512] }],
      },
    };
    for (const t of twins) {
      for (const tower of ['image', 'text'] as const) {
        expect(statSize(join(tmp, 'twins', t[tower].file)), `${t.id} ${tower} stays small`).toBeLessThan(3_000_000);
        const s = await ort.InferenceSession.create(join(tmp, 'twins', t[tower].file));
        const strip = (m: readonly unknown[]) => m.map((v) => { const { isTensor: _, ...rest } = v as { isTensor: boolean }; return rest; });
        expect([...strip(s.inputMetadata), ...strip(s.outputMetadata)], `${t.id} ${tower}`).toEqual(expected[t.id]![tower]);
        await s.release();
      }
    }
  });

  it('normalise their outputs exactly where the real model does, and a fixed batch refuses two rows', async () => {
    for (const t of twins) {
      const sig = t.io ?? {};
      const s = await ort.InferenceSession.create(join(tmp, 'twins', t.image.file));
      const size = t.preprocess?.size ?? 224;
      const name = s.inputNames[0]!;
      const one = new ort.Tensor('float32', Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i)), [1, 3, size, size]);
      const out = (await s.run({ [name]: one }))[s.outputNames[0]!]!.data as Float32Array;
      const norm = Math.hypot(...out);
      if (sig.normalised) expect(norm, t.id).toBeCloseTo(1, 5);
      else expect(Math.abs(norm - 1), t.id).toBeGreaterThan(0.01);
      const two = new ort.Tensor('float32', new Float32Array(2 * 3 * size * size), [2, 3, size, size]);
      if (sig.imageBatch === 1) await expect(s.run({ [name]: two }), t.id).rejects.toThrow(/dimension|Got: 2/i);
      else expect((await s.run({ [name]: two }))[s.outputNames[0]!]!.dims).toEqual([2, 512]);
      await s.release();
    }
  });

  it("clip-vit-b32's causal text tower pooled at the first end token gives the same vector padded with EOT or with 0", async () => {
    const tok = loadTokenizer(bundledDir);
    const ids = tok.encode('a dog on a beach');
    const s = await ort.InferenceSession.create(join(tmp, 'twins', twin('clip-vit-b32').text.file));
    const run = async (row: number[]) => (await s.run({ text: new ort.Tensor('int32', Int32Array.from(row), [1, 77]) })).embedding!.data as Float32Array;
    const eotPadded = ids.map((v, i) => (i > ids.indexOf(49407) ? 49407 : v));
    const a = await run(ids);
    const b = await run(eotPadded);
    expect(eotPadded.filter((v) => v === 49407).length).toBeGreaterThan(60);
    expect(Array.from(b)).toEqual(Array.from(a));
    await s.release();
  });
});

function statSize(p: string): number {
  return readFileSync(p).length;
}

describe('downloading catalog entries (twins served on 127.0.0.1)', () => {
  it('downloads each entry with progress, verifies it, and the real encoder runs its signature', async () => {
    const { registry, userDir } = localCatalog();
    const tok = loadTokenizer(bundledDir);
    for (const t of twins) {
      const progress: DownloadProgress[] = [];
      const info = await registry.download(t.id, { acceptLicense: true, onProgress: (p) => progress.push(p) });
      expect(info, t.id).toMatchObject({ installed: true, problems: [] });
      // Names the entry leaves out (int8: not confirmed) are read from the graphs into signature.json.
      const extra = t.id === 'clip-vit-b32-int8' ? ['signature.json'] : [];
      expect(readdirSync(join(userDir, t.id)).sort()).toEqual([...[t.image.file, t.text.file].map((f) => f.split('/')[1]), ...extra].sort());
      const total = t.image.bytes + t.text.bytes;
      expect(progress.at(-1)).toEqual({ modelId: t.id, received: total, total, done: true, error: null });
      expect(progress.some((p) => p.received > 0 && p.received < total)).toBe(true);
      expect(registry.verify(t.id)).toEqual([]);

      // Fixed batch 1 (three photos in three runs), int32 or int64 ids, 224 or 256 px, 512-d unit vectors.
      const model = registry.resolve(t.id);
      const enc = await openEncoder(model, { threads: 1, providers: ['cpu'] });
      try {
        const s = model.preprocess.size;
        const pixels = Float32Array.from({ length: 3 * 3 * s * s }, (_, i) => Math.cos(i / 7));
        const images = await enc.encodeImages(pixels, 3);
        expect(images.map((v) => v.length)).toEqual([512, 512, 512]);
        for (const v of images) expect(Math.hypot(...v)).toBeCloseTo(1, 4);
        const texts = await enc.encodeTexts([tok.encode('a red car'), tok.encode('a blue sky')]);
        expect(texts.map((v) => v.length)).toEqual([512, 512]);
        expect(Array.from(texts[0]!)).not.toEqual(Array.from(texts[1]!));
      } finally {
        await enc.close();
      }
    }
  }, 60_000);

  it('takes the names an entry leaves out from the downloaded graphs', async () => {
    // The real int8 files might name things otherwise than expected: a twin that does.
    const other = buildTwin(
      { dim: 512, imageSize: 224, context: 77,
        image: { input: 'pixel_values', output: 'image_features', inputType: 'float32', batch: null, normalised: false },
        text: { input: 'input_ids', mask: 'attention_mask', output: 'text_features', inputType: 'int64', batch: null, normalised: false } },
      99, 'renamed twin');
    const files = { image: join(tmp, 'renamed', 'image_int8.onnx'), text: join(tmp, 'renamed', 'text_int8.onnx') };
    const info = { image: writeModelFile(files.image, other.image), text: writeModelFile(files.text, other.text) };
    served.set('/files/renamed/image_int8.onnx', readFileSync(files.image));
    served.set('/files/renamed/text_int8.onnx', readFileSync(files.text));
    const { registry, userDir } = localCatalog((e) =>
      e.id !== 'clip-vit-b32-int8' ? e : {
        ...e,
        image: { ...e.image, ...info.image, url: `${base}/files/renamed/image_int8.onnx` },
        text: { ...e.text, ...info.text, url: `${base}/files/renamed/text_int8.onnx` },
      });
    await registry.download('clip-vit-b32-int8');
    expect(JSON.parse(readFileSync(join(userDir, 'clip-vit-b32-int8', 'signature.json'), 'utf8'))).toEqual({
      io: { imageInput: 'pixel_values', imageOutput: 'image_features', textInput: 'input_ids', textOutput: 'text_features', textMask: 'attention_mask' },
    });
    const model = registry.resolve('clip-vit-b32-int8');
    expect(model.io).toMatchObject({ imageOutput: 'image_features', textOutput: 'text_features', textMask: 'attention_mask', textIds: 'int64' });
    const enc = await openEncoder(model, { threads: 1, providers: ['cpu'] });
    try {
      const [v] = await enc.encodeTexts([loadTokenizer(bundledDir).encode('a cat')]);
      expect(v!.length).toBe(512);
    } finally {
      await enc.close();
    }
  });

  it('says so when the downloaded graphs do not have the signature the entry states', async () => {
    // clip-vit-b32 served with files of another signature (pixel_values/int64/dynamic batch).
    const wrong = twin('clip-vit-b32-int8');
    const { registry } = localCatalog((e) =>
      e.id !== 'clip-vit-b32' ? e : {
        ...e,
        image: { ...e.image, bytes: wrong.image.bytes, sha256: wrong.image.sha256, url: `${base}/files/${wrong.image.file}` },
        text: { ...e.text, bytes: wrong.text.bytes, sha256: wrong.text.sha256, url: `${base}/files/${wrong.text.file}` },
      });
    await expect(registry.download('clip-vit-b32')).rejects.toThrow(
      /Model "clip-vit-b32" was downloaded and its sha256 matches, but its files do not have the signature its manifest entry states: the image graph has no input "image" \(it has pixel_values\);.*the text graph has no input "text".*The manifest entry is wrong/,
    );
  });

  it('resumes an interrupted download with a Range request', async () => {
    const { registry, userDir } = localCatalog();
    const t = twin('clip-vit-b32');
    mode = 'cut';
    await expect(registry.download(t.id)).rejects.toThrow(new RegExp(`image_fp32\\.onnx.*after \\d+ of ${t.image.bytes} bytes.*download again to resume`));
    const kept = readFileSync(join(userDir, t.id, 'image_fp32.onnx.part')).length;
    expect(kept).toBeGreaterThan(0);
    mode = 'ok';
    seen = [];
    await registry.download(t.id);
    expect(seen[0]).toEqual({ url: `/files/${t.image.file}`, range: `bytes=${kept}-` });
    expect(registry.verify(t.id)).toEqual([]);
  });

  it('refuses a file with the wrong sha256, naming the file and both hashes, and places nothing', async () => {
    const { registry, userDir } = localCatalog();
    const t = twin('clip-vit-b32-int8');
    mode = 'corrupt';
    const err = await registry.download(t.id).catch((e: Error) => e);
    expect(String(err)).toMatch(new RegExp(`vision|image_int8|${t.image.file}`));
    expect(String(err)).toContain(`expected ${t.image.sha256}`);
    expect(String(err)).toMatch(/corrupt \(sha256 [0-9a-f]{64}, expected/);
    const dir = join(userDir, t.id);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    expect(registry.info(t.id).installed).toBe(false);
  });

  it('refuses a file of the wrong size before fetching it, naming both sizes, and places nothing', async () => {
    const { registry, userDir } = localCatalog();
    const t = twin('clip-vit-b32');
    mode = 'longer';
    await expect(registry.download(t.id)).rejects.toThrow(
      new RegExp(`image_fp32\\.onnx refused: the server's file has ${t.image.bytes + 14} bytes, the manifest expects ${t.image.bytes}`),
    );
    const dir = join(userDir, t.id);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('refuses a model whose licence needs acceptance until it is accepted, before any request', async () => {
    const { registry } = localCatalog();
    const err = await registry.download('mobileclip-s2').catch((e: Error) => e);
    expect(err).toBeInstanceOf(LicenceNotAcceptedError);
    expect(String(err)).toMatch(/Apple ML-MobileCLIP model weights licence \(https:\/\/github\.com\/apple\/ml-mobileclip\/blob\/main\/LICENSE_weights_data\)/);
    expect(String(err)).toContain('leanlens models download mobileclip-s2 --accept-license');
    await expect(registry.download('mobileclip-s2', { acceptLicense: false })).rejects.toThrow(/must read and accept/);
    expect(seen).toEqual([]);
    expect(registry.info('mobileclip-s2').installed).toBe(false);
    // Models without such terms need no acceptance.
    await registry.download('clip-vit-b32');
    await registry.download('mobileclip-s2', { acceptLicense: true });
    expect(registry.info('mobileclip-s2')).toMatchObject({ installed: true, problems: [] });
  });

  it('cancelDownload stops a running download, keeps the partial file, and the next download resumes', async () => {
    const { registry, userDir } = localCatalog();
    const t = twin('mobileclip-s2');
    mode = 'stall';
    expect(registry.cancelDownload(t.id)).toBe(false); // nothing running
    const progress: DownloadProgress[] = [];
    const job = registry.download(t.id, {
      acceptLicense: true,
      onProgress: (p) => {
        progress.push(p);
        if (p.received >= 300_000) registry.cancelDownload(t.id);
      },
    });
    await expect(job).rejects.toThrow(new RegExp(`cancelled after \\d+ of ${t.image.bytes} bytes; the partial file is kept`));
    expect(progress.at(-1)?.error).toMatch(/cancelled/);
    const part = readFileSync(join(userDir, t.id, 'image_fp32.onnx.part'));
    const original = served.get(`/files/${t.image.file}`)!;
    expect(part.equals(original.subarray(0, part.length))).toBe(true);
    mode = 'ok';
    seen = [];
    await registry.download(t.id, { acceptLicense: true });
    expect(seen[0]!.range).toBe(part.length > 0 ? `bytes=${part.length}-` : undefined);
    expect(registry.verify(t.id)).toEqual([]);
  });
});
