/**
 * CLIP-shaped encoders with seeded random weights: same graph structure, inputs, outputs and
 * parameter counts as OpenAI CLIP's towers, so speed, size and compression measurements on them
 * carry over to real exports. They search nothing meaningful.
 */
import { GraphBuilder } from './builder.ts';
import { blockParameters, layerNorm, transformer } from './layers.ts';
import type { ModelProto } from './proto.ts';
import { SeededRandom, ZERO_WEIGHTS } from './random.ts';

/**
 * The graph's signature where it differs from the common CLIP export — what real exports vary in
 * (Immich's fixed batch 1, int32 ids, an attention mask, custom names, outputs normalised in the
 * graph), so tests and model twins can have them. Every field defaults to the CLIP export.
 */
export interface TowerSignature {
  /** Input name (default pixel_values / input_ids). */
  inputName?: string;
  /** Output name (default image_embeds / text_embeds). */
  outputName?: string;
  /** A fixed batch size (e.g. 1), or a symbolic name for a dynamic one (default 'N'). */
  batch?: number | string;
  /** L2-normalise the output inside the graph (default false). */
  normalise?: boolean;
}

export interface ImageTowerConfig extends TowerSignature {
  /** 'zeros' skips random init: same graph and sizes, for shape checks (default 'random'). */
  weights?: 'random' | 'zeros';
  width: number;
  layers: number;
  heads: number;
  patch: number;
  imageSize?: number;
  embedDim: number;
  seed: number;
}

export interface TextTowerConfig extends TowerSignature {
  /** Element type of the token-id input (default int64). */
  idType?: 'int32' | 'int64';
  /**
   * Adds an attention-mask input of this name ([batch, context], 1 = real token, 0 = padding)
   * that masks padded keys in every attention layer, as Hugging Face's CLIP text model does.
   */
  attentionMask?: string;
  /** Element type of the mask input (default: idType). */
  maskType?: 'int32' | 'int64' | 'float32';
  /** 'zeros' skips random init: same graph and sizes, for shape checks (default 'random'). */
  weights?: 'random' | 'zeros';
  width: number;
  layers: number;
  heads: number;
  vocab?: number;
  context?: number;
  embedDim: number;
  seed: number;
  /**
   * Factorise the token embedding as [vocab, rank]·[rank, width]. Only for tiny test models, whose
   * full 49408×width table would dominate the file; real CLIP has no such factorisation.
   */
  tokenEmbedRank?: number;
}

export const CLIP_VOCAB_SIZE = 49408;
export const CLIP_CONTEXT = 77;
const OPSET = 17;

/** ViT image encoder: pixel_values float32 [N,3,S,S] → image_embeds float32 [N,embedDim]. */
export function buildImageTower(cfg: ImageTowerConfig): ModelProto {
  const { width: W, layers, heads, patch, embedDim } = cfg;
  const size = cfg.imageSize ?? 224;
  if (size % patch !== 0) throw new Error(`image size ${size} is not a multiple of patch ${patch}`);
  const grid = size / patch;
  const tokens = grid * grid + 1;
  const rng = cfg.weights === 'zeros' ? ZERO_WEIGHTS : new SeededRandom(cfg.seed);
  const g = new GraphBuilder();
  const N = cfg.batch ?? 'N';
  const pixels = g.input(cfg.inputName ?? 'pixel_values', 'float32', [N, 3, size, size]);
  const scale = W ** -0.5;

  const conv = g.initializer('visual.conv1.weight', rng.normals(W * 3 * patch * patch, (3 * patch * patch) ** -0.5), [W, 3, patch, patch]);
  const patches = g.op('Conv', [pixels, conv], { kernel_shape: [patch, patch], strides: [patch, patch] }); // [N,W,g,g]
  const seq = g.op('Transpose', [g.op('Reshape', [patches, g.int64s([0, W, -1])])], { perm: [0, 2, 1] }); // [N,g²,W]

  // The class token is one learned vector repeated over the batch, whose size is only known at run time.
  const classEmb = g.initializer('visual.class_embedding', rng.normals(W, scale), [W]);
  const batch = g.op('Shape', [pixels], { start: 0, end: 1 });
  const clsShape = g.op('Concat', [batch, g.int64s([1, W])], { axis: 0 });
  const cls = g.op('Expand', [g.op('Reshape', [classEmb, g.int64s([1, 1, W])]), clsShape]);
  let x = g.op('Concat', [cls, seq], { axis: 1 }); // [N,tokens,W]
  const pos = g.initializer('visual.positional_embedding', rng.normals(tokens * W, scale), [tokens, W]);
  x = g.op('Add', [x, pos]);
  x = layerNorm(g, x, W, 'visual.ln_pre');
  x = transformer(g, x, 'visual.transformer', rng, { width: W, layers, heads });
  const clsOut = g.op('Gather', [x, g.int64s([0], [])], { axis: 1 }); // [N,W]
  const normed = layerNorm(g, clsOut, W, 'visual.ln_post');
  const proj = g.initializer('visual.proj', rng.normals(W * embedDim, scale), [W, embedDim]);
  const embeds = maybeNormalise(g, g.op('MatMul', [normed, proj]), cfg.normalise);
  g.output(embeds, cfg.outputName ?? 'image_embeds', 'float32', [N, embedDim]);
  return g.toModel({ opset: OPSET, producer: 'leanlens', docString: `CLIP-shaped ViT image encoder ${JSON.stringify(cfg)}` });
}

