/**
 * `leanlens lab …` — the model lab from the command line, through the same App calls the panel
 * uses (lab.run, lab.variant, lab.compare), so both show the same figures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { App, AppOptions } from '../app/index.ts';
import { BUNDLED_MODELS_DIR, EVERYDAY_QUERIES } from '../app/index.ts';
import type { LabCompareResult, LabModelResult, LabProgress, LabRun, VariantSpecArgs } from '../core/contract.ts';
import { table } from './format.ts';
import { LAB_USAGE, UsageError } from './usage.ts';

export { LAB_USAGE };

export interface LabFlags {
  json?: boolean;
  limit?: string;
  teacher?: string;
  labelled?: string;
  queries?: string;
  iterations?: string;
  fp16?: boolean;
  int8?: boolean;
  int4?: boolean;
  dynamic?: boolean;
  mixed?: boolean;
  'budget-mb'?: string;
  rank?: string;
  energy?: string;
  'text-layers'?: string;
  id?: string;
  csv?: boolean;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

/** An error whose message says what to do (exit code 2). */
export class LabUsageError extends UsageError {}

/** The generated benchmark models (models/generated) are listed for lab commands when present. */
export function labAppOptions(modelsDir = BUNDLED_MODELS_DIR): Partial<AppOptions> {
  const generated = join(modelsDir, 'generated', 'manifest.json');
  return existsSync(generated) ? { extraManifests: [generated] } : {};
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new LabUsageError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

function readQueries(file: string | undefined): string[] | undefined {
  if (!file) return undefined;
  const text = readFileSync(resolve(file), 'utf8');
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    list = text.split('\n').map((l) => l.trim()).filter(Boolean);
  }
  if (!Array.isArray(list) || !list.every((q) => typeof q === 'string') || list.length === 0) {
    throw new LabUsageError(`--queries ${file}: give a JSON list of strings or one query per line`);
  }
  return list as string[];
}

export function variantSpecFromFlags(flags: LabFlags): VariantSpecArgs {
  const chosen = (['fp16', 'int8', 'int4', 'mixed'] as const).filter((f) => flags[f]);
  const lowrank = flags.rank !== undefined || flags.energy !== undefined;
  if (chosen.length + (lowrank ? 1 : 0) !== 1) throw new LabUsageError('choose exactly one of --fp16, --int8, --int4, --mixed --budget-mb N, --rank R (or --energy E)');
  if (lowrank) {
    return flags.rank !== undefined
      ? { kind: 'lowrank', rank: Math.round(positive(flags.rank, 'rank')!) }
      : { kind: 'lowrank', energy: positive(flags.energy, 'energy')! };
  }
  switch (chosen[0]!) {
    case 'fp16':
      return { kind: 'fp16' };
    case 'int8':
      return { kind: 'int8', mode: flags.dynamic ? 'dynamic' : 'weight-only' };
    case 'int4':
      return { kind: 'int4' };
    case 'mixed': {
      const budgetMb = positive(flags['budget-mb'], 'budget-mb');
      if (budgetMb === undefined) throw new LabUsageError('--mixed needs --budget-mb N (the size budget in MB)');
      return { kind: 'mixed', budgetMb };
    }
  }
}

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));
const mb = (b: number | null | undefined) => (b ? `${(b / 1e6).toFixed(1)}` : '—');

