/**
 * Issue 15 §1 — recall against ef on a kept scale-bench library (test/bench/scale.bench.ts --keep
 * DIR): the saved HNSW graph is read as it is (not through SQLite, so it can run beside other steps),
 * the exact top 10 comes from the bench's own seeded vectors, regenerated. Prints recall@10 and query
 * time for each ef; never asserts.
 *
 *   npx tsx test/bench/ef-sweep.bench.ts DIR 1000000 [ef …]
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { recallAtK } from '../../main/core/metrics.ts';
import { TopK } from '../../main/core/ranking.ts';
import { makeVectors } from './ann.bench.ts';
import { scoreExactly } from './scale.bench.ts';
import { percentile } from './util.ts';

const DIM = 512;
const CHUNK = 5000; // as scale.bench.ts writes them
const QUERIES = 100;

const [dir, nArg, ...efArgs] = process.argv.slice(2);
const n = Number(nArg);
const efs = efArgs.length ? efArgs.map(Number) : [256, 384, 512, 768];
const files = readdirSync(join(dir!, 'index')).filter((f) => f.endsWith('.hnsw'));
const file = join(dir!, 'index', files.sort((a, b) => statSync(join(dir!, 'index', b)).mtimeMs - statSync(join(dir!, 'index', a)).mtimeMs)[0]!);
const hnsw = new hnswlib.HierarchicalNSW('ip', DIM);
let t = performance.now();
await hnsw.readIndex(file);
console.log(`read ${file}: ${hnsw.getCurrentCount()} vectors in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const ids = new Set(hnsw.getIdsList());

const queries = makeVectors(QUERIES, 'clustered', 2);
const tops = Array.from({ length: QUERIES }, () => new TopK(10));
const score = (vs: Float32Array, firstId: number) => {
  for (let i = 0; i < vs.length / DIM; i++) {
    if (ids.has(firstId + i)) scoreExactly(tops, queries, firstId + i, vs.subarray(i * DIM, (i + 1) * DIM));
  }
};
t = performance.now();
for (let start = 0; start < n; start += CHUNK) score(makeVectors(Math.min(CHUNK, n - start), 'clustered', 10_000 + start / CHUNK), start + 1);
// Photos the crash step added (ids after n, seed 77), as far as the saved graph holds them.
const extra = [...ids].filter((id) => id > n).length;
if (extra) score(makeVectors(extra + 8, 'clustered', 77), n + 1);
console.log(`exact top 10 of ${QUERIES} queries over ${ids.size} vectors in ${((performance.now() - t) / 1000).toFixed(0)} s`);
const truth = tops.map((k) => k.sorted().map((h) => h.id));

for (const ef of efs) {
  hnsw.setEf(ef);
  const wall: number[] = [];
  let recall = 0;
  for (let j = 0; j < QUERIES; j++) {
    const s = performance.now();
    const r = hnsw.searchKnn(Array.from(queries.subarray(j * DIM, (j + 1) * DIM)), 10);
    wall.push(performance.now() - s);
    recall += recallAtK(truth[j]!, r.neighbors, 10);
  }
  console.log(`ef=${ef}: recall@10 ${(recall / QUERIES).toFixed(3)}, query p50 / p95 ${percentile(wall, 0.5).toFixed(2)} / ${percentile(wall, 0.95).toFixed(2)} ms`);
}
