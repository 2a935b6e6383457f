/**
 * Issue 15 §1, the library's page size (main/services/store/page-size.ts; timing lives in
 * `npm run bench -- --scale`): a photo's 2 KiB vector must live in its b-tree page, not in an
 * overflow page read by a system call each time, so a new library has 16 KiB pages and an older
 * one (4 KiB pages) is rewritten once. The rewrite must lose nothing: every vector byte for byte,
 * and a folder scored exactly returns every one of its photos with the same scores as before;
 * a library someone else has open is left as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore, PAGE_SIZE, pageSizeOf, upgradePageSize, type Store } from '../../main/services/store/index.ts';
import { OWNER_FILE } from '../../main/services/store/owner.ts';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { searchByVector } from '../../main/services/search/index.ts';
import { createApp } from '../../main/app/index.ts';
import { freeBytesOf, mountTmpfs, unmountTmpfs, whyNoTmpfs } from './tmpfs.ts';
import { addFolder, addPhoto, ensureModel, prng, putVector, randomUnitVector, tempDir } from '../fixtures/vector-db.ts';

const DIM = 512;
const MODEL = 'page-test';

const noTmpfs = whyNoTmpfs();
if (noTmpfs) console.warn(`the page-size test on a full disk is skipped: ${noTmpfs}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A library as versions before 16 KiB pages made it: 4 KiB pages, WAL, the current schema. */
function olderLibrary(path: string): Store {
  const raw = new Database(path);
  raw.pragma('page_size = 4096');
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE first_page(x); DROP TABLE first_page'); // the page size is fixed once a page is written
  raw.close();
  return openStore(path);
}

/** A library in a temporary folder, closed and deleted after the test; `older`: made with 4 KiB pages. */
function library(older: boolean): { path: string; dir: string; store: Store } {
  const dir = tempDir();
  const path = join(dir, 'library.db');
  const lib = { path, dir, store: older ? olderLibrary(path) : openStore(path) };
  cleanups.push(async () => {
    if (lib.store.db.open) lib.store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return lib;
}

interface Library {
  folder: number;
  small: number;
  vectors: Map<number, Float32Array>;
  folderOf: Map<number, number>;
}

/** `n` photos (1,500: a folder of 1,000 interleaved by id with the others, a folder of 20, the rest). */
function fill(store: Store, n = 1500): Library {
  ensureModel(store, MODEL, DIM);
  const folder = addFolder(store, '/lib/thousand');
  const small = addFolder(store, '/lib/twenty');
  const rest = addFolder(store, '/lib/rest');
  const rand = prng(11);
  const vectors = new Map<number, Float32Array>();
  const folderOf = new Map<number, number>();
  store.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const f = i % 75 === 0 ? small : i % 3 !== 0 ? folder : rest;
      const id = addPhoto(store, { folderId: f, path: `/lib/${f}/${i}.jpg`, status: 'indexed', takenAt: 1_600_000_000_000 + i });
      const v = randomUnitVector(DIM, rand);
      putVector(store, id, MODEL, v);
      folderOf.set(id, f);
      vectors.set(id, v);
    }
  });
  return { folder, small, vectors, folderOf };
}

function overflowPages(store: Store): number {
  return store.db.prepare<[], number>("SELECT COUNT(*) FROM dbstat WHERE name = 'vectors' AND pagetype = 'overflow'").pluck().get() ?? 0;
}

/** Every photo of a folder, best first, with its exact cosine (float64 over the stored float32s). */
function exactRanking(lib: Library, folderId: number, query: Float32Array): { id: number; score: number }[] {
  return [...lib.folderOf]
    .filter(([, f]) => f === folderId)
    .map(([id]) => ({ id, score: lib.vectors.get(id)!.reduce((s, x, d) => s + x * query[d]!, 0) }))
    .sort((a, b) => b.score - a.score);
}

/** The search service's answer for a whole folder: ids and scores in its order. */
async function folderSearch(store: Store, dir: string, folderId: number, query: Float32Array): Promise<{ id: number; score: number }[]> {
  const index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: MODEL, dim: DIM, log: () => {} });
  try {
    const r = searchByVector({ store, index, modelId: MODEL }, query, { folderId, limit: 2000 });
    return r.hits.map((h) => ({ id: h.photo.id, score: h.score }));
  } finally {
    await index.close();
  }
}

function expectSameRanking(got: { id: number; score: number }[], want: { id: number; score: number }[]): void {
  expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
  got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 5));
}

