/**
 * Near-duplicates (issue 10 §4): precision and recall of the groups on real photos.
 *
 * coco-mini photos (../shared/data/coco-mini) go into a temporary library with one copy of each
 * kind (test/fixtures/near-copies.ts: resize, recompress at quality 40, crop 5–10 %, brighten, PNG
 * of the JPEG). Distinct photos of the same kind of scene (their captions name the same subject:
 * giraffes, pizza, tennis …) are the hard negatives: they are in the library and must stay apart.
 * The library is indexed with the trained ShapesWorld teacher (no real CLIP can be downloaded here).
 *
 * Figures, per copy kind and over all pairs:
 *   recall    share of (original, copy) pairs that end in one group
 *   precision share of grouped pairs involving a copy of that kind that really are one photo
 * for each signal alone and for what ships: vectors only (nearest neighbours above a cosine),
 * hash only (pHash within some bits), and the shipped rule (pairs from both, confirmed by the
 * aligned comparison, `duplicates.find` at its default similarity).
 *
 * Default: 100 photos (600 files, a few minutes here). All 801: LEANLENS_BENCH_DUPLICATES=all.
 *   npx tsx test/bench/duplicates.bench.ts
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createApp } from '../../main/app/index.ts';
import { openStore } from '../../main/services/store/index.ts';
import { VectorIndex } from '../../main/services/ann/index.ts';
import { fingerprintLibrary, type Fingerprint } from '../../main/services/duplicates/fingerprints.ts';
import {
  DEFAULT_SIMILARITY,
  HASH_CANDIDATE_BITS,
  VECTOR_FLOOR,
  alignedSimilarity,
  groupPairs,
  pairsByHash,
  pairsByVectors,
  prepareThumb,
  type ScoredPair,
} from '../../main/services/duplicates/index.ts';
import { COPY_KINDS, familyOf, writeNearCopies, type CopyKind } from '../fixtures/near-copies.ts';
import { COCO_DIR, cocoAvailable, heading, info, report, skipped } from './util.ts';

const MODEL = 'shapesworld-small-teacher';
const TARGET = 0.95;

/** Subjects that name a kind of scene; a photo's is the first one most of its captions mention. */
const SUBJECTS = [
  'giraffe', 'elephant', 'zebra', 'horse', 'cow', 'sheep', 'bear', 'dog', 'cat', 'bird', 'pizza', 'sandwich', 'donut', 'cake',
  'banana', 'broccoli', 'tennis', 'baseball', 'skateboard', 'surf', 'ski', 'snowboard', 'frisbee', 'kite', 'train', 'bus',
  'airplane', 'plane', 'motorcycle', 'bike', 'boat', 'truck', 'car', 'kitchen', 'bathroom', 'toilet', 'bed', 'clock',
  'umbrella', 'laptop', 'computer', 'street', 'table', 'beach', 'food',
];

interface Labelled {
  path: string;
  family: string;
  kind: CopyKind | null;
}

function subjectOf(captions: string[]): string | null {
  for (const s of SUBJECTS) if (captions.filter((c) => c.toLowerCase().includes(s)).length >= 3) return s;
  return null;
}

interface Scores {
  precision: Record<CopyKind | 'all', number>;
  recall: Record<CopyKind | 'all', number>;
  hardMerged: number;
}

