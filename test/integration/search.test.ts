/**
 * Search over a real indexed library: color-oracle vectors of real photos (real ONNX Runtime,
 * sharp, SQLite, hnswlib), and a larger synthetic library that takes the HNSW path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { openEncoder, type Encoder } from '../../main/services/encoder/index.ts';
import { Indexer } from '../../main/services/indexer/index.ts';
import { EXACT_CANDIDATES, photoVector, searchByVector } from '../../main/services/search/index.ts';
import type { Store } from '../../main/services/store/index.ts';
import { COLOURS, writeColourLibrary, writeSolidPhoto } from '../fixtures/photos.ts';
import { addFolder, addPhoto, addPhotoFile, ensureModel, prng, putVector, randomUnitVector, resolveTestModel, tempStore, tokens } from '../fixtures/vector-db.ts';

const oracle = resolveTestModel('color-oracle');

describe.skipIf(!oracle)('searchByVector with color-oracle', () => {
  let store: Store;
  let dir: string;
  let index: VectorIndex;
  let encoder: Encoder;
  let folderA: number;
  let folderB: number;
  const id: Record<string, number> = {};
  const ctx = () => ({ store, index, modelId: oracle!.id });
  const query = async (text: string) => (await encoder.encodeTexts([tokens(text)]))[0]!;
  const names = (r: ReturnType<typeof searchByVector>) => r.hits.map((h) => h.photo.name);

  beforeAll(async () => {
    ({ store, dir } = tempStore());
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await writeColourLibrary(a);
    // Folder b: more reds (shades) and a few others, with capture dates.
    await writeSolidPhoto(join(b, 'dark-red.jpg'), [170, 20, 25], { noise: 6, exif: { DateTimeOriginal: '2020:01:01 12:00:00' } });
    await writeSolidPhoto(join(b, 'bright-red.jpg'), [240, 40, 35], { noise: 6, exif: { DateTimeOriginal: '2022:06:01 12:00:00' } });
    await writeSolidPhoto(join(b, 'sky.jpg'), COLOURS.blue!, { noise: 6, exif: { DateTimeOriginal: '2021:03:01 12:00:00' } });
    folderA = addFolder(store, a);
    folderB = addFolder(store, b);
    for (const n of Object.keys(COLOURS)) id[n] = addPhotoFile(store, folderA, join(a, `${n}.jpg`));
    for (const n of ['dark-red', 'bright-red', 'sky']) id[n] = addPhotoFile(store, folderB, join(b, `${n}.jpg`));
    // A pending photo with a stale vector must never show up.
    id.pending = addPhoto(store, { folderId: folderB, path: join(b, 'pending.jpg'), status: 'pending' });

    encoder = await openEncoder(oracle!, { threads: 1, providers: ['cpu'] });
    index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: oracle!.id, dim: oracle!.dim, log: () => {} });
    const indexer = new Indexer({ store, encoder, index, modelId: oracle!.id, preprocess: oracle!.preprocess, prepare: undefined });
    // Index everything but the pending photo: give it a vector by hand afterwards.
    store.db.prepare("UPDATE photos SET status = 'failed' WHERE id = ?").run(id.pending);
    indexer.start();
    await indexer.whenIdle();
    await indexer.stop();
    store.db.prepare("UPDATE photos SET status = 'pending' WHERE id = ?").run(id.pending);
    const redVec = photoVector(store, id.red!, oracle!.id)!;
    putVector(store, id.pending!, oracle!.id, redVec);
    index.upsert(id.pending!, redVec);
  }, 60_000);

  afterAll(async () => {
    await index?.close();
    await encoder?.close();
    store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("ranks the red photos first for 'red', red.jpg among them, and never a pending photo", async () => {
    const r = searchByVector(ctx(), await query('a photo of something red'), {});
    expect(r.modelId).toBe('color-oracle');
    expect(names(r).slice(0, 3).sort()).toEqual(['bright-red.jpg', 'dark-red.jpg', 'red.jpg']);
    expect(r.hits[0]!.score).toBeGreaterThan(r.hits[3]!.score);
    expect(r.hits.map((h) => h.photo.id)).not.toContain(id.pending);
    expect(r.total).toBe(Object.keys(COLOURS).length + 3);
    for (const h of r.hits) expect(h.photo.status).toBe('indexed');
  });

  it("ranks red.jpg first in the folder that holds only one red", async () => {
    const r = searchByVector(ctx(), await query('red'), { folderId: folderA });
    expect(names(r)[0]).toBe('red.jpg');
    expect(r.hits.every((h) => h.photo.folderId === folderA)).toBe(true);
    expect(r.total).toBe(Object.keys(COLOURS).length);
  });

  it('applies the capture-date filter before paging', async () => {
    const r = searchByVector(ctx(), await query('red'), { from: Date.UTC(2019, 11, 1), to: Date.UTC(2021, 11, 31) });
    expect(names(r).sort()).toEqual(['dark-red.jpg', 'sky.jpg']);
    expect(names(r)[0]).toBe('dark-red.jpg');
    expect(r.total).toBe(2);
  });

  it('cuts off below minScore, and total counts what is left', async () => {
    const q = await query('red');
    const all = searchByVector(ctx(), q, {});
    const cut = (all.hits[2]!.score + all.hits[3]!.score) / 2;
    const r = searchByVector(ctx(), q, { minScore: cut });
    expect(r.total).toBe(3);
    expect(names(r).sort()).toEqual(['bright-red.jpg', 'dark-red.jpg', 'red.jpg']);
    expect(r.hits.every((h) => h.score >= cut)).toBe(true);
  });

  it('sorts the relevant set by date, newest first', async () => {
    const q = await query('red');
    const all = searchByVector(ctx(), q, {});
    const cut = (all.hits[2]!.score + all.hits[3]!.score) / 2;
    const r = searchByVector(ctx(), q, { minScore: cut, sort: 'date' });
    // red.jpg has no EXIF date, so its mtime (today) makes it the newest.
    expect(names(r)).toEqual(['red.jpg', 'bright-red.jpg', 'dark-red.jpg']);
  });

  it('pages with offset/limit over a stable order', async () => {
    const q = await query('green');
    const all = searchByVector(ctx(), q, { limit: 100 });
    const pages = [0, 4, 8, 12].flatMap((offset) => searchByVector(ctx(), q, { offset, limit: 4 }).hits);
    expect(pages.map((h) => h.photo.id)).toEqual(all.hits.map((h) => h.photo.id));
    expect(searchByVector(ctx(), q, { limit: 2 }).hits).toHaveLength(2);
    expect(searchByVector(ctx(), q, { limit: 2 }).total).toBe(all.total);
  });

  it('"more like this" from the red photo returns the other reds first, excluding itself', () => {
    const v = photoVector(store, id.red!, oracle!.id)!;
    expect(v).toHaveLength(oracle!.dim);
    const r = searchByVector(ctx(), v, { excludeIds: [id.red!], limit: 5 });
    expect(r.hits.map((h) => h.photo.id)).not.toContain(id.red);
    expect(names(r).slice(0, 2).sort()).toEqual(['bright-red.jpg', 'dark-red.jpg']);
    expect(photoVector(store, 999_999, oracle!.id)).toBeNull();
  });
});

describe('searchByVector on a library large enough for HNSW', () => {
  const dim = 16;
  const n = EXACT_CANDIDATES + 1500;
  let store: Store;
  let dir: string;
  let index: VectorIndex;
  const vectors = new Map<number, Float32Array>();
  const folderOf = new Map<number, number>();
  const takenOf = new Map<number, number>();
  let small: number;
  let big: number;

  beforeAll(async () => {
    ({ store, dir } = tempStore());
    ensureModel(store, 'm', dim);
    big = addFolder(store, '/big');
    small = addFolder(store, '/small');
    const rand = prng(5);
    store.transaction(() => {
      for (let i = 0; i < n; i++) {
        const folder = i % 50 === 0 ? small : big; // 'small' holds 2%
        const taken = 1_500_000_000_000 + Math.floor(rand() * 1e10);
        const pid = addPhoto(store, { folderId: folder, path: `/${folder}/${i}.jpg`, status: i % 97 === 0 ? 'failed' : 'indexed', takenAt: taken });
        const v = randomUnitVector(dim, rand);
        putVector(store, pid, 'm', v);
        if (i % 97 !== 0) {
          vectors.set(pid, v);
          folderOf.set(pid, folder);
          takenOf.set(pid, taken);
        }
      }
    });
    index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: 'm', dim, log: () => {} });
  }, 120_000);

  afterAll(async () => {
    await index?.close();
    store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Ground truth by brute force over the test's own copy of the vectors. */
  function truth(q: Float32Array, keep: (id: number) => boolean) {
    return [...vectors]
      .filter(([pid]) => keep(pid))
      .map(([pid, v]) => ({ id: pid, score: v.reduce((s, x, i) => s + x * q[i]!, 0) }))
      .sort((a, b) => b.score - a.score);
  }

  it('returns the best matches, never failed photos, with total = every searchable photo', () => {
    const q = randomUnitVector(dim, prng(77));
    const r = searchByVector({ store, index, modelId: 'm' }, q, { limit: 20 });
    const want = truth(q, () => true);
    expect(r.total).toBe(want.length);
    expect(r.hits).toHaveLength(20);
    const got = new Set(r.hits.map((h) => h.photo.id));
    const overlap = want.slice(0, 20).filter((w) => got.has(w.id)).length;
    expect(overlap).toBeGreaterThanOrEqual(18);
    expect(r.hits.every((h) => h.photo.status === 'indexed')).toBe(true);
  });

  it('a folder holding 2% of the library still fills the page (exact over the subset)', () => {
    const q = randomUnitVector(dim, prng(78));
    const r = searchByVector({ store, index, modelId: 'm' }, q, { folderId: small, limit: 30 });
    const want = truth(q, (pid) => folderOf.get(pid) === small);
    expect(r.total).toBe(want.length);
    expect(r.hits.map((h) => h.photo.id)).toEqual(want.slice(0, 30).map((w) => w.id));
  });

  it('a filter over most of the library uses HNSW with the filter and still fills the page', () => {
    const q = randomUnitVector(dim, prng(79));
    const r = searchByVector({ store, index, modelId: 'm' }, q, { folderId: big, limit: 40, offset: 10 });
    expect(r.hits).toHaveLength(40);
    expect(r.hits.every((h) => h.photo.folderId === big)).toBe(true);
    expect(r.total).toBe(truth(q, (pid) => folderOf.get(pid) === big).length);
  });

  it('minScore gives the exact cut-off set; date sort orders it newest first', () => {
    const q = randomUnitVector(dim, prng(80));
    const want = truth(q, () => true);
    const minScore = want[120]!.score;
    const r = searchByVector({ store, index, modelId: 'm' }, q, { minScore, limit: 1000 });
    expect(r.total).toBeGreaterThanOrEqual(115); // HNSW may miss a few borderline ones
    expect(r.total).toBeLessThanOrEqual(121);
    expect(r.hits.every((h) => h.score >= minScore)).toBe(true);
    const byDate = searchByVector({ store, index, modelId: 'm' }, q, { minScore, sort: 'date', limit: 1000 });
    expect(new Set(byDate.hits.map((h) => h.photo.id))).toEqual(new Set(r.hits.map((h) => h.photo.id)));
    const dates = byDate.hits.map((h) => h.photo.takenAt!);
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  });

  it('date sort without a cut-off pages through the whole library newest first, with scores', () => {
    const q = randomUnitVector(dim, prng(81));
    const r = searchByVector({ store, index, modelId: 'm' }, q, { sort: 'date', offset: 5, limit: 10, excludeIds: [] });
    const newest = [...takenOf].sort((a, b) => b[1] - a[1]).slice(5, 15).map(([pid]) => pid);
    expect(r.hits.map((h) => h.photo.id)).toEqual(newest);
    expect(r.total).toBe(vectors.size);
    const h = r.hits[0]!;
    expect(h.score).toBeCloseTo(vectors.get(h.photo.id)!.reduce((s, x, i) => s + x * q[i]!, 0), 5);
  });
});
