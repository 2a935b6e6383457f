/**
 * Text query latency through the app (`search.text`: tokenize + text encoder + ANN + photo rows)
 * on libraries of 10k and 100k synthetic photo rows with normalised 512-d vectors, written into
 * SQLite the way the indexer writes them and opened through createApp (the HNSW index is built
 * from SQLite at the first open, as after an upgrade or a lost index file).
 *
 * Targets: p50 ≤ 1.2 × the bare text encoder (encodeTexts on the same model and threads); the
 * ANN part ≤ 5 ms at 100k (VectorIndex.search, k = 10, on the index the app saved). The search
 * service's own time (`tookMs`: ANN + status filter + photo rows) is printed beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApp, type App } from '../../main/app/index.ts';
import { openEncoder } from '../../main/services/encoder/index.ts';
import { loadTokenizer } from '../../main/services/models/index.ts';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import type { ResolvedModel } from '../../main/core/model-spec.ts';
import { prng, randomUnitVector } from '../fixtures/vector-db.ts';
import { ensureBenchModel, resolveBenchModel } from './models.ts';
import { BENCH_MODEL, COCO_DIR, GENERATED_MANIFEST, REPO_ROOT, heading, info, ms, percentile, report } from './util.ts';

const DIM = 512;
const QUERIES = 40;
const WARMUP = 3;
const TARGET_RATIO = 1.2;
const TARGET_ANN_MS = 5;

/** Realistic query texts: coco-mini captions when present, else a fixed list. */
function queryTexts(): string[] {
  const val = join(COCO_DIR, '..', 'val.json');
  if (existsSync(val)) {
    const items = JSON.parse(readFileSync(val, 'utf8')) as { captions: string[] }[];
    return items.slice(0, QUERIES + WARMUP).map((i) => i.captions[0]!);
  }
  const base = ['a dog on the beach', 'red car at night', 'birthday cake with candles', 'mountains under snow', 'two people on a bench', 'a cat asleep on a sofa'];
  return Array.from({ length: QUERIES + WARMUP }, (_, i) => `${base[i % base.length]} ${i}`);
}

/**
 * A data folder whose SQLite holds `n` indexed photo rows (in a folder that does not exist, so
 * nothing is ever scanned) with random unit vectors for `model` (the bench model unless given),
 * which is made active.
 */
export async function syntheticLibrary(n: number, seed = 7, model: { id: string; dim: number } = { id: BENCH_MODEL, dim: DIM }): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), `leanlens-bench-${n}-`));
  const store = openStore(join(dataDir, 'library.db'));
  try {
    const rand = prng(seed);
    store.db.prepare('INSERT OR IGNORE INTO models(id, dim, added_at) VALUES (?, ?, ?)').run(model.id, model.dim, Date.now());
    const folder = `/nonexistent-leanlens-bench-${n}`;
    const folderId = Number(store.db.prepare("INSERT INTO folders(path, added_at, state) VALUES (?, ?, 'idle')").run(folder, Date.now()).lastInsertRowid);
    const photo = store.db.prepare(
      `INSERT INTO photos(folder_id, path, size, mtime_ms, hash, width, height, taken_at, format, status, updated_at)
       VALUES (?, ?, ?, ?, ?, 4000, 3000, ?, 'jpeg', 'indexed', ?)`,
    );
    const vector = store.db.prepare('INSERT INTO vectors(photo_id, model_id, vector) VALUES (?, ?, ?)');
    const now = Date.now();
    const CHUNK = 5000;
    for (let start = 0; start < n; start += CHUNK) {
      store.transaction(() => {
        for (let i = start; i < Math.min(n, start + CHUNK); i++) {
          const id = Number(photo.run(folderId, `${folder}/IMG_${String(i).padStart(6, '0')}.jpg`, 3_000_000 + i, now - i * 1000, `h${i}`, now - i * 60_000, now).lastInsertRowid);
          const v = randomUnitVector(model.dim, rand);
          vector.run(id, model.id, Buffer.from(v.buffer, v.byteOffset, v.byteLength));
        }
      });
    }
    store.setSetting('activeModel', model.id);
  } finally {
    store.close();
  }
  return dataDir;
}

/** Bare text encoder: encodeTexts on one query at a time, same model and threads as the app. */
export async function bareTextEncoderMs(model: ResolvedModel, texts: string[]): Promise<number[]> {
  const tokenizer = loadTokenizer(join(REPO_ROOT, 'models'));
  const encoder = await openEncoder(model, { threads: availableParallelism(), providers: ['cpu'] });
  try {
    await encoder.load('text');
    const ids = texts.map((t) => tokenizer.encode(t));
    for (const row of ids.slice(0, WARMUP)) await encoder.encodeTexts([row]);
    const times: number[] = [];
    for (const row of ids.slice(WARMUP)) {
      const t = performance.now();
      await encoder.encodeTexts([row]);
      times.push(performance.now() - t);
    }
    return times;
  } finally {
    await encoder.close();
  }
}

interface QueryFigures {
  total: number[];
  service: number[];
}