/** Pairwise precision and recall of `groups` (lists of labelled files), per copy kind and overall. */
function score(groups: Labelled[][], all: Labelled[], hardPairs: [string, string][]): Scores {
  const groupOf = new Map<string, number>();
  groups.forEach((g, i) => g.forEach((m) => groupOf.set(m.path, i)));
  const together = (a: string, b: string) => groupOf.has(a) && groupOf.get(a) === groupOf.get(b);
  const keys = [...COPY_KINDS, 'all'] as const;
  const tp = Object.fromEntries(keys.map((k) => [k, 0])) as Record<(typeof keys)[number], number>;
  const predicted = { ...tp };
  const truth = { ...tp };
  const truthHits = { ...tp };
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) {
      for (let j = i + 1; j < g.length; j++) {
        const same = g[i]!.family === g[j]!.family;
        const kinds = new Set([g[i]!.kind, g[j]!.kind].filter((k): k is CopyKind => k !== null));
        for (const k of [...kinds, 'all' as const]) {
          predicted[k]++;
          if (same) tp[k]++;
        }
      }
    }
  }
  const byFamily = new Map<string, Labelled[]>();
  for (const l of all) byFamily.set(l.family, [...(byFamily.get(l.family) ?? []), l]);
  for (const members of byFamily.values()) {
    const original = members.find((m) => m.kind === null)!;
    for (const m of members) {
      if (!m.kind) continue;
      truth[m.kind]++;
      if (together(original.path, m.path)) truthHits[m.kind]++;
    }
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        truth.all++;
        if (together(members[i]!.path, members[j]!.path)) truthHits.all++;
      }
    }
  }
  const precision = Object.fromEntries(keys.map((k) => [k, predicted[k] ? tp[k] / predicted[k] : 1])) as Scores['precision'];
  const recall = Object.fromEntries(keys.map((k) => [k, truth[k] ? truthHits[k] / truth[k] : 1])) as Scores['recall'];
  return { precision, recall, hardMerged: hardPairs.filter(([a, b]) => together(a, b)).length };
}

