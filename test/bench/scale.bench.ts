/**
 * Issue 15 §1 — scale: a library of n synthetic photos (512-d clustered unit vectors, rows in real
 * SQLite, real hnswlib through VectorIndex) measured against the 1M targets. Prints figures; never
 * asserts.
 *
 *   npm run bench -- --scale            # this section only, 100k
 *   npm run bench -- --scale --1m       # 1,000,000 (builds for tens of minutes on 2 cores)
 *   npx tsx test/bench/scale.bench.ts 1000000
 *   npx tsx test/bench/scale.bench.ts 1000000 --keep /var/tmp/scale-1m   # keep the library: a rerun
 *                                       # skips writing and building (hours under load) and measures again
 *
 * Each step runs in its own process so open times and RSS are those of a fresh app, and the
 * "kill -9 mid-indexing" step is a real SIGKILL of a process adding photos through the index.
 * Rows: 1,000 photos per folder plus one folder of 20; capture dates spread over 10 years.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { blobToVector, HNSW_PARAMS, VectorIndex } from '../../main/services/ann/index.ts';
import { searchByVector, searchQuery } from '../../main/services/search/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { ALWAYS_CHECK_BYTES, checkInBackground, openStore, upgradePageSize, type Store } from '../../main/services/store/index.ts';
import { checkIntegrity } from '../../main/services/store/backup.ts';
import { recallAtK } from '../../main/core/metrics.ts';
import { TopK } from '../../main/core/ranking.ts';
import { makeVectors } from './ann.bench.ts';
import { ensureBenchModel, modelBytes, resolveBenchModel } from './models.ts';
import { heading, info, mib, ms, percentile, report, rssNow } from './util.ts';

const DIM = 512;
const MODEL = 'scale-bench';
const PER_FOLDER = 1000;
const SMALL_FOLDER = 20;
const QUERIES = 100;
const CHUNK = 5000;
const TEN_YEARS = 10 * 365 * 86_400_000;
const T0 = Date.UTC(2015, 0, 1);
/** Photos the killed process adds (50 s at 40 photos/s) before its SIGKILL. */
const ADD_BEFORE_KILL = 2000;

const TARGETS = { crashOpenS: 5, annP95: 10, recall: 0.97, filteredP95: 50, rssRatio: 1.3 };

type Result = Record<string, number | string>;

/** Puts one photo's exact score for each query (`queries`: 512-d, back to back) into that query's top list: the truth for recall. */
export function scoreExactly(tops: TopK[], queries: Float32Array, id: number, v: Float32Array): void {
  for (let j = 0; j < tops.length; j++) {
    let s = 0;
    const o = j * DIM;
    for (let d = 0; d < DIM; d++) s += v[d]! * queries[o + d]!;
    tops[j]!.push(id, s);
  }
}

// ----------------------------------------------------------------------------- child steps

