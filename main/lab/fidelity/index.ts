/**
 * lab/fidelity — how closely a model agrees with the teacher, and how well it retrieves on a
 * labelled set: pure maths over embeddings the runner has already computed.
 *
 * Owns overlap@K and Spearman over the library (no labels), mean cosine to a parent in the same
 * embedding space, and text↔image recall@K on a labelled set. Must never: run inference, read
 * files or touch the database.
 */
import type { RecallAtK } from '../../core/contract.ts';
import { cosine, dot, overlapAtK, spearman } from '../../core/metrics.ts';
import { byScoreDesc, type Scored } from '../../core/ranking.ts';

/** A model's view of the library: one vector per query text and per photo id. */
export interface LibraryEmbeddings {
  queries: Float32Array[];
  photos: Map<number, Float32Array>;
}

export interface LibraryFidelity {
  k: number;
  queries: number;
  photos: number;
  overlapAtK: number | null;
  spearman: number | null;
}

/** Photo ids scored for one query, best first (ties by id, so equal models rank identically). */
function rank(query: Float32Array, photos: Map<number, Float32Array>, ids: number[]): { ranked: number[]; scores: number[] } {
  const scores = ids.map((id) => dot(query, photos.get(id)!));
  const scored: Scored[] = ids.map((id, i) => ({ id, score: scores[i]! }));
  scored.sort((a, b) => byScoreDesc(a, b) || a.id - b.id);
  return { ranked: scored.map((s) => s.id), scores };
}

/**
 * Mean over the queries of overlap@K of the two top-K lists and of Spearman's rho between the
 * two models' scores of every photo both have a vector for. A query whose scores are constant for
 * either model (e.g. no colour word for the colour oracle) has no rank correlation and is left out
 * of the Spearman mean; null when no query has one.
 */
export function libraryFidelity(teacher: LibraryEmbeddings, model: LibraryEmbeddings, k = 10): LibraryFidelity {
  if (teacher.queries.length !== model.queries.length) {
    throw new Error(`fidelity: ${teacher.queries.length} teacher queries but ${model.queries.length} model queries`);
  }
  const ids = [...teacher.photos.keys()].filter((id) => model.photos.has(id)).sort((a, b) => a - b);
  if (ids.length === 0 || teacher.queries.length === 0) {
    return { k, queries: teacher.queries.length, photos: ids.length, overlapAtK: null, spearman: null };
  }
  let overlapSum = 0;
  let rhoSum = 0;
  let rhoCount = 0;
  for (let q = 0; q < teacher.queries.length; q++) {
    const t = rank(teacher.queries[q]!, teacher.photos, ids);
    const m = rank(model.queries[q]!, model.photos, ids);
    overlapSum += overlapAtK(t.ranked, m.ranked, k);
    const rho = ids.length >= 2 ? spearman(t.scores, m.scores) : NaN;
    if (Number.isFinite(rho)) {
      rhoSum += rho;
      rhoCount++;
    }
  }
  return {
    k,
    queries: teacher.queries.length,
    photos: ids.length,
    overlapAtK: overlapSum / teacher.queries.length,
    spearman: rhoCount ? rhoSum / rhoCount : null,
  };
}

/** Mean cosine between two models' vectors of the same photos (same embedding space); null if none shared. */
export function meanPhotoCosine(a: Map<number, Float32Array>, b: Map<number, Float32Array>): number | null {
  let sum = 0;
  let n = 0;
  for (const [id, va] of a) {
    const vb = b.get(id);
    if (!vb || vb.length !== va.length) continue;
    sum += cosine(va, vb);
    n++;
  }
  return n ? sum / n : null;
}

/** Mean cosine of paired vectors (e.g. the same query texts); null when empty or widths differ. */
export function meanPairCosine(a: readonly Float32Array[], b: readonly Float32Array[]): number | null {
  if (a.length !== b.length || a.length === 0 || a[0]!.length !== b[0]!.length) return null;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += cosine(a[i]!, b[i]!);
  return sum / a.length;
}

export interface LabelledRecall {
  setSize: number;
  captions: number;
  t2i: RecallAtK;
  i2t: RecallAtK;
}

const KS = [1, 5, 10] as const;

/**
 * Retrieval on a labelled set, the convention of CLIP papers and coco-mini's README:
 * text→image recall@K = share of captions whose own photo is in the top K photos;
 * image→text recall@K = share of photos with at least one own caption in the top K captions.
 * `captionOwner[c]` is the index of caption c's photo.
 */
export function labelledRecall(images: readonly Float32Array[], captions: readonly Float32Array[], captionOwner: readonly number[]): LabelledRecall {
  if (captions.length !== captionOwner.length) throw new Error('labelledRecall: one owner per caption is needed');
  const t2i = { 1: 0, 5: 0, 10: 0 };
  const i2t = { 1: 0, 5: 0, 10: 0 };
  for (let c = 0; c < captions.length; c++) {
    const own = captionOwner[c]!;
    const ownScore = dot(captions[c]!, images[own]!);
    // Rank of the own photo = 1 + other photos scoring at least as high: a tie counts against it,
    // so a model that scores everything alike gets no credit.
    let better = 0;
    for (let i = 0; i < images.length; i++) if (i !== own && dot(captions[c]!, images[i]!) >= ownScore) better++;
    for (const k of KS) if (better < k) t2i[k]++;
  }
  for (let i = 0; i < images.length; i++) {
    const scores = captions.map((c) => dot(c, images[i]!));
    let bestOwn = -Infinity;
    scores.forEach((s, c) => {
      if (captionOwner[c] === i && s > bestOwn) bestOwn = s;
    });
    if (bestOwn === -Infinity) continue;
    let better = 0;
    scores.forEach((s, c) => {
      if (captionOwner[c] !== i && s >= bestOwn) better++;
    });
    for (const k of KS) if (better < k) i2t[k]++;
  }
  const nc = Math.max(1, captions.length);
  const ni = Math.max(1, images.length);
  return {
    setSize: images.length,
    captions: captions.length,
    t2i: { 1: t2i[1] / nc, 5: t2i[5] / nc, 10: t2i[10] / nc },
    i2t: { 1: i2t[1] / ni, 5: i2t[5] / ni, 10: i2t[10] / ni },
  };
}

/** p50 and p95 by nearest rank. */
export function percentiles(values: readonly number[]): { p50: number; p95: number } {
  if (values.length === 0) return { p50: NaN, p95: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p95: at(0.95) };
}
