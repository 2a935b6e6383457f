/**
 * Side by side: the same query's results from a teacher and a student over the library, with the
 * photos only one of them returned marked. Builds either model's library vectors first if needed.
 */
import type { LabCompareHit, LabCompareResult, SearchHit } from '../../core/contract.ts';
import { overlapAtK } from '../../core/metrics.ts';
import { openEncoder } from '../../services/encoder/index.ts';
import { VectorIndex } from '../../services/ann/index.ts';
import { Indexer } from '../../services/indexer/index.ts';
import { searchByVector } from '../../services/search/index.ts';
import type { LabContext } from './runner.ts';

export async function compareModels(ctx: LabContext, args: { teacher: string; student: string; text: string; limit?: number }): Promise<LabCompareResult> {
  const limit = args.limit ?? 20;
  const sides: { modelId: string; hits: SearchHit[]; tookMs: number }[] = [];
  for (const id of [args.teacher, args.student]) {
    const model = ctx.registry.resolve(id);
    const shared = ctx.activeSession?.(id) ?? null;
    const encoder = await openEncoder(model, { threads: ctx.threads, providers: ctx.providers ?? 'auto' });
    const index = shared?.index ?? (await VectorIndex.open({ store: ctx.store, dir: ctx.indexDir, modelId: id, dim: model.dim, log: ctx.log }));
    try {
      const indexer = shared?.indexer ?? new Indexer({ store: ctx.store, encoder, index, modelId: id, preprocess: model.preprocess, log: ctx.log });
      indexer.start();
      await indexer.whenIdle();
      if (!shared) await indexer.stop();
      const t0 = performance.now();
      const [v] = await encoder.encodeTexts([ctx.tokenizer.encode(args.text)]);
      const result = searchByVector({ store: ctx.store, index, modelId: id }, v!, { limit });
      sides.push({ modelId: id, hits: result.hits, tookMs: performance.now() - t0 });
    } finally {
      if (!shared) await index.close().catch(() => undefined);
      await encoder.close();
    }
  }
  const [t, s] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const mark = (mine: SearchHit[], other: SearchHit[]): LabCompareHit[] => {
    const theirs = new Set(other.map((h) => h.photo.id));
    return mine.map((h) => ({ ...h, onlyHere: !theirs.has(h.photo.id) }));
  };
  return {
    text: args.text,
    limit,
    teacher: { modelId: t.modelId, hits: mark(t.hits, s.hits), tookMs: t.tookMs },
    student: { modelId: s.modelId, hits: mark(s.hits, t.hits), tookMs: s.tookMs },
    overlap: overlapAtK(t.hits.map((h) => h.photo.id), s.hits.map((h) => h.photo.id), limit),
  };
}