/** Writes n photo rows and their vectors (chunks of seeded vectors, so any step can regenerate them). */
function prepare(dataDir: string, n: number): Result {
  const t = performance.now();
  const store = openStore(join(dataDir, 'library.db'));
  try {
    store.db.prepare('INSERT OR IGNORE INTO models(id, dim, added_at) VALUES (?, ?, ?)').run(MODEL, DIM, Date.now());
    const folder = store.db.prepare("INSERT INTO folders(path, added_at, state) VALUES (?, ?, 'idle')");
    const photo = store.db.prepare(
      `INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, format, status, updated_at)
       VALUES (?, ?, ?, 3000000, ?, ?, 'jpeg', 'indexed', ?)`,
    );
    const vector = store.db.prepare('INSERT INTO vectors(photo_id, model_id, vector) VALUES (?, ?, ?)');
    const folders = Math.ceil((n - SMALL_FOLDER) / PER_FOLDER);
    store.transaction(() => {
      for (let f = 0; f <= folders; f++) folder.run(`/bench/f${f}`, Date.now());
    });
    const now = Date.now();
    for (let start = 0; start < n; start += CHUNK) {
      const vs = makeVectors(Math.min(CHUNK, n - start), 'clustered', 10_000 + start / CHUNK);
      store.transaction(() => {
        for (let i = start; i < Math.min(n, start + CHUNK); i++) {
          const id = i + 1;
          // Folder 1 is the small one (its 20 photos spread through the id range); the rest by 1,000.
          const small = i % Math.floor(n / SMALL_FOLDER) === 0 && i / Math.floor(n / SMALL_FOLDER) < SMALL_FOLDER;
          const folderId = small ? 1 : 2 + Math.floor(i / PER_FOLDER);
          const taken = T0 + Math.floor((i / n) * TEN_YEARS);
          photo.run(id, folderId, `/bench/f${folderId - 1}/IMG_${id}.jpg`, taken, taken, now);
          const v = vs.subarray((i - start) * DIM, (i - start + 1) * DIM);
          vector.run(id, MODEL, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        }
      });
    }
  } finally {
    store.close();
  }
  return { prepareS: (performance.now() - t) / 1000 };
}

async function openIndex(dataDir: string, log: (m: string) => void = () => {}): Promise<{ store: Store; index: VectorIndex }> {
  const store = openStore(join(dataDir, 'library.db'));
  const index = await VectorIndex.open({ store, dir: join(dataDir, 'index'), modelId: MODEL, dim: DIM, log });
  return { store, index };
}

/** First open: the HNSW graph is built from SQLite, then saved (a clean stop). */
async function build(dataDir: string): Promise<Result> {
  const t = performance.now();
  // Progress lines go to stderr, so a long build shows how far it is.
  const { store, index } = await openIndex(dataDir, (m) => console.error(`  ${m}`));
  const buildS = (performance.now() - t) / 1000;
  const outcome = index.openReport.outcome;
  const c = performance.now();
  await index.close();
  store.close();
  return { buildS, outcome, closeS: (performance.now() - c) / 1000 };
}

/**
 * A kept library from an earlier run: the photos its crash step added are deleted (journalled like
 * any deletion), and the index is opened, patched and saved, so the next open is a clean one.
 */
async function reset(dataDir: string, n: number): Promise<Result> {
  // As the app opens an older library: rewritten once with the current page size (store/page-size.ts).
  const upgrade = await upgradePageSize(join(dataDir, 'library.db'), () => {});
  const { store, index } = await openIndex(dataDir);
  store.db.prepare('DELETE FROM photos WHERE id > ?').run(n);
  await index.close();
  const fresh = await openIndex(dataDir);
  const outcome = fresh.index.openReport.outcome;
  await fresh.index.close();
  fresh.store.close();
  store.close();
  return { outcome, upgradeS: upgrade?.seconds ?? 0, upgradedFrom: upgrade?.from ?? 0 };
}

/** Adds photos the way the indexer does (row + vector in one transaction, then the index, periodic saves) until killed. */
async function crashWriter(dataDir: string, n: number): Promise<void> {
  const { store, index } = await openIndex(dataDir);
  const photo = store.db.prepare(
    "INSERT INTO photos(id, folder_id, path, size, mtime_ms, taken_at, status, updated_at) VALUES (?, 2, ?, 1, 1, ?, 'indexed', 1)",
  );
  const vector = store.db.prepare('INSERT INTO vectors(photo_id, model_id, vector) VALUES (?, ?, ?)');
  const vs = makeVectors(ADD_BEFORE_KILL * 2, 'clustered', 77);
  let lastSave = Date.now();
  for (let b = 0; b < ADD_BEFORE_KILL * 2; b += 8) {
    const batch: { id: number; v: Float32Array }[] = [];
    store.transaction(() => {
      for (let i = b; i < b + 8; i++) {
        const id = n + 1 + i;
        const v = vs.subarray(i * DIM, (i + 1) * DIM);
        photo.run(id, `/bench/new/${id}.jpg`, T0);
        vector.run(id, MODEL, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        batch.push({ id, v });
      }
    });
    for (const x of batch) index.upsert(x.id, x.v);
    // As the indexer: a periodic save every 10 s while busy (the index decides whether it is worth it).
    if (Date.now() - lastSave >= 10_000) {
      lastSave = Date.now();
      void index.save({ whileBusy: true });
    }
    console.log(`added ${b + 8}`);
    // Paced like a fast indexer (40 photos/s, about twice this machine's ViT-B/32 encoder).
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log('done');
}

/** Opens (timed), then queries: ANN alone, recall vs exact, folder/date filtered through the search service, RSS. */
async function measure(dataDir: string, n: number, withQueries: boolean): Promise<Result> {
  const dbPath = join(dataDir, 'library.db');
  // After a crash the app checks a database above 64 MiB in its own process while it opens and
  // searches (app/database-check.ts); a smaller one is checked at open, before anything else.
  const inBackground = !withQueries && statSync(dbPath).size > ALWAYS_CHECK_BYTES;
  const t = performance.now();
  const check = inBackground ? checkInBackground(dbPath) : null;
  const { store, index } = await openIndex(dataDir);
  const openS = (performance.now() - t) / 1000;
  await index.whenPatched();
  const patchedS = (performance.now() - t) / 1000;
  const out: Result = { openS, patchedS, outcome: index.openReport.outcome, patched: index.openReport.patched, size: index.size };
  const count = store.db.prepare('SELECT COUNT(*) FROM vectors WHERE model_id = ?').pluck().get(MODEL) as number;
  out.matchesSqlite = index.size === count ? 'yes' : `no (${index.size} vs ${count})`;
  out.pageSize = store.db.pragma('page_size', { simple: true }) as number;
  if (!withQueries) {
    const c = check ? t : performance.now();
    out.quickCheckProblems = (check ? await check.problems : checkIntegrity(store.db)).length;
    out.quickCheckS = (performance.now() - c) / 1000;
    out.checkInBackground = check ? 'yes' : 'no';
    await index.close();
    store.close();
    return out;
  }
  const queries = makeVectors(QUERIES, 'clustered', 2);
  const q = (i: number) => queries.subarray(i * DIM, (i + 1) * DIM);
  // Exact top-10 of every query in one pass over SQLite (the truth for recall).
  const tops = Array.from({ length: QUERIES }, () => new TopK(10));
  const rows = store.db.prepare('SELECT photo_id, vector FROM vectors WHERE model_id = ?').raw().iterate(MODEL) as Iterable<[number, Buffer]>;
  for (const [id, blob] of rows) scoreExactly(tops, queries, id, blobToVector(blob, DIM));
  // Wall and CPU time per query: on a shared machine the CPU time shows the work itself, the wall
  // time adds waiting for a core.
  const timedQueries = (run: (q: Float32Array, i: number) => void) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < QUERIES; i++) {
      const s = performance.now();
      const c = process.cpuUsage();
      run(q(i), i);
      wall.push(performance.now() - s);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
    }
    return { p50: percentile(wall, 0.5), p95: percentile(wall, 0.95), cpu50: percentile(cpu, 0.5), cpu95: percentile(cpu, 0.95) };
  };
  let recall = 0;
  const ann = timedQueries((query, i) => {
    const hits = index.search(query, 10);
    recall += recallAtK(tops[i]!.sorted().map((h) => h.id), hits.map((h) => h.photoId), 10);
  });
  out.recall = recall / QUERIES;
  const ctx = { store, index, modelId: MODEL };
  const timed = (args: Parameters<typeof searchByVector>[2]) => {
    let minHits = Infinity;
    const t = timedQueries((query) => {
      minHits = Math.min(minHits, searchByVector(ctx, query, { limit: 50, ...args }).hits.length);
    });
    return { ...t, minHits };
  };
  // The app's own path (search.text after encoding): the query's adaptive relevance cut-off on top.
  const adaptive = (filter: Parameters<typeof searchQuery>[3]['filter']) =>
    timedQueries((query) => searchQuery(ctx, [{ vector: query, weight: 1 }], [], { filter, limit: 50 }));
  const folderId = 2 + Math.floor(n / PER_FOLDER / 2);
  const aYear = { from: T0 + 3 * 365 * 86_400_000, to: T0 + 4 * 365 * 86_400_000 };
  const figures = {
    ann,
    plain: timed({}),
    folder: timed({ folderId }),
    // A different folder of 1,000 each query: none of its pages in SQLite's cache from the last one.
    folders: timedQueries((query, i) => searchByVector(ctx, query, { limit: 50, folderId: 2 + ((i * 37) % Math.floor((n - SMALL_FOLDER) / PER_FOLDER)) })),
    small: timed({ folderId: 1 }),
    year: timed(aYear),
    aPlain: adaptive({}),
    aFolder: adaptive({ folderId }),
    aYear: adaptive(aYear),
  };
  for (const [k, f] of Object.entries(figures)) {
    Object.assign(out, { [`${k}P50`]: f.p50, [`${k}P95`]: f.p95, [`${k}Cpu50`]: f.cpu50, [`${k}Cpu95`]: f.cpu95 });
    if ('minHits' in f) out[`${k}MinHits`] = f.minHits;
  }
  await index.close();
  store.close();
  return out;
}

/**
 * RSS with the ViT-B/32-shaped model loaded (its encoder process counts too), in a fresh process
 * that does what the app does — open, searches with and without filters — and not the bench's
 * exact scan of every vector (its freed buffers stay in the allocator and would count).
 */
async function rss(dataDir: string, n: number): Promise<Result> {
  const { store, index } = await openIndex(dataDir);
  await index.whenPatched();
  const ctx = { store, index, modelId: MODEL };
  const queries = makeVectors(20, 'clustered', 3);
  for (let i = 0; i < 20; i++) {
    const q = queries.subarray(i * DIM, (i + 1) * DIM);
    searchQuery(ctx, [{ vector: q, weight: 1 }], [], { filter: {}, limit: 50 });
    searchQuery(ctx, [{ vector: q, weight: 1 }], [], { filter: { folderId: 2 + Math.floor(n / PER_FOLDER / 2) }, limit: 50 });
  }
  await ensureBenchModel();
  const model = resolveBenchModel();
  const encoder = await openEncoder(model, { threads: 2, providers: ['cpu'] });
  await encoder.load('both');
  const encoderRss = processRss(encoder.processId());
  const out: Result = { rss: rssNow() + encoderRss, encoderRss, appRss: rssNow(), modelBytes: modelBytes(model) };
  await encoder.close();
  await index.close();
  store.close();
  return out;
}

function processRss(pid: number | null): number {
  if (pid === null) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ----------------------------------------------------------------------------- parent

function step(args: string[], killWhen?: (line: string) => boolean): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--step', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: Result = {};
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as Result;
      else if (killWhen?.(line)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 || signal === 'SIGKILL' ? resolve(result) : reject(new Error(`scale step ${args[0]} exited with ${code}`))));
  });
}

