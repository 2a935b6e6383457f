/**
 * Issue 15 §4 — the raw image encoder against ONNX Runtime's own best settings on this machine,
 * side by side in one run (ViT-B/32-shaped model, batch 8, the indexer's batch):
 *
 *  1. search: a plain in-process InferenceSession for each setting — graph optimisation level
 *     (basic / extended / all) × CPU memory arena (on / off) × execution mode (sequential /
 *     parallel) at the app's thread count with ONNX Runtime's default spinning, the app's own settings
 *     with spinning flipped, plus one single-thread point — one timed round each;
 *  2. side by side: the best of those, the app's own settings in-process, and the app's encoder
 *     (its own process, the tensor sent over IPC) timed in alternating rounds, so all three see
 *     the same machine load; the ratio is of their medians.
 * Target: app encoder ÷ best ≥ 0.9. Prints figures; never asserts. `--big` for more rounds.
 *
 *   npx tsx test/bench/ort-settings.bench.ts [--big]
 */
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { openEncoder, sessionOptions } from '../../main/services/encoder/index.ts';
import { ensureBenchModel, resolveBenchModel } from './models.ts';
import { heading, info, median, report } from './util.ts';

const BATCH = 8;
const BIG = process.argv.includes('--big');
/** Batches per timed round. */
const ROUND_BATCHES = BIG ? 4 : 2;
/** Alternating rounds of the side-by-side part. */
const SIDE_BY_SIDE_ROUNDS = BIG ? 7 : 3;
const TARGET = 0.9;

interface Setting {
  threads: number;
  level: 'basic' | 'extended' | 'all';
  arena: boolean;
  mode: 'sequential' | 'parallel';
  /** ONNX Runtime's `session.intra_op.allow_spinning` (its default is on). */
  spinning: boolean;
}

function tensorData(seed: number): Float32Array {
  const data = new Float32Array(BATCH * 3 * 224 * 224);
  let x = seed;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0;
    data[i] = x / 2 ** 32 - 0.5;
  }
  return data;
}

/** Images per second over one round (after one warm-up batch the first time). */
async function round(run: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < ROUND_BATCHES; i++) await run();
  return (ROUND_BATCHES * BATCH) / ((performance.now() - t) / 1000);
}

const label = (s: Setting) =>
  `${s.threads} thread${s.threads > 1 ? 's' : ''}, ${s.level}, arena ${s.arena ? 'on' : 'off'}, ${s.mode}, spinning ${s.spinning ? 'on' : 'off'}`;

async function openSession(path: string, s: Setting): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    intraOpNumThreads: s.threads,
    interOpNumThreads: s.mode === 'parallel' ? s.threads : 1,
    graphOptimizationLevel: s.level,
    enableCpuMemArena: s.arena,
    executionMode: s.mode,
    extra: { session: { intra_op: { allow_spinning: s.spinning ? '1' : '0' } } },
    logSeverityLevel: 3,
  });
}

export async function runOrtSettingsBench(): Promise<void> {
  heading('raw encoder vs ONNX Runtime best settings (ViT-B/32-shaped, batch 8)');
  await ensureBenchModel();
  const model = resolveBenchModel();
  const data = tensorData(1);
  const cores = availableParallelism();
  const app = sessionOptions(cores, 'image');
  const appSetting: Setting = {
    threads: app.intraOpNumThreads,
    level: app.graphOptimizationLevel,
    arena: app.enableCpuMemArena,
    mode: app.executionMode,
    spinning: app.extra.session.intra_op.allow_spinning === '1',
  };
  info('the app encoder\'s settings', label(appSetting));

  // 1. Search.
  const grid: Setting[] = [];
  for (const level of ['basic', 'extended', 'all'] as const)
    for (const arena of [true, false])
      for (const mode of ['sequential', 'parallel'] as const) grid.push({ threads: cores, level, arena, mode, spinning: true });
  grid.push({ ...appSetting, spinning: !appSetting.spinning }); // the app's settings with spinning flipped
  if (cores > 1) grid.push({ ...appSetting, threads: 1 });
  let best = { rate: 0, setting: appSetting };
  for (const s of grid) {
    const session = await openSession(model.imagePath, s);
    try {
      const input = new ort.Tensor('float32', data, [BATCH, 3, 224, 224]);
      const run = () => session.run({ [session.inputNames[0]!]: input });
      await run(); // warm-up: the first run allocates and plans
      const rate = await round(run);
      info(`search: ${label(s)}`, `${rate.toFixed(1)} images/s`);
      if (rate > best.rate) best = { rate, setting: s };
    } finally {
      await session.release();
    }
  }

  // 2. Side by side, alternating rounds.
  const bestSession = await openSession(model.imagePath, best.setting);
  const appSession = await openSession(model.imagePath, appSetting);
  const encoder = await openEncoder(model, { threads: cores, providers: ['cpu'] });
  const rates = { best: [] as number[], appInProcess: [] as number[], encoder: [] as number[] };
  try {
    await encoder.load('image');
    const input = new ort.Tensor('float32', data, [BATCH, 3, 224, 224]);
    const runBest = () => bestSession.run({ [bestSession.inputNames[0]!]: input });
    const runApp = () => appSession.run({ [appSession.inputNames[0]!]: input });
    const runEncoder = () => encoder.encodeImages(data, BATCH);
    for (const warm of [runBest, runApp, runEncoder]) await warm();
    for (let r = 0; r < SIDE_BY_SIDE_ROUNDS; r++) {
      // Rotate the order so none of them always runs right after another's burst.
      const order = [
        ['best', runBest],
        ['appInProcess', runApp],
        ['encoder', runEncoder],
      ] as const;
      for (let k = 0; k < order.length; k++) {
        const [key, run] = order[(k + r) % order.length]!;
        rates[key].push(await round(run));
      }
    }
  } finally {
    await encoder.close();
    await bestSession.release();
    await appSession.release();
  }
  const m = { best: median(rates.best), app: median(rates.appInProcess), encoder: median(rates.encoder) };
  info(`side by side: best (${label(best.setting)})`, `${m.best.toFixed(1)} images/s`, `median of ${SIDE_BY_SIDE_ROUNDS} rounds: ${rates.best.map((x) => x.toFixed(1)).join(', ')}`);
  info('side by side: app settings, in-process', `${m.app.toFixed(1)} images/s`, rates.appInProcess.map((x) => x.toFixed(1)).join(', '));
  info('side by side: app encoder (own process)', `${m.encoder.toFixed(1)} images/s`, rates.encoder.map((x) => x.toFixed(1)).join(', '));
  report(
    'app encoder ÷ ONNX Runtime best',
    (m.encoder / m.best).toFixed(2),
    `≥ ${TARGET}`,
    m.encoder / m.best >= TARGET,
    `settings alone (in-process) ${(m.app / m.best).toFixed(2)}; the rest is the encoder process (tensor over IPC); load average ${loadavg()[0]!.toFixed(1)} on ${cores} cores`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runOrtSettingsBench();
