/**
 * The lab's calls ('lab.*'): benchmark runs and their results, side-by-side comparison, making
 * variants and students. The lab also listens to searches (`rememberQuery`) so it can measure
 * fidelity on the user's own queries.
 */
import { join } from 'node:path';
import { AppError, type Api, type ModelInfo } from '../core/contract.ts';
import { indexedPhotoPaths } from '../services/library/index.ts';
import type { LabContext, LabResults, LabRunner } from '../lab/index.ts';
// Remembering a query is one settings write on every search: core's pure rule, so searching never
// loads the lab itself.
import { rememberQuery } from '../core/queries.ts';
import type { AppContext } from './context.ts';

type Lab = typeof import('../lab/index.ts');

type LabCallName = 'lab.models' | 'lab.run' | 'lab.cancel' | 'lab.results' | 'lab.export' | 'lab.compare' | 'lab.variant' | 'lab.initStudent';

export interface LabCalls {
  calls: Pick<Api, LabCallName>;
  /** Records a text query for fidelity runs on the user's own queries. */
  searched(text: string): void;
  close(): Promise<void>;
}

/** Errors from services carry plain messages; the contract wants a code. */
function asAppError(err: unknown, code: AppError['code'] = 'failed'): AppError {
  if (err instanceof AppError) return err;
  return new AppError(code, (err as Error)?.message ?? String(err));
}

/**
 * The lab (ONNX Runtime in this thread, protobufjs, the transforms) loads on the first lab call,
 * so opening the app for `status` or a search does not pay for it.
 */
export function labCalls(ctx: AppContext): LabCalls {
  let loading: Promise<{ lab: Lab; results: LabResults; runner: LabRunner }> | null = null;
  const load = () =>
    (loading ??= import('../lab/index.ts').then((lab) => {
      const results = new lab.LabResults(ctx.store);
      // Runs left "running" by a process that died are marked failed before anyone reads them.
      results.abandonStale();
      return { lab, results, runner: new lab.LabRunner(context, emitProgress) };
    }));
  const context = (): LabContext => {
    const s = ctx.settings();
    return {
      store: ctx.store,
      registry: ctx.registry,
      tokenizer: ctx.tokenizer,
      modelsDir: ctx.modelsDir,
      indexDir: join(ctx.dataDir, 'index'),
      threads: s.threads,
      providers: s.useGpu ? 'auto' : ['cpu'],
      // The lab reuses the active model's open index and indexer instead of opening them twice.
      activeSession: (id) => {
        const open = ctx.model.open;
        return open && open.modelId === id ? { index: open.index, indexer: open.indexer } : null;
      },
    };
  };
  const emitProgress = (p: Parameters<typeof ctx.emit<'lab.progress'>>[1]) => ctx.emit('lab.progress', p);
  const modelsChanged = () => ctx.emit('models.changed', ctx.models());
  const known = (id: string) => {
    if (!ctx.registry.entry(id)) throw new AppError('not-found', `unknown model "${id}"; see lab.models`);
  };

  const calls: Pick<Api, LabCallName> = {
    async 'lab.models'() {
      // Every model, hidden test/benchmark ones included: the lab measures those too.
      return ctx.models();
    },
    async 'lab.run'(args) {
      known(args.teacher);
      for (const m of args.models) known(m);
      const { runner } = await load();
      try {
        const runId = await runner.start({
          models: args.models,
          teacher: args.teacher,
          labelled: args.labelled,
          queries: args.queries,
          k: args.k,
          iterations: args.iterations,
        });
        return { runId };
      } catch (err) {
        throw asAppError(err, 'invalid-argument');
      }
    },
    async 'lab.cancel'({ runId }) {
      const { runner } = await load();
      return { cancelled: runner.cancel(runId) };
    },
    async 'lab.results'(args) {
      const { results } = await load();
      if (args?.runId !== undefined) {
        const run = results.get(args.runId);
        if (!run) throw new AppError('not-found', `no lab run with id ${args.runId}`);
        return [run];
      }
      return results.list();
    },
    async 'lab.export'({ runId, format }) {
      const { lab, results } = await load();
      const run = results.get(runId);
      if (!run) throw new AppError('not-found', `no lab run with id ${runId}`);
      return format === 'csv' ? lab.runToCsv(run) : lab.runToJson(run);
    },
    async 'lab.compare'(args) {
      known(args.teacher);
      known(args.student);
      const { lab } = await load();
      try {
        return await lab.compareModels(context(), args);
      } catch (err) {
        throw asAppError(err);
      }
    },
    async 'lab.initStudent'({ teacher, textLayers, id }) {
      known(teacher);
      const { lab } = await load();
      try {
        const info = await lab.initStudent(ctx.registry, teacher, {
          textLayers,
          id,
          onProgress: (message) => emitProgress({ runId: null, stage: 'variant', modelId: teacher, done: 0, total: 1, message }),
        });
        modelsChanged();
        return ctx.models().find((m) => m.id === info.id) ?? info;
      } catch (err) {
        throw asAppError(err);
      }
    },
    async 'lab.variant'({ model, spec }) {
      known(model);
      const { lab } = await load();
      const onProgress = (frac: number, what: string) =>
        emitProgress({ runId: null, stage: 'variant', modelId: model, done: Math.round(frac * 1000), total: 1000, message: what });
      try {
        let info: ModelInfo;
        if (spec.kind === 'mixed') {
          if (spec.budgetMb === undefined) throw new AppError('invalid-argument', 'lab.variant: a mixed-precision variant needs spec.budgetMb');
          const photos = indexedPhotoPaths(ctx.store, 4);
          info = await lab.makeMixedVariant(ctx.registry, model, {
            budgetBytes: spec.budgetMb * 1e6,
            bits: spec.bits,
            tokenizer: ctx.tokenizer,
            photos,
            threads: ctx.settings().threads,
            onProgress,
          });
        } else {
          info = await lab.makeVariant(ctx.registry, model, lab.toVariantSpec(spec), { onProgress });
        }
        onProgress(1, `made ${info.id}`);
        modelsChanged();
        return ctx.models().find((m) => m.id === info.id) ?? info;
      } catch (err) {
        throw asAppError(err);
      }
    },
  };
  return {
    calls,
    searched: (text) => rememberQuery(ctx.store, text),
    // Nothing to close when no lab call ever ran.
    close: async () => {
      const opened = await loading?.catch(() => null);
      await opened?.runner.close();
    },
  };
}