async function diskBytes(dataDir: string): Promise<{ db: number; index: number }> {
  let db = 0;
  for (const f of await readdir(dataDir)) if (f.startsWith('library.db')) db += (await stat(join(dataDir, f))).size;
  let index = 0;
  for (const f of await readdir(join(dataDir, 'index'))) index += (await stat(join(dataDir, 'index', f))).size;
  return { db, index };
}

const num = (r: Result, k: string) => Number(r[k]);
/** The CPU time of the same queries, p50 / p95. */
const cpu = (r: Result, k: string) => ` (CPU ${ms(num(r, `${k}Cpu50`), 2)} / ${ms(num(r, `${k}Cpu95`), 2)})`;

/** `keep`: a folder that holds (or will hold) the library between runs; it is not deleted. */
export async function runScaleBench(n = 100_000, keep?: string): Promise<void> {
  const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
  heading(`scale — ${label} photos (512-d clustered vectors, real SQLite + hnswlib ${HNSW_PARAMS})`);
  info('machine', `${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} at start`, 'shared with other jobs: times are upper bounds');
  const dataDir = keep ?? (await mkdtemp(join(tmpdir(), `leanlens-scale-${label}-`)));
  if (keep) await mkdir(keep, { recursive: true });
  try {
    if (keep && existsSync(join(keep, 'index'))) {
      const r = await step(['reset', dataDir, String(n)]);
      info(`${label}: kept library from an earlier run`, dataDir, `reopened ${r.outcome}; writing and building not measured again`);
      if (num(r, 'upgradedFrom') > 0) info(`${label}: rewritten with larger pages (once, as the app does)`, `${num(r, 'upgradeS').toFixed(1)} s`, `from ${num(r, 'upgradedFrom')}-byte pages`);
    } else {
      const prep = await step(['prepare', dataDir, String(n)]);
      info(`${label}: write rows + vectors to SQLite`, `${num(prep, 'prepareS').toFixed(0)} s`, `${Math.round(n / num(prep, 'prepareS'))} photos/s`);
      const built = await step(['build', dataDir, String(n)]);
      info(`${label}: build HNSW from SQLite (first open, single thread)`, `${num(built, 'buildS').toFixed(0)} s`, `${((num(built, 'buildS') * 1000) / n).toFixed(2)} ms/vector; save at close ${num(built, 'closeS').toFixed(1)} s`);
    }
    const disk = await diskBytes(dataDir);
    info(`${label}: disk per photo`, `${((disk.db + disk.index) / n / 1024).toFixed(2)} KB`, `SQLite ${mib(disk.db)}, index files ${mib(disk.index)}`);

    const clean = await step(['measure', dataDir, String(n), 'queries']);
    info(`${label}: open after a clean stop`, `${num(clean, 'openS').toFixed(2)} s`, `${clean.outcome}; index holds SQLite's vectors: ${clean.matchesSqlite}; ${num(clean, 'pageSize')}-byte pages`);
    report(`${label}: ANN k=10 p50 / p95`, `${ms(num(clean, 'annP50'), 2)} / ${ms(num(clean, 'annP95'), 2)}${cpu(clean, 'ann')}`, `p95 ≤ ${TARGETS.annP95} ms`, num(clean, 'annP95') <= TARGETS.annP95, 'HNSW search slower than expected at this size');
    report(`${label}: recall@10 vs exact`, num(clean, 'recall').toFixed(3), `≥ ${TARGETS.recall}`, num(clean, 'recall') >= TARGETS.recall, 'raise ef in the ann service');
    info(`${label}: search service, no filter, p50 / p95`, `${ms(num(clean, 'plainP50'), 2)} / ${ms(num(clean, 'plainP95'), 2)}${cpu(clean, 'plain')}`);
    report(`${label}: filtered by a folder of 1,000, p50 / p95`, `${ms(num(clean, 'folderP50'), 2)} / ${ms(num(clean, 'folderP95'), 2)}${cpu(clean, 'folder')}`, `p95 ≤ ${TARGETS.filteredP95} ms`, num(clean, 'folderP95') <= TARGETS.filteredP95, 'exact scoring of the folder: reading its vectors from SQLite is most of it');
    report(`${label}: filtered by a folder of 1,000, another folder each query, p50 / p95`, `${ms(num(clean, 'foldersP50'), 2)} / ${ms(num(clean, 'foldersP95'), 2)}${cpu(clean, 'folders')}`, `p95 ≤ ${TARGETS.filteredP95} ms`, num(clean, 'foldersP95') <= TARGETS.filteredP95, 'none of its pages cached: every vector read from the file');
    report(`${label}: filtered by one year of ten (~10%), p50 / p95`, `${ms(num(clean, 'yearP50'), 2)} / ${ms(num(clean, 'yearP95'), 2)}${cpu(clean, 'year')}`, `p95 ≤ ${TARGETS.filteredP95} ms`, num(clean, 'yearP95') <= TARGETS.filteredP95, 'HNSW searched deep enough to find the page among the filtered photos');
    for (const [what, k] of [['no filter', 'aPlain'], ['a folder of 1,000', 'aFolder'], ['one year of ten', 'aYear']] as const) {
      const p95 = num(clean, `${k}P95`);
      const line = `${label}: the app's search (adaptive cut-off), ${what}, p50 / p95`;
      const value = `${ms(num(clean, `${k}P50`), 2)} / ${ms(p95, 2)}${cpu(clean, k)}`;
      if (k === 'aPlain') info(line, value, 'the cut-off reads a sample of 4,000 vectors from SQLite');
      else report(line, value, `p95 ≤ ${TARGETS.filteredP95} ms`, p95 <= TARGETS.filteredP95, 'the cut-off scores the filtered photos (or the best 200) besides the page: a second pass');
    }
    report(`${label}: a folder of 20 returns its 20`, `${num(clean, 'smallMinHits')} hits (fewest over ${QUERIES} queries), p95 ${ms(num(clean, 'smallP95'), 2)}`, '20', num(clean, 'smallMinHits') === 20, 'a selective filter lost results');
    const mem = await step(['rss', dataDir, String(n)]);
    const graph = disk.index;
    const budget = graph + num(mem, 'modelBytes');
    report(
      `${label}: RSS with the model loaded (app + encoder process)`,
      `${mib(num(mem, 'rss'))} = ${(num(mem, 'rss') / budget).toFixed(2)}× (vectors + graph ${mib(graph)} + model ${mib(num(mem, 'modelBytes'))})`,
      `≤ ${TARGETS.rssRatio}× of ${mib(budget)}`,
      num(mem, 'rss') <= TARGETS.rssRatio * budget,
      `app process ${mib(num(mem, 'appRss'))}, encoder process ${mib(num(mem, 'encoderRss'))} (ONNX Runtime's copy of the weights and its arena)`,
    );

    await step(['crash-writer', dataDir, String(n)], (line) => line === `added ${ADD_BEFORE_KILL}`);
    const crashed = await step(['measure', dataDir, String(n)]);
    report(
      `${label}: open after kill -9 mid-indexing (index)`,
      `${num(crashed, 'openS').toFixed(2)} s searchable (${crashed.outcome}: ${crashed.patched} photos patched from the journal, done at ${num(crashed, 'patchedS').toFixed(1)} s; matches SQLite: ${crashed.matchesSqlite})`,
      `≤ ${TARGETS.crashOpenS} s, no rebuild`,
      num(crashed, 'openS') <= TARGETS.crashOpenS && crashed.outcome !== 'rebuilt',
      'replaying the journal since the last save (or verifying the file) took too long',
    );
    const background = crashed.checkInBackground === 'yes';
    const appCrashOpen = background ? num(crashed, 'openS') : num(crashed, 'openS') + num(crashed, 'quickCheckS');
    report(
      `${label}: open after kill -9, as the app does it (SQLite quick_check + index)`,
      background
        ? `${appCrashOpen.toFixed(2)} s searchable; quick_check beside it in its own process, done at ${num(crashed, 'quickCheckS').toFixed(2)} s (${num(crashed, 'quickCheckProblems')} problems; indexing waits for it)`
        : `${appCrashOpen.toFixed(2)} s (quick_check at open ${num(crashed, 'quickCheckS').toFixed(2)} s, ${num(crashed, 'quickCheckProblems')} problems)`,
      `≤ ${TARGETS.crashOpenS} s`,
      appCrashOpen <= TARGETS.crashOpenS,
      background ? 'the index itself opened too slowly (line above): the check runs beside it' : 'quick_check reads every page of the database: it grows with the library',
    );
  } finally {
    if (!keep) await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args[0] === '--step') {
    const [, name, dataDir, nText, extra] = args;
    const n = Number(nText);
    let result: Result = {};
    if (name === 'prepare') result = prepare(dataDir!, n);
    else if (name === 'build') result = await build(dataDir!);
    else if (name === 'reset') result = await reset(dataDir!, n);
    else if (name === 'rss') result = await rss(dataDir!, n);
    else if (name === 'crash-writer') await crashWriter(dataDir!, n);
    else if (name === 'measure') result = await measure(dataDir!, n, extra === 'queries');
    console.log(`RESULT ${JSON.stringify(result)}`);
  } else {
    const keepAt = args.indexOf('--keep');
    await runScaleBench(Number(args[0]) || undefined, keepAt >= 0 ? args[keepAt + 1] : undefined);
  }
}
