import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../main/services/models/manifest.ts';

const file = (name: string) => ({ file: name, bytes: 10, sha256: 'a'.repeat(64) });
const entry = (over: Record<string, unknown> = {}) => ({
  id: 'clip-vit-b32',
  name: 'CLIP ViT-B/32',
  role: 'teacher',
  dim: 512,
  image: file('clip/image_fp32.onnx'),
  text: file('clip/text_fp32.onnx'),
  ...over,
});
const text = (models: unknown[]) => JSON.stringify({ version: 1, models });

describe('parseManifest', () => {
  it('accepts a minimal entry and keeps optional fields', () => {
    const m = parseManifest(text([entry({ io: { textMask: 'attention_mask' }, hidden: true })]), 'm.json');
    expect(m.models[0]).toMatchObject({ id: 'clip-vit-b32', dim: 512, io: { textMask: 'attention_mask' }, hidden: true });
  });

  it('names the file when the JSON is broken', () => {
    expect(() => parseManifest('{"version":1,', '/data/models/manifest.json')).toThrow(
      /The model manifest \/data\/models\/manifest\.json is not valid JSON .*Fix the file/,
    );
  });

  it('names the field that is wrong', () => {
    expect(() => parseManifest(text([entry({ dim: -1 })]), 'x.json')).toThrow(/x\.json is malformed: models\.0\.dim/);
    expect(() => parseManifest(text([entry({ image: { file: 'a', bytes: 1, sha256: 'nothex' } })]), 'x.json')).toThrow(
      /models\.0\.image\.sha256: expected a 64-character hex sha256/,
    );
    expect(() => parseManifest(text([entry({ role: 'boss' })]), 'x.json')).toThrow(/models\.0\.role/);
    expect(() => parseManifest(JSON.stringify({ version: 2, models: [] }), 'x.json')).toThrow(/version/);
  });

  it('rejects ids that cannot be folder names and duplicate ids', () => {
    expect(() => parseManifest(text([entry({ id: '../escape' })]), 'x.json')).toThrow(/models\.0\.id/);
    expect(() => parseManifest(text([entry(), entry()]), 'x.json')).toThrow(/lists the id "clip-vit-b32" twice/);
  });
});
