/**
 * From sensitivities to a bit assignment. For weight i at bit-width b:
 *   Ω_i(b) = Tr(H_i)/n_i · ‖Q_b(W_i) − W_i‖²     bytes_i(b) = what the transform writes
 * (Q_b and the byte counts are the transforms' own, quantize.ts). Ω(config) = Σ_i Ω_i(b_i).
 * Choosing one option per weight to minimise Ω under a byte budget is a multiple-choice knapsack;
 * it is solved exactly on a byte grid (sizes rounded UP to the grid, so a chosen configuration
 * never exceeds its budget). The same table gives the whole Pareto frontier of size versus Ω.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { tensorToFloat32 } from '../../core/onnx/proto.ts';
import { weightUseFrom } from '../transforms/edit.ts';
import { consumersOf, initializerBytes, weightMatrices } from '../transforms/graph.ts';
import { MIXED_BLOCK_SIZE, toMixed } from './apply-bits.ts';
import { quantizationError, quantizedBytes, type Bits } from '../transforms/quantize.ts';
import type { WeightSensitivity } from './sensitivity.ts';

export interface BitOption {
  bits: Bits;
  bytes: number;
  /** ‖Q_b(W) − W‖². */
  error: number;
  /** trace · error. */
  omega: number;
}

export interface WeightOptions {
  name: string;
  params: number;
  trace: number;
  options: BitOption[];
}

export interface CandidateTable {
  weights: WeightOptions[];
  /** Bytes of every initializer not in `weights` (kept as they are). */
  fixedBytes: number;
}

export interface ParetoPoint {
  /** Whole-model initializer bytes (fixedBytes + chosen weights). */
  bytes: number;
  omega: number;
  bits: Record<string, Bits>;
}

/**
 * The options table: for every sensitivity entry, each bit-width in `bits` that applies
 * (4-bit only for plain MatMul weights), with its size and Ω. Everything else is fixed bytes,
 * counted as the mixed transform writes it (embedding tables as per-row int8).
 */
export function bitChoices(model: ModelProto, sensitivities: WeightSensitivity[], bits: Bits[] = [4, 8, 16, 32]): CandidateTable {
  const graph = model.graph!;
  const users = consumersOf(graph);
  const candidates = new Set(weightMatrices(model).map((w) => w.name));
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const weights: WeightOptions[] = [];
  let chosenBytes32 = 0;
  for (const s of sensitivities) {
    const t = inits.get(s.name);
    if (!t || !candidates.has(s.name)) throw new Error(`${s.name} is not a weight matrix of this model`);
    const use = weightUseFrom([...(t.dims ?? [])], (users.get(s.name) ?? []).map((r) => r.node));
    const w = tensorToFloat32(t);
    const options: BitOption[] = [];
    for (const b of [...new Set(bits)].sort((x, y) => x - y)) {
      if (b === 4 && !use.matmul) continue;
      const error = quantizationError(w, use, b, MIXED_BLOCK_SIZE);
      options.push({ bits: b, bytes: quantizedBytes(use, b, MIXED_BLOCK_SIZE), error, omega: s.trace * error });
    }
    if (!options.length) throw new Error(`no bit-width in [${bits.join(', ')}] applies to ${s.name}`);
    weights.push({ name: s.name, params: s.params, trace: s.trace, options });
    chosenBytes32 += 4 * s.params;
  }
  // The tables' int8 size is taken from the transform itself (no weights named: only tables change).
  return { weights, fixedBytes: initializerBytes(toMixed(model, {}).model) - chosenBytes32 };
}

interface Solved {
  quantum: number;
  /** best[b]: min Ω using at most b grid units for the weights. */
  best: Float64Array;
  choice: Uint8Array[];
  units: number[][];
}