/** The run as a table: one row per model, the machine underneath. */
export function formatRun(run: LabRun): string {
  const rows = [
    ['MODEL', 'DISK MB', 'LOAD ms', 'PEAK MB', 'IMG/S b1', 'IMG/S b8', 'TEXT p50/p95 ms', 'QUERY p50/p95 ms', 'OVERLAP@K', 'SPEARMAN', 'COS→PARENT', 'T2I R@1/5/10', 'I2T R@1/5/10'],
    ...run.results.map((r: LabModelResult) => {
      const f = r.fidelity;
      const load = r.loadMs.image !== null || r.loadMs.text !== null ? fmt((r.loadMs.image ?? 0) + (r.loadMs.text ?? 0), 0) : '—';
      const rec = (x: { 1: number; 5: number; 10: number } | undefined) => (x ? `${fmt(x[1], 2)}/${fmt(x[5], 2)}/${fmt(x[10], 2)}` : '—');
      if (r.error) return [r.modelId, mb(r.diskBytes), `error: ${r.error}`, '', '', '', '', '', '', '', '', '', ''];
      return [
        r.modelId,
        mb(r.diskBytes),
        load,
        mb(r.peakRssBytes),
        fmt(r.imagesPerSecBatch1),
        fmt(r.imagesPerSecBatch8),
        r.textLatencyMs ? `${fmt(r.textLatencyMs.p50)}/${fmt(r.textLatencyMs.p95)}` : '—',
        r.queryLatencyMs ? `${fmt(r.queryLatencyMs.p50)}/${fmt(r.queryLatencyMs.p95)}` : '—',
        f?.overlapAtK != null ? `${fmt(f.overlapAtK, 3)} @${f.k}` : '—',
        fmt(f?.spearman, 3),
        f?.cosineToParent?.mean != null ? `${fmt(f.cosineToParent.mean, 4)} (${f.cosineToParent.parent})` : '—',
        rec(r.recall?.t2i),
        rec(r.recall?.i2t),
      ];
    }),
  ];
  const m = run.machine;
  const lines = [
    `Lab run ${run.id} (${run.state}) — teacher ${run.teacher}, ${run.queries.length} queries${run.labelled ? `, labelled set ${run.labelled}` : ''}`,
    table(rows),
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.os}; provider ${m.provider}, ${m.threads} threads`,
  ];
  for (const r of run.results) for (const n of r.notes) lines.push(`  note (${r.modelId}): ${n}`);
  if (run.error) lines.push(`Run error: ${run.error}`);
  return lines.join('\n');
}

export async function labCommand(app: App, words: string[], flags: LabFlags, io: Io): Promise<number> {
  const [sub, ...args] = words;
  const print = (json: unknown, text: () => string) => {
    io.out(flags.json ? JSON.stringify(json, null, 2) : text());
    return 0;
  };
  const showProgress = (p: LabProgress) => {
    if (!io.isTTY || flags.json) return;
    const pct = p.total ? ` ${Math.round((100 * p.done) / p.total)}%` : '';
    process.stderr.write(`\r${p.stage}${pct} ${p.message}`.slice(0, 120) + '\x1b[K');
  };

  switch (sub) {
    case 'variant': {
      if (args.length < 1) throw new LabUsageError(`missing model\n${LAB_USAGE}`);
      const spec = variantSpecFromFlags(flags);
      const off = app.on('lab.progress', showProgress);
      try {
        const info = await app['lab.variant']({ model: args[0]!, spec });
        if (io.isTTY && !flags.json) process.stderr.write('\n');
        return print(info, () => `Made ${info.id} (${mb(info.bytes)} MB) from ${args[0]}. Benchmark it: leanlens lab bench ${info.id} --teacher ${args[0]}`);
      } finally {
        off();
      }
    }
    case 'bench': {
      if (args.length < 1) throw new LabUsageError(`name at least one model\n${LAB_USAGE}`);
      const teacher = flags.teacher ?? args[0]!;
      const finished = new Map<number, LabProgress>();
      let wanted: number | null = null;
      let settle: (() => void) | null = null;
      const off = app.on('lab.progress', (p) => {
        showProgress(p);
        if (p.runId !== null && (p.stage === 'done' || p.stage === 'failed' || p.stage === 'cancelled')) {
          finished.set(p.runId, p);
          if (p.runId === wanted) settle?.();
        }
      });
      const onSigint = () => void (wanted !== null && app['lab.cancel']({ runId: wanted }));
      process.once('SIGINT', onSigint);
      try {
        const { runId } = await app['lab.run']({
          models: args,
          teacher,
          labelled: flags.labelled ? resolve(flags.labelled) : undefined,
          queries: readQueries(flags.queries),
          iterations: positive(flags.iterations, 'iterations'),
        });
        wanted = runId;
        if (!finished.has(runId)) await new Promise<void>((r) => (settle = r));
        if (io.isTTY && !flags.json) process.stderr.write('\n');
        const [run] = await app['lab.results']({ runId });
        print(run, () => formatRun(run!));
        return run!.state === 'done' ? 0 : 1;
      } finally {
        off();
        process.off('SIGINT', onSigint);
      }
    }
    case 'compare': {
      if (args.length < 2) throw new LabUsageError(`usage: leanlens lab compare <teacher> <student> [--queries FILE]`);
      const queries = readQueries(flags.queries) ?? EVERYDAY_QUERIES.slice(0, 5);
      const limit = flags.limit ? Math.round(positive(flags.limit, 'limit')!) : 10;
      const out: LabCompareResult[] = [];
      for (const text of queries) out.push(await app['lab.compare']({ teacher: args[0]!, student: args[1]!, text, limit }));
      return print(out, () =>
        out
          .map((c) => {
            const n = Math.max(c.teacher.hits.length, c.student.hits.length);
            const cell = (h: (typeof c.teacher.hits)[number] | undefined) => (h ? `${h.onlyHere ? '*' : ' '} ${h.score.toFixed(3)} ${h.photo.name}` : '');
            const rows = [[c.teacher.modelId, c.student.modelId]];
            for (let i = 0; i < n; i++) rows.push([cell(c.teacher.hits[i]), cell(c.student.hits[i])]);
            return `"${c.text}" — overlap@${c.limit} ${c.overlap.toFixed(2)} (* = only this model returned it)\n${table(rows)}`;
          })
          .join('\n\n'),
      );
    }
    case 'results': {
      const runId = args[0] !== undefined ? Number(args[0]) : undefined;
      if (runId !== undefined && !Number.isInteger(runId)) throw new LabUsageError(`"${args[0]}" is not a run id`);
      if (flags.csv || (flags.json && runId !== undefined)) {
        const id = runId ?? (await app['lab.results']({}))[0]?.id;
        if (id === undefined) throw new LabUsageError('no lab runs yet: leanlens lab bench <model…>');
        io.out((await app['lab.export']({ runId: id, format: flags.csv ? 'csv' : 'json' })).trimEnd());
        return 0;
      }
      const runs = await app['lab.results'](runId !== undefined ? { runId } : {});
      return print(runs, () => (runs.length ? runs.map(formatRun).join('\n\n') : 'No lab runs yet: leanlens lab bench <model…>'));
    }
    case 'init-student': {
      if (args.length < 1 || !flags['text-layers']) throw new LabUsageError('usage: leanlens lab init-student <teacher> --text-layers 0,4,8,11 [--id ID]');
      const layers = flags['text-layers'].split(',').map((s) => Number(s.trim()));
      if (layers.some((l) => !Number.isInteger(l) || l < 0)) throw new LabUsageError(`--text-layers must be a comma-separated list of layer numbers, got "${flags['text-layers']}"`);
      const off = app.on('lab.progress', (p) => !flags.json && p.stage === 'variant' && io.err(p.message));
      const info = await app['lab.initStudent']({ teacher: args[0]!, textLayers: layers, id: flags.id }).finally(off);
      return print(info, () => `Made student ${info.id} (${mb(info.bytes)} MB): text layers ${layers.join(',')} of ${args[0]}, ViT-S/16 image encoder to train.`);
    }
    default:
      throw new LabUsageError(`unknown lab command "${sub ?? ''}"\n\n${LAB_USAGE}`);
  }
}
