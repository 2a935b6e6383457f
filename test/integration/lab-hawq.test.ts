// HAWQ-V2 on builder-made models in real ONNX Runtime: Hutchinson against the exact trace, and
// the budgeted mixed-precision choice against uniform int8 at equal size.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../main/core/onnx/builder.ts';
import { decodeModel, encodeModel, type ModelProto } from '../../main/core/onnx/proto.ts';
import { SeededRandom } from '../../main/core/onnx/random.ts';
import { bitChoices, chooseUnderBudget, estimateSensitivity, paretoFrontier, uniformConfig } from '../../main/lab/mixed-precision/index.ts';
import { transformModel, weightMatrices } from '../../main/lab/transforms/index.ts';

function samples(count: number, width: number, seed: number): Float32Array[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => rng.normals(width, 1));
}

async function outputs(model: ModelProto, xs: Float32Array[], width: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 1 });
  const data = new Float32Array(xs.length * width);
  xs.forEach((x, i) => data.set(x, i * width));
  const out = (await s.run({ x: new ort.Tensor('float32', data, [xs.length, width]) }))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return out;
}

function meanCosine(a: Float32Array, b: Float32Array, dim: number): number {
  let sum = 0;
  const rows = a.length / dim;
  for (let r = 0; r < rows; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < dim; i++) { const u = a[r * dim + i]!, v = b[r * dim + i]!; ab += u * v; aa += u * u; bb += v * v; }
    sum += ab / Math.sqrt(aa * bb);
  }
  return sum / rows;
}

describe('Hutchinson trace estimate', () => {
  it('matches the exact Hessian trace of a linear layer under the cosine-fidelity loss within 10%', async () => {
    const K = 16, D = 24;
    const rng = new SeededRandom(21);
    const w = rng.normals(K * D, K ** -0.5);
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['N', K]);
    g.output(g.op('MatMul', [x, g.initializer('w', w, [K, D])]), 'y', 'float32', ['N', D]);
    const model = g.toModel();
    const xs = samples(8, K, 22);
    // L = mean_s (1 − cos(x_s W', x_s W)). At W' = W the Hessian w.r.t. y_s is (I − ŷŷᵀ)/‖y_s‖²,
    // and y = xW makes H_W = (x xᵀ) ⊗ H_y, so Tr(H_W) = mean_s ‖x_s‖² (D − 1) / ‖y_s‖².
    let exact = 0;
    for (const xv of xs) {
      let xx = 0, yy = 0;
      for (let k = 0; k < K; k++) xx += xv[k]! ** 2;
      for (let d = 0; d < D; d++) { let s = 0; for (let k = 0; k < K; k++) s += xv[k]! * w[k * D + d]!; yy += s * s; }
      exact += (xx * (D - 1)) / yy / xs.length;
    }
    const exactAvg = exact / (K * D);
    const [s] = await estimateSensitivity(encodeModel(model), xs, { probes: 64, seed: 3 });
    expect(s!.name).toBe('w');
    expect(s!.params).toBe(K * D);
    expect(Math.abs(s!.trace - exactAvg) / exactAvg).toBeLessThan(0.1);
    expect(s!.traceStdErr / s!.trace).toBeLessThan(0.05);
    // ε is in the quadratic regime: the one-sided difference agrees with the two-sided one.
    expect(Math.abs(s!.traceOneSided - s!.trace) / s!.trace).toBeLessThan(0.05);
  });

  it('garbage bytes are a clear error', async () => {
    await expect(estimateSensitivity(Uint8Array.from([1, 2, 3, 250, 251, 9, 9, 9]), [new Float32Array(4)])).rejects.toThrow(/not a valid ONNX model/);
  });
});

