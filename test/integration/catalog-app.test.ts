/**
 * The whole path on the twin of every catalog entry, through the real app: download (from a
 * local server on 127.0.0.1) or import (an Immich folder, a Hugging Face snapshot) → index a
 * folder of photos → text search → similar photos → lab bench. Each twin has exactly its real
 * model's signature (int32 ids, fixed batch 1, 224/256 px input, normalised outputs or not), so
 * this proves the app feeds each real model correctly; search quality needs the real weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../main/app/index.ts';
import { COLOURS, writeColourLibrary } from '../fixtures/photos.ts';
import { writeHuggingFaceSnapshot, writeImmichFolder } from '../fixtures/model-folders.ts';
import { startLocalCatalog, type LocalCatalog } from '../fixtures/local-catalog.ts';
import { runAndWait } from './lab-helpers.ts';

let tmp: string;
let app: App;
let modelsDir: string;
let dataDir: string;
let catalog: LocalCatalog;
const PHOTOS = Object.keys(COLOURS).length;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'leanlens-catalog-app-'));
  catalog = await startLocalCatalog(tmp);
  modelsDir = catalog.modelsDir;

  const photos = join(tmp, 'photos');
  mkdirSync(photos);
  await writeColourLibrary(photos);
  dataDir = join(tmp, 'data');
  app = await createApp({ dataDir, modelsDir });
  await app['folders.add']({ path: photos });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await catalog?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Switches to the model, indexes the library with it, and runs a text and a similar search. */
async function indexAndSearch(id: string): Promise<void> {
  await app['models.use']({ id });
  const status = await app.sync();
  expect(status.model, id).toBe(id);
  const text = await app['search.text']({ text: 'a red photo', minScore: -1, limit: 100 });
  expect(text.modelId).toBe(id);
  expect(text.hits, id).toHaveLength(PHOTOS);
  for (const h of text.hits) expect(h.score).toBeLessThanOrEqual(1.0001);
  const photo = text.hits[3]!.photo;
  const similar = await app['search.similar']({ photoId: photo.id, minScore: -1, limit: 100 });
  expect(similar.modelId).toBe(id);
  expect(similar.hits.map((h) => h.photo.id), id).not.toContain(photo.id); // the photo itself is left out
  expect(similar.hits).toHaveLength(PHOTOS - 1);
  for (let i = 1; i < similar.hits.length; i++) expect(similar.hits[i - 1]!.score).toBeGreaterThanOrEqual(similar.hits[i]!.score);
  // The same photo dropped as a file is encoded again (one image, the model's batch): it finds
  // its own stored vector at cosine 1, so indexing and querying feed the graph identically.
  const dropped = await app['search.similar']({ imageBase64: readFileSync(photo.path).toString('base64'), minScore: -1, limit: 100 });
  expect(dropped.hits.find((h) => h.photo.id === photo.id)!.score, id).toBeCloseTo(1, 4);
}

describe('every catalog twin through the app', () => {
  it('clip-vit-b32 (Immich export: int32 ids, batch 1, normalised): download → index → search → similar', async () => {
    const info = await app['models.download']({ id: 'clip-vit-b32' });
    expect(info).toMatchObject({ installed: true, problems: [] });
    await indexAndSearch('clip-vit-b32');
  }, 120_000);

  it('clip-vit-b32-int8 (Xenova export: int64 ids, dynamic batch): download → index → search → similar', async () => {
    await app['models.download']({ id: 'clip-vit-b32-int8' });
    await indexAndSearch('clip-vit-b32-int8');
  }, 120_000);

  it('mobileclip-s2 (256 px, no mean/std, licence): refused without acceptance, then download → index → search → similar', async () => {
    await expect(app['models.download']({ id: 'mobileclip-s2' })).rejects.toThrow(/must read and accept.*--accept-license/);
    await app['models.download']({ id: 'mobileclip-s2', acceptLicense: true });
    expect((await app['models.list']({})).find((m) => m.id === 'mobileclip-s2')).toMatchObject({ installed: true, requiresAcceptance: true });
    await indexAndSearch('mobileclip-s2');
  }, 120_000);

  it('an Immich folder and a Hugging Face snapshot import and search', async () => {
    const immich = writeImmichFolder(join(tmp, 'immich'), { visual: join(tmp, 'twins', 'clip-vit-b32', 'image_fp32.onnx'), textual: join(tmp, 'twins', 'clip-vit-b32', 'text_fp32.onnx') });
    const a = await app['models.import']({ path: immich });
    await indexAndSearch(a.id);
    const hf = writeHuggingFaceSnapshot(join(tmp, 'hub'), { _quantized: { vision: join(tmp, 'twins', 'clip-vit-b32-int8', 'image_int8.onnx'), text: join(tmp, 'twins', 'clip-vit-b32-int8', 'text_int8.onnx') } });
    const b = await app['models.import']({ path: hf, variant: 'quantized' });
    await indexAndSearch(b.id);
  }, 180_000);

  it('the lab bench measures all three against the teacher', async () => {
    const run = await runAndWait(app, {
      models: ['clip-vit-b32', 'clip-vit-b32-int8', 'mobileclip-s2'],
      teacher: 'clip-vit-b32',
      queries: ['a red photo', 'a blue photo'],
      k: 5,
      iterations: 1,
    });
    expect(run.state).toBe('done');
    for (const r of run.results) {
      expect(r.error, r.modelId).toBeNull();
      expect(r.imagesPerSecBatch1!, r.modelId).toBeGreaterThan(0);
      expect(r.textLatencyMs!.p50, r.modelId).toBeGreaterThan(0);
    }
  }, 300_000);
});