function solve(table: CandidateTable, resolution: number): Solved {
  const maxBytes = table.weights.reduce((s, w) => s + Math.max(...w.options.map((o) => o.bytes)), 0);
  const quantum = Math.max(1, Math.ceil(maxBytes / resolution));
  const units = table.weights.map((w) => w.options.map((o) => Math.ceil(o.bytes / quantum)));
  const size = units.reduce((s, u) => s + Math.max(...u), 0) + 1;
  let best = new Float64Array(size).fill(Infinity);
  best[0] = 0;
  const choice: Uint8Array[] = [];
  for (const [i, w] of table.weights.entries()) {
    const next = new Float64Array(size).fill(Infinity);
    const pick = new Uint8Array(size).fill(255);
    w.options.forEach((o, k) => {
      const u = units[i]![k]!;
      for (let b = u; b < size; b++) {
        const v = best[b - u]! + o.omega;
        if (v < next[b]!) {
          next[b] = v;
          pick[b] = k;
        }
      }
    });
    best = next;
    choice.push(pick);
  }
  // "Exactly b units" → "at most b units".
  for (let b = 1; b < size; b++) if (best[b - 1]! < best[b]!) best[b] = best[b - 1]!;
  return { quantum, best, choice, units };
}

function reconstruct(table: CandidateTable, s: Solved, budgetUnits: number): ParetoPoint {
  // Find the exact-units cell that achieved best[budgetUnits] by walking back choices.
  const bits: Record<string, Bits> = {};
  let b = budgetUnits;
  // best was made monotone; step down to the smallest b with the same value (an exact cell).
  const target = s.best[b]!;
  while (b > 0 && s.best[b - 1]! === target) b--;
  let bytes = table.fixedBytes, omega = 0;
  for (let i = table.weights.length - 1; i >= 0; i--) {
    const k = s.choice[i]![b]!;
    if (k === 255) throw new Error('internal: no choice recorded');
    const w = table.weights[i]!, o = w.options[k]!;
    bits[w.name] = o.bits;
    bytes += o.bytes;
    omega += o.omega;
    b -= s.units[i]![k]!;
  }
  return { bytes, omega, bits };
}

/** Configurations where no other is both smaller and lower in Ω, smallest first. */
export function paretoFrontier(table: CandidateTable, opts: { resolution?: number } = {}): ParetoPoint[] {
  if (!table.weights.length) return [{ bytes: table.fixedBytes, omega: 0, bits: {} }];
  const s = solve(table, opts.resolution ?? 20000);
  const points: ParetoPoint[] = [];
  let last = Infinity;
  for (let b = 0; b < s.best.length; b++) {
    const v = s.best[b]!;
    if (v < last) {
      points.push(reconstruct(table, s, b));
      last = v;
    }
  }
  // Grid rounding can make a later point no larger in true bytes; keep strict dominance.
  return points.filter((p, i) => !points.some((q, j) => j !== i && q.bytes <= p.bytes && q.omega <= p.omega && (q.bytes < p.bytes || q.omega < p.omega)));
}

/** The configuration minimising Ω whose whole-model initializer bytes fit `budgetBytes`. */
export function chooseUnderBudget(table: CandidateTable, budgetBytes: number, opts: { resolution?: number } = {}): ParetoPoint & { spec: { kind: 'mixed'; bits: Record<string, Bits> } } {
  const smallest = table.fixedBytes + table.weights.reduce((s, w) => s + Math.min(...w.options.map((o) => o.bytes)), 0);
  if (budgetBytes < smallest) {
    throw new Error(`a budget of ${(budgetBytes / 1e6).toFixed(2)} MB is below the smallest possible configuration (${(smallest / 1e6).toFixed(2)} MB with these bit-widths)`);
  }
  const s = solve(table, opts.resolution ?? 20000);
  const units = Math.min(s.best.length - 1, Math.floor((budgetBytes - table.fixedBytes) / s.quantum));
  if (units < 0 || !Number.isFinite(s.best[units]!)) {
    throw new Error(`a budget of ${(budgetBytes / 1e6).toFixed(2)} MB is too tight for the ${(s.quantum)}-byte grid; raise it slightly`);
  }
  const point = reconstruct(table, s, units);
  return { ...point, spec: { kind: 'mixed', bits: point.bits } };
}

/** Every weight at one bit-width (4 falls back to 8 where 4-bit does not apply), for comparison. */
export function uniformConfig(table: CandidateTable, bits: Bits): ParetoPoint {
  const out: Record<string, Bits> = {};
  let bytes = table.fixedBytes, omega = 0;
  for (const w of table.weights) {
    const o = w.options.find((x) => x.bits === bits) ?? w.options.find((x) => x.bits === 8) ?? w.options[0]!;
    out[w.name] = o.bits;
    bytes += o.bytes;
    omega += o.omega;
  }
  return { bytes, omega, bits: out };
}
