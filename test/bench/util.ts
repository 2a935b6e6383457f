/**
 * Shared helpers for the benchmarks: percentiles, timing, resident memory, and one printer so
 * every figure reads `name: measured (target …) PASS/MISS`, with a one-line reason under a MISS.
 * Benchmarks never assert: a miss is reported, not thrown. Every printed figure is also kept in
 * a table that `run.ts` prints at the end (it goes into the README as is).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const COCO_DIR = join(REPO_ROOT, '..', 'shared', 'data', 'coco-mini', 'images');
export const GENERATED_MANIFEST = join(REPO_ROOT, 'models', 'generated', 'manifest.json');
export const BENCH_MODEL = 'vitb32-shaped';

/** p in [0, 1]; nearest-rank on a sorted copy. NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil(p * s.length) - 1;
  return s[Math.min(s.length - 1, Math.max(0, rank))]!;
}

export const median = (xs: readonly number[]) => percentile(xs, 0.5);

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function ms(x: number, digits = 1): string {
  return `${x.toFixed(digits)} ms`;
}

/** A full GC, so memory figures do not count garbage (`npm run bench` runs without --expose-gc). */
let gcFn: (() => void) | null = null;
export function collectGarbage(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Resident set size after a full GC. */
export function rssNow(): number {
  collectGarbage();
  return process.memoryUsage().rss;
}

export function cocoAvailable(): boolean {
  return existsSync(COCO_DIR);
}

export interface Row {
  section: string;
  name: string;
  measured: string;
  target: string;
  verdict: 'PASS' | 'MISS' | 'info' | 'skipped';
  note?: string;
}

const rows: Row[] = [];

export function results(): readonly Row[] {
  return rows;
}

let section = '';
export function heading(title: string): void {
  section = title;
  console.log(`\n== ${title} ==`);
}

/**
 * Prints one figure against its target. `pass` decides PASS/MISS; `why` (a MISS only) is the
 * one-line reason printed under it.
 */
export function report(name: string, measured: string, target: string, pass: boolean, why?: string): void {
  const verdict = pass ? 'PASS' : 'MISS';
  console.log(`${name}: ${measured} (target ${target}) ${verdict}`);
  if (!pass && why) console.log(`  why: ${why}`);
  rows.push({ section, name, measured, target, verdict, note: pass ? undefined : why });
}

/** A context figure with no target. */
export function info(name: string, measured: string, note?: string): void {
  console.log(`${name}: ${measured}${note ? `  (${note})` : ''}`);
  rows.push({ section, name, measured, target: '—', verdict: 'info', note });
}

/** A section or figure that could not run here, and why. */
export function skipped(name: string, why: string): void {
  console.log(`${name}: skipped — ${why}`);
  rows.push({ section, name, measured: '—', target: '—', verdict: 'skipped', note: why });
}

/** The collected figures as a Markdown table (copied into the README). */
export function markdownTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| section | figure | measured | target | result |', '|---|---|---|---|---|'];
  for (const r of rows) {
    const result = r.verdict === 'MISS' && r.note ? `MISS — ${r.note}` : r.verdict === 'skipped' ? `skipped — ${r.note}` : r.verdict;
    lines.push(`| ${esc(r.section)} | ${esc(r.name)} | ${esc(r.measured)} | ${esc(r.target)} | ${esc(result)} |`);
  }
  return lines.join('\n');
}

/** Runs async `fn` with at most `limit` in flight. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

export function sleep(msDelay: number): Promise<void> {
  return new Promise((r) => setTimeout(r, msDelay));
}