/** Causal text encoder: input_ids int64 [N,77] → text_embeds float32 [N,embedDim]. */
export function buildTextTower(cfg: TextTowerConfig): ModelProto {
  const { width: W, layers, heads, embedDim } = cfg;
  const vocab = cfg.vocab ?? CLIP_VOCAB_SIZE;
  const context = cfg.context ?? CLIP_CONTEXT;
  const rng = cfg.weights === 'zeros' ? ZERO_WEIGHTS : new SeededRandom(cfg.seed);
  const g = new GraphBuilder();
  const N = cfg.batch ?? 'N';
  const ids = g.input(cfg.inputName ?? 'input_ids', cfg.idType ?? 'int64', [N, context]);
  let keyBias: string | undefined;
  if (cfg.attentionMask) {
    const mask = g.input(cfg.attentionMask, cfg.maskType ?? cfg.idType ?? 'int64', [N, context]);
    // (mask - 1) · 1e4: 0 for real tokens, -1e4 for padding, shaped [N,1,1,L] to bias every query's scores.
    const bias = g.op('Mul', [g.op('Sub', [g.op('Cast', [mask], { to: 1 }), g.floats(1)]), g.floats(1e4)]);
    keyBias = g.op('Reshape', [bias, g.int64s([0, 1, 1, -1])]);
  }

  let x: string;
  if (cfg.tokenEmbedRank) {
    const r = cfg.tokenEmbedRank;
    const table = g.initializer('token_embedding.weight', rng.normals(vocab * r, 0.02 * (W / r) ** 0.5), [vocab, r]);
    const up = g.initializer('token_embedding.up', rng.normals(r * W, r ** -0.5), [r, W]);
    x = g.op('MatMul', [g.op('Gather', [table, ids], { axis: 0 }), up]);
  } else {
    const table = g.initializer('token_embedding.weight', rng.normals(vocab * W, 0.02), [vocab, W]);
    x = g.op('Gather', [table, ids], { axis: 0 }); // [N,77,W]
  }
  const pos = g.initializer('positional_embedding', rng.normals(context * W, 0.01), [context, W]);
  x = g.op('Add', [x, pos]);
  x = transformer(g, x, 'transformer', rng, { width: W, layers, heads, causalLength: context, keyBias });
  x = layerNorm(g, x, W, 'ln_final');
  // CLIP reads the features at the end-of-text token, found as argmax(ids): 49407 is the largest id.
  const eot = g.op('ArgMax', [ids], { axis: 1, keepdims: 1 }); // [N,1]
  const pooled = g.op('GatherND', [x, eot], { batch_dims: 1 }); // [N,W]
  const proj = g.initializer('text_projection', rng.normals(W * embedDim, W ** -0.5), [W, embedDim]);
  g.output(maybeNormalise(g, g.op('MatMul', [pooled, proj]), cfg.normalise), cfg.outputName ?? 'text_embeds', 'float32', [N, embedDim]);
  return g.toModel({ opset: OPSET, producer: 'leanlens', docString: `CLIP-shaped text encoder ${JSON.stringify(cfg)}` });
}

/** x / ‖x‖ over the last axis when asked (as exports that end in a normalisation do). */
function maybeNormalise(g: GraphBuilder, x: string, normalise: boolean | undefined): string {
  if (!normalise) return x;
  return g.op('Div', [x, g.op('ReduceL2', [x], { axes: [-1], keepdims: 1 })]);
}

/** Exact parameter count of buildImageTower (matches CLIP: ViT-B/32 → 87,849,216). */
export function imageTowerParameters(cfg: Omit<ImageTowerConfig, 'seed'>): number {
  const { width: W, layers, patch, embedDim } = cfg;
  const grid = (cfg.imageSize ?? 224) / patch;
  return W * 3 * patch * patch + W + (grid * grid + 1) * W + 2 * W + layers * blockParameters(W) + 2 * W + W * embedDim;
}

/** Exact parameter count of buildTextTower (matches CLIP: ViT-B/32's text side → 63,428,096). */
export function textTowerParameters(cfg: Omit<TextTowerConfig, 'seed'>): number {
  const { width: W, layers, embedDim } = cfg;
  const vocab = cfg.vocab ?? CLIP_VOCAB_SIZE;
  const context = cfg.context ?? CLIP_CONTEXT;
  const tokens = cfg.tokenEmbedRank ? vocab * cfg.tokenEmbedRank + cfg.tokenEmbedRank * W : vocab * W;
  return tokens + context * W + layers * blockParameters(W) + 2 * W + W * embedDim;
}
