/**
 * `npm run bench`: every benchmark of the core engine, each figure printed beside its target
 * (PASS/MISS, with a one-line reason under a MISS), then one Markdown table of all figures for
 * the README. Nothing is asserted. Sections that need ../shared/data/coco-mini skip with a
 * message when it is absent; the ViT-B/32-shaped models are generated on first need.
 *
 * Sections: pipeline throughput, watch latency, text query latency at 10k/100k (+ resident
 * memory at 100k), the ANN benchmark (test/bench/ann.bench.ts, recall@10 at 100k) and the
 * model lab's benchmark (test/bench/lab.bench.ts) when those files exist, adaptive relevance and
 * negative terms on labelled ShapesWorld (test/bench/relevance.bench.ts), the Photos timeline at
 * 100,000 photos (test/bench/timeline.bench.ts), the CLI's start-up times
 * (test/bench/cli.bench.ts; alone: `npx tsx test/bench/cli.bench.ts`), text in photos
 * (OCR: test/bench/text.bench.ts; alone: `npx tsx test/bench/text.bench.ts`) and near-duplicate
 * precision/recall on coco-mini copies (test/bench/duplicates.bench.ts; all 801 photos with
 * LEANLENS_BENCH_DUPLICATES=all; relevance on a 1,000-photo generated library:
 * LEANLENS_BENCH_RELEVANCE_PHOTOS=1000) and hostile requests to `serve`: counts tried and answered,
 * memory before and after (test/bench/hostile.bench.ts; LEANLENS_BENCH_HOSTILE_ROUNDS=200 for a long run).
 *
 * Scale (issue 15 §1: test/bench/scale.bench.ts, then scan.bench.ts at 200k files) is its own
 * run, minutes to an hour:
 *   npm run bench -- --scale          # 100k photos
 *   npm run bench -- --scale --1m     # 1,000,000 photos
 *   npm run bench -- --scale --keep DIR   # keep the library in DIR; a rerun measures it again without rebuilding
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { runPipelineBench } from './pipeline.bench.ts';
import { runQueryBench } from './query.bench.ts';
import { measureMemory } from './memory.bench.ts';
import { runWatchBench } from './watch.bench.ts';
import { runTrainedLabBench } from './lab-trained.bench.ts';
import { runFixedBatchBench, runSwitchBench } from './switch.bench.ts';
import { runCliBench } from './cli.bench.ts';
import { runRelevanceBench } from './relevance.bench.ts';
import { runTextBench } from './text.bench.ts';
import { runTimelineBench } from './timeline.bench.ts';
import { runDuplicatesBench } from './duplicates.bench.ts';
import { runScaleBench } from './scale.bench.ts';
import { runScanBench } from './scan.bench.ts';
import { runOrtSettingsBench } from './ort-settings.bench.ts';
import { runHostileBench } from './hostile.bench.ts';
import { heading, info, markdownTable, report, skipped } from './util.ts';

/** Runs one bench module; a failure is reported and the other sections still run. */
async function optionalBench(file: string, exportName: string, title: string, run: (fn: () => Promise<void>) => Promise<void>): Promise<void> {
  const url = new URL(file, import.meta.url);
  if (!existsSync(url)) {
    heading(title);
    skipped(title, `not available: ${file.replace('./', 'test/bench/')} is not in this tree yet`);
    return;
  }
  const mod = (await import(url.href)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    heading(title);
    skipped(title, `not available: ${file} does not export ${exportName}()`);
    return;
  }
  await run(fn as () => Promise<void>);
}

/** Copies the ANN bench's recall and latency lines into the summary table as they print. */
async function withAnnCapture(fn: () => Promise<void>): Promise<void> {
  heading('ANN (hnswlib) — runAnnBench');
  const log = console.log;
  let current = '';
  console.log = (...args: unknown[]) => {
    log(...args);
    const line = args.map(String).join(' ');
    const head = /^\s*([\d,]+) × \d+-d, (\w+)/.exec(line);
    if (head) current = `${head[1]} ${head[2]}`;
    const recall = /recall@10 vs exact\s+([\d.]+)/.exec(line);
    if (recall && current) {
      const value = Number(recall[1]);
      if (current.startsWith('100,000 clustered')) {
        report(`recall@10 vs exact, ${current}`, value.toFixed(3), '≥ 0.98', value >= 0.98, 'HNSW ef too low for this data; raise ef in the ann service');
      } else info(`recall@10 vs exact, ${current}`, value.toFixed(3));
    }
    const q = /HNSW query p50 \/ p95\s+([\d.]+) \/ ([\d.]+) ms/.exec(line);
    if (q && current) info(`HNSW query p50 / p95, ${current}`, `${q[1]} / ${q[2]} ms`);
  };
  try {
    await fn();
  } finally {
    console.log = log;
  }
}

/** One section; its failure is printed as a MISS line and the next section still runs. */
async function section(title: string, run: () => Promise<unknown>, failed: string[]): Promise<void> {
  try {
    await run();
  } catch (err) {
    failed.push(title);
    report(`${title}: section ran to the end`, 'failed', 'ran', false, (err as Error).stack ?? String(err));
  }
}

export async function runBenchmarks(): Promise<string[]> {
  const started = performance.now();
  const failed: string[] = [];
  console.log(`LeanLens benchmarks — ${availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString()}`);
  await section('pipeline', runPipelineBench, failed);
  await section('encoder settings', runOrtSettingsBench, failed);
  await section('watch', runWatchBench, failed);
  await section('query', () => runQueryBench({ atLargest: measureMemory }), failed);
  await section('ANN', () => optionalBench('./ann.bench.ts', 'runAnnBench', 'ANN (hnswlib) — runAnnBench', withAnnCapture), failed);
  await section('model lab', () => optionalBench('./lab.bench.ts', 'runLabBench', 'model lab — runLabBench', async (fn) => {
    heading('model lab — runLabBench');
    await fn();
  }), failed);
  await section('trained lab', runTrainedLabBench, failed);
  await section('search relevance', () => runRelevanceBench(), failed);
  await section('Photos timeline', () => runTimelineBench(), failed);
  await section('CLI start-up', runCliBench, failed);
  await section('fixed batch 1', runFixedBatchBench, failed);
  await section('switching models', () => runSwitchBench(), failed);
  await section('text in photos', runTextBench, failed);
  await section('near-duplicates', runDuplicatesBench, failed);
  await section('hostile requests', () => runHostileBench(), failed);
  heading('scale');
  skipped('scale (100k / 1M photos)', 'its own run: npm run bench -- --scale [--1m]');
  const minutes = (performance.now() - started) / 60_000;
  console.log(`\nAll benchmarks finished in ${minutes.toFixed(1)} min${failed.length ? `; sections that failed: ${failed.join(', ')}` : ''}.\n`);
  console.log(markdownTable());
  return failed;
}

/** `--scale [--1m]`: the scale section alone, with its table. */
async function runScaleOnly(n: number, keep?: string): Promise<string[]> {
  const failed: string[] = [];
  console.log(`LeanLens scale benchmark — ${availableParallelism()} cores, Node ${process.version}, ${new Date().toISOString()}`);
  await section('scale', () => runScaleBench(n, keep), failed);
  await section('scan 200k', () => runScanBench(), failed);
  console.log(`\n${markdownTable()}`);
  return failed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const keep = args.includes('--keep') ? args[args.indexOf('--keep') + 1] : undefined;
  const failed = args.includes('--scale') ? await runScaleOnly(args.includes('--1m') ? 1_000_000 : 100_000, keep) : await runBenchmarks();
  if (failed.length) process.exitCode = 1;
}
