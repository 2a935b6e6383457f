/**
 * Transformer pieces as CLIP builds them, added to a GraphBuilder. Weights of MatMul are stored
 * [in, out] (ONNX MatMul order, the transpose of PyTorch's Linear.weight). Activations are
 * [N, L, width] throughout.
 */
import type { GraphBuilder } from './builder.ts';
import { floatAttr } from './builder.ts';
import type { WeightSource } from './random.ts';

export interface LinearOptions {
  /** Standard deviation of the weight init (default in^-0.5). */
  std?: number;
  bias?: boolean;
  /** Explicit weights [in*out] and bias [out], e.g. for tests against a JS reference. */
  weight?: Float32Array;
  biasData?: Float32Array;
}

/** y = x·W (+ b), W of shape [inDim, outDim]. Biases start at zero as in CLIP. */
export function linear(g: GraphBuilder, x: string, inDim: number, outDim: number, prefix: string, rng: WeightSource, options: LinearOptions = {}): string {
  const weight = options.weight ?? rng.normals(inDim * outDim, options.std ?? inDim ** -0.5);
  const w = g.initializer(`${prefix}.weight`, weight, [inDim, outDim]);
  const y = g.op('MatMul', [x, w]);
  if (options.bias === false) return y;
  const b = g.initializer(`${prefix}.bias`, options.biasData ?? new Float32Array(outDim), [outDim]);
  return g.op('Add', [y, b]);
}

/** LayerNormalization over the last axis (opset 17), scale 1 and bias 0 unless given. */
export function layerNorm(g: GraphBuilder, x: string, dim: number, prefix: string, options: { eps?: number; scale?: Float32Array; bias?: Float32Array } = {}): string {
  const scale = g.initializer(`${prefix}.weight`, options.scale ?? new Float32Array(dim).fill(1), [dim]);
  const bias = g.initializer(`${prefix}.bias`, options.bias ?? new Float32Array(dim), [dim]);
  return g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: floatAttr(options.eps ?? 1e-5) });
}

/** CLIP's activation: x · sigmoid(1.702 x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  const scaled = g.op('Mul', [x, g.floats(1.702)]);
  return g.op('Mul', [x, g.op('Sigmoid', [scaled])]);
}

/** Additive causal mask [L, L]: 0 on and below the diagonal, a large negative above. */
export function causalMask(length: number): Float32Array {
  const mask = new Float32Array(length * length);
  // -1e4 rather than -inf: exp underflows to exactly 0 all the same, and the value survives a
  // conversion of the graph to float16 (max 65504) without turning into NaN-producing infinities.
  for (let i = 0; i < length; i++) for (let j = i + 1; j < length; j++) mask[i * length + j] = -1e4;
  return mask;
}

export interface AttentionOptions {
  width: number;
  heads: number;
  /** Sequence length; needed only for the causal mask. */
  causalLength?: number;
  /** Std of the q/k/v init (default width^-0.5) and of the output projection. */
  std?: number;
  outStd?: number;
  /**
   * An additive per-key bias broadcastable to the scores [N,H,L,L], e.g. [N,1,1,L] with 0 for
   * real tokens and a large negative for padding (an attention mask turned into a bias).
   */
  keyBias?: string;
}

/**
 * Multi-head self-attention: separate q, k, v projections (same parameter count as CLIP's packed
 * in_proj), softmax(q·kᵀ/√d + mask)·v, output projection.
 */
export function selfAttention(g: GraphBuilder, x: string, prefix: string, rng: WeightSource, options: AttentionOptions): string {
  const { width, heads } = options;
  if (width % heads !== 0) throw new Error(`width ${width} is not divisible by ${heads} heads`);
  const headDim = width / heads;
  const std = options.std ?? width ** -0.5;
  const q = linear(g, x, width, width, `${prefix}.q_proj`, rng, { std });
  const k = linear(g, x, width, width, `${prefix}.k_proj`, rng, { std });
  const v = linear(g, x, width, width, `${prefix}.v_proj`, rng, { std });
  const split = g.int64s([0, -1, heads, headDim]);
  const heads4 = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, split])], { perm });
  const qh = heads4(g.op('Mul', [q, g.floats(headDim ** -0.5)]), [0, 2, 1, 3]); // [N,H,L,D]
  const kt = heads4(k, [0, 2, 3, 1]); // [N,H,D,L]
  const vh = heads4(v, [0, 2, 1, 3]); // [N,H,L,D]
  let scores = g.op('MatMul', [qh, kt]); // [N,H,L,L]
  if (options.causalLength) {
    const L = options.causalLength;
    scores = g.op('Add', [scores, g.constant(causalMask(L), [L, L], 'causal_mask')]);
  }
  if (options.keyBias) scores = g.op('Add', [scores, options.keyBias]);
  const attn = g.op('Softmax', [scores], { axis: -1 });
  const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, vh])], { perm: [0, 2, 1, 3] }), g.int64s([0, -1, width])]);
  return linear(g, merged, width, width, `${prefix}.out_proj`, rng, { std: options.outStd ?? std });
}

/** c_fc (width→4·width), QuickGELU, c_proj (4·width→width). */
export function mlp(g: GraphBuilder, x: string, width: number, prefix: string, rng: WeightSource, options: { fcStd?: number; projStd?: number } = {}): string {
  const h = linear(g, x, width, 4 * width, `${prefix}.c_fc`, rng, { std: options.fcStd ?? (2 * width) ** -0.5 });
  return linear(g, quickGelu(g, h), 4 * width, width, `${prefix}.c_proj`, rng, { std: options.projStd ?? (4 * width) ** -0.5 });
}

export interface TransformerOptions {
  width: number;
  layers: number;
  heads: number;
  causalLength?: number;
  /** Passed to every attention layer (see AttentionOptions.keyBias). */
  keyBias?: string;
}

/** Pre-LN residual blocks: x += attn(ln_1(x)); x += mlp(ln_2(x)). CLIP's init scales. */
export function transformer(g: GraphBuilder, x: string, prefix: string, rng: WeightSource, options: TransformerOptions): string {
  const { width, layers, heads } = options;
  const attnStd = width ** -0.5;
  const projStd = width ** -0.5 * (2 * layers) ** -0.5;
  const fcStd = (2 * width) ** -0.5;
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.resblocks.${i}`;
    const a = selfAttention(g, layerNorm(g, x, width, `${p}.ln_1`), `${p}.attn`, rng, { width, heads, causalLength: options.causalLength, keyBias: options.keyBias, std: attnStd, outStd: projStd });
    x = g.op('Add', [x, a]);
    const m = mlp(g, layerNorm(g, x, width, `${p}.ln_2`), width, `${p}.mlp`, rng, { fcStd, projStd });
    x = g.op('Add', [x, m]);
  }
  return x;
}

/** Parameters of one residual block: attention 4W²+4W, MLP 8W²+5W, two LayerNorms 4W. */
export function blockParameters(width: number): number {
  return 12 * width * width + 13 * width;
}
