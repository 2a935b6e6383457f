/**
 * Model-lab benchmark: the issue's targets, as ratios against the fp32 ViT-B/32-shaped teacher
 * (models/generated, random weights), measured by the lab's own runner on this machine, each
 * printed beside the paper's figure. Prints; never asserts.
 *
 *   npx tsx test/bench/lab.bench.ts           (needs: npx tsx scripts/generate-models.ts --bench)
 *
 * Kept to ~10 minutes on 2 cores: 12 photos, 4 timing iterations, one Hutchinson probe per
 * weight for HAWQ. The random-weight models measure size and speed faithfully; their recall
 * means nothing, so recall is only reported for a real (non-test) model when one is installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLED_MODELS_DIR, createApp } from '../../main/app/index.ts';
import { PAPER_REFERENCE, type LabModelResult, type LabRun } from '../../main/core/contract.ts';
import { ModelRegistry, loadTokenizer } from '../../main/services/models/index.ts';
import { makeVariant, mixedPlan, readLabelledSet, uniformConfig } from '../../main/lab/index.ts';
import { writeColourLibrary } from '../fixtures/photos.ts';
import { ensureBenchModel } from './models.ts';
import { GENERATED_MANIFEST as GENERATED } from './util.ts';

const COCO_VAL = join(BUNDLED_MODELS_DIR, '..', '..', 'shared', 'data', 'coco-mini', 'val.json');
const TEACHER = 'vitb32-shaped';
const STUDENT = 'vits16-t4-shaped';

export interface LabBenchOptions {
  photos?: number;
  iterations?: number;
  log?: (line: string) => void;
}

export interface LabBenchRow {
  target: string;
  measured: string;
  goal: string;
  paper: string;
  met: boolean | null;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

const x = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(2)}×`);

export async function runLabBench(opts: LabBenchOptions = {}): Promise<{ run: LabRun | null; rows: LabBenchRow[] }> {
  const log = opts.log ?? ((l: string) => console.log(l));
  log('\n== Model lab: students and compressed teachers vs the fp32 ViT-B/32-shaped teacher ==');
  await ensureBenchModel([TEACHER, STUDENT]);
  const root = mkdtempSync(join(tmpdir(), 'leanlens-lab-bench-'));
  const dataDir = join(root, 'data');
  try {
    // Photos: coco-mini's first val photos when present (real content), else generated colours.
    const photosDir = join(root, 'photos');
    let photoSource = 'generated colour photos';
    if (existsSync(COCO_VAL)) {
      const { copyFileSync, mkdirSync } = await import('node:fs');
      mkdirSync(photosDir, { recursive: true });
      const set = readLabelledSet(COCO_VAL, opts.photos ?? 12);
      set.items.forEach((it, i) => copyFileSync(it.file, join(photosDir, `${i}.jpg`)));
      photoSource = `${set.items.length} coco-mini val photos`;
    } else {
      await writeColourLibrary(photosDir);
    }

    // Variants are made first with a registry of their own, so the app lists them when it opens.
    const registry = ModelRegistry.open({ bundledDir: BUNDLED_MODELS_DIR, userDir: join(dataDir, 'models'), extraManifests: [GENERATED] });
    let t0 = Date.now();
    const int8 = await makeVariant(registry, TEACHER, { kind: 'int8', mode: 'weight-only' });
    log(`made ${int8.id} (${(int8.bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    // Dynamic int8 computes MatMuls in int8 (the throughput target); weight-only only shrinks the file.
    let dynamicId: string | null = null;
    t0 = Date.now();
    try {
      const dyn = await makeVariant(registry, TEACHER, { kind: 'int8', mode: 'dynamic' });
      dynamicId = dyn.id;
      log(`made ${dyn.id} (${(dyn.bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } catch (err) {
      log(`dynamic int8 could not be made: ${(err as Error).message}`);
    }
    // HAWQ at the int8 size: the budget is uniform 8-bit in the options table, which is byte for byte
    // the int8 weight-only variant's weights (embedding tables are per-row int8 in both), so the
    // mixed choice is compared with the real int8 variant.
    let mixedId: string | null = null;
    t0 = Date.now();
    try {
      const plan = await mixedPlan(registry, TEACHER, {
        budgetBytes: (table) => uniformConfig(table, 8).bytes,
        tokenizer: loadTokenizer(BUNDLED_MODELS_DIR),
        probes: 1,
      });
      log(`HAWQ sensitivities and choice in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      const mixed = await makeVariant(registry, TEACHER, { kind: 'mixed', bits: plan.bits }, { id: `${TEACHER}-hawq-at-int8` });
      mixedId = mixed.id;
      log(`made ${mixed.id} (${(mixed.bytes / 1e6).toFixed(1)} MB, Ω ${plan.omega.toExponential(2)}; uniform 8-bit Ω ${uniformConfig(plan.table, 8).omega.toExponential(2)})`);
    } catch (err) {
      log(`mixed precision could not be made: ${(err as Error).message}`);
    }

    const app = await createApp({ dataDir, extraManifests: [GENERATED] });
    let run: LabRun | null = null;
    try {
      await app['folders.add']({ path: photosDir });
      let last = '';
      const off = app.on('lab.progress', (p) => {
        const line = `  [${p.stage}] ${p.message}`;
        if (line !== last && p.stage !== 'vectors' && p.stage !== 'recall') log(line);
        last = line;
      });
      const finished = new Promise<number>((resolve) => {
        app.on('lab.progress', (p) => {
          if (p.runId !== null && ['done', 'failed', 'cancelled'].includes(p.stage)) resolve(p.runId);
        });
      });
      t0 = Date.now();
      await app['lab.run']({ models: [STUDENT, int8.id, ...(dynamicId ? [dynamicId] : []), ...(mixedId ? [mixedId] : [])], teacher: TEACHER, iterations: opts.iterations ?? 4 });
      const runId = await finished;
      off();
      [run] = await app['lab.results']({ runId });
      log(`runner finished in ${((Date.now() - t0) / 1000).toFixed(0)} s on ${photoSource}`);
    } finally {
      await app.close();
    }
    if (!run) return { run: null, rows: [] };
    const rows = report(run, int8.id, dynamicId, mixedId, log);
    // Recall@K needs a real model: the generated ones have random weights.
    const real = registry.list().filter((m) => m.installed && !registry.entry(m.id)!.hidden);
    if (real.length === 0) {
      log('recall@K on coco-mini val: SKIPPED — no real (trained) model is installed; random-weight models retrieve nothing meaningful.');
      log('  With one installed: leanlens lab bench <model> <variant…> --labelled ../shared/data/coco-mini/val.json');
    }
    return { run, rows };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function report(run: LabRun, int8Id: string, dynamicId: string | null, mixedId: string | null, log: (l: string) => void): LabBenchRow[] {
  const by = (id: string | null) => (id ? run.results.find((r) => r.modelId === id) ?? null : null);
  const t = by(TEACHER)!;
  const s = by(STUDENT);
  const q = by(int8Id);
  const m = by(mixedId);
  const d = by(dynamicId);
  const m8 = (r: LabModelResult | null) => r?.imagesPerSecBatch8 ?? null;
  const loss = (r: LabModelResult | null) => {
    const c = r?.fidelity?.cosineToParent?.mean;
    return c === null || c === undefined ? null : 1 - c;
  };
  const rows: LabBenchRow[] = [];
  const add = (target: string, v: number | null, goal: string, ok: (v: number) => boolean, paper: string, fmt = x) =>
    rows.push({ target, measured: fmt(v), goal, paper, met: v === null ? null : ok(v) });

  const paper = PAPER_REFERENCE.lab;
  add('student disk (ViT-S/16 + 4-layer text)', ratio(s?.diskBytes, t.diskBytes), '≤ 0.45×', (v) => v <= 0.45, x(paper.diskRatio));
  add('student query-encoding speed', ratio(t.textLatencyMs?.p50, s?.textLatencyMs?.p50), `≥ ${x(paper.querySpeedup)}`, (v) => v >= paper.querySpeedup, x(paper.querySpeedup));
  add('student image throughput (batch 8)', ratio(m8(s), m8(t)), `(paper ${x(paper.imageThroughputBatch8)})`, () => true, `${x(paper.imageThroughputBatch8)} (GPU)`);
  add('int8 teacher disk', ratio(q?.diskBytes, t.diskBytes), '≤ 0.27×', (v) => v <= 0.27, '—');
  add('int8 (weight-only) image throughput (batch 8)', ratio(m8(q), m8(t)), '≥ 1.5×', (v) => v >= 1.5, '—');
  add('int8-dynamic disk', ratio(d?.diskBytes, t.diskBytes), '≤ 0.27×', (v) => v <= 0.27, '—');
  add('int8-dynamic image throughput (batch 8)', ratio(m8(d), m8(t)), '≥ 1.5×', (v) => v >= 1.5, '—');
  add('int8-dynamic image throughput (batch 1)', ratio(d?.imagesPerSecBatch1, t.imagesPerSecBatch1), '≥ 1.5×', (v) => v >= 1.5, '—');
  add('int8-dynamic embedding cosine to fp32', d?.fidelity?.cosineToParent?.mean ?? null, '≥ 0.99', (v) => v >= 0.99, '—', (v) => (v === null ? 'n/a' : v.toFixed(4)));
  add('int8 (weight-only) embedding cosine to fp32', q?.fidelity?.cosineToParent?.mean ?? null, '≥ 0.99', (v) => v >= 0.99, '—', (v) => (v === null ? 'n/a' : v.toFixed(4)));
  const lm = loss(m);
  const lq = loss(q);
  rows.push({
    target: 'mixed (HAWQ) at int8 size: fidelity loss 1−cos',
    measured: lm === null ? 'n/a' : `${lm.toExponential(2)} vs int8 ${lq === null ? 'n/a' : lq.toExponential(2)} (${m ? (m.diskBytes / 1e6).toFixed(1) : '?'} vs ${q ? (q.diskBytes / 1e6).toFixed(1) : '?'} MB)`,
    goal: '< int8, same size',
    paper: 'HAWQ-V2',
    met: lm === null || lq === null ? null : lm < lq,
  });

  const w = [46, 40, 16, 22];
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i] ?? 10)).join(' ');
  log('');
  log(pad(['TARGET', 'MEASURED', 'GOAL', 'PAPER']) + ' MET');
  for (const r of rows) log(pad([r.target, r.measured, r.goal, r.paper]) + ' ' + (r.met === null ? 'n/a' : r.met ? 'yes' : 'NO'));
  log('');
  log('Raw figures:');
  for (const r of run.results) {
    log(
      `  ${r.modelId.padEnd(28)} disk ${(r.diskBytes / 1e6).toFixed(1).padStart(6)} MB  load ${((r.loadMs.image ?? 0) + (r.loadMs.text ?? 0)).toFixed(0).padStart(5)} ms  ` +
        `peak ${((r.peakRssBytes ?? 0) / 1e6).toFixed(0).padStart(5)} MB (base ${((r.baselineRssBytes ?? 0) / 1e6).toFixed(0)})  ` +
        `img/s b1 ${r.imagesPerSecBatch1?.toFixed(2) ?? 'n/a'} b8 ${r.imagesPerSecBatch8?.toFixed(2) ?? 'n/a'}  ` +
        `text p50/p95 ${r.textLatencyMs?.p50.toFixed(1) ?? 'n/a'}/${r.textLatencyMs?.p95.toFixed(1) ?? 'n/a'} ms  ` +
        `query p50 ${r.queryLatencyMs?.p50.toFixed(1) ?? 'n/a'} ms  overlap@${r.fidelity?.k ?? '-'} ${r.fidelity?.overlapAtK?.toFixed(2) ?? 'n/a'}  ` +
        `cos→parent ${r.fidelity?.cosineToParent?.mean?.toFixed(4) ?? 'n/a'}${r.error ? `  ERROR ${r.error}` : ''}`,
    );
  }
  const mc = run.machine;
  log(`Machine: ${mc.cpu}, ${mc.cores} cores, ${mc.os}; provider ${mc.provider}, ${mc.threads} threads.`);
  log(
    'Where this CPU differs from the paper: the paper timed a GPU. On a CPU, ViT-S/16 (197 tokens) costs about as many FLOPs as ViT-B/32 (50 tokens), ' +
      'so the student\'s image speed-up does not carry over; text encoding scales with depth (4 vs 12 layers) and does. ' +
      'Weight-only int8 stores int8 and dequantizes at load, so it shrinks the file but computes in fp32 (no speed-up); ' +
      'dynamic int8 (--int8 --dynamic) computes in int8 where this ONNX Runtime build has the kernel. Overlap/Spearman between random-weight models only measure agreement, not quality.',
  );
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runLabBench();
}
