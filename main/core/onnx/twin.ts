/**
 * Signature twins: tiny random-weight encoders with exactly the inputs, outputs, dtypes, shapes
 * (fixed batch included) and output normalisation of a real catalog model. No weights of the real
 * models can be fetched where the tests run, so everything that depends on a model's *signature*
 * (import, download, verification, feeding the encoder, indexing, search, the lab) is proven on
 * its twin instead. What a twin cannot prove is search quality: its weights are random.
 *
 * A twin is built as a small CLIP-shaped tower (clip.ts, unchanged) and then rewired by
 * `withSignature`: rename the graph's input and output, cast int32 token ids to the int64 the
 * tower uses inside, fix the batch dimension, and append an L2 normalisation when the real graph
 * has one. Rewiring rather than new tower options keeps clip.ts untouched (others extend it).
 */
import { resolveSettings, type ManifestEntry } from '../model-spec.ts';
import { buildImageTower, buildTextTower } from './clip.ts';
import { AttributeType, DataType, type ModelProto, type NodeProto, type ValueInfoProto } from './proto.ts';

/** The signature of one tower: what a caller must feed and what it gets back. */
export interface TowerSignature {
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
  image: TowerSignature;
  text: TowerSignature;
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
  const image = buildImageTower({ width, layers, heads, patch, imageSize: sig.imageSize, embedDim: sig.dim, seed });
  const text = buildTextTower({ width, layers, heads, embedDim: sig.dim, context: sig.context, tokenEmbedRank, seed: seed + 1 });
  return {
    image: withSignature(image, sig.image, `${label} image encoder`),
    text: withSignature(text, sig.text, `${label} text encoder`),
  };
}

/**
 * Rewires a one-input, one-output model to `sig`. The model's own input and output names become
 * internal values; new graph inputs/outputs with the wanted names, types and shapes wrap them.
 */
export function withSignature(model: ModelProto, sig: TowerSignature, docString?: string): ModelProto {
  const graph = model.graph;
  if (!graph?.input?.length || graph.input.length !== 1 || graph.output?.length !== 1) {
    throw new Error('withSignature expects a graph with one input and one output');
  }
  const nodes: NodeProto[] = [...(graph.node ?? [])];
  const taken = new Set<string>([...nodes.flatMap((n) => [...(n.input ?? []), ...(n.output ?? [])]), ...(graph.initializer ?? []).map((t) => t.name ?? '')]);
  const [oldIn] = graph.input;
  const [oldOut] = graph.output;
  for (const name of [sig.input, sig.output, sig.mask ?? null]) {
    if (name && name !== oldIn!.name && name !== oldOut!.name && taken.has(name)) throw new Error(`twin name ${name} collides with a value inside the graph`);
  }
  const inType = oldIn!.type?.tensorType;
  const inDims = [...(inType?.shape?.dim ?? [])];
  const outDims = [...(oldOut!.type?.tensorType?.shape?.dim ?? [])];
  if (sig.batch !== null) {
    inDims[0] = { dimValue: sig.batch };
    outDims[0] = { dimValue: sig.batch };
  }
  const typeCode = { float32: DataType.FLOAT, int32: DataType.INT32, int64: DataType.INT64 }[sig.inputType];
  const internalIn = `${oldIn!.name}__internal`;
  const rename = (from: string, to: string) => {
    for (const n of nodes) {
      n.input = n.input?.map((i) => (i === from ? to : i));
      n.output = n.output?.map((o) => (o === from ? to : o));
    }
  };

  // Input: the tower reads `internalIn`; a Cast (ids int32 → int64) or Identity feeds it.
  rename(oldIn!.name, internalIn);
  const castsIds = inType?.elemType !== typeCode;
  nodes.unshift(
    castsIds
      ? { opType: 'Cast', name: 'twin_cast_ids', input: [sig.input], output: [internalIn], attribute: [{ name: 'to', type: AttributeType.INT, i: inType?.elemType ?? DataType.INT64 }] }
      : { opType: 'Identity', name: 'twin_input', input: [sig.input], output: [internalIn] },
  );
  const inputs: ValueInfoProto[] = [info(sig.input, typeCode, inDims)];
  if (sig.mask) inputs.push(info(sig.mask, typeCode, inDims)); // accepted, unused: causal CLIP pools at the end token

  // Output: optionally divided by its L2 norm (ReduceL2 with an axes attribute: opset ≤ 17).
  const internalOut = `${oldOut!.name}__internal`;
  rename(oldOut!.name, internalOut);
  if (sig.normalised) {
    nodes.push({ opType: 'ReduceL2', name: 'twin_norm', input: [internalOut], output: ['twin_norm'], attribute: [{ name: 'axes', type: AttributeType.INTS, ints: [-1] }, { name: 'keepdims', type: AttributeType.INT, i: 1 }] });
    nodes.push({ opType: 'Div', name: 'twin_normalise', input: [internalOut, 'twin_norm'], output: [sig.output] });
  } else {
    nodes.push({ opType: 'Identity', name: 'twin_output', input: [internalOut], output: [sig.output] });
  }
  return {
    ...model,
    ...(docString ? { docString: `${docString}: random weights, signature ${JSON.stringify(sig)}` } : {}),
    graph: { ...graph, node: nodes, input: inputs, output: [info(sig.output, oldOut!.type?.tensorType?.elemType ?? DataType.FLOAT, outDims)] },
  };
}

function info(name: string, elemType: number, dims: { dimValue?: number; dimParam?: string }[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims } } } };
}
