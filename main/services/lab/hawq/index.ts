/**
 * lab/hawq — HAWQ-V2 mixed precision: per-weight average Hessian trace (Hutchinson with
 * Rademacher probes, finite differences of a cosine-fidelity loss run in ONNX Runtime), the
 * Pareto frontier of model size versus Ω = Σ Tr(H_i)/n_i·‖Q(W_i) − W_i‖², and the configuration
 * minimising Ω under a byte budget, returned as a { kind: 'mixed', bits } VariantSpec for
 * ../transforms. Owns no files and never writes a model; callers pass bytes and get numbers.
 *
 * Typical use (one tower):
 *   const sens = await estimateSensitivity(bytes, calibrationPixels, { probes: 16 });
 *   const table = bitChoices(decodeModel(bytes), sens);          // options per weight
 *   const front = paretoFrontier(table);                          // size vs Ω curve for the panel
 *   const { spec } = chooseUnderBudget(table, 60e6);              // → transformModel(model, spec)
 */
export { estimateSensitivity, meanCosineLoss, weightsAsInputs, type CalibrationInput, type SensitivityOptions, type WeightSensitivity } from './sensitivity.ts';
export { bitChoices, chooseUnderBudget, paretoFrontier, uniformConfig, type BitOption, type CandidateTable, type ParetoPoint, type WeightOptions } from './pareto.ts';
