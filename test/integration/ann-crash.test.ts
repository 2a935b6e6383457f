/**
 * Issue 15 §1: no full HNSW rebuild after a crash. The real indexer runs in a child process with
 * the real colour-oracle model, real sharp, SQLite and hnswlib, and is killed with SIGKILL while
 * it re-indexes edited photos (vectors replaced under the same labels, the case a label-set check
 * cannot see). Reopening must patch only what changed since the last save, from the journal the
 * `vectors` triggers keep — never rebuild — and hold exactly SQLite's vectors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { blobToVector, VectorIndex } from '../../main/services/ann/index.ts';
import type { Store } from '../../main/services/store/index.ts';
import { writeSolidPhoto } from '../fixtures/photos.ts';
import { addFolder, addPhotoFile, resolveTestModel, tempStore } from '../fixtures/vector-db.ts';

const oracle = resolveTestModel('color-oracle');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const N = 48;
const colour = (i: number, edit: number): [number, number, number] =>
  edit === 0 ? [(i * 41) % 256, (i * 17) % 256, (i * 89) % 256] : [255 - ((i * 41) % 256), (i * 113) % 256, 255 - ((i * 89) % 256)];

interface ChildRun {
  opened: { outcome: string; size: number; patched: number };
  indexed: number;
  killed: boolean;
}

/** Runs the indexer child; SIGKILLs it once it has committed `killAfter` photos (null: let it finish). */
function runChild(db: string, indexDir: string, saveEveryMs: number, killAfter: number | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/indexer-child.ts', db, indexDir, oracle!.id, String(saveEveryMs)],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const run: ChildRun = { opened: { outcome: '', size: -1, patched: -1 }, indexed: 0, killed: false };
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      for (const line of String(chunk).split('\n')) {
        const o = /^opened (\w+) (\d+) (\d+)/.exec(line);
        if (o) run.opened = { outcome: o[1]!, size: Number(o[2]), patched: Number(o[3]) };
        const m = /^indexed (\d+)/.exec(line);
        if (!m) continue;
        run.indexed = Number(m[1]);
        if (killAfter !== null && run.indexed >= killAfter && !run.killed) {
          run.killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve(run);
      else reject(new Error(`indexer child exited with ${code}:\n${out}\n${err}`));
    });
  });
}

/** Edits photos on disk and re-queues them, as the library does when it sees a changed file. */
async function editPhotos(store: Store, paths: string[], ids: Map<string, number>, which: number[], edit: number) {
  for (const i of which) {
    const p = paths[i]!;
    await writeSolidPhoto(p, colour(i, edit), { width: 32, height: 24 });
    const st = statSync(p);
    store.db
      .prepare("UPDATE photos SET status = 'pending', size = ?, mtime_ms = ? WHERE id = ?")
      .run(st.size, Math.floor(st.mtimeMs) + edit, ids.get(p));
  }
}

/** Every SQLite vector is in the index under its photo, as itself (score ≈ 1), and nothing else is. */
function expectIndexMatchesSqlite(index: VectorIndex, store: Store) {
  const rows = store.db
    .prepare<[string], { photo_id: number; vector: Buffer }>('SELECT photo_id, vector FROM vectors WHERE model_id = ?')
    .all(oracle!.id);
  expect(index.size).toBe(rows.length);
  for (const r of rows) {
    const hit = index.search(blobToVector(r.vector, oracle!.dim), N).find((h) => h.photoId === r.photo_id);
    expect(hit?.score, `photo ${r.photo_id} holds its SQLite vector`).toBeCloseTo(1, 4);
  }
}

describe.skipIf(!oracle)('ANN index after kill -9', () => {
  it('reopens by patching what changed since the last save, never by rebuilding', async () => {
    const { store, dir } = tempStore();
    const indexDir = join(dir, 'index');
    cleanups.push(async () => {
      store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const photosDir = join(dir, 'photos');
    const paths: string[] = [];
    for (let i = 0; i < N; i++) {
      const p = join(photosDir, `p${String(i).padStart(3, '0')}.jpg`);
      await writeSolidPhoto(p, colour(i, 0), { width: 32, height: 24 });
      paths.push(p);
    }
    const folderId = addFolder(store, photosDir);
    const ids = new Map(paths.map((p) => [p, addPhotoFile(store, folderId, p)]));
    const db = store.path;

    const first = await runChild(db, indexDir, 0, null);
    expect(first.indexed).toBe(N);

    // Edit 32 photos and kill the re-indexing child after 12 of them, with periodic saves off:
    // the saved file holds the old vectors of those 12 under the same labels.
    const edited = Array.from({ length: 32 }, (_, k) => k);
    await editPhotos(store, paths, ids, edited, 1);
    const killedRun = await runChild(db, indexDir, 1e9, 12);
    expect(killedRun.killed).toBe(true);
    expect(killedRun.opened.outcome).toBe('loaded');
    const replacedSoFar = store.db.prepare('SELECT COUNT(DISTINCT photo_id) FROM ann_journal WHERE model_id = ?').pluck().get(oracle!.id) as number;
    expect(replacedSoFar).toBeGreaterThanOrEqual(12);
    expect(replacedSoFar).toBeLessThan(32); // the kill landed mid-run

    const reopened = await VectorIndex.open({ store, dir: indexDir, modelId: oracle!.id, dim: oracle!.dim, exactBelow: 0, log: () => {} });
    expect(reopened.openReport.outcome).toBe('repaired');
    expect(reopened.openReport.patched).toBe(replacedSoFar);
    expectIndexMatchesSqlite(reopened, store);
    await reopened.close();

    // Kill again while saving after every batch (the kill can land mid-save), then finish.
    const busy = await runChild(db, indexDir, 0, 8);
    expect(busy.killed).toBe(true);
    expect(busy.opened.outcome).toBe('loaded'); // the close above saved the patch
    const last = await runChild(db, indexDir, 0, null);
    expect(last.opened.outcome).not.toBe('rebuilt');
    expect(store.db.prepare("SELECT COUNT(*) FROM photos WHERE status = 'indexed'").pluck().get()).toBe(N);
    const final = await VectorIndex.open({ store, dir: indexDir, modelId: oracle!.id, dim: oracle!.dim, exactBelow: 0, log: () => {} });
    expect(final.openReport.outcome).toBe('loaded');
    expectIndexMatchesSqlite(final, store);
    await final.close();
  }, 120_000);
});
