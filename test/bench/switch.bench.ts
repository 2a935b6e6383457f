/**
 * Real models (issue 16 §7), two figures:
 *   1. what a graph with a batch fixed at 1 (Immich's clip-vit-b32 export) costs in image throughput:
 *      the ViT-B/32 image tower built with its batch fixed at 1, run one photo at a time, against the
 *      same tower with a dynamic batch at batch 8 — same weights, same run;
 *   2. time from `models use` to a fully switched 1,000-photo library, with searches answered all
 *      the while (count of failed or empty searches: target 0).
 *
 *   npx tsx test/bench/switch.bench.ts
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { createApp } from '../../main/app/index.ts';
import { buildImageTower } from '../../main/core/onnx/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { writeModelFile } from '../../main/services/models/index.ts';
import { BENCH_MODELS } from '../../scripts/generate-models.ts';
import { ensureBenchModel, resolveBenchModel } from './models.ts';
import { BENCH_MODEL, heading, info, mapLimited, report } from './util.ts';

const IMAGES = 32;

async function imagesPerSecond(model: ReturnType<typeof resolveBenchModel>, batch: number): Promise<number> {
  const encoder = await openEncoder(model, { providers: ['cpu'] });
  try {
    await encoder.load('image');
    const per = 3 * model.preprocess.size ** 2;
    const pixels = Float32Array.from({ length: per * batch }, (_, i) => Math.sin(i) * 0.5);
    await encoder.encodeImages(pixels, batch); // warm-up
    const t = performance.now();
    for (let done = 0; done < IMAGES; done += batch) await encoder.encodeImages(pixels, batch);
    return IMAGES / ((performance.now() - t) / 1000);
  } finally {
    await encoder.close();
  }
}

export async function runFixedBatchBench(): Promise<void> {
  heading('fixed batch 1 (Immich export) vs dynamic batch 8, ViT-B/32-shaped image tower');
  await ensureBenchModel();
  const dynamic = resolveBenchModel();
  const spec = BENCH_MODELS.find((m) => m.id === BENCH_MODEL)!;
  const dir = await mkdtemp(join(tmpdir(), 'leanlens-bench-batch1-'));
  try {
    // The same seeded weights, batch dimension fixed at 1 as in immich-app/ViT-B-32__openai.
    const imagePath = join(dir, 'image_batch1.onnx');
    writeModelFile(imagePath, buildImageTower({ ...spec.image, batch: 1 }));
    const fixed = { ...dynamic, id: `${BENCH_MODEL}-batch1`, imagePath, io: { ...dynamic.io, imageBatch: 1 } };
    const at8 = await imagesPerSecond(dynamic, 8);
    const at1 = await imagesPerSecond(fixed, 1);
    info('dynamic batch, batch 8', `${at8.toFixed(1)} img/s`);
    info('fixed batch 1, one photo at a time', `${at1.toFixed(1)} img/s`);
    info('fixed batch 1 ÷ dynamic batch 8', `${(at1 / at8).toFixed(2)}×`, 'what indexing with the Immich-exported clip-vit-b32 costs on this CPU');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `n` small distinct photos (a colour gradient each): decoding is cheap, so the switch time is the model's. */
async function smallPhotos(dir: string, n: number): Promise<void> {
  await mapLimited(
    Array.from({ length: n }, (_, i) => i),
    4,
    (i) =>
      sharp({ create: { width: 96, height: 64, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } } })
        .jpeg({ quality: 85 })
        .toFile(join(dir, `photo-${String(i).padStart(4, '0')}.jpg`)),
  );
}

export async function runSwitchBench(n = 1000): Promise<void> {
  heading(`switching models on a ${n.toLocaleString('en')}-photo library, searching throughout`);
  const root = await mkdtemp(join(tmpdir(), 'leanlens-bench-switch-'));
  try {
    const photos = join(root, 'photos');
    await mkdir(photos);
    await smallPhotos(photos, n);
    const dataDir = join(root, 'data');
    const pre = await createApp({ dataDir });
    await pre['folders.add']({ path: photos });
    await pre.sync(); // indexed with color-oracle
    await pre.close();
    const app = await createApp({ dataDir, live: true });
    try {
      const switched = new Promise<void>((resolve) => {
        const off = app.on('models.changed', (models) => {
          if (models.find((m) => m.active)?.id === 'tiny-clip') {
            off();
            resolve();
          }
        });
      });
      let done = false;
      void switched.then(() => (done = true));
      const t = performance.now();
      await app['models.use']({ id: 'tiny-clip' });
      let searches = 0;
      let failed = 0;
      while (!done) {
        try {
          if ((await app['search.text']({ text: 'a red photo', limit: 10 })).hits.length === 0) failed++;
        } catch {
          failed++;
        }
        searches++;
      }
      await switched;
      const seconds = (performance.now() - t) / 1000;
      info('models use → fully switched', `${seconds.toFixed(1)} s`, `${(n / seconds).toFixed(0)} photos/s indexed by the new model in the background`);
      report('searches that failed or came back empty during the switch', `${failed} of ${searches}`, '0', failed === 0, 'search went dark during the switch');
    } finally {
      await app.close();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runFixedBatchBench();
  await runSwitchBench(Number(process.argv[2]) || undefined);
}
