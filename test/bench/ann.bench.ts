/**
 * ANN benchmark: VectorIndex (hnswlib, M=16, efConstruction=200, ef=max(256, 2k)) on synthetic
 * 512-d unit vectors, against the product targets. Prints figures; never asserts.
 *
 *   npx tsx test/bench/ann.bench.ts            # 10k and 100k (100k builds for minutes on 2 cores)
 *   npx tsx test/bench/ann.bench.ts 10000      # only the given sizes
 *
 * Data: real CLIP embeddings have a low intrinsic dimension (photos cluster by subject), so the
 * main figures use vectors from a 32-d latent space projected to 512-d plus noise. Uniform random
 * 512-d vectors — HNSW's pathological worst case, with no neighbourhood structure at all — are
 * reported too, at the smallest size, so nobody mistakes one for the other.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { recallAtK } from '../../main/core/metrics.ts';
import { TopK } from '../../main/core/ranking.ts';
import { prng, randomUnitVector, tempStore } from '../fixtures/vector-db.ts';

const DIM = 512;
const QUERIES = 200;
const TARGET_P95_MS = 5;
const TARGET_RECALL = 0.98;

type Kind = 'clustered' | 'uniform';

export function makeVectors(n: number, kind: Kind, seed: number): Float32Array {
  const rand = prng(seed);
  const out = new Float32Array(n * DIM);
  if (kind === 'uniform') {
    for (let i = 0; i < n; i++) out.set(randomUnitVector(DIM, rand), i * DIM);
    return out;
  }
  const latent = 32;
  // One shared basis: the indexed vectors and the queries come from the same distribution.
  const basisRand = prng(1000);
  const basis = Array.from({ length: latent }, () => randomUnitVector(DIM, basisRand));
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const v = new Float32Array(DIM);
  for (let i = 0; i < n; i++) {
    v.fill(0);
    for (let j = 0; j < latent; j++) {
      const z = gauss();
      const b = basis[j]!;
      for (let d = 0; d < DIM; d++) v[d]! += z * b[d]!;
    }
    let norm = 0;
    for (let d = 0; d < DIM; d++) {
      v[d]! += 0.05 * gauss();
      norm += v[d]! * v[d]!;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < DIM; d++) out[i * DIM + d] = v[d]! * inv;
  }
  return out;
}

function exactTop(pool: Float32Array, n: number, q: Float32Array, k: number): number[] {
  const top = new TopK(k);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * DIM;
    for (let d = 0; d < DIM; d++) s += pool[o + d]! * q[d]!;
    top.push(i + 1, s);
  }
  return top.sorted().map((h) => h.id);
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

async function benchOne(n: number, kind: Kind): Promise<void> {
  const { store, dir } = tempStore();
  try {
    const pool = makeVectors(n, kind, 1);
    const queries = makeVectors(QUERIES, kind, 2); // same distribution, not in the index
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const index = await VectorIndex.open({ store, dir: join(dir, 'index'), modelId: 'bench', dim: DIM, exactBelow: 0, log: () => {} });
    let t = performance.now();
    for (let i = 0; i < n; i++) index.upsert(i + 1, pool.subarray(i * DIM, (i + 1) * DIM));
    const buildS = (performance.now() - t) / 1000;
    global.gc?.();
    const rssIndex = process.memoryUsage().rss - rssBefore;

    const times: number[] = [];
    let recall = 0;
    for (let i = 0; i < QUERIES; i++) {
      const q = queries.subarray(i * DIM, (i + 1) * DIM);
      t = performance.now();
      const hits = index.search(q, 10);
      times.push(performance.now() - t);
      recall += recallAtK(exactTop(pool, n, q, 10), hits.map((h) => h.photoId), 10);
    }
    recall /= QUERIES;
    t = performance.now();
    for (let i = 0; i < 5; i++) exactTop(pool, n, queries.subarray(0, DIM), 10);
    const exactMs = (performance.now() - t) / 5;
    t = performance.now();
    await index.save();
    const saveMs = performance.now() - t;
    await index.close();

    const p50 = pct(times, 0.5);
    const p95 = pct(times, 0.95);
    console.log(`\n${n.toLocaleString('en')} × ${DIM}-d, ${kind}`);
    console.log(`  build (upsert one by one)  ${buildS.toFixed(1)} s  (${((buildS * 1000) / n).toFixed(2)} ms/vector)`);
    console.log(`  HNSW query p50 / p95       ${p50.toFixed(2)} / ${p95.toFixed(2)} ms   target p95 ≤ ${TARGET_P95_MS} ms at 100k  ${n >= 100_000 ? (p95 <= TARGET_P95_MS ? 'MET' : 'MISSED') : ''}`);
    console.log(`  recall@10 vs exact         ${recall.toFixed(3)}          target ≥ ${TARGET_RECALL} at 100k  ${n >= 100_000 ? (recall >= TARGET_RECALL ? 'MET' : 'MISSED') : ''}`);
    console.log(`  exact JS scan (reference)  ${exactMs.toFixed(1)} ms/query`);
    console.log(`  resident memory of index   +${mb(rssIndex)}  (${((rssIndex / n) / 1024).toFixed(2)} KB/vector)`);
    console.log(`  save (write + checksum)    ${saveMs.toFixed(0)} ms`);
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Each size runs in a fresh child process: the index's resident memory is then the growth of that
 * process alone, not mixed with what earlier sections freed (which made it print negative values).
 */
function benchInChild(n: number, kind: Kind): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--one', String(n), kind], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Lines go through console.log so the summary table's capture (run.ts) sees them.
    createInterface({ input: child.stdout! }).on('line', (line) => console.log(line));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ANN bench child for ${n} ${kind} exited with ${code}`))));
  });
}

export async function runAnnBench(sizes: number[] = [10_000, 100_000]): Promise<void> {
  console.log('ANN benchmark — VectorIndex over hnswlib-node (M=16, efConstruction=200, ef=max(256, 2k))');
  for (const n of sizes) await benchInChild(n, 'clustered');
  await benchInChild(Math.min(...sizes), 'uniform');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args[0] === '--one') await benchOne(Number(args[1]), args[2] as Kind);
  else {
    const sizes = args.map(Number).filter((x) => x > 0);
    await runAnnBench(sizes.length ? sizes : undefined);
  }
}
