/**
 * `--mixed --budget-mb N`: HAWQ-V2 for a whole model. Each tower's weights get their average
 * Hessian trace on calibration data (photos for the image tower, everyday queries for the text
 * tower), the two option tables are merged, and the bit assignment minimising Ω under the byte
 * budget (both towers together) becomes a { kind: 'mixed', bits } variant.
 */
import { readFileSync } from 'node:fs';
import type { ModelInfo } from '../../core/contract.ts';
import type { ClipTokenizer } from '../../core/tokenizer.ts';
import { decodeModel } from '../../core/onnx/proto.ts';
import type { ModelRegistry } from '../../services/models/index.ts';
import { samplePixels } from '../sample-pixels.ts';
import { estimateSensitivity } from './sensitivity.ts';
import { bitChoices, chooseUnderBudget, type CandidateTable } from './pareto.ts';
import { makeVariant, type Bits } from '../transforms/index.ts';
import { EVERYDAY_QUERIES } from '../../core/queries.ts';

export interface MixedBudgetOptions {
  /** Bytes, or a function of the options table (e.g. the size of uniform int8 in it). */
  budgetBytes: number | ((table: CandidateTable) => number);
  tokenizer: ClipTokenizer;
  /** Calibration photos (paths); random pixels when none. */
  photos?: string[];
  /** Rademacher probes per weight (default 4: a budget run on a laptop must finish). */
  probes?: number;
  bits?: Bits[];
  threads?: number;
  id?: string;
  onProgress?: (frac: number, what: string) => void;
}

/** Merged options table of both towers and the chosen spec; exported for the bench. */
export async function mixedPlan(registry: ModelRegistry, parentId: string, opts: Omit<MixedBudgetOptions, 'id'>): Promise<{ table: CandidateTable; bits: Record<string, Bits>; bytes: number; omega: number }> {
  const parent = registry.resolve(parentId);
  const report = opts.onProgress ?? (() => {});
  const pixels = await samplePixels((opts.photos ?? []).slice(0, 4), parent.preprocess, { count: 2, seed: 99 });
  const tokens = EVERYDAY_QUERIES.slice(0, 4).map((q) => BigInt64Array.from(opts.tokenizer.encode(q).map((x) => BigInt(x))));
  const tables: CandidateTable[] = [];
  for (const [i, [tower, path, calibration]] of ([['image', parent.imagePath, pixels], ['text', parent.textPath, tokens]] as const).entries()) {
    report(i / 2, `measuring the ${tower} encoder's layer sensitivities (Hessian traces)`);
    const bytes = new Uint8Array(readFileSync(path));
    const sens = await estimateSensitivity(bytes, [...calibration], {
      probes: opts.probes ?? 4,
      threads: opts.threads,
      onProgress: (f, w) => report(i / 2 + f / 2, `${tower}: ${w}`),
    });
    tables.push(bitChoices(decodeModel(bytes), sens, opts.bits));
  }
  const table: CandidateTable = { weights: tables.flatMap((t) => t.weights), fixedBytes: tables.reduce((s, t) => s + t.fixedBytes, 0) };
  const budget = typeof opts.budgetBytes === 'function' ? opts.budgetBytes(table) : opts.budgetBytes;
  const choice = chooseUnderBudget(table, budget);
  return { table, bits: choice.bits, bytes: choice.bytes, omega: choice.omega };
}

export async function makeMixedVariant(registry: ModelRegistry, parentId: string, opts: MixedBudgetOptions): Promise<ModelInfo> {
  const report = opts.onProgress ?? (() => {});
  const plan = await mixedPlan(registry, parentId, { ...opts, onProgress: (f, w) => report(f * 0.7, w) });
  return makeVariant(registry, parentId, { kind: 'mixed', bits: plan.bits }, {
    id: opts.id,
    onProgress: (f, w) => report(0.7 + f * 0.3, w),
  });
}