describe('HAWQ mixed precision', () => {
  /**
   * y = 20 · relu(x·A1)·A2 + 0.05 · relu(x·B1)·B2. The A branch dominates the output; the B
   * branch is twice A's size but barely matters — the case where uniform int8 wastes bits.
   */
  function twoBranchModel(): ModelProto {
    const rng = new SeededRandom(31);
    const W = 32, H = 256;
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['N', W]);
    const a = g.op('MatMul', [g.op('Relu', [g.op('MatMul', [x, g.initializer('a1', rng.normals(W * W, W ** -0.5), [W, W])])]), g.initializer('a2', rng.normals(W * W, W ** -0.5), [W, W])]);
    const b = g.op('MatMul', [g.op('Relu', [g.op('MatMul', [x, g.initializer('b1', rng.normals(W * H, W ** -0.5), [W, H])])]), g.initializer('b2', rng.normals(H * W, H ** -0.5), [H, W])]);
    g.output(g.op('Add', [g.op('Mul', [a, g.floats(20)]), g.op('Mul', [b, g.floats(0.05)])]), 'y', 'float32', ['N', W]);
    return g.toModel();
  }

  it('finds the sensitive layers and beats uniform int8 in measured fidelity at no larger size', async () => {
    const model = twoBranchModel();
    const sens = await estimateSensitivity(encodeModel(model), samples(16, 32, 41), { probes: 8, seed: 5 });
    const by = Object.fromEntries(sens.map((s) => [s.name, s.trace]));
    expect(by.a1! / by.b1!).toBeGreaterThan(100);
    expect(by.a2! / by.b2!).toBeGreaterThan(100);

    const table = bitChoices(model, sens);
    const uniform = uniformConfig(table, 8);
    const pick = chooseUnderBudget(table, uniform.bytes);
    expect(pick.bytes).toBeLessThanOrEqual(uniform.bytes);
    expect(pick.omega).toBeLessThan(uniform.omega);
    // Bits move from the insensitive branch to the sensitive one.
    expect([pick.bits.b1, pick.bits.b2]).toContain(4);
    expect(Math.max(pick.bits.a1!, pick.bits.a2!)).toBeGreaterThan(8);

    const front = paretoFrontier(table);
    expect(front.some((p) => p.bytes <= uniform.bytes && p.omega <= pick.omega * (1 + 1e-9))).toBe(true);

    const test = samples(64, 32, 99);
    const ref = await outputs(model, test, 32);
    const hawq = transformModel(model, pick.spec);
    const flat = transformModel(model, { kind: 'mixed', bits: uniform.bits });
    expect(hawq.report.bytesAfter).toBeLessThanOrEqual(flat.report.bytesAfter);
    const lossHawq = 1 - meanCosine(await outputs(hawq.model, test, 32), ref, 32);
    const lossUniform = 1 - meanCosine(await outputs(flat.model, test, 32), ref, 32);
    expect(lossHawq).toBeLessThan(lossUniform);
    // Uniform int8 via the mixed path is the int8 weight-only transform: same bytes.
    expect(flat.report.bytesAfter).toBe(transformModel(model, { kind: 'int8', mode: 'weight-only' }).report.bytesAfter);
    console.log(`HAWQ pick ${JSON.stringify(pick.bits)} ${pick.bytes} B, 1−cos ${lossHawq.toExponential(2)}; uniform int8 ${uniform.bytes} B, 1−cos ${lossUniform.toExponential(2)}`);
  });
});

describe('mixed precision at the int8 size of a CLIP text tower', () => {
  it('counts and quantizes the token-embedding table as int8 does, so uniform 8-bit is byte-identical to int8', () => {
    const text = decodeModel(readFileSync(path.resolve(import.meta.dirname, '../../models/tiny-clip/text_fp32.onnx')));
    // Traces only weigh Ω; the byte accounting under test does not depend on them.
    const sens = weightMatrices(text).map((w) => ({ name: w.name, params: w.dims.reduce((a, b) => a * b, 1), trace: 1, traceStdErr: 0, traceOneSided: 1, epsilon: 0 }));
    const table = bitChoices(text, sens);
    const uniform = uniformConfig(table, 8);
    const int8 = transformModel(text, { kind: 'int8', mode: 'weight-only' });
    const flat = transformModel(text, { kind: 'mixed', bits: uniform.bits });
    // The table's prediction, the mixed file and the int8 file agree to the byte (initializers).
    expect(flat.report.bytesAfter).toBe(int8.report.bytesAfter);
    expect(uniform.bytes).toBe(flat.report.bytesAfter);
    // The token-embedding table is among the changed initializers of both.
    expect(flat.report.changed).toEqual(int8.report.changed);
    // So a budget of exactly the int8 size is feasible and never exceeded.
    const pick = chooseUnderBudget(table, int8.report.bytesAfter);
    expect(pick.bytes).toBeLessThanOrEqual(int8.report.bytesAfter);
  });
});
