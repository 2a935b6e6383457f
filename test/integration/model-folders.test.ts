/**
 * Importing the model folders people already have — an Immich model folder and a Hugging Face
 * snapshot of a CLIP ONNX export — laid out like the real ones with signature twins inside. The
 * import must read the processing from the folder's config files so that the result is set up
 * exactly like the matching catalog entry (same io, crop, normalisation, pad id, context length).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelRegistry, loadTokenizer } from '../../main/services/models/index.ts';
import { writeModelFile } from '../../main/services/models/model-file.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { resolveSettings, type ManifestEntry } from '../../main/core/model-spec.ts';
import { buildTwin, signatureOf } from '../../main/core/onnx/twin.ts';
import { catalogEntries, generateTwins } from '../../scripts/generate-models.ts';
import { writeHuggingFaceSnapshot, writeImmichFolder } from '../fixtures/model-folders.ts';

const repo = resolve(import.meta.dirname, '../..');
const bundledDir = join(repo, 'models');
let tmp: string;
let twins: ManifestEntry[];
const real = (id: string) => catalogEntries().find((e) => e.id === id)!;
const twinFile = (id: string, tower: 'image' | 'text') => join(tmp, 'twins', twins.find((t) => t.id === id)![tower].file);
let fp32: { vision: string; text: string };

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-folders-'));
  twins = generateTwins(join(tmp, 'twins'));
  // The fp32 export of the same model has the same signature as the quantized one, other bytes.
  const other = buildTwin(signatureOf(real('clip-vit-b32-int8')), 777, 'fp32 twin');
  fp32 = { vision: join(tmp, 'fp32-vision.onnx'), text: join(tmp, 'fp32-text.onnx') };
  writeModelFile(fp32.vision, other.image);
  writeModelFile(fp32.text, other.text);
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('an Immich model folder', () => {
  it('imports with the signature and processing of the clip-vit-b32 catalog entry, and encodes', async () => {
    const folder = writeImmichFolder(join(tmp, 'immich-cache', 'clip'), { visual: twinFile('clip-vit-b32', 'image'), textual: twinFile('clip-vit-b32', 'text') });
    const userDir = join(tmp, 'immich-user');
    const registry = ModelRegistry.open({ bundledDir, userDir });
    const info = await registry.importFolder(folder);
    expect(info).toMatchObject({ id: 'vit-b-32__openai', name: 'ViT-B-32__openai', dim: 512, installed: true, problems: [] });
    expect(info.description).toMatch(/Immich model folder; settings from visual\/preprocess_cfg\.json, textual\/tokenizer_config\.json, config\.json/);

    const resolved = registry.resolve(info.id);
    const expected = resolveSettings(real('clip-vit-b32'));
    // normalised is a property of the graph the files do not state; the app normalises either way.
    expect({ ...resolved.io, normalised: true }).toEqual(expected.io);
    expect(resolved.preprocess).toEqual(expected.preprocess);
    expect(resolved.tokens).toEqual(expected.tokens);
    // Both towers are model.onnx upstream: the copies get distinct names, byte-identical.
    expect(resolved.imagePath).toBe(join(userDir, info.id, 'visual_model.onnx'));
    expect(sha(resolved.textPath)).toBe(sha(join(folder, 'textual', 'model.onnx')));

    const enc = await openEncoder(resolved, { threads: 1, providers: ['cpu'] });
    try {
      const [v] = await enc.encodeTexts([loadTokenizer(bundledDir).encode('a cat')]);
      expect(v!.length).toBe(512);
      const images = await enc.encodeImages(new Float32Array(2 * 3 * 224 * 224).fill(0.25), 2);
      expect(images).toHaveLength(2);
    } finally {
      await enc.close();
    }
  });

  it('reads the processing from the files, not from defaults', async () => {
    const folder = writeImmichFolder(join(tmp, 'immich-squash'), { visual: twinFile('clip-vit-b32', 'image'), textual: twinFile('clip-vit-b32', 'text') }, 'ViT-B-32__custom');
    writeFileSync(
      join(folder, 'visual', 'preprocess_cfg.json'),
      JSON.stringify({ size: 224, mode: 'RGB', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear', resize_mode: 'squash' }),
    );
    writeFileSync(join(folder, 'textual', 'tokenizer_config.json'), JSON.stringify({ pad_token: '!' }));
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'immich-squash-user') });
    const resolved = registry.resolve((await registry.importFolder(folder)).id);
    expect(resolved.preprocess).toEqual({ size: 224, resize: 'squash', interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(resolved.tokens.padId).toBe(0);
  });

  it('refuses a config whose input size disagrees with the graph, and a variant', async () => {
    const folder = writeImmichFolder(join(tmp, 'immich-bad'), { visual: twinFile('clip-vit-b32', 'image'), textual: twinFile('clip-vit-b32', 'text') });
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'immich-bad-user') });
    await expect(registry.importFolder(folder, { variant: 'fp16' })).rejects.toThrow(/Immich model folder.*--variant applies to Hugging Face/);
    writeFileSync(join(folder, 'visual', 'preprocess_cfg.json'), JSON.stringify({ size: [256, 256], mean: [0, 0, 0], std: [1, 1, 1], interpolation: 'bicubic' }));
    await expect(registry.importFolder(folder)).rejects.toThrow(/takes 224×224 images but visual\/preprocess_cfg\.json says 256/);
    expect(registry.list().map((m) => m.id)).not.toContain('vit-b-32__openai');
  });
});

describe('a Hugging Face snapshot', () => {
  let snapshot: string;
  beforeAll(() => {
    snapshot = writeHuggingFaceSnapshot(join(tmp, 'hub'), {
      '': fp32,
      _quantized: { vision: twinFile('clip-vit-b32-int8', 'image'), text: twinFile('clip-vit-b32-int8', 'text') },
    });
  });

  it('imports the variant asked for with the settings of the clip-vit-b32-int8 catalog entry', async () => {
    const userDir = join(tmp, 'hf-user');
    const registry = ModelRegistry.open({ bundledDir, userDir });
    const info = await registry.importFolder(snapshot, { variant: 'quantized' });
    // The snapshot folder is a commit hash: the name comes from the hub cache's repository folder.
    expect(info).toMatchObject({ id: 'xenova-clip-vit-base-patch32-quantized', name: 'Xenova/clip-vit-base-patch32 (quantized)', dim: 512, installed: true });
    expect(info.description).toMatch(/Hugging Face snapshot, quantized; settings from preprocessor_config\.json, tokenizer_config\.json, config\.json/);
    const resolved = registry.resolve(info.id);
    const expected = resolveSettings(real('clip-vit-b32-int8'));
    expect(resolved.io).toEqual(expected.io);
    expect(resolved.preprocess).toEqual(expected.preprocess);
    expect(resolved.tokens).toEqual(expected.tokens);
    expect(resolved.imagePath).toBe(join(userDir, info.id, 'vision_model_quantized.onnx'));
    expect(sha(resolved.imagePath)).toBe(sha(twinFile('clip-vit-b32-int8', 'image')));

    const enc = await openEncoder(resolved, { threads: 1, providers: ['cpu'] });
    try {
      const vs = await enc.encodeTexts([loadTokenizer(bundledDir).encode('a cat'), loadTokenizer(bundledDir).encode('a')]);
      expect(vs.map((v) => v.length)).toEqual([512, 512]);
    } finally {
      await enc.close();
    }
  });

  it('takes fp32 when no variant is named, and names what exists when the variant is missing', async () => {
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'hf-user-2') });
    const info = await registry.importFolder(snapshot);
    expect(info.id).toBe('xenova-clip-vit-base-patch32');
    expect(sha(registry.resolve(info.id).imagePath)).toBe(sha(fp32.vision));
    await expect(registry.importFolder(snapshot, { variant: 'fp16' })).rejects.toThrow(/has no fp16 pair \(vision_model_fp16\.onnx and text_model_fp16\.onnx\); it has: fp32, quantized/);
  });

  it('a variant on a plain folder is an error', async () => {
    const registry = ModelRegistry.open({ bundledDir, userDir: join(tmp, 'hf-user-3') });
    await expect(registry.importFolder(join(tmp, 'twins', 'clip-vit-b32'), { variant: 'quantized' })).rejects.toThrow(/not a Hugging Face snapshot/);
  });
});
