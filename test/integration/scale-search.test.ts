/**
 * Issue 15 §1, correctness at scale (timing lives in `npm run bench -- --scale`):
 * - a filter that keeps very few photos of a big library (a folder of 20 in 50,000) returns all of
 *   them, and a mid-sized folder (above the exact-scan limit, so HNSW: post-filtered results for a
 *   page of 50, hnswlib's filter callback for a page of 400) returns a full page, best first, that
 *   agrees with an exact scan, honouring excluded photos, a cut-off and unsearchable photos; the
 *   app's query path (adaptive cut-off) on that folder reuses the hits its cut-off found, and a
 *   search takes such hits only when they cover its own cut-off;
 * - exact copies of one photo in different folders are each listed and searchable, and deleting
 *   one copy never removes the others (real app, colour-oracle model, real files).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFile, mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { EXACT_CANDIDATES, searchByVector, searchQuery } from '../../main/services/search/index.ts';
import { createApp, type App } from '../../main/app/index.ts';
import { recallAtK } from '../../main/core/metrics.ts';
import { COLOURS, writeSolidPhoto } from '../fixtures/photos.ts';
import { addFolder, ensureModel, prng, randomUnitVector, resolveTestModel, tempDir, tempStore } from '../fixtures/vector-db.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('filtered search in a 50,000-photo library', () => {
  it('a folder of 20 returns its 20; a folder of 6,000 returns a full page that matches an exact scan', async () => {
    const N = 50_000;
    const DIM = 16;
    const MODEL = 'scale-test';
    const { store, dir } = tempStore();
    cleanups.push(async () => {
      store.close();
      await rm(dir, { recursive: true, force: true });
    });
    ensureModel(store, MODEL, DIM);
    const small = addFolder(store, '/lib/small');
    const mid = addFolder(store, '/lib/mid');
    const rest = addFolder(store, '/lib/rest');
    const rand = prng(3);
    const vectors = new Map<number, Float32Array>();
    const folderOf = new Map<number, number>();
    const photo = store.db.prepare(
      "INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, status, updated_at) VALUES (?, ?, ?, 1, 1, ?, 'indexed', 1)",
    );
    const vector = store.db.prepare('INSERT INTO vectors(photo_id, model_id, vector) VALUES (?, ?, ?)');
    store.transaction(() => {
      for (let id = 1; id <= N; id++) {
        // The small folder's photos are spread through the whole id range (and so the graph).
        const folderId = id % 2500 === 0 ? small : id % 8 === 1 && id < 48_000 ? mid : rest;
        folderOf.set(id, folderId);
        photo.run(id, folderId, `/lib/${folderId}/${id}.jpg`, 1_600_000_000_000 + id * 1000);
        const v = randomUnitVector(DIM, rand);
        vectors.set(id, v);
        vector.run(id, MODEL, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      }
    });
    const midIds = [...folderOf].filter(([, f]) => f === mid).map(([id]) => id);
    expect(midIds.length).toBeGreaterThan(EXACT_CANDIDATES); // really the HNSW path
    const index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: MODEL, dim: DIM, log: () => {} });
    cleanups.push(() => index.close());
    const ctx = { store, index, modelId: MODEL };

    for (let q = 0; q < 5; q++) {
      const query = randomUnitVector(DIM, rand);
      const r20 = searchByVector(ctx, query, { folderId: small, limit: 50 });
      expect(r20.hits).toHaveLength(20);
      expect(r20.total).toBe(20);
      expect(r20.hits.every((h) => h.photo.folderId === small)).toBe(true);

      const page = searchByVector(ctx, query, { folderId: mid, limit: 50 });
      expect(page.hits).toHaveLength(50);
      expect(page.total).toBe(midIds.length);
      expect(page.hits.every((h) => h.photo.folderId === mid)).toBe(true);
      for (let i = 1; i < page.hits.length; i++) expect(page.hits[i - 1]!.score).toBeGreaterThanOrEqual(page.hits[i]!.score);
      const exact = midIds
        .map((id) => ({ id, s: vectors.get(id)!.reduce((a, x, d) => a + x * query[d]!, 0) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 50)
        .map((x) => x.id);
      expect(
        recallAtK(
          exact,
          page.hits.map((h) => h.photo.id),
          50,
        ),
      ).toBeGreaterThanOrEqual(0.9);

      // A date range that keeps 30 photos.
      const from = 1_600_000_000_000 + 30_001 * 1000;
      const byDate = searchByVector(ctx, query, { from, to: from + 29 * 1000, limit: 50 });
      expect(byDate.hits.map((h) => h.photo.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => 30_001 + i));
    }

    // The broad-filter paths, checked against an exact scan of the folder. A page of 50 from 12% of
    // the library post-filters unfiltered HNSW results; a page of 400 would need HNSW 5,000 deep,
    // so hnswlib's filter callback over the folder's ids answers it instead.
    const exactMid = (query: Float32Array, ids: number[]) =>
      ids.map((id) => ({ id, s: vectors.get(id)!.reduce((a, x, d) => a + x * query[d]!, 0) })).sort((a, b) => b.s - a.s);
    for (let q = 0; q < 3; q++) {
      const query = randomUnitVector(DIM, rand);
      const truth = exactMid(query, midIds);
      const page = searchByVector(ctx, query, { folderId: mid, limit: 400 });
      expect(page.hits).toHaveLength(400);
      expect(page.hits.every((h) => h.photo.folderId === mid)).toBe(true);
      expect(
        recallAtK(
          truth.slice(0, 400).map((x) => x.id),
          page.hits.map((h) => h.photo.id),
          400,
        ),
      ).toBeGreaterThanOrEqual(0.9);

      // Excluded photos stay out and out of the total; the page is still full.
      const excludeIds = truth.slice(0, 5).map((x) => x.id);
      const without = searchByVector(ctx, query, { folderId: mid, limit: 50, excludeIds });
      expect(without.hits).toHaveLength(50);
      expect(without.hits.some((h) => excludeIds.includes(h.photo.id))).toBe(false);
      expect(without.total).toBe(midIds.length - 5);

      // A cut-off: the hits are the folder's photos above it (HNSW may miss one or two), best first.
      const minScore = truth[29]!.s;
      const cut = searchByVector(ctx, query, { folderId: mid, minScore, limit: 100 });
      expect(cut.hits.every((h) => h.photo.folderId === mid && h.score >= minScore - 1e-6)).toBe(true);
      expect(cut.hits.length).toBeGreaterThanOrEqual(27);
      expect(cut.hits.length).toBeLessThanOrEqual(30);
      expect(cut.total).toBe(cut.hits.length);

      // A page smaller than the cut-off set: the page is full and the total still counts every
      // photo above the cut-off (the search deepens past the page), with and without a filter.
      const small = searchByVector(ctx, query, { folderId: mid, minScore, limit: 10 });
      expect(small.hits).toHaveLength(10);
      expect(small.total).toBeGreaterThanOrEqual(27);
      expect(small.total).toBeLessThanOrEqual(30);
      const everywhere = exactMid(query, [...vectors.keys()]);
      const wide = searchByVector(ctx, query, { minScore: everywhere[29]!.s, limit: 10 });
      expect(wide.hits).toHaveLength(10);
      expect(wide.total).toBeGreaterThanOrEqual(27);
      expect(wide.total).toBeLessThanOrEqual(30);
      expect(
        recallAtK(
          everywhere.slice(0, 10).map((x) => x.id),
          wide.hits.map((h) => h.photo.id),
          10,
        ),
      ).toBeGreaterThanOrEqual(0.9);

      // The app's query path on the folder: its cut-off's hits (post-filtered HNSW down to the
      // cut-off's floor) make the page; every hit is the folder's, above the cut-off, best first,
      // and the total counts the folder's photos above it (HNSW may miss one or two).
      const app = searchQuery(ctx, [{ vector: query, weight: 1 }], [], { filter: { folderId: mid }, limit: 50 });
      const appCut = app.cutoff!.minScore!;
      const above = truth.filter((x) => x.s >= appCut).length;
      expect(above).toBeGreaterThan(0);
      expect(app.hits.every((h) => h.photo.folderId === mid && h.score >= appCut - 1e-6)).toBe(true);
      for (let i = 1; i < app.hits.length; i++) expect(app.hits[i - 1]!.score).toBeGreaterThanOrEqual(app.hits[i]!.score);
      expect(app.hits).toHaveLength(Math.min(50, app.total));
      expect(app.total).toBeGreaterThanOrEqual(Math.floor(above * 0.9));
      expect(app.total).toBeLessThanOrEqual(above);
      expect(
        recallAtK(
          truth.slice(0, Math.min(10, above)).map((x) => x.id),
          app.hits.map((h) => h.photo.id),
          Math.min(10, above),
        ),
      ).toBeGreaterThanOrEqual(0.9);

      // A caller's hits above a score are used only for a cut-off at least as high, and only those
      // above the search's own cut-off and not excluded are hits.
      const asHits = (xs: { id: number; s: number }[]) => xs.map((x) => ({ id: x.id, score: x.s }));
      const lower = searchByVector(ctx, query, {
        folderId: mid,
        minScore,
        limit: 100,
        hitsAbove: { minScore: truth[9]!.s, hits: asHits(truth.slice(0, 10)) },
      });
      expect(lower.total).toBeGreaterThanOrEqual(27); // searched: the 10 given cannot cover a lower cut-off
      const higher = searchByVector(ctx, query, {
        folderId: mid,
        minScore: truth[9]!.s,
        limit: 100,
        excludeIds: [truth[0]!.id],
        hitsAbove: { minScore, hits: asHits(truth.slice(0, 30)) },
      });
      expect(higher.hits.map((h) => h.photo.id)).toEqual(truth.slice(1, 10).map((x) => x.id));
      expect(higher.total).toBe(9);
    }

    // Photos a search must not offer (pending re-index, held as missing) are neither hits nor counted.
    const gone = midIds.slice(0, 5);
    store.db.prepare(`UPDATE photos SET status = 'pending' WHERE id IN (${gone.slice(0, 2).join(',')})`).run();
    store.db.prepare(`UPDATE photos SET missing_since = 1 WHERE id IN (${gone.slice(2).join(',')})`).run();
    for (const limit of [50, 400]) {
      for (const id of gone) {
        const r = searchByVector(ctx, vectors.get(id)!, { folderId: mid, limit }); // the photo itself would be the best match
        expect(r.total).toBe(midIds.length - 5);
        expect(r.hits).toHaveLength(limit); // a page full of photos that may be shown, not one short
        expect(r.hits.some((h) => gone.includes(h.photo.id))).toBe(false);
      }
    }
  }, 300_000);
});

const oracle = resolveTestModel('color-oracle');

describe.skipIf(!oracle)('exact copies in different folders', () => {
  it('each copy is listed and searchable; deleting one leaves the others indexed and found', async () => {
    const dir = tempDir('leanlens-copies-');
    const a = join(dir, 'A');
    const b = join(dir, 'B');
    const c = join(dir, 'C');
    for (const d of [a, b, c]) await mkdir(d, { recursive: true });
    await writeSolidPhoto(join(a, 'sea.jpg'), COLOURS.blue!, { noise: 4 });
    await copyFile(join(a, 'sea.jpg'), join(b, 'sea.jpg'));
    await copyFile(join(a, 'sea.jpg'), join(c, 'sea copy.jpg'));
    await writeSolidPhoto(join(a, 'red.jpg'), COLOURS.red!, { noise: 4 });
    await writeSolidPhoto(join(b, 'green.jpg'), COLOURS.green!, { noise: 4 });
    const app: App = await createApp({ dataDir: join(dir, 'data') });
    cleanups.push(async () => {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    });
    for (const d of [a, b, c]) await app['folders.add']({ path: d });
    await app.sync();
    const copies = [join(a, 'sea.jpg'), join(b, 'sea.jpg'), join(c, 'sea copy.jpg')];
    const blue = async () => (await app['search.text']({ text: 'blue', limit: 3 })).hits.map((h) => h.photo.path);
    expect((await blue()).sort()).toEqual([...copies].sort());
    const ids = copies.map((p) => app.photoIdByPath(p));
    expect(new Set(ids).size).toBe(3);

    await unlink(copies[0]!);
    await app.sync();
    expect(app.photoIdByPath(copies[0]!)).toBeNull();
    // The other copies keep their rows (same ids: not treated as moves) and stay searchable.
    expect(copies.slice(1).map((p) => app.photoIdByPath(p))).toEqual(ids.slice(1));
    expect((await blue()).slice(0, 2).sort()).toEqual(copies.slice(1).sort());
    const status = await app['index.status']({});
    expect(status.indexed).toBe(4);
  }, 120_000);
});
