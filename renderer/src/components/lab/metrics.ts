/**
 * Pure helpers of the Lab panel: the figures a person compares (with the direction that is
 * "better"), ratios against the teacher, the paper's reference ratios, and the Pareto front of
 * size versus fidelity. No DOM, no client: the charts and the table both read from here.
 */
import { PAPER_REFERENCE, type LabModelResult, type ModelLineage } from '../../../../main/core/contract.ts';

/**
 * "Leaner and Faster" (CLIP ViT-B/32 teacher → ViT-S/16 + 4-layer text student), as ratios
 * student / teacher in the same direction as our figures: disk 1/2.3, image encoding 1.51× the
 * throughput, query encoding 2.77× faster (so 1/2.77 of the latency), recall unchanged.
 */
export const PAPER = {
  disk: PAPER_REFERENCE.lab.diskRatio,
  imageThroughput: PAPER_REFERENCE.lab.imageThroughputBatch8,
  queryLatency: 1 / PAPER_REFERENCE.lab.querySpeedup,
  querySpeedup: PAPER_REFERENCE.lab.querySpeedup,
  recall: PAPER_REFERENCE.lab.recallRatio,
} as const;

export const MB = 1e6;

export function lineageText(l: ModelLineage | null): string | null {
  return l ? `${l.transform} of ${l.parent}` : null;
}

/** The fidelity a person cares about first: overlap@K with the teacher's results. */
export function fidelityOf(r: LabModelResult): number | null {
  return r.fidelity?.overlapAtK ?? null;
}

/** Memory the model itself added to its process (peak minus the process before loading it). */
export function modelMemoryOf(r: LabModelResult): number | null {
  if (r.peakRssBytes == null || r.baselineRssBytes == null) return null;
  return Math.max(0, r.peakRssBytes - r.baselineRssBytes);
}

export function loadOf(r: LabModelResult): number | null {
  const { image, text } = r.loadMs;
  if (image == null && text == null) return null;
  return (image ?? 0) + (text ?? 0);
}

export function ratio(value: number | null | undefined, teacher: number | null | undefined): number | null {
  if (value == null || teacher == null || !Number.isFinite(value) || !Number.isFinite(teacher) || teacher === 0) return null;
  return value / teacher;
}

/** One row of the results table: how to read it, which way is better, the paper's ratio if any. */
export interface Metric {
  key: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  value: (r: LabModelResult) => number | null;
  digits: number;
  paper?: number;
  /** Only shown when some model has it (recall needs a labelled set). */
  optional?: boolean;
  group: 'Cost' | 'Speed' | 'Fidelity' | 'Recall (labelled set)';
}

export function metrics(k: number | null): Metric[] {
  const recall = (dir: 't2i' | 'i2t', at: 1 | 5 | 10): Metric => ({
    key: `${dir}-r${at}`,
    label: `${dir === 't2i' ? 'Text→image' : 'Image→text'} recall@${at}`,
    unit: '',
    better: 'higher',
    value: (r) => r.recall?.[dir][at] ?? null,
    digits: 3,
    paper: PAPER.recall,
    optional: true,
    group: 'Recall (labelled set)',
  });
  return [
    { key: 'disk', label: 'Disk', unit: 'MB', better: 'lower', value: (r) => r.diskBytes / MB, digits: 1, paper: PAPER.disk, group: 'Cost' },
    { key: 'load', label: 'Load (image + text)', unit: 'ms', better: 'lower', value: loadOf, digits: 0, group: 'Cost' },
    { key: 'memory', label: 'Peak memory', unit: 'MB', better: 'lower', value: (r) => (r.peakRssBytes == null ? null : r.peakRssBytes / MB), digits: 0, group: 'Cost' },
    // The paper's throughput ratio was measured at batch 8 only: batch 1 has no paper figure.
    { key: 'img1', label: 'Images/s, batch 1', unit: 'img/s', better: 'higher', value: (r) => r.imagesPerSecBatch1, digits: 1, group: 'Speed' },
    { key: 'img8', label: 'Images/s, batch 8', unit: 'img/s', better: 'higher', value: (r) => r.imagesPerSecBatch8, digits: 1, paper: PAPER.imageThroughput, group: 'Speed' },
    { key: 'text50', label: 'Text encode p50', unit: 'ms', better: 'lower', value: (r) => r.textLatencyMs?.p50 ?? null, digits: 1, paper: PAPER.queryLatency, group: 'Speed' },
    { key: 'text95', label: 'Text encode p95', unit: 'ms', better: 'lower', value: (r) => r.textLatencyMs?.p95 ?? null, digits: 1, group: 'Speed' },
    { key: 'query50', label: 'Full query p50', unit: 'ms', better: 'lower', value: (r) => r.queryLatencyMs?.p50 ?? null, digits: 1, group: 'Speed' },
    { key: 'query95', label: 'Full query p95', unit: 'ms', better: 'lower', value: (r) => r.queryLatencyMs?.p95 ?? null, digits: 1, group: 'Speed' },
    { key: 'overlap', label: `Overlap@${k ?? 'K'}`, unit: '', better: 'higher', value: fidelityOf, digits: 3, group: 'Fidelity' },
    { key: 'spearman', label: 'Spearman ρ', unit: '', better: 'higher', value: (r) => r.fidelity?.spearman ?? null, digits: 3, group: 'Fidelity' },
    { key: 'cosine', label: 'Mean cosine to parent', unit: '', better: 'higher', value: (r) => r.fidelity?.cosineToParent?.mean ?? null, digits: 4, group: 'Fidelity' },
    recall('t2i', 1),
    recall('t2i', 5),
    recall('t2i', 10),
    recall('i2t', 1),
    recall('i2t', 5),
    recall('i2t', 10),
  ];
}

