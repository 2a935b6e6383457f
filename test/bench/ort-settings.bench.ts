/**
 * Issue 15 §4 — the raw image encoder against ONNX Runtime's own best settings on this machine,
 * side by side in one run: a plain in-process InferenceSession over a small grid (intra-op
 * threads, graph optimisation level, CPU memory arena), batch 8, ViT-B/32-shaped model; then the
 * app's encoder (its own process, its settings) on the same tensors. Target: the app's encoder
 * within 10% of the best (ratio ≥ 0.9). Prints figures; never asserts.
 *
 *   npx tsx test/bench/ort-settings.bench.ts
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { ensureBenchModel, resolveBenchModel } from './models.ts';
import { heading, info, report } from './util.ts';

const BATCH = 8;
const TIMED_BATCHES = 3;
const TARGET = 0.9;

function tensorData(seed: number): Float32Array {
  const data = new Float32Array(BATCH * 3 * 224 * 224);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    data[i] = x / 2 ** 32 - 0.5;
  }
  return data;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up (first run allocates and plans)
  const t = performance.now();
  for (let i = 0; i < TIMED_BATCHES; i++) await run();
  return (TIMED_BATCHES * BATCH) / ((performance.now() - t) / 1000);
}

export async function runOrtSettingsBench(): Promise<void> {
  heading('raw encoder vs ONNX Runtime best settings (ViT-B/32-shaped, batch 8)');
  await ensureBenchModel();
  const model = resolveBenchModel();
  const data = tensorData(1);
  const cores = availableParallelism();
  const grid: { threads: number; level: 'basic' | 'extended' | 'all'; arena: boolean }[] = [];
  for (const threads of [...new Set([cores, 1])])
    for (const level of ['basic', 'all'] as const) for (const arena of [true, false]) grid.push({ threads, level, arena });
  let best = { rate: 0, label: '' };
  for (const g of grid) {
    const session = await ort.InferenceSession.create(model.imagePath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: g.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: g.level,
      enableCpuMemArena: g.arena,
      logSeverityLevel: 3,
    });
    const input = new ort.Tensor('float32', data, [BATCH, 3, 224, 224]);
    const rate = await timed(() => session.run({ [session.inputNames[0]!]: input }));
    await session.release();
    const label = `${g.threads} threads, optimisation ${g.level}, arena ${g.arena ? 'on' : 'off'}`;
    info(`ONNX Runtime in-process: ${label}`, `${rate.toFixed(1)} images/s`);
    if (rate > best.rate) best = { rate, label };
  }
  const encoder = await openEncoder(model, { threads: cores, providers: ['cpu'] });
  let ours: number;
  try {
    await encoder.load('image');
    ours = await timed(() => encoder.encodeImages(data, BATCH));
  } finally {
    await encoder.close();
  }
  info('app encoder (own process, its settings)', `${ours.toFixed(1)} images/s`, `${cores} threads`);
  report(
    'app encoder ÷ ONNX Runtime best',
    `${(ours / best.rate).toFixed(2)} (best: ${best.label})`,
    `≥ ${TARGET}`,
    ours / best.rate >= TARGET,
    'the encoder process adds the tensor copy over IPC and its settings differ from the best here',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runOrtSettingsBench();
