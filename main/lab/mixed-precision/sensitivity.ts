/**
 * HAWQ-V2 sensitivity: the average Hessian trace Tr(H_i)/n_i of a fidelity loss with respect to
 * each weight matrix W_i, by Hutchinson's method: Tr(H) = E[zᵀHz] over Rademacher z.
 *
 * ONNX Runtime has no autograd, so zᵀHz comes from finite differences of
 *   L(w') = mean over calibration rows of (1 − cos(f(x; w'), f(x; w)))
 * which has L(w) = 0 and ∇L(w) = 0, hence L(w ± εz) = ε²/2·zᵀHz ± ε³/6·T[z,z,z] + O(ε⁴).
 * We use the two-sided form zᵀHz ≈ (L(w+εz) + L(w−εz))/ε² (third-order terms cancel) and also
 * report the one-sided 2·L(w+εz)/ε² average as a check on ε (they agree when ε is in the
 * quadratic regime). ε is relative to the weight's RMS, so the perturbation is a fixed fraction
 * of each matrix (default 1%, about the size of int8 rounding error).
 *
 * The graph is rewritten once so every probed weight is a graph INPUT; one session is created and
 * the perturbed weights are fed as inputs (no session rebuild per probe).
 * 1 − cos is computed as ½‖â − b̂‖² in Float64, which avoids the cancellation of 1 − (a·b) in
 * float32 when the two outputs are nearly equal.
 */
import * as ort from 'onnxruntime-node';
import { DataType, elementCount, encodeModel, tensorToFloat32, type ModelProto, type ValueInfoProto } from '../../core/onnx/proto.ts';
import { mulberry32 } from '../../core/onnx/random.ts';
import { weightMatrices } from '../transforms/graph.ts';
import { decodeModelBytes } from '../transforms/read-model.ts';

export type CalibrationInput = Float32Array | BigInt64Array;

export interface SensitivityOptions {
  /** Rademacher probes per weight (default 16). */
  probes?: number;
  seed?: number;
  /** Weight initializers to probe (default: every MatMul/Gemm/Conv weight, see weightMatrices). */
  weights?: string[];
  /** Perturbation size relative to each weight's RMS (default 0.01). */
  epsilon?: number;
  threads?: number;
  onProgress?: (frac: number, weight: string) => void;
}

export interface WeightSensitivity {
  name: string;
  params: number;
  /** Tr(H_i)/n_i, two-sided estimate. */
  trace: number;
  /** Standard error of `trace` over the probes. */
  traceStdErr: number;
  /** The one-sided estimate 2·L(w+εz)/(ε²·n_i): close to `trace` when ε is small enough. */
  traceOneSided: number;
  /** The absolute ε used (relative ε × RMS of the weight). */
  epsilon: number;
}

/** Per-row ½‖â − b̂‖² = 1 − cos(a, b), averaged over rows of width `dim`. */
export function meanCosineLoss(out: Float32Array, ref: Float32Array, dim: number): number {
  const rows = ref.length / dim;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    let na = 0, nb = 0;
    for (let i = 0; i < dim; i++) {
      na += out[r * dim + i]! ** 2;
      nb += ref[r * dim + i]! ** 2;
    }
    na = Math.sqrt(na) || 1;
    nb = Math.sqrt(nb) || 1;
    let d2 = 0;
    for (let i = 0; i < dim; i++) {
      const d = out[r * dim + i]! / na - ref[r * dim + i]! / nb;
      d2 += d * d;
    }
    sum += d2 / 2;
  }
  return sum / rows;
}

/** The model with `names` turned from initializers into graph inputs (same shapes, float32). */
export function weightsAsInputs(model: ModelProto, names: string[]): ModelProto {
  const graph = model.graph!;
  const wanted = new Set(names);
  const inputs: ValueInfoProto[] = [];
  for (const t of graph.initializer ?? []) {
    if (!wanted.has(t.name ?? '')) continue;
    if ((t.dataType ?? 0) !== DataType.FLOAT) throw new Error(`weight ${t.name} is not float32`);
    inputs.push({ name: t.name!, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: d })) } } } });
  }
  const missing = names.filter((n) => !inputs.some((i) => i.name === n));
  if (missing.length) throw new Error(`the model has no float32 initializer named ${missing.join(', ')}`);
  return {
    ...model,
    graph: {
      ...graph,
      initializer: (graph.initializer ?? []).filter((t) => !wanted.has(t.name ?? '')),
      // Old-IR models also list initializers as inputs; keep each name once.
      input: [...(graph.input ?? []).filter((i) => !wanted.has(i.name)), ...inputs],
    },
  };
}

