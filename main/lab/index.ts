/**
 * lab — the model lab's public entry: compression transforms and HAWQ (./transforms, ./hawq),
 * the benchmark runner with fidelity measures and stored results (./bench, ./fidelity,
 * ./results), mixed precision under a size budget, and student initialisation.
 *
 * Owns making, measuring and comparing models. Must never: change the active model on its own,
 * write to the user's photos, or overwrite a registered model (variants get new ids).
 */
export {
  transformModel,
  makeVariant,
  variantId,
  variantTag,
  variantFileName,
  type VariantSpec,
  type TransformReport,
} from './transforms/index.ts';
export { estimateSensitivity, paretoFrontier, chooseUnderBudget, bitChoices, uniformConfig, makeMixedVariant, mixedPlan } from './mixed-precision/index.ts';
export { LabRunner, runLab, compareModels, CancelledError, machineInfo, EVERYDAY_QUERIES, chooseQueries, rememberQuery, readLabelledSet, type LabContext, type LabRunOptions } from './bench/index.ts';
export { libraryFidelity, labelledRecall, meanPhotoCosine, meanPairCosine, percentiles } from './fidelity/index.ts';
export { LabResults, runToCsv, runToJson, parseCsv, CSV_COLUMNS } from './results/index.ts';
export { initStudent, studentTextFrom, textConfigOf, VITS16_RECIPE } from './student.ts';

import type { VariantSpecArgs } from '../core/contract.ts';
import type { VariantSpec } from './transforms/index.ts';

/**
 * A contract variant spec (validated by zod) → a transform spec. 'mixed' from the contract carries
 * a budget, not bits: the caller runs makeMixedVariant for it.
 */
export function toVariantSpec(spec: Exclude<VariantSpecArgs, { kind: 'mixed' }>): VariantSpec {
  switch (spec.kind) {
    case 'fp16':
      return { kind: 'fp16' };
    case 'int8':
      return { kind: 'int8', mode: spec.mode ?? 'weight-only', symmetric: spec.symmetric, perChannel: spec.perChannel };
    case 'int4':
      return { kind: 'int4', blockSize: spec.blockSize };
    case 'lowrank':
      return { kind: 'lowrank', rank: spec.rank, energy: spec.energy };
  }
}