/** 'good' when the ratio goes the better way by more than noise, 'bad' the other way. */
export function ratioTone(r: number | null, better: Metric['better']): 'good' | 'bad' | 'neutral' {
  if (r == null || better === 'none' || Math.abs(r - 1) < 0.02) return 'neutral';
  return (r > 1) === (better === 'higher') ? 'good' : 'bad';
}

export function fmt(v: number | null | undefined, digits: number): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return v.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtRatio(r: number | null): string {
  if (r == null || !Number.isFinite(r)) return '—';
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

export interface SizePoint {
  id: string;
  size: number;
  fidelity: number;
}

/**
 * The non-dominated points when smaller size and higher fidelity are both better, ordered by
 * size: a point is dropped when another is no larger and no less faithful (and differs in one).
 */
export function paretoFront<P extends SizePoint>(points: P[]): P[] {
  const sorted = [...points].sort((a, b) => a.size - b.size || b.fidelity - a.fidelity);
  const front: P[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.fidelity > best) {
      front.push(p);
      best = p.fidelity;
    }
  }
  return front;
}

/** "Nice" axis maximum and ticks for a value range starting at 0. */
export function niceTicks(max: number, count = 4): { max: number; ticks: number[] } {
  if (!Number.isFinite(max) || max <= 0) return { max: 1, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { max: top, ticks };
}

/** Short tick label: 1200 → 1.2k. */
export function tickLabel(v: number): string {
  if (Math.abs(v) >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** One model's group in a bar chart: a value per series, null where not measured. */
export interface BarRow {
  id: string;
  label: string;
  isTeacher: boolean;
  values: (number | null)[];
}

/**
 * Short labels that stay distinct: a long name keeps its start and its end ("tiny-clip…fp16-a1b2")
 * so two variants of one model never shorten to the same string; names that fit are unchanged.
 */
export function distinctLabels(names: string[], max = 18): string[] {
  const cut = (s: string, head: number) => (s.length <= max ? s : `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`);
  // Start with the head-heavy form; give the tail more room until all labels differ.
  for (let head = max - 1; head >= 3; head--) {
    const out = names.map((n) => cut(n, head));
    if (new Set(out).size === new Set(names).size) return out;
  }
  return names;
}

/** What a stage of a benchmark counts, so progress reads "12 / 120 photos", not "12 / 120". */
export const STAGE_UNITS: Partial<Record<string, [string, string]>> = {
  prepare: ['model', 'models'],
  vectors: ['photo', 'photos'],
  speed: ['model', 'models'],
  fidelity: ['query', 'queries'],
  recall: ['item', 'items'],
  variant: ['step', 'steps'],
};

export function stageCount(stage: string, done: number, total: number): string {
  if (total <= 0) return '';
  const [one, many] = STAGE_UNITS[stage] ?? ['', ''];
  return `${done.toLocaleString()} / ${total.toLocaleString()}${one ? ` ${total === 1 ? one : many}` : ''}`;
}

/** A model's tag in the Lab: a variant by its transform ("fp16", "int8"), else its role. */
export function modelTag(m: { role: string; lineage: ModelLineage | null }): string | null {
  if (m.lineage) return m.lineage.transform;
  return m.role === 'other' ? null : m.role;
}
