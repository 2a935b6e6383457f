/**
 * Signature twins: tiny random-weight encoders with exactly the inputs, outputs, dtypes, shapes
 * (fixed batch included) and output normalisation of a real catalog model. No weights of the real
 * models can be fetched where the tests run, so everything that depends on a model's *signature*
 * (import, download, verification, feeding the encoder, indexing, search, the lab) is proven on
 * its twin instead. What a twin cannot prove is search quality: its weights are random.
 *
 * A twin is a small CLIP-shaped tower (clip.ts) built with the real model's signature options:
 * names, int32 or int64 ids, an attention mask, a fixed batch, an L2 normalisation in the graph.
 */
import { resolveSettings, type ManifestEntry } from '../model-spec.ts';
import { buildImageTower, buildTextTower } from './clip.ts';
import type { ModelProto } from './proto.ts';

/** The signature of one tower: what a caller must feed and what it gets back. */
export interface TwinTower {
  input: string;
  output: string;
  /** Element type of the input (image: always float32). */
  inputType: 'float32' | 'int32' | 'int64';
  /** Fixed batch size, or null for a dynamic batch. */
  batch: number | null;
  /** Whether the output rows are L2-normalised inside the graph. */
  normalised: boolean;
  /** An extra (attention mask) input of the ids' type and shape, or null. */
  mask?: string | null;
}

export interface TwinSignature {
  dim: number;
  imageSize: number;
  context: number;
  image: TwinTower;
  text: TwinTower;
}

/** The signature a manifest entry states (defaults filled in as the app resolves them). */
export function signatureOf(entry: ManifestEntry): TwinSignature {
  const { io, preprocess, tokens } = resolveSettings(entry);
  return {
    dim: entry.dim,
    imageSize: preprocess.size,
    context: tokens.contextLength,
    image: { input: io.imageInput, output: io.imageOutput, inputType: 'float32', batch: io.imageBatch, normalised: io.normalised },
    text: { input: io.textInput, output: io.textOutput, inputType: io.textIds, batch: io.textBatch, normalised: io.normalised, mask: io.textMask },
  };
}

/** Widths of the random towers: a twin of a 350 MB model is ~2 MB and loads in milliseconds. */
export const TWIN_SIZE = { width: 64, layers: 1, heads: 4, patch: 32, tokenEmbedRank: 8 } as const;

/** Builds both towers of a twin. Same signature and seed give byte-identical models. */
export function buildTwin(sig: TwinSignature, seed: number, label = 'twin'): { image: ModelProto; text: ModelProto } {
  const { width, layers, heads, patch, tokenEmbedRank } = TWIN_SIZE;
  if (sig.imageSize % patch !== 0) throw new Error(`twin image size ${sig.imageSize} is not a multiple of the patch ${patch}`);
  const tower = (t: TwinTower) => ({ inputName: t.input, outputName: t.output, batch: t.batch ?? undefined, normalise: t.normalised });
  const image = buildImageTower({ width, layers, heads, patch, imageSize: sig.imageSize, embedDim: sig.dim, seed, ...tower(sig.image) });
  const text = buildTextTower({
    width,
    layers,
    heads,
    embedDim: sig.dim,
    context: sig.context,
    tokenEmbedRank,
    seed: seed + 1,
    ...tower(sig.text),
    idType: sig.text.inputType === 'int32' ? 'int32' : 'int64',
    attentionMask: sig.text.mask ?? undefined,
  });
  image.docString = `${label} image encoder: random weights, signature ${JSON.stringify(sig.image)}`;
  text.docString = `${label} text encoder: random weights, signature ${JSON.stringify(sig.text)}`;
  return { image, text };
}