describe('the library in 16 KiB pages', () => {
  it('a new library has them, and a 512-d vector stays in its page (no overflow page)', () => {
    const { store } = library(false);
    fill(store);
    expect(store.db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(overflowPages(store)).toBe(0);
  });

  it('an older library (4 KiB pages) is rewritten once: every vector byte for byte, every photo of a folder with the same exact scores', async () => {
    const made = library(true);
    const { path, dir } = made;
    let store = made.store;
    const lib = fill(store);
    expect(pageSizeOf(path)).toBe(4096);
    expect(overflowPages(store)).toBeGreaterThan(900); // the layout the rewrite exists for: a spilled page per vector
    const query = randomUnitVector(DIM, prng(5));
    const before = await folderSearch(store, dir, lib.folder, query);
    const version = store.db.pragma('user_version', { simple: true });
    store.close();

    const logged: string[] = [];
    const upgrade = await upgradePageSize(path, (m) => logged.push(m));
    expect(upgrade).toMatchObject({ from: 4096, to: PAGE_SIZE });
    expect(logged.join('\n')).toMatch(/rewritten with 16 KiB pages/);
    expect(pageSizeOf(path)).toBe(PAGE_SIZE);
    expect(await upgradePageSize(path, () => {})).toBeNull(); // once

    store = made.store = openStore(path);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(version);
    expect(store.db.pragma('quick_check', { simple: true })).toBe('ok');
    expect(overflowPages(store)).toBe(0);
    const rows = store.db.prepare<[string], { photo_id: number; vector: Buffer }>('SELECT photo_id, vector FROM vectors WHERE model_id = ?').all(MODEL);
    expect(rows).toHaveLength(lib.vectors.size);
    for (const r of rows) {
      const v = lib.vectors.get(r.photo_id)!;
      expect(r.vector.equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength))).toBe(true);
    }

    // The folder of 1,000 (scored exactly): all of it, best first, exact scores, as before the rewrite.
    const want = exactRanking(lib, lib.folder, query);
    expect(want).toHaveLength(1000);
    const after = await folderSearch(store, dir, lib.folder, query);
    expectSameRanking(after, want);
    expectSameRanking(before, want);
    // The folder of 20 spread through the ids: its 20.
    expectSameRanking(await folderSearch(store, dir, lib.small, query), exactRanking(lib, lib.small, query));
  });

  it('a library another connection has open is left as it was, still usable; the next open rewrites it', async () => {
    const { path, store } = library(true);
    const lib = fill(store);
    const logged: string[] = [];
    expect(await upgradePageSize(path, (m) => logged.push(m))).toBeNull();
    expect(logged.join('\n')).toMatch(/keeps its 4 KiB pages for now/);
    expect(pageSizeOf(path)).toBe(4096);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.prepare('SELECT COUNT(*) FROM vectors').pluck().get()).toBe(lib.vectors.size);
    store.close();
    expect(await upgradePageSize(path, () => {})).toMatchObject({ from: 4096, to: PAGE_SIZE });
  });

  it.skipIf(noTmpfs !== null)('a disk without room for the rewrite (twice the file) is left alone: logged, nothing changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leanlens-pagesize-'));
    mountTmpfs(dir, 5 * 2 ** 20);
    cleanups.push(() => {
      unmountTmpfs(dir);
      rmSync(dir, { recursive: true, force: true });
    });
    const path = join(dir, 'library.db');
    const store = olderLibrary(path);
    const lib = fill(store, 600);
    store.close();
    expect(statSync(path).size).toBeGreaterThan(freeBytesOf(dir) / 2); // really too little room
    const logged: string[] = [];
    expect(await upgradePageSize(path, (m) => logged.push(m))).toBeNull();
    expect(logged.join('\n')).toMatch(/keeps its 4 KiB pages for now: rewriting it needs \d+ MiB free, the disk has \d+ MiB/);
    expect(pageSizeOf(path)).toBe(4096);
    const reopened = openStore(path);
    expect(reopened.db.prepare('SELECT COUNT(*) FROM vectors').pluck().get()).toBe(lib.vectors.size);
    reopened.close();
  });

  it('the app rewrites an older library when it opens it, but not right after a crash', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const path = join(dataDir, 'library.db');
    const store = olderLibrary(path);
    const folder = addFolder(store, '/lib/kept');
    store.close();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // A description of the owner left behind: its process died. That open checks the database and
    // must stay quick, so the rewrite waits for the next one.
    writeFileSync(join(dataDir, OWNER_FILE), JSON.stringify({ pid: 999_999, startedAt: 1, command: 'killed' }));
    const afterCrash = await createApp({ dataDir });
    await afterCrash.close();
    expect(pageSizeOf(path)).toBe(4096);

    const app = await createApp({ dataDir });
    cleanups.push(() => app.close());
    expect(pageSizeOf(path)).toBe(PAGE_SIZE);
    const reopened = new Database(path, { readonly: true });
    expect(reopened.prepare('SELECT id FROM folders WHERE path = ?').pluck().get('/lib/kept')).toBe(folder);
    reopened.close();
  });
});
