/**
 * The lab's one benchmark runner, used by the CLI, the panel and `npm run bench`.
 *
 * For each model, on the same photos, queries and threads: disk size, load time, peak memory and
 * speed (in a child process per model, see speed.ts), full query latency against the library's
 * vectors, fidelity to the teacher (overlap@K, Spearman, cosine to the parent) and, with a
 * labelled set, recall@K. A model's library vectors are built here with the indexer, under its
 * own model id, so the active model stays searchable meanwhile and switching is instant after.
 * Every figure is stored as it is made; a model that fails gets its error and the others go on.
 */
import { performance } from 'node:perf_hooks';
import type { LabModelResult, LabProgress, LabRun, LabStage, ModelLineage } from '../../core/contract.ts';
import type { ClipTokenizer } from '../../core/tokenizer.ts';
import type { ResolvedModel } from '../../core/model-spec.ts';
import type { Store } from '../../services/store/index.ts';
import type { ModelRegistry } from '../../services/models/index.ts';
import { openEncoder, providerOrder, type Encoder, type ProviderName } from '../../services/encoder/index.ts';
import { VectorIndex, blobToVector } from '../../services/ann/index.ts';
import { Indexer } from '../../services/indexer/index.ts';
import { preparePhoto } from '../../services/media/index.ts';
import { searchByVector } from '../../services/search/index.ts';
import { indexedPhotoPaths, photoCounts } from '../../services/library/index.ts';
import { labelledRecall, libraryFidelity, meanPairCosine, meanPhotoCosine, percentiles, type LabelledRecall, type LibraryEmbeddings } from '../fidelity/index.ts';
import { LabResults } from '../results/index.ts';
import { chooseQueries } from '../../core/queries.ts';
import { readLabelledSet, type LabelledSet } from './labelled.ts';
import { machineInfo } from './machine.ts';
import { measureSpeed } from './speed.ts';

export interface LabContext {
  store: Store;
  registry: ModelRegistry;
  tokenizer: ClipTokenizer;
  /** Folder holding the CLIP vocabulary (the measuring child loads its own tokenizer). */
  modelsDir: string;
  /** `<dataDir>/index`, where each model's ANN file lives. */
  indexDir: string;
  threads: number;
  providers?: 'auto' | ProviderName[];
  /**
   * The app's already-open index and indexer for a model (its active one), so the lab never opens
   * a second writer on the same index file. Null/undefined: the lab opens its own.
   */
  activeSession?: (modelId: string) => { index: VectorIndex; indexer: Indexer } | null;
  log?: (message: string) => void;
}

export interface LabRunOptions {
  models: string[];
  teacher: string;
  labelled?: string;
  queries?: string[];
  /** Top-K of overlap@K; default 10. */
  k?: number;
  /** Speed-test iterations per model; default 8. */
  iterations?: number;
  /** Use at most this many labelled photos (benchmarks on slow machines). */
  labelledLimit?: number;
  signal?: AbortSignal;
  onProgress?: (p: LabProgress) => void;
  /** Called with the run id as soon as the run is stored (before any measuring). */
  onStart?: (runId: number) => void;
}

/** What one model sees: its vectors of the library and the queries, and its labelled-set figures. */
interface Embedded extends LibraryEmbeddings {
  queryLatencyMs: { p50: number; p95: number } | null;
  recall: LabelledRecall | null;
}

const SPEED_SAMPLE = 8;

export class CancelledError extends Error {
  constructor() {
    super('the lab run was cancelled');
    this.name = 'CancelledError';
  }
}