export async function runDuplicatesBench(): Promise<void> {
  heading('near-duplicates (issue 10 §4)');
  if (!cocoAvailable()) {
    skipped('near-duplicate precision and recall', `needs ../shared/data/coco-mini (${COCO_DIR}); absent here`);
    return;
  }
  const everything = process.env.LEANLENS_BENCH_DUPLICATES === 'all';
  const root = join(COCO_DIR, '..');
  const list = [
    ...(JSON.parse(await readFile(join(root, 'train.json'), 'utf8')) as { file: string; captions: string[] }[]),
    ...(JSON.parse(await readFile(join(root, 'val.json'), 'utf8')) as { file: string; captions: string[] }[]),
  ];
  const chosen = everything ? list : list.slice(0, 100);
  const dir = await mkdtemp(join(tmpdir(), 'leanlens-dup-bench-'));
  try {
    const photos = join(dir, 'photos');
    const labelled: Labelled[] = [];
    const subjects = new Map<string, string>();
    let seed = 0;
    for (const item of chosen) {
      const source = join(root, item.file);
      const original = join(photos, basename(source));
      const copies = await writeNearCopies(source, photos, ++seed);
      await copyFile(source, original);
      labelled.push({ path: original, family: familyOf(original), kind: null });
      for (const c of copies) labelled.push({ path: c.path, family: familyOf(c.path), kind: c.kind });
      const subject = subjectOf(item.captions);
      if (subject) subjects.set(original, subject);
    }
    const bySubject = new Map<string, string[]>();
    for (const [path, s] of subjects) bySubject.set(s, [...(bySubject.get(s) ?? []), path]);
    const hardPairs: [string, string][] = [];
    for (const paths of bySubject.values()) for (let i = 0; i < paths.length; i++) for (let j = i + 1; j < paths.length; j++) hardPairs.push([paths[i]!, paths[j]!]);
    info('library', `${chosen.length} coco-mini photos + ${chosen.length * COPY_KINDS.length} copies; ${hardPairs.length} hard-negative pairs (same subject in ≥ 3 of 5 captions)`);

    const data = join(dir, 'data');
    const app = await createApp({ dataDir: data });
    let shipped: Labelled[][];
    let tookMs: number;
    try {
      await app['folders.add']({ path: photos });
      await app['models.use']({ id: MODEL, now: true });
      let t = performance.now();
      await app.sync();
      info('indexing', `${((performance.now() - t) / 1000).toFixed(0)} s with ${MODEL}`);
      t = performance.now();
      const result = await app['duplicates.find']({});
      tookMs = performance.now() - t;
      const byPath = new Map(labelled.map((l) => [l.path, l]));
      shipped = result.groups.map((g) => g.photos.map((m) => byPath.get(m.photo.path)!).filter(Boolean));
      info('duplicates.find, first run (fingerprints + comparisons)', `${(tookMs / 1000).toFixed(1)} s, ${result.pairsCompared} pairs compared`);
      t = performance.now();
      await app['duplicates.find']({ similarity: 0.95 });
      info('duplicates.find, moving the similarity control', `${(performance.now() - t).toFixed(0)} ms`);
    } finally {
      await app.close();
    }

    // Each signal alone, over the same fingerprints and vectors.
    const store = openStore(join(data, 'library.db'));
    try {
      const { fingerprints } = await fingerprintLibrary(store, () => {}, () => false);
      const pathOf = new Map(store.db.prepare<[], { id: number; path: string }>('SELECT id, path FROM photos').all().map((r) => [r.id, r.path]));
      const byPath = new Map(labelled.map((l) => [l.path, l]));
      const asGroups = (pairs: ScoredPair[]) => groupPairs(pairs, 0).map((g) => g.ids.map((id) => byPath.get(pathOf.get(id)!)!));
      const idPairs = (fps: Fingerprint[], pairs: [number, number][]): ScoredPair[] => pairs.map(([i, j]) => ({ a: fps[i]!.photoId, b: fps[j]!.photoId, similarity: 1 }));
      const index = await VectorIndex.open({ store, dir: join(data, 'index'), modelId: MODEL, dim: 128, log: () => {} });
      const position = new Map(fingerprints.map((f, i) => [f.photoId, i]));
      const neighbours = await pairsByVectors(store, { modelId: MODEL, index }, position, async () => {}, 8, -1);
      await index.close();
      const rows: [string, Scores][] = [];
      for (const cos of [0.95, 0.98]) {
        rows.push([`vectors only (${MODEL}, 8 neighbours, cosine ≥ ${cos})`, score(asGroups(idPairs(fingerprints, neighbours.filter((p) => p.cosine >= cos).map((p) => p.pair))), labelled, hardPairs)]);
      }
      for (const bits of [6, 10, 14]) {
        rows.push([`hash only (pHash ≤ ${bits} of 64 bits)`, score(asGroups(idPairs(fingerprints, await pairsByHash(fingerprints, bits))), labelled, hardPairs)]);
      }
      // What each proposer brings when the aligned check confirms (at the shipped 0.9).
      const thumbs = fingerprints.map((f) => prepareThumb(f.thumb));
      const confirmed = (pairs: [number, number][]) => idPairs(fingerprints, pairs.filter(([i, j]) => alignedSimilarity(thumbs[i]!, thumbs[j]!) >= DEFAULT_SIMILARITY));
      const byHash = await pairsByHash(fingerprints, HASH_CANDIDATE_BITS);
      const byVectors = neighbours.filter((p) => p.cosine >= VECTOR_FLOOR).map((p) => p.pair);
      rows.push([`hash proposes (≤ ${HASH_CANDIDATE_BITS} bits), aligned check confirms`, score(asGroups(confirmed(byHash)), labelled, hardPairs)]);
      rows.push([`vectors propose (cosine ≥ ${VECTOR_FLOOR}), aligned check confirms`, score(asGroups(confirmed(byVectors)), labelled, hardPairs)]);
      rows.push(['shipped: vectors + hash propose, aligned check confirms (similarity ≥ 0.9)', score(shipped, labelled, hardPairs)]);
      for (const [name, s] of rows) {
        info(name, `precision ${s.precision.all.toFixed(3)} / recall ${s.recall.all.toFixed(3)}; per kind recall ${COPY_KINDS.map((k) => `${k} ${s.recall[k].toFixed(2)}`).join(', ')}; hard negatives merged ${s.hardMerged}`);
      }
      const s = rows.at(-1)![1];
      for (const k of [...COPY_KINDS, 'all' as const]) {
        report(`shipped precision, ${k}`, s.precision[k].toFixed(3), `≥ ${TARGET}`, s.precision[k] >= TARGET, 'distinct photos were grouped: raise the default similarity');
        report(`shipped recall, ${k}`, s.recall[k].toFixed(3), `≥ ${TARGET}`, s.recall[k] >= TARGET, 'copies were missed: their hash is too far and the model did not propose them');
      }
      report('hard-negative pairs grouped (shipped)', `${s.hardMerged} of ${hardPairs.length}`, '0', s.hardMerged === 0, 'distinct photos of one kind of scene were grouped');
    } finally {
      store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runDuplicatesBench();
}
