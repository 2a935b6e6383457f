// Each layer the builder emits, run in real ONNX Runtime (CPU) against a plain JS reference.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../main/core/onnx/builder.ts';
import { layerNorm, linear, quickGelu, selfAttention } from '../../main/core/onnx/layers.ts';
import { encodeModel, tensorToFloat32 } from '../../main/core/onnx/proto.ts';
import { SeededRandom } from '../../main/core/onnx/random.ts';

async function run(g: GraphBuilder, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(g.toModel({ opset: 17 })));
  const out = await session.run(feeds);
  return out[session.outputNames[0]!]!.data as Float32Array;
}

function weight(g: GraphBuilder, name: string): Float32Array {
  return tensorToFloat32(g.initializers.find((t) => t.name === name)!);
}

/** [rows, k] · [k, cols] */
function matmul(a: Float32Array | number[], b: Float32Array, rows: number, k: number, cols: number): number[] {
  const out = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * cols + j]!;
    out[i * cols + j] = s;
  }
  return out;
}

function expectClose(actual: Float32Array, expected: number[], tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

describe('graph builder layers in ONNX Runtime', () => {
  it('linear = MatMul + Add', async () => {
    const rng = new SeededRandom(1);
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['N', 5]);
    const bias = rng.normals(3, 1);
    g.output(linear(g, x, 5, 3, 'fc', rng, { biasData: bias }), 'y', 'float32', ['N', 3]);
    const input = rng.normals(2 * 5, 1);
    const y = await run(g, { x: new ort.Tensor('float32', input, [2, 5]) });
    const ref = matmul(input, weight(g, 'fc.weight'), 2, 5, 3).map((v, i) => v + bias[i % 3]!);
    expectClose(y, ref);
  });

  it('layerNorm normalises the last axis then applies scale and bias', async () => {
    const rng = new SeededRandom(2);
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['N', 3, 8]);
    const scale = rng.normals(8, 1), bias = rng.normals(8, 1);
    g.output(layerNorm(g, x, 8, 'ln', { scale, bias }), 'y', 'float32', ['N', 3, 8]);
    const input = rng.normals(2 * 3 * 8, 3);
    const y = await run(g, { x: new ort.Tensor('float32', input, [2, 3, 8]) });
    const ref: number[] = [];
    for (let r = 0; r < 6; r++) {
      const row = Array.from(input.slice(r * 8, r * 8 + 8));
      const mean = row.reduce((a, b) => a + b, 0) / 8;
      const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / 8;
      row.forEach((v, i) => ref.push(((v - mean) / Math.sqrt(variance + 1e-5)) * scale[i]! + bias[i]!));
    }
    expectClose(y, ref);
  });

  it('quickGelu = x · sigmoid(1.702 x)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [7]);
    g.output(quickGelu(g, x), 'y', 'float32', [7]);
    const input = new Float32Array([-6, -2, -0.5, 0, 0.5, 2, 6]);
    const y = await run(g, { x: new ort.Tensor('float32', input, [7]) });
    expectClose(y, Array.from(input, (v) => v / (1 + Math.exp(-1.702 * v))), 1e-5);
  });

  for (const causal of [false, true]) {
    it(`multi-head self-attention${causal ? ' with causal mask' : ''} matches the reference`, async () => {
      const [N, L, W, H] = [2, 5, 8, 2];
      const D = W / H;
      const rng = new SeededRandom(causal ? 4 : 3);
      const g = new GraphBuilder();
      const x = g.input('x', 'float32', ['N', L, W]);
      g.output(selfAttention(g, x, 'attn', rng, { width: W, heads: H, causalLength: causal ? L : undefined }), 'y', 'float32', ['N', L, W]);
      const input = rng.normals(N * L * W, 1);
      const y = await run(g, { x: new ort.Tensor('float32', input, [N, L, W]) });

      const ref: number[] = [];
      for (let n = 0; n < N; n++) {
        const xs = input.slice(n * L * W, (n + 1) * L * W);
        const [q, k, v] = ['q', 'k', 'v'].map((p) => matmul(xs, weight(g, `attn.${p}_proj.weight`), L, W, W));
        const merged = new Array<number>(L * W).fill(0);
        for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
          const scores = Array.from({ length: L }, (_, j) => {
            if (causal && j > i) return -Infinity;
            let s = 0;
            for (let d = 0; d < D; d++) s += q[i * W + h * D + d]! * k[j * W + h * D + d]!;
            return s / Math.sqrt(D);
          });
          const max = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - max));
          const sum = e.reduce((a, b) => a + b, 0);
          for (let d = 0; d < D; d++) merged[i * W + h * D + d] = e.reduce((acc, p, j) => acc + (p / sum) * v[j * W + h * D + d]!, 0);
        }
        ref.push(...matmul(merged, weight(g, 'attn.out_proj.weight'), L, W, W));
      }
      expectClose(y, ref);
      if (causal) {
        // The first position sees only itself, so changing a later token must not move it.
        const changed = Float32Array.from(input);
        changed[3 * W] += 5;
        const y2 = await run(g, { x: new ort.Tensor('float32', changed, [N, L, W]) });
        expect(Array.from(y2.slice(0, W))).toEqual(Array.from(y.slice(0, W)));
        expect(Array.from(y2.slice(3 * W, 4 * W))).not.toEqual(Array.from(y.slice(3 * W, 4 * W)));
      }
    });
  }

  it('names outputs without an Identity node and refuses duplicate names', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2]);
    const y = g.op('Relu', [x]);
    g.output(y, 'out', 'float32', [2]);
    const model = g.toModel();
    expect(model.graph!.node!.map((n) => n.opType)).toEqual(['Relu']);
    expect(model.graph!.node![0]!.output).toEqual(['out']);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already/);
    expect(() => g.op('Relu', ['nope'])).toThrow(/unknown input/);
  });
});
