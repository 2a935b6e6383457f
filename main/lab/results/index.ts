/**
 * lab/results — stores lab runs and their per-model figures in SQLite (tables of migration
 * 002_lab.sql) and writes them out as CSV or JSON.
 *
 * Owns the `lab_runs` / `lab_results` rows. Must never: measure anything (the bench does), or
 * touch other services' tables.
 */
import type { LabMachine, LabModelResult, LabRun, LabRunState } from '../../core/contract.ts';
import type { Store } from '../../services/store/index.ts';
import { toCsv } from '../../core/csv.ts';

export { parseCsv } from '../../core/csv.ts';

interface RunRow {
  id: number;
  state: LabRunState;
  teacher: string;
  models: string;
  labelled: string | null;
  queries: string;
  machine: string;
  created_at: number;
  finished_at: number | null;
  error: string | null;
}

export class LabResults {
  constructor(private readonly store: Store) {}

  /** A new run in state 'running'; returns its id. */
  begin(run: { teacher: string; models: string[]; labelled: string | null; queries: string[]; machine: LabMachine }): number {
    const r = this.store.db
      .prepare(
        `INSERT INTO lab_runs(state, teacher, models, labelled, queries, machine, created_at)
         VALUES ('running', ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.teacher, JSON.stringify(run.models), run.labelled, JSON.stringify(run.queries), JSON.stringify(run.machine), Date.now());
    return Number(r.lastInsertRowid);
  }

  /** Records (or replaces) one model's figures. */
  put(runId: number, position: number, result: LabModelResult): void {
    this.store.db
      .prepare(
        `INSERT INTO lab_results(run_id, model_id, position, result) VALUES (?, ?, ?, ?)
         ON CONFLICT(run_id, model_id) DO UPDATE SET result = excluded.result, position = excluded.position`,
      )
      .run(runId, result.modelId, position, JSON.stringify(result));
  }

  /** The machine is only fully known once a session ran (its provider); updated then. */
  setMachine(runId: number, machine: LabMachine): void {
    this.store.db.prepare('UPDATE lab_runs SET machine = ? WHERE id = ?').run(JSON.stringify(machine), runId);
  }

  finish(runId: number, state: Exclude<LabRunState, 'running'>, error: string | null = null): void {
    this.store.db.prepare('UPDATE lab_runs SET state = ?, error = ?, finished_at = ? WHERE id = ?').run(state, error, Date.now(), runId);
  }

  /** Runs left 'running' by a process that died: they will never finish. */
  abandonStale(): void {
    this.store.db
      .prepare(`UPDATE lab_runs SET state = 'failed', error = 'the app stopped during the run', finished_at = ? WHERE state = 'running'`)
      .run(Date.now());
  }

  get(runId: number): LabRun | null {
    const row = this.store.db.prepare<[number], RunRow>('SELECT * FROM lab_runs WHERE id = ?').get(runId);
    return row ? this.hydrate(row) : null;
  }

  /** Newest first. */
  list(limit = 100): LabRun[] {
    return this.store.db
      .prepare<[number], RunRow>('SELECT * FROM lab_runs ORDER BY id DESC LIMIT ?')
      .all(limit)
      .map((r) => this.hydrate(r));
  }

  private hydrate(row: RunRow): LabRun {
    const results = this.store.db
      .prepare<[number], string>('SELECT result FROM lab_results WHERE run_id = ? ORDER BY position')
      .pluck()
      .all(row.id)
      .map((j) => JSON.parse(j) as LabModelResult);
    return {
      id: row.id,
      state: row.state,
      teacher: row.teacher,
      models: JSON.parse(row.models) as string[],
      labelled: row.labelled,
      queries: JSON.parse(row.queries) as string[],
      machine: JSON.parse(row.machine) as LabMachine,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      error: row.error,
      results,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Export

export function runToJson(run: LabRun): string {
  return JSON.stringify(run, null, 2);
}

/** The CSV columns, in order: one row per model, the run's machine repeated on each row. */
export const CSV_COLUMNS = [
  'run_id', 'created_at', 'teacher', 'model_id', 'role', 'parent', 'transform', 'dim',
  'disk_bytes', 'load_image_ms', 'load_text_ms', 'peak_rss_bytes', 'baseline_rss_bytes',
  'img_per_s_b1', 'img_per_s_b8', 'text_p50_ms', 'text_p95_ms', 'query_p50_ms', 'query_p95_ms',
  'k', 'overlap_at_k', 'spearman', 'cosine_parent', 'cosine_image', 'cosine_text',
  't2i_r1', 't2i_r5', 't2i_r10', 'i2t_r1', 'i2t_r5', 'i2t_r10', 'labelled_photos',
  'cpu', 'cores', 'os', 'provider', 'threads', 'error',
] as const;

export function runToCsv(run: LabRun): string {
  const rows: (string | number | null)[][] = [[...CSV_COLUMNS]];
  for (const r of run.results) {
    const f = r.fidelity;
    const c = f?.cosineToParent ?? null;
    rows.push([
      run.id, new Date(run.createdAt).toISOString(), run.teacher, r.modelId, r.role, r.lineage?.parent ?? null, r.lineage?.transform ?? null, r.dim,
      r.diskBytes, r.loadMs.image, r.loadMs.text, r.peakRssBytes, r.baselineRssBytes,
      r.imagesPerSecBatch1, r.imagesPerSecBatch8, r.textLatencyMs?.p50 ?? null, r.textLatencyMs?.p95 ?? null,
      r.queryLatencyMs?.p50 ?? null, r.queryLatencyMs?.p95 ?? null,
      f?.k ?? null, f?.overlapAtK ?? null, f?.spearman ?? null, c?.parent ?? null, c?.image ?? null, c?.text ?? null,
      r.recall?.t2i[1] ?? null, r.recall?.t2i[5] ?? null, r.recall?.t2i[10] ?? null,
      r.recall?.i2t[1] ?? null, r.recall?.i2t[5] ?? null, r.recall?.i2t[10] ?? null, r.recall?.setSize ?? null,
      run.machine.cpu, run.machine.cores, run.machine.os, run.machine.provider, run.machine.threads, r.error,
    ]);
  }
  return toCsv(rows);
}