function check(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * Runs a benchmark to the end (or cancellation) and returns the stored run. Throws only for a
 * run that cannot start (unknown teacher, unreadable labelled set); per-model problems are
 * recorded in that model's result.
 */
export async function runLab(ctx: LabContext, opts: LabRunOptions): Promise<LabRun> {
  const results = new LabResults(ctx.store);
  if (!ctx.registry.entry(opts.teacher)) throw new Error(`unknown teacher model "${opts.teacher}"; see: leanlens models list`);
  const labelled = opts.labelled ? readLabelledSet(opts.labelled, opts.labelledLimit) : null;
  const { queries } = chooseQueries(ctx.store, opts.queries);
  const k = opts.k ?? 10;
  const iterations = opts.iterations ?? 8;
  const providers = providerOrder(ctx.providers ?? 'auto');
  // The teacher is always measured, first: every ratio and fidelity figure is against it.
  const models = [...new Set([opts.teacher, ...opts.models])];
  const machine = machineInfo(ctx.threads);
  const runId = results.begin({ teacher: opts.teacher, models, labelled: labelled?.path ?? null, queries, machine });
  opts.onStart?.(runId);
  const progress = (stage: LabStage, modelId: string | null, done: number, total: number, message: string) =>
    opts.onProgress?.({ runId, stage, modelId, done, total, message });

  const cache = new Map<string, Embedded>();
  const embed = async (id: string): Promise<Embedded> => {
    let e = cache.get(id);
    if (!e) {
      e = await embedModel(ctx, ctx.registry.resolve(id), queries, labelled, k, opts.signal, (stage, done, total, message) => progress(stage, id, done, total, message));
      cache.set(id, e);
    }
    return e;
  };
  const providersSeen = new Set<string>();

  try {
    progress('prepare', null, 0, models.length, `measuring ${models.length} model(s) on ${queries.length} queries`);
    const teacher = await embed(opts.teacher);
    const photos = samplePhotos(ctx.store, labelled);
    for (const [position, id] of models.entries()) {
      check(opts.signal);
      const result = blankResult(ctx, id);
      try {
        const own = await embed(id);
        result.queryLatencyMs = own.queryLatencyMs;
        result.recall = own.recall;
        const fid = libraryFidelity(teacher, own, k);
        const parentId = result.lineage?.parent ?? (id === opts.teacher ? id : null);
        let cosineToParent: NonNullable<LabModelResult['fidelity']>['cosineToParent'] = null;
        if (parentId && ctx.registry.entry(parentId) && ctx.registry.entry(parentId)!.dim === result.dim) {
          const parent = await embed(parentId);
          const image = meanPhotoCosine(own.photos, parent.photos);
          const text = meanPairCosine(own.queries, parent.queries);
          const parts = [image, text].filter((x): x is number => x !== null);
          cosineToParent = { parent: parentId, image, text, mean: parts.length ? parts.reduce((a, b) => a + b, 0) / parts.length : null };
        } else if (parentId) {
          result.notes.push(`no cosine to the parent "${parentId}": it is not listed or its embeddings have another width`);
        }
        if (fid.photos === 0) result.notes.push('the library has no photos with vectors for both this model and the teacher: no overlap/Spearman');
        result.fidelity = { ...fid, cosineToParent };

        check(opts.signal);
        progress('speed', id, position, models.length, `measuring speed and memory of ${id}`);
        const speed = await measureSpeed(
          { model: ctx.registry.resolve(id), modelsDir: ctx.modelsDir, threads: ctx.threads, providers, photos, queries, iterations },
          opts.signal,
        );
        result.loadMs = speed.loadMs;
        result.peakRssBytes = speed.peakRssBytes;
        result.baselineRssBytes = speed.baselineRssBytes;
        result.imagesPerSecBatch1 = speed.imagesPerSecBatch1;
        result.imagesPerSecBatch8 = speed.imagesPerSecBatch8;
        result.textLatencyMs = speed.textLatencyMs;
        result.execution = speed.execution;
        if (photos.length === 0) result.notes.push('no photos to time: image throughput measured on random pixels');
        for (const p of speed.execution.provider.split('+')) providersSeen.add(p);
        results.setMachine(runId, { ...machine, provider: [...providersSeen].join('+') });
      } catch (err) {
        if (err instanceof CancelledError || opts.signal?.aborted) throw new CancelledError();
        result.error = (err as Error).message;
      }
      results.put(runId, position, result);
      progress('speed', id, position + 1, models.length, result.error ? `${id}: ${result.error}` : `${id} measured`);
    }
    results.finish(runId, 'done');
    progress('done', null, models.length, models.length, 'done');
  } catch (err) {
    const cancelled = err instanceof CancelledError || opts.signal?.aborted;
    results.finish(runId, cancelled ? 'cancelled' : 'failed', cancelled ? null : (err as Error).message);
    progress(cancelled ? 'cancelled' : 'failed', null, 0, models.length, cancelled ? 'cancelled' : (err as Error).message);
  }
  return results.get(runId)!;
}

function blankResult(ctx: LabContext, id: string): LabModelResult {
  const entry = ctx.registry.entry(id);
  let info: ReturnType<ModelRegistry['info']> | null = null;
  try {
    info = ctx.registry.info(id);
  } catch {
    info = null;
  }
  return {
    modelId: id,
    name: entry?.name ?? id,
    role: entry?.role ?? 'other',
    lineage: (entry?.lineage ?? null) as ModelLineage | null,
    dim: entry?.dim ?? 0,
    diskBytes: info?.bytes ?? 0,
    loadMs: { image: null, text: null },
    peakRssBytes: null,
    baselineRssBytes: null,
    imagesPerSecBatch1: null,
    imagesPerSecBatch8: null,
    textLatencyMs: null,
    queryLatencyMs: null,
    fidelity: null,
    recall: null,
    execution: null,
    notes: [],
    error: null,
  };
}

/** Up to 8 of the library's indexed photos, else the labelled set's first photos. */
function samplePhotos(store: Store, labelled: LabelledSet | null): string[] {
  const library = indexedPhotoPaths(store, SPEED_SAMPLE);
  if (library.length) return library;
  return labelled ? labelled.items.slice(0, SPEED_SAMPLE).map((i) => i.file) : [];
}

type StageReport = (stage: LabStage, done: number, total: number, message: string) => void;

/**
 * One model's vectors for the library (built if missing), the queries, the query latency and the
 * labelled-set recall, with one encoder.
 */
async function embedModel(
  ctx: LabContext,
  model: ResolvedModel,
  queries: string[],
  labelled: LabelledSet | null,
  k: number,
  signal: AbortSignal | undefined,
  report: StageReport,
): Promise<Embedded> {
  check(signal);
  const encoder = await openEncoder(model, { threads: ctx.threads, providers: ctx.providers ?? 'auto' });
  const shared = ctx.activeSession?.(model.id) ?? null;
  let index: VectorIndex | null = shared?.index ?? null;
  try {
    const counts = photoCounts(ctx.store);
    const libraryCount = counts.indexed + counts.pending;
    if (libraryCount > 0) {
      index ??= await VectorIndex.open({ store: ctx.store, dir: ctx.indexDir, modelId: model.id, dim: model.dim, log: ctx.log });
      await buildVectors(ctx, model, encoder, index, shared?.indexer ?? null, signal, report);
    }
    check(signal);
    report('fidelity', 0, queries.length, `encoding ${queries.length} queries with ${model.id}`);
    const queryVectors = await encodeTexts(encoder, ctx.tokenizer, queries);
    const photos = libraryVectors(ctx.store, model.id, model.dim);

    let queryLatencyMs: Embedded['queryLatencyMs'] = null;
    if (index && index.size > 0) {
      const times: number[] = [];
      for (const q of queries) {
        const t0 = performance.now();
        const [v] = await encoder.encodeTexts([ctx.tokenizer.encode(q)]);
        searchByVector({ store: ctx.store, index, modelId: model.id }, v!, { limit: k });
        times.push(performance.now() - t0);
      }
      queryLatencyMs = percentiles(times);
    }

    let recall: LabelledRecall | null = null;
    if (labelled) {
      recall = await recallOn(encoder, ctx.tokenizer, model, labelled, signal, report);
    }
    return { queries: queryVectors, photos, queryLatencyMs, recall };
  } finally {
    if (index && !shared) await index.close().catch(() => undefined);
    await encoder.close();
  }
}

async function buildVectors(
  ctx: LabContext,
  model: ResolvedModel,
  encoder: Encoder,
  index: VectorIndex,
  active: Indexer | null,
  signal: AbortSignal | undefined,
  report: StageReport,
): Promise<void> {
  const indexer = active ?? new Indexer({ store: ctx.store, encoder, index, modelId: model.id, preprocess: model.preprocess, log: ctx.log });
  const onProgress = (p: { done: number; total: number }) => report('vectors', p.done, p.total, `building ${model.id}'s vectors for the library`);
  indexer.on('progress', onProgress);
  const onAbort = () => void (active ? active.pause() : indexer.stop());
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    indexer.start();
    await indexer.whenIdle();
    if (!active) await indexer.stop();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    indexer.off('progress', onProgress);
  }
  check(signal);
}