/** Concatenates calibration arrays into one feed for the model's data input. */
function calibrationTensor(model: ModelProto, calibration: CalibrationInput[], weightNames: Set<string>): { name: string; tensor: ort.Tensor } {
  if (calibration.length === 0) throw new Error('estimateSensitivity needs at least one calibration input');
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const dataInputs = (model.graph?.input ?? []).filter((i) => !inits.has(i.name) && !weightNames.has(i.name));
  if (dataInputs.length !== 1) throw new Error(`estimateSensitivity supports models with one data input; this one has ${dataInputs.map((i) => i.name).join(', ') || 'none'}`);
  const input = dataInputs[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const elemType = input.type?.tensorType?.elemType;
  const isInt = elemType === DataType.INT64;
  if (!isInt && elemType !== DataType.FLOAT) throw new Error(`input ${input.name} has element type ${elemType}; calibration supports float32 and int64 inputs`);
  const total = calibration.reduce((s, a) => s + a.length, 0);
  const fixed = dims.reduce((p, d) => p * (d.dimValue ?? 1), 1);
  const dynamic = dims.filter((d) => d.dimValue === undefined).length;
  if (dynamic > 1) throw new Error(`input ${input.name} has ${dynamic} dynamic dimensions; give calibration for a model with one (the batch)`);
  if (total % fixed !== 0) throw new Error(`calibration holds ${total} values, not a whole number of ${input.name} items of ${fixed} values`);
  const shape = dims.map((d) => d.dimValue ?? total / fixed);
  if (dynamic === 0 && total !== fixed) throw new Error(`input ${input.name} has a fixed shape of ${fixed} values; calibration holds ${total}`);
  if (isInt) {
    const data = new BigInt64Array(total);
    let off = 0;
    for (const a of calibration) {
      if (!(a instanceof BigInt64Array)) throw new Error(`input ${input.name} is int64: pass calibration as BigInt64Array`);
      data.set(a, off);
      off += a.length;
    }
    return { name: input.name, tensor: new ort.Tensor('int64', data, shape) };
  }
  const data = new Float32Array(total);
  let off = 0;
  for (const a of calibration) {
    if (!(a instanceof Float32Array)) throw new Error(`input ${input.name} is float32: pass calibration as Float32Array`);
    data.set(a, off);
    off += a.length;
  }
  return { name: input.name, tensor: new ort.Tensor('float32', data, shape) };
}

function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export async function estimateSensitivity(modelBytes: Uint8Array, calibration: CalibrationInput[], opts: SensitivityOptions = {}): Promise<WeightSensitivity[]> {
  const model = decodeModelBytes(modelBytes);
  const names = opts.weights ?? weightMatrices(model).map((w) => w.name);
  if (names.length === 0) throw new Error('the model has no weight matrices to probe');
  const probes = opts.probes ?? 16;
  const epsRel = opts.epsilon ?? 0.01;
  const seed = opts.seed ?? 1;
  const initByName = new Map((model.graph!.initializer ?? []).map((t) => [t.name ?? '', t]));
  const base = new Map<string, Float32Array>();
  for (const n of names) {
    const t = initByName.get(n);
    if (!t) throw new Error(`the model has no initializer named "${n}"`);
    base.set(n, tensorToFloat32(t));
  }
  const probeModel = weightsAsInputs(model, names);
  const feedInput = calibrationTensor(probeModel, calibration, new Set(names));
  const session = await ort.InferenceSession.create(encodeModel(probeModel), { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = { [feedInput.name]: feedInput.tensor };
    const dimsOf = (n: string) => initByName.get(n)!.dims ?? [];
    for (const n of names) feeds[n] = new ort.Tensor('float32', base.get(n)!, dimsOf(n));
    const outName = session.outputNames[0]!;
    const run = async (): Promise<Float32Array> => (await session.run(feeds))[outName]!.data as Float32Array;
    const first = (await session.run(feeds))[outName]!;
    const ref = Float32Array.from(first.data as Float32Array);
    const outDims = first.dims;
    const dim = Number(outDims[outDims.length - 1] ?? ref.length) || 1;
    const results: WeightSensitivity[] = [];
    for (const [wi, n] of names.entries()) {
      const w = base.get(n)!;
      const count = elementCount(dimsOf(n));
      let ss = 0;
      for (let i = 0; i < w.length; i++) ss += w[i]! * w[i]!;
      const rms = Math.sqrt(ss / w.length);
      const eps = epsRel * (rms > 0 ? rms : 1);
      const rand = mulberry32(seed ^ nameSeed(n));
      const plus = new Float32Array(w.length), minus = new Float32Array(w.length);
      const twoSided: number[] = [];
      let oneSidedSum = 0;
      for (let p = 0; p < probes; p++) {
        for (let i = 0; i < w.length; i++) {
          const z = rand() < 0.5 ? -eps : eps;
          plus[i] = w[i]! + z;
          minus[i] = w[i]! - z;
        }
        // The effective perturbation is what float32 stored, not ε itself (matters for tiny ε).
        feeds[n] = new ort.Tensor('float32', plus, dimsOf(n));
        const lp = meanCosineLoss(await run(), ref, dim);
        feeds[n] = new ort.Tensor('float32', minus, dimsOf(n));
        const lm = meanCosineLoss(await run(), ref, dim);
        twoSided.push((lp + lm) / (eps * eps));
        oneSidedSum += (2 * lp) / (eps * eps);
        opts.onProgress?.((wi + (p + 1) / probes) / names.length, n);
      }
      feeds[n] = new ort.Tensor('float32', w, dimsOf(n));
      const mean = twoSided.reduce((a, b) => a + b, 0) / probes;
      const variance = probes > 1 ? twoSided.reduce((a, b) => a + (b - mean) ** 2, 0) / (probes - 1) : 0;
      results.push({
        name: n,
        params: count,
        trace: mean / count,
        traceStdErr: Math.sqrt(variance / probes) / count,
        traceOneSided: oneSidedSum / probes / count,
        epsilon: eps,
      });
    }
    return results;
  } finally {
    await session.release();
  }
}
