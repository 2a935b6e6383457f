/**
 * Pure rules for importing a user's own ONNX pair: which file is the image tower and which the
 * text tower, which graph inputs/outputs play which role, and what id the model gets.
 */
import type { ModelIo } from '../../core/model-spec.ts';

const IMAGE_WORDS = /image|vision|visual|img|pixel/i;
const TEXT_WORDS = /text|txt|token/i;

/** Picks the image and text files among a folder's .onnx file names; throws saying what is ambiguous. */
export function pickPair(names: string[], folder = 'the folder'): { image: string; text: string } {
  const onnx = names.filter((n) => n.toLowerCase().endsWith('.onnx'));
  if (onnx.length === 0) throw new Error(`No .onnx files in ${folder}. Put the image and text encoder .onnx files there.`);
  const image = onnx.filter((n) => IMAGE_WORDS.test(n) && !TEXT_WORDS.test(n));
  const text = onnx.filter((n) => TEXT_WORDS.test(n) && !IMAGE_WORDS.test(n));
  if (image.length === 1 && text.length === 1) return { image: image[0], text: text[0] };
  const found = `found: ${onnx.join(', ')}`;
  if (image.length > 1 || text.length > 1) {
    throw new Error(`${folder} holds more than one image or text encoder (${found}); keep exactly one pair in the folder.`);
  }
  throw new Error(
    `Cannot tell the image encoder from the text encoder in ${folder} (${found}). Name them so one contains "image" or "vision" and the other "text".`,
  );
}

export interface GraphValue {
  name: string;
  /** 'float32', 'int64', … ('unknown' when the runtime does not say). */
  type: string;
  shape: (number | string)[] | null;
}

export interface GraphSummary {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

function prefer(values: GraphValue[], names: string[], fallback: (v: GraphValue) => boolean): GraphValue | undefined {
  for (const n of names) {
    const hit = values.find((v) => v.name === n);
    if (hit) return hit;
  }
  const embed = values.filter((v) => /embed/i.test(v.name) && fallback(v));
  if (embed.length === 1) return embed[0];
  const rest = values.filter(fallback);
  return rest.length === 1 ? rest[0] : undefined;
}

const isFloat = (v: GraphValue) => v.type.startsWith('float');
const isInt = (v: GraphValue) => v.type.startsWith('int');
const rank = (v: GraphValue, r: number) => v.shape === null || v.shape.length === r;

/** Works out the io names of an imported pair from the graphs; throws naming what did not fit. */
export function inferIo(image: GraphSummary, text: GraphSummary, files: { image: string; text: string }): ModelIo {
  const imageInput = prefer(image.inputs, ['pixel_values', 'image', 'input'], (v) => isFloat(v) && rank(v, 4));
  const imageOutput = prefer(image.outputs, ['image_embeds', 'image_features', 'embeddings'], (v) => isFloat(v) && rank(v, 2));
  const textInput = prefer(text.inputs, ['input_ids', 'text', 'input'], (v) => isInt(v) && rank(v, 2) && !/mask/i.test(v.name));
  const textMask = text.inputs.find((v) => /mask/i.test(v.name) && v !== textInput) ?? null;
  const textOutput = prefer(text.outputs, ['text_embeds', 'text_features', 'embeddings'], (v) => isFloat(v) && rank(v, 2));
  const describe = (g: GraphSummary) =>
    `inputs [${g.inputs.map((v) => `${v.name}:${v.type}`).join(', ')}], outputs [${g.outputs.map((v) => `${v.name}:${v.type}`).join(', ')}]`;
  if (!imageInput || !imageOutput) {
    throw new Error(
      `${files.image} does not look like a CLIP image encoder (${describe(image)}): it needs one float input [batch, 3, H, W] and one float output [batch, dim].`,
    );
  }
  if (!textInput || !textOutput) {
    throw new Error(
      `${files.text} does not look like a CLIP text encoder (${describe(text)}): it needs an integer input [batch, 77] of token ids and one float output [batch, dim].`,
    );
  }
  const known = new Set([textInput.name, textMask?.name]);
  const extra = text.inputs.filter((v) => !known.has(v.name));
  if (extra.length > 0 || image.inputs.length !== 1) {
    throw new Error(
      `Unsupported encoder inputs: image ${describe(image)}; text ${describe(text)}. LeanLens feeds only pixels to the image encoder and token ids (and an optional attention mask) to the text encoder.`,
    );
  }
  return {
    imageInput: imageInput.name,
    imageOutput: imageOutput.name,
    textInput: textInput.name,
    textMask: textMask?.name ?? null,
    textOutput: textOutput.name,
    textIds: textInput.type === 'int32' ? 'int32' : 'int64',
    imageBatch: fixedBatch(imageInput),
    textBatch: fixedBatch(textInput),
    // The graph does not say; the app normalises either way, so assuming "not" is always safe.
    normalised: false,
  };
}

/** The first dimension when the graph fixes it (e.g. 1), null when it is symbolic. */
function fixedBatch(v: GraphValue): number | null {
  const b = v.shape?.[0];
  return typeof b === 'number' && b > 0 ? b : null;
}

/** A manifest id from a folder name: lower-case words joined by '-', unique among `taken`. */
export function modelIdFrom(folderName: string, taken: (id: string) => boolean): string {
  const base =
    folderName
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 60) || 'imported-model';
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}-${i}`)) return `${base}-${i}`;
}
