/**
 * The lab's contract calls ('lab.*'), implemented over the app's services. Kept here so app.ts
 * only composes: it builds these once and spreads them into its `App`.
 */
import { AppError, type Api, type LabProgress, type ModelInfo, type Settings } from '../core/contract.ts';
import type { ClipTokenizer } from '../core/tokenizer.ts';
import type { Store } from '../services/store/index.ts';
import type { ModelRegistry } from '../services/models/index.ts';
import type { VectorIndex } from '../services/ann/index.ts';
import type { Indexer } from '../services/indexer/index.ts';
import { LabRunner, compareModels, type LabContext } from './bench/index.ts';
import { LabResults, runToCsv, runToJson } from './results/index.ts';
import { makeVariant } from './transforms/index.ts';
import { makeMixedVariant } from './mixed-precision/index.ts';
import { toVariantSpec } from './index.ts';

type LabCallName = 'lab.models' | 'lab.run' | 'lab.cancel' | 'lab.results' | 'lab.export' | 'lab.compare' | 'lab.variant';

export interface LabCallsOptions {
  store: Store;
  registry: ModelRegistry;
  tokenizer: ClipTokenizer;
  modelsDir: string;
  indexDir: string;
  settings: () => Settings;
  /** The app's open index/indexer for its active model, when that is `modelId`. */
  activeSession: (modelId: string) => { index: VectorIndex; indexer: Indexer } | null;
  /** Every model, with `active` set. */
  models: () => ModelInfo[];
  emitProgress: (p: LabProgress) => void;
  /** Models were added (a variant or student): tell the UIs. */
  modelsChanged: () => void;
}

export interface LabCalls {
  calls: Pick<Api, LabCallName>;
  runner: LabRunner;
  close(): Promise<void>;
}

/** Errors from services carry plain messages; the contract wants a code. */
function asAppError(err: unknown, code: AppError['code'] = 'failed'): AppError {
  if (err instanceof AppError) return err;
  return new AppError(code, (err as Error)?.message ?? String(err));
}

export function createLabCalls(o: LabCallsOptions): LabCalls {
  const results = new LabResults(o.store);
  results.abandonStale();
  const context = (): LabContext => {
    const s = o.settings();
    return {
      store: o.store,
      registry: o.registry,
      tokenizer: o.tokenizer,
      modelsDir: o.modelsDir,
      indexDir: o.indexDir,
      threads: s.threads,
      providers: s.useGpu ? 'auto' : ['cpu'],
      activeSession: o.activeSession,
    };
  };
  const runner = new LabRunner(context, o.emitProgress);
  const known = (id: string) => {
    if (!o.registry.entry(id)) throw new AppError('not-found', `unknown model "${id}"; see lab.models`);
  };

  const calls: Pick<Api, LabCallName> = {
    async 'lab.models'() {
      // Every model, hidden test/benchmark ones included: the lab measures those too.
      return o.models();
    },
    async 'lab.run'(args) {
      known(args.teacher);
      for (const m of args.models) known(m);
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
      return { cancelled: runner.cancel(runId) };
    },
    async 'lab.results'(args) {
      if (args?.runId !== undefined) {
        const run = results.get(args.runId);
        if (!run) throw new AppError('not-found', `no lab run with id ${args.runId}`);
        return [run];
      }
      return results.list();
    },
    async 'lab.export'({ runId, format }) {
      const run = results.get(runId);
      if (!run) throw new AppError('not-found', `no lab run with id ${runId}`);
      return format === 'csv' ? runToCsv(run) : runToJson(run);
    },
    async 'lab.compare'(args) {
      known(args.teacher);
      known(args.student);
      try {
        return await compareModels(context(), args);
      } catch (err) {
        throw asAppError(err);
      }
    },
    async 'lab.variant'({ model, spec }) {
      known(model);
      const onProgress = (frac: number, what: string) =>
        o.emitProgress({ runId: null, stage: 'variant', modelId: model, done: Math.round(frac * 1000), total: 1000, message: what });
      try {
        let info: ModelInfo;
        if (spec.kind === 'mixed') {
          if (spec.budgetMb === undefined) throw new AppError('invalid-argument', 'lab.variant: a mixed-precision variant needs spec.budgetMb');
          const photos = o.store.db.prepare<[], string>("SELECT path FROM photos WHERE status = 'indexed' ORDER BY id LIMIT 4").pluck().all();
          info = await makeMixedVariant(o.registry, model, {
            budgetBytes: spec.budgetMb * 1e6,
            bits: spec.bits,
            tokenizer: o.tokenizer,
            photos,
            threads: o.settings().threads,
            onProgress,
          });
        } else {
          info = await makeVariant(o.registry, model, toVariantSpec(spec), { onProgress });
        }
        onProgress(1, `made ${info.id}`);
        o.modelsChanged();
        return o.models().find((m) => m.id === info.id) ?? info;
      } catch (err) {
        throw asAppError(err);
      }
    },
  };
  return { calls, runner, close: () => runner.close() };
}
