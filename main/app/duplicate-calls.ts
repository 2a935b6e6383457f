/**
 * Near-duplicates: groups of photos that look the same, found with the active model's vectors and
 * the perceptual check (services/duplicates), exported as CSV or JSON. Nothing here deletes or
 * moves a photo: the user acts on the list.
 */
import { AppError, type Api, type DuplicatesResult } from '../core/contract.ts';
import { duplicatesToCsv, duplicatesToJson } from '../core/duplicates-export.ts';
import type { AppContext } from './context.ts';

// sharp and the comparison load with the first search for duplicates, not when the app opens.
const service = () => import('../services/duplicates/index.ts');
type Finder = InstanceType<Awaited<ReturnType<typeof service>>['DuplicateFinder']>;

export function duplicateCalls(ctx: AppContext): Pick<Api, 'duplicates.find' | 'duplicates.export' | 'duplicates.stop'> {
  let finder: Finder | null = null;

  async function find(similarity: number | undefined): Promise<DuplicatesResult> {
    const { DuplicateFinder, DuplicatesStopped, DEFAULT_SIMILARITY } = await service();
    finder ??= new DuplicateFinder(ctx.store);
    const f = finder;
    try {
      // The model's vectors propose pairs when it has indexed photos; the perceptual hash always does.
      return await ctx.model.use((s) =>
        f.find(similarity ?? DEFAULT_SIMILARITY, s.index.size > 0 ? { modelId: s.modelId, index: s.index } : null, (p) => ctx.emit('duplicates.progress', p)),
      );
    } catch (err) {
      if (err instanceof DuplicatesStopped) throw new AppError('failed', err.message);
      throw err;
    }
  }

  return {
    'duplicates.find'(args) {
      return find(args?.similarity);
    },
    async 'duplicates.export'({ similarity, format }) {
      const result = await find(similarity);
      return format === 'csv' ? duplicatesToCsv(result) : duplicatesToJson(result);
    },
    async 'duplicates.stop'() {
      return { stopped: finder?.stop() ?? false };
    },
  };
}
