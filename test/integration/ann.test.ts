/**
 * VectorIndex against real hnswlib and a real SQLite file: HNSW quality vs exact scan,
 * persistence, automatic rebuild from damaged or missing files, removal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { recallAtK } from '../../main/core/metrics.ts';
import type { Store } from '../../main/services/store/index.ts';
import { prng, putVector, randomUnitVector, seedRandomLibrary, tempStore } from '../fixtures/vector-db.ts';

const MODEL = 'test-model';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function setup(n: number, dim: number, seed = 1) {
  const { store, dir } = tempStore();
  const lib = seedRandomLibrary(store, { n, dim, modelId: MODEL, seed });
  cleanups.push(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, dir, indexDir: join(dir, 'index'), ...lib };
}

async function openIndex(store: Store, indexDir: string, dim: number, exactBelow = 0) {
  const logs: string[] = [];
  const index = await VectorIndex.open({ store, dir: indexDir, modelId: MODEL, dim, exactBelow, log: (m) => logs.push(m) });
  return { index, logs };
}

function hnswFile(indexDir: string): string {
  const f = readdirSync(indexDir).find((x) => x.endsWith('.hnsw'));
  if (!f) throw new Error('no .hnsw file saved');
  return join(indexDir, f);
}

describe('VectorIndex', () => {
  it('HNSW finds ≥ 95% of the exact top-10 on 5k random unit vectors', async () => {
    const dim = 128;
    const { store, indexDir } = setup(5000, dim);
    const { index } = await openIndex(store, indexDir, dim);
    expect(index.size).toBe(5000);
    const rand = prng(99);
    let recall = 0;
    const queries = 100;
    for (let q = 0; q < queries; q++) {
      const query = randomUnitVector(dim, rand);
      const approx = index.search(query, 10);
      const exact = index.search(query, 10, { exact: true });
      expect(exact).toHaveLength(10);
      // Exact scores are sorted best first and are cosines.
      for (let i = 1; i < exact.length; i++) expect(exact[i - 1]!.score).toBeGreaterThanOrEqual(exact[i]!.score);
      recall += recallAtK(exact.map((h) => h.photoId), approx.map((h) => h.photoId), 10);
    }
    expect(recall / queries).toBeGreaterThanOrEqual(0.95);
    await index.close();
  });

  it('scores are cosines: a stored vector finds itself with score ≈ 1', async () => {
    const dim = 32;
    const { store, indexDir, ids, vectors } = setup(300, dim);
    const { index } = await openIndex(store, indexDir, dim);
    const id = ids[42]!;
    const [best] = index.search(vectors.get(id)!, 1);
    expect(best!.photoId).toBe(id);
    expect(best!.score).toBeCloseTo(1, 4);
    await index.close();
  });

  it('persists: a reopened index loads the saved file and answers the same', async () => {
    const dim = 32;
    const { store, indexDir } = setup(800, dim);
    const first = await openIndex(store, indexDir, dim);
    expect(first.index.openReport.outcome).toBe('rebuilt');
    const query = randomUnitVector(dim, prng(7));
    const before = first.index.search(query, 10);
    await first.index.close();

    const second = await openIndex(store, indexDir, dim);
    expect(second.index.openReport.outcome).toBe('loaded');
    expect(second.logs).toEqual([]);
    expect(second.index.search(query, 10)).toEqual(before);
    await second.index.close();
  });

  it('patches photos added or deleted in SQLite since the save', async () => {
    const dim = 16;
    const { store, indexDir, ids, folderId } = setup(200, dim);
    await (await openIndex(store, indexDir, dim)).index.close();
    // Behind the index's back: one photo deleted (vector cascades), one added.
    store.db.prepare('DELETE FROM photos WHERE id = ?').run(ids[0]);
    const added = Number(
      store.db
        .prepare("INSERT INTO photos(folder_id, path, size, mtime_ms, status, updated_at) VALUES (?, '/photos/new.jpg', 1, 1, 'indexed', 1)")
        .run(folderId).lastInsertRowid,
    );
    const v = randomUnitVector(dim, prng(3));
    putVector(store, added, MODEL, v);
    const { index, logs } = await openIndex(store, indexDir, dim);
    expect(index.openReport.outcome).toBe('repaired');
    expect(logs.join('\n')).toMatch(/1 added or replaced, 1 removed/);
    expect(index.size).toBe(200);
    expect(index.search(v, 1)[0]!.photoId).toBe(added);
    expect(index.has(ids[0]!)).toBe(false);
    await index.close();
  });

  // 'changed inside': same size and header, so hnswlib reads it while the whole file is hashed; the hash must still win.
  for (const damage of ['deleted', 'truncated', 'garbage', 'changed inside'] as const) {
    it(`rebuilds automatically when the index file is ${damage}, with the same results`, async () => {
      const dim = 32;
      const { store, indexDir } = setup(1000, dim);
      const first = await openIndex(store, indexDir, dim);
      const queries = Array.from({ length: 5 }, (_, i) => randomUnitVector(dim, prng(100 + i)));
      const exactBefore = queries.map((q) => first.index.search(q, 10, { exact: true }));
      await first.index.close();

      const file = hnswFile(indexDir);
      if (damage === 'deleted') await rm(file);
      if (damage === 'truncated') truncateSync(file, Math.floor(statSync(file).size / 2));
      if (damage === 'garbage') writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
      if (damage === 'changed inside') {
        const bytes = readFileSync(file);
        expect(bytes.byteLength).toBeGreaterThan(128 * 1024); // past the 64 KiB header check
        bytes.fill(0x5a, Math.floor(bytes.byteLength * 0.75), Math.floor(bytes.byteLength * 0.75) + 64);
        writeFileSync(file, bytes);
      }

      const { index, logs } = await openIndex(store, indexDir, dim);
      expect(index.openReport.outcome).toBe('rebuilt');
      expect(logs.join('\n')).toMatch(damage === 'deleted' ? /missing/ : /damaged/);
      expect(index.size).toBe(1000);
      queries.forEach((q, i) => {
        expect(index.search(q, 10, { exact: true })).toEqual(exactBefore[i]);
        const approx = index.search(q, 10).map((h) => h.photoId);
        expect(recallAtK(exactBefore[i]!.map((h) => h.photoId), approx, 10)).toBeGreaterThanOrEqual(0.9);
      });
      await index.close();
      // And the rebuilt index was saved: the next open loads it.
      const again = await openIndex(store, indexDir, dim);
      expect(again.index.openReport.outcome).toBe('loaded');
      await again.index.close();
    });
  }

  it('still loads an index saved before the header check (state v2: whole-file hash only)', async () => {
    const dim = 32;
    const { store, indexDir } = setup(1000, dim);
    await (await openIndex(store, indexDir, dim)).index.close();
    const row = store.db.prepare<[string], string>('SELECT checksum FROM ann_state WHERE model_id = ?').pluck().get(MODEL)!;
    const { size, head, ...v2 } = JSON.parse(row) as Record<string, unknown>;
    expect([typeof size, typeof head]).toEqual(['number', 'string']);
    store.db.prepare('UPDATE ann_state SET checksum = ? WHERE model_id = ?').run(JSON.stringify({ ...v2, v: 2 }), MODEL);
    const { index } = await openIndex(store, indexDir, dim);
    expect(index.openReport.outcome).toBe('loaded');
    expect(index.size).toBe(1000);
    await index.close();
  });

  it('patches vectors replaced, added and deleted since the save from the journal, without a rebuild', async () => {
    const dim = 16;
    const { store, indexDir, ids } = setup(300, dim);
    await (await openIndex(store, indexDir, dim)).index.close();
    // Behind the saved file's back (as after a kill -9): a vector replaced under the same label
    // (invisible to any label-set check), a photo deleted and its id reused by a new photo.
    const replaced = randomUnitVector(dim, prng(5));
    putVector(store, ids[10]!, MODEL, replaced);
    const last = ids[ids.length - 1]!;
    store.db.prepare('DELETE FROM photos WHERE id = ?').run(last);
    store.db
      .prepare("INSERT INTO photos(id, folder_id, path, size, mtime_ms, status, updated_at) SELECT ?, folder_id, '/photos/reused.jpg', 1, 1, 'indexed', 1 FROM photos LIMIT 1")
      .run(last);
    const reused = randomUnitVector(dim, prng(6));
    putVector(store, last, MODEL, reused);
    const { index, logs } = await openIndex(store, indexDir, dim);
    expect(index.openReport.outcome).toBe('repaired');
    expect(index.openReport.patched).toBe(2);
    expect(logs.join('\n')).toMatch(/2 added or replaced, 0 removed/);
    expect(index.search(replaced, 1)[0]).toEqual({ photoId: ids[10], score: expect.closeTo(1, 4) });
    expect(index.search(reused, 1)[0]).toEqual({ photoId: last, score: expect.closeTo(1, 4) });
    await index.close();
    // The save trimmed the journal and moved the state on: the next open just loads.
    expect(store.db.prepare('SELECT COUNT(*) FROM ann_journal').pluck().get()).toBe(0);
    const again = await openIndex(store, indexDir, dim);
    expect(again.index.openReport.outcome).toBe('loaded');
    expect(readdirSync(indexDir).filter((f) => f.endsWith('.hnsw'))).toHaveLength(1);
    await again.index.close();
  });

  it('a save interrupted before its state moved on leaves the previous generation usable', async () => {
    const dim = 16;
    const { store, indexDir, ids } = setup(300, dim);
    await (await openIndex(store, indexDir, dim)).index.close();
    const saved = hnswFile(indexDir);
    // A newer generation written to disk but never recorded (killed between rename and commit).
    writeFileSync(saved.replace(/\.(\d+)\.hnsw$/, (_, g: string) => `.${Number(g) + 1}.hnsw`), Buffer.alloc(64, 1));
    putVector(store, ids[3]!, MODEL, randomUnitVector(dim, prng(8)));
    const { index } = await openIndex(store, indexDir, dim);
    expect(index.openReport.outcome).toBe('repaired');
    expect(index.openReport.patched).toBe(1);
    await index.close();
  });

  it('remove() hides a photo from HNSW and exact searches; unknown ids are ignored', async () => {
    const dim = 32;
    const { store, indexDir, ids, vectors } = setup(500, dim);
    const { index } = await openIndex(store, indexDir, dim);
    const id = ids[7]!;
    const q = vectors.get(id)!;
    expect(index.search(q, 1)[0]!.photoId).toBe(id);
    index.remove(id);
    index.remove(999_999);
    expect(index.size).toBe(499);
    expect(index.search(q, 20).map((h) => h.photoId)).not.toContain(id);
    expect(index.search(q, 20, { exact: true }).map((h) => h.photoId)).not.toContain(id);
    // Upserting again brings it back.
    index.upsert(id, q);
    expect(index.search(q, 1)[0]!.photoId).toBe(id);
    await index.close();
  });

  it('grows past its capacity and honours filters', async () => {
    const dim = 8;
    const { store, indexDir, folderId } = setup(10, dim);
    const { index } = await openIndex(store, indexDir, dim);
    const rand = prng(11);
    const added: number[] = [];
    store.transaction(() => {
      for (let i = 0; i < 3000; i++) {
        const id = Number(
          store.db
            .prepare("INSERT INTO photos(folder_id, path, size, mtime_ms, status, updated_at) VALUES (?, ?, 1, 1, 'indexed', 1)")
            .run(folderId, `/photos/g${i}.jpg`).lastInsertRowid,
        );
        added.push(id);
      }
    });
    for (const id of added) {
      const v = randomUnitVector(dim, rand);
      putVector(store, id, MODEL, v);
      index.upsert(id, v);
    }
    expect(index.size).toBe(3010);
    const even = (id: number) => id % 2 === 0;
    const hits = index.search(randomUnitVector(dim, rand), 25, { filter: even });
    expect(hits).toHaveLength(25);
    expect(hits.every((h) => even(h.photoId))).toBe(true);
    await index.close();
  });
});