async function timeQueries(app: App, texts: string[]): Promise<QueryFigures> {
  for (const text of texts.slice(0, WARMUP)) await app['search.text']({ text, limit: 10 });
  const total: number[] = [];
  const service: number[] = [];
  for (const text of texts.slice(WARMUP)) {
    const t = performance.now();
    const r = await app['search.text']({ text, limit: 10 });
    total.push(performance.now() - t);
    service.push(r.tookMs);
    if (r.hits.length !== 10) throw new Error(`expected 10 hits, got ${r.hits.length}`);
  }
  return { total, service };
}

/** VectorIndex.search alone, k = 10, on the index files the app saved. */
async function annOnlyMs(dataDir: string, n: number): Promise<number[]> {
  const store = openStore(join(dataDir, 'library.db'));
  const index = await VectorIndex.open({ store, dir: join(dataDir, 'index'), modelId: BENCH_MODEL, dim: DIM, log: () => {} });
  try {
    if (index.openReport.outcome !== 'loaded') console.log(`  note: index ${index.openReport.outcome}: ${index.openReport.reason}`);
    const rand = prng(99);
    const times: number[] = [];
    for (let i = 0; i < 200 + WARMUP; i++) {
      const q = randomUnitVector(DIM, rand);
      const t = performance.now();
      const hits = index.search(q, 10);
      if (i >= WARMUP) times.push(performance.now() - t);
      if (hits.length !== 10) throw new Error(`ANN returned ${hits.length} hits of ${n}`);
    }
    return times;
  } finally {
    await index.close();
    store.close();
  }
}

export interface QueryBenchOptions {
  sizes?: number[];
  /** Called with the open app at the largest size, before it closes (the memory bench). */
  atLargest?: (app: App, n: number, model: ResolvedModel) => Promise<void>;
}

export async function runQueryBench(opts: QueryBenchOptions = {}): Promise<void> {
  const sizes = opts.sizes ?? [10_000, 100_000];
  heading('text query latency (ViT-B/32-shaped text encoder, 512-d synthetic vectors)');
  await ensureBenchModel();
  const model = resolveBenchModel();
  const texts = queryTexts();

  for (const n of sizes) {
    const label = `${n / 1000}k`;
    // The baseline is measured next to each size's queries, so both sides of the ratio see the same machine.
    const bare = await bareTextEncoderMs(model, texts);
    const bareP50 = percentile(bare, 0.5);
    info(`${label}: bare text encoder (77 tokens, batch 1) p50 / p95`, `${ms(bareP50)} / ${ms(percentile(bare, 0.95))}`, `${availableParallelism()} threads`);
    let t = performance.now();
    const dataDir = await syntheticLibrary(n);
    const seedS = (performance.now() - t) / 1000;
    try {
      t = performance.now();
      const app = await createApp({ dataDir, extraManifests: [GENERATED_MANIFEST] });
      let figures: QueryFigures;
      try {
        // First query opens the session: text tower + HNSW built from SQLite (timed separately).
        await app['search.text']({ text: 'warm up', limit: 1 });
        const openS = (performance.now() - t) / 1000;
        info(`${label}: library setup`, `${seedS.toFixed(0)} s to write rows, ${openS.toFixed(0)} s first open (HNSW build from SQLite + text tower load)`);
        figures = await timeQueries(app, texts);
        if (opts.atLargest && n === Math.max(...sizes)) await opts.atLargest(app, n, model);
      } finally {
        await app.close();
      }
      const p50 = percentile(figures.total, 0.5);
      const p95 = percentile(figures.total, 0.95);
      const limit = TARGET_RATIO * bareP50;
      report(
        `${label}: search.text p50 / p95`,
        `${ms(p50)} / ${ms(p95)} (${(p50 / bareP50).toFixed(2)}× bare encoder)`,
        `p50 ≤ ${ms(limit)} = 1.2× bare`,
        p50 <= limit,
        'the time beyond the text encoder is tokenization, the worker round trip and the search service (see the next lines)',
      );
      const sp50 = percentile(figures.service, 0.5);
      const sp95 = percentile(figures.service, 0.95);
      info(`${label}: search service (ANN + status filter + photo rows) p50 / p95`, `${ms(sp50, 2)} / ${ms(sp95, 2)}`);
      const ann = await annOnlyMs(dataDir, n);
      const ap50 = percentile(ann, 0.5);
      const ap95 = percentile(ann, 0.95);
      if (n >= 100_000) {
        report(`${label}: ANN part (HNSW k=10) p50 / p95`, `${ms(ap50, 2)} / ${ms(ap95, 2)}`, `≤ ${TARGET_ANN_MS} ms`, ap95 <= TARGET_ANN_MS, 'HNSW search slower than expected: check ef and CPU contention');
      } else {
        info(`${label}: ANN part (HNSW k=10) p50 / p95`, `${ms(ap50, 2)} / ${ms(ap95, 2)}`);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  await runQueryBench({ sizes: sizes.length ? sizes : undefined });
}
