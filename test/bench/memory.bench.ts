/**
 * Resident memory of the app with 100k vectors and the ViT-B/32-shaped model loaded (both towers),
 * beside the sum of the raw vector bytes and the model file bytes. Runs inside the query bench's
 * 100k library (so the HNSW index is built once); standalone it builds its own.
 */
import { rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createApp, type App } from '../../main/app/index.ts';
import type { ResolvedModel } from '../../main/core/model-spec.ts';
import { ensureBenchModel, modelBytes, resolveBenchModel } from './models.ts';
import { syntheticLibrary } from './query.bench.ts';
import { GENERATED_MANIFEST, heading, info, mib, rssNow } from './util.ts';

const DIM = 512;

/** Measures the open app: call with a library of `n` vectors whose session is open. */
export async function measureMemory(app: App, n: number, model: ResolvedModel): Promise<void> {
  heading(`resident memory (${n / 1000}k vectors + ViT-B/32-shaped model loaded)`);
  // sync() loads the image tower (the text tower is loaded by the queries before it).
  await app.sync();
  await app['search.text']({ text: 'a photo', limit: 10 });
  const rss = rssNow();
  const heap = process.memoryUsage();
  const vectors = n * DIM * 4;
  const models = modelBytes(model);
  info('resident set size (RSS)', mib(rss), `V8 heap ${mib(heap.heapUsed)}, external + array buffers ${mib(heap.external)}`);
  info('vector bytes + model bytes', `${mib(vectors + models)}`, `${mib(vectors)} vectors (${n} × ${DIM} × 4 B) + ${mib(models)} model files`);
  info('RSS ÷ (vectors + model)', `${(rss / (vectors + models)).toFixed(2)}×`, 'includes the HNSW graph (~1 KB/vector of links beyond the vector), SQLite cache, Node and ONNX Runtime');
}

export async function runMemoryBench(n = 100_000): Promise<void> {
  await ensureBenchModel();
  const model = resolveBenchModel();
  const dataDir = await syntheticLibrary(n);
  try {
    const app = await createApp({ dataDir, extraManifests: [GENERATED_MANIFEST] });
    try {
      await measureMemory(app, n, model);
    } finally {
      await app.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMemoryBench(Number(process.argv[2]) || undefined);
