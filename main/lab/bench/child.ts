/**
 * The lab's measuring child process: loads ONE model and measures it alone, so one model's
 * memory never shows up in another's figures. Reads a SpeedJob (JSON file named by the last
 * argument), prints one line `LEANLENS-SPEED <json SpeedReport>` on stdout, and exits.
 *
 * Peak resident memory is the kernel's high-water mark for this process: taken once before the
 * model loads (node, sharp, decoded photos) and once at the end.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openEncoder } from '../../services/encoder/index.ts';
import { loadTokenizer } from '../../services/models/index.ts';
import { percentiles } from '../fidelity/index.ts';
import { samplePixels } from '../sample-pixels.ts';
import { SPEED_MARKER, type SpeedJob, type SpeedReport } from './speed-protocol.ts';

/**
 * This process's peak resident memory. On Linux, VmHWM of /proc/self/status: getrusage's maxRSS
 * survives exec, so a child of a big parent would report the parent's peak as its own.
 */
function maxRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024; // kilobytes elsewhere too
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[process.argv.length - 1]!, 'utf8')) as SpeedJob;
  const model = job.model;
  const size = model.preprocess.size;
  const per = 3 * size * size;
  const tokenizer = loadTokenizer(job.modelsDir);

  // The same photos for every model (decoded with this model's preprocessing); noise when there are none.
  const tensors = await samplePixels(job.photos, model.preprocess, { count: 8, seed: 12345 });
  const baselineRssBytes = maxRss();

  const encoder = await openEncoder(model, { threads: job.threads, providers: job.providers });
  try {
    await encoder.load('both');
    const times = encoder.loadTimes();
    const batch = (n: number, offset: number) => {
      const out = new Float32Array(per * n);
      for (let i = 0; i < n; i++) out.set(tensors[(offset + i) % tensors.length]!, i * per);
      return out;
    };
    // Warm-up: the first run of a session allocates its buffers.
    await encoder.encodeImages(batch(1, 0), 1);
    await encoder.encodeTexts([tokenizer.encode('warm up')]);

    const iterations = Math.max(1, job.iterations);
    let t0 = performance.now();
    for (let i = 0; i < iterations; i++) await encoder.encodeImages(batch(1, i), 1);
    const imagesPerSecBatch1 = iterations / ((performance.now() - t0) / 1000);

    const rounds = Math.max(1, Math.ceil(iterations / 8));
    t0 = performance.now();
    for (let r = 0; r < rounds; r++) await encoder.encodeImages(batch(8, r * 8), 8);
    const imagesPerSecBatch8 = (rounds * 8) / ((performance.now() - t0) / 1000);

    const latencies: number[] = [];
    const queries = job.queries.length ? job.queries : ['a photo'];
    const textRuns = Math.max(queries.length, iterations * 2);
    for (let i = 0; i < textRuns; i++) {
      const q = queries[i % queries.length]!;
      const s = performance.now();
      await encoder.encodeTexts([tokenizer.encode(q)]);
      latencies.push(performance.now() - s);
    }
    const report: SpeedReport = {
      loadMs: { image: times.imageMs, text: times.textMs },
      execution: encoder.info(),
      baselineRssBytes,
      peakRssBytes: maxRss(),
      imagesPerSecBatch1,
      imagesPerSecBatch8,
      textLatencyMs: percentiles(latencies),
      photos: tensors.length,
    };
    process.stdout.write(`${SPEED_MARKER} ${JSON.stringify(report)}\n`);
  } finally {
    await encoder.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