function libraryVectors(store: Store, modelId: string, dim: number): Map<number, Float32Array> {
  const rows = store.db
    .prepare<[string], { photo_id: number; vector: Buffer }>(
      `SELECT v.photo_id, v.vector FROM vectors v JOIN photos p ON p.id = v.photo_id
       WHERE v.model_id = ? AND p.status = 'indexed' ORDER BY v.photo_id`,
    )
    .all(modelId);
  const out = new Map<number, Float32Array>();
  for (const r of rows) if (r.vector.byteLength === dim * 4) out.set(r.photo_id, Float32Array.from(blobToVector(r.vector, dim)));
  return out;
}

async function encodeTexts(encoder: Encoder, tokenizer: ClipTokenizer, texts: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 32) {
    const vs = await encoder.encodeTexts(texts.slice(i, i + 32).map((t) => tokenizer.encode(t)));
    for (const v of vs) out.push(Float32Array.from(v));
  }
  return out;
}

async function recallOn(
  encoder: Encoder,
  tokenizer: ClipTokenizer,
  model: ResolvedModel,
  set: LabelledSet,
  signal: AbortSignal | undefined,
  report: StageReport,
): Promise<LabelledRecall> {
  const images: Float32Array[] = [];
  const kept: LabelledSet['items'] = [];
  const per = 3 * model.preprocess.size ** 2;
  const batch = 8;
  for (let i = 0; i < set.items.length; i += batch) {
    check(signal);
    report('recall', i, set.items.length, `encoding the labelled photos with ${model.id}`);
    // An unreadable photo drops out with its captions; the rest of the set still counts.
    const settled = await Promise.allSettled(set.items.slice(i, i + batch).map((it) => preparePhoto(it.file, model.preprocess)));
    const chunk: Float32Array[] = [];
    settled.forEach((r, j) => {
      if (r.status === 'fulfilled') {
        chunk.push(r.value.pixels);
        kept.push(set.items[i + j]!);
      }
    });
    if (chunk.length === 0) continue;
    const pixels = new Float32Array(per * chunk.length);
    chunk.forEach((p, j) => pixels.set(p, j * per));
    for (const v of await encoder.encodeImages(pixels, chunk.length)) images.push(Float32Array.from(v));
  }
  if (kept.length === 0) throw new Error(`none of the labelled set's photos could be read (${set.path})`);
  const captions: string[] = [];
  const owner: number[] = [];
  kept.forEach((it, i) => {
    for (const c of it.captions) {
      captions.push(c);
      owner.push(i);
    }
  });
  check(signal);
  report('recall', set.items.length, set.items.length, `encoding ${captions.length} captions with ${model.id}`);
  const captionVectors = await encodeTexts(encoder, tokenizer, captions);
  return labelledRecall(images, captionVectors, owner);
}
