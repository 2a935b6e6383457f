/**
 * lab/mixed-precision — one bit-width per weight matrix, chosen by HAWQ-V2, in one place:
 * - sensitivity.ts: each weight's average Hessian trace (Hutchinson with Rademacher probes,
 *   finite differences of a cosine-fidelity loss run in ONNX Runtime);
 * - pareto.ts: the option table, the Pareto frontier of size versus
 *   Ω = Σ Tr(H_i)/n_i·‖Q(W_i) − W_i‖², and the assignment minimising Ω under a byte budget;
 * - apply-bits.ts: the graph rewrite that applies an assignment (a transform like int8/int4);
 * - budget.ts: the whole-model flow behind `--mixed --budget-mb N` (both towers, calibration data).
 * Owns no files and never overwrites a model; variants get new ids.
 *
 * Typical use (one tower):
 *   const sens = await estimateSensitivity(bytes, calibrationPixels, { probes: 16 });
 *   const table = bitChoices(decodeModel(bytes), sens);          // options per weight
 *   const front = paretoFrontier(table);                          // size vs Ω curve for the panel
 *   const { spec } = chooseUnderBudget(table, 60e6);              // → transformModel(model, spec)
 */
export { estimateSensitivity, meanCosineLoss, weightsAsInputs, type CalibrationInput, type SensitivityOptions, type WeightSensitivity } from './sensitivity.ts';
export { bitChoices, chooseUnderBudget, paretoFrontier, uniformConfig, type BitOption, type CandidateTable, type ParetoPoint, type WeightOptions } from './pareto.ts';
export { makeMixedVariant, mixedPlan, type MixedBudgetOptions } from './budget.ts';
