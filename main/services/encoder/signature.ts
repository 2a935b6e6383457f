/**
 * Checks a loaded graph's own signature (input/output names, element types, shapes) against what
 * the model's manifest entry states, and works out exactly how to feed it. Pure, so every rule is
 * unit-testable without ONNX Runtime; the engine passes in what the session reports.
 *
 * Rules: a name the entry states must exist in the graph; a name it leaves out is taken from the
 * graph (the CLIP default when present, else the one candidate; several candidates is an error).
 * A stated id dtype or batch must equal the graph's; an unstated one is the graph's. The image
 * input's spatial size must equal preprocess.size, the text input's length the context length, the
 * output's last dimension the entry's dim. Every mismatch is collected into one error that says
 * what was expected and what was found, because a manifest fix usually needs all of them at once.
 */
import { CLIP_IO, type ModelIo } from '../../core/model-spec.ts';
import type { Tower } from './protocol.ts';

/** One graph input or output as ONNX Runtime reports it. */
export interface GraphValue {
  name: string;
  /** 'float32', 'int64', … or 'unknown' when the runtime gives no metadata. */
  type: string;
  /** null when unknown; a string entry is a symbolic (dynamic) dimension. */
  shape: readonly (number | string)[] | null;
}

export interface GraphSignature {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

/** What the manifest says about a model, split into what it stated and what it defaulted. */
export interface StatedSignature {
  /** Only the fields the entry states explicitly (missing key = "take it from the graph"). */
  stated: Partial<ModelIo>;
  dim: number;
  imageSize: number;
  contextLength: number;
}

export type MaskType = 'int32' | 'int64' | 'float32' | 'bool';

/** How to feed and read one tower, as decided at load. */
export interface TowerPlan {
  tower: Tower;
  input: string;
  /** float32 for the image tower; the declared id type for the text tower. */
  inputType: 'float32' | 'int32' | 'int64';
  /** The attention-mask input of a text graph, and the element type it declares. */
  mask: string | null;
  maskType: MaskType | null;
  output: string;
  outputType: 'float32' | 'float16';
  /** The graph's fixed batch size, or null when the batch dimension is dynamic. */
  batch: number | null;
}

/** Thrown with every mismatch listed, one per line. */
export class SignatureMismatch extends Error {
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(`${where} does not match its manifest entry:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix the model's "io"/"preprocess"/"tokens"/"dim" in the manifest, or re-import the model.`);
    this.name = 'SignatureMismatch';
  }
}

/** "pixel_values float32 [N,3,224,224]" — how a value is named in messages. */
export function describeValue(v: GraphValue): string {
  return `${v.name} ${v.type}${v.shape ? ` [${v.shape.join(',')}]` : ''}`;
}

function describeAll(values: GraphValue[]): string {
  return values.length ? values.map(describeValue).join('; ') : 'none';
}

/**
 * Picks a value by name: the stated name must exist; otherwise the CLIP default if present, else
 * the single candidate. Returns null after recording a problem.
 */
function pick(
  values: GraphValue[],
  role: string,
  statedName: string | undefined,
  defaultName: string,
  candidates: (v: GraphValue) => boolean,
  problems: string[],
): GraphValue | null {
  if (statedName !== undefined) {
    const hit = values.find((v) => v.name === statedName);
    if (!hit) problems.push(`${role}: expected "${statedName}" (stated), found ${describeAll(values)}`);
    return hit ?? null;
  }
  const byDefault = values.find((v) => v.name === defaultName);
  if (byDefault) return byDefault;
  const fits = values.filter(candidates);
  if (fits.length === 1) return fits[0]!;
  const embeds = fits.filter((v) => /embed/i.test(v.name));
  if (embeds.length === 1) return embeds[0]!;
  problems.push(
    fits.length === 0
      ? `${role}: not stated, and the graph has no "${defaultName}" nor any other candidate (found ${describeAll(values)})`
      : `${role}: not stated, and the graph has several candidates (${describeAll(fits)}); state the name in "io"`,
  );
  return null;
}

function fixedDim(d: number | string | undefined): number | null {
  return typeof d === 'number' && d > 0 ? d : null;
}

const batchText = (b: number | null) => (b === null ? 'dynamic' : String(b));

function checkBatch(role: string, value: GraphValue, stated: number | null | undefined, statedKey: string, problems: string[]): number | null {
  const graph = value.shape ? fixedDim(value.shape[0]) : null;
  if (stated === undefined) return graph;
  // Unknown metadata: trust the entry rather than guessing.
  if (value.shape === null) return stated;
  if (stated !== graph) problems.push(`${role} batch: expected ${batchText(stated)} (${statedKey}), found ${batchText(graph)} in ${describeValue(value)}`);
  return graph;
}

function checkOutput(role: string, value: GraphValue, dim: number, problems: string[]): 'float32' | 'float16' {
  if (value.type !== 'float32' && value.type !== 'float16' && value.type !== 'unknown') {
    problems.push(`${role}: expected float32 vectors, found ${describeValue(value)}`);
  }
  const last = value.shape?.length ? fixedDim(value.shape[value.shape.length - 1]) : null;
  if (last !== null && last !== dim) problems.push(`${role}: expected ${dim}-d vectors (dim), found ${last}-d in ${describeValue(value)}`);
  if (value.shape && value.shape.length !== 2) problems.push(`${role}: expected shape [batch, ${dim}], found ${describeValue(value)}`);
  return value.type === 'float16' ? 'float16' : 'float32';
}

const isFloat = (v: GraphValue) => v.type.startsWith('float') || v.type === 'unknown';
const isInt = (v: GraphValue) => v.type.startsWith('int') || v.type === 'unknown';
const isMask = (v: GraphValue) => /mask/i.test(v.name);

/** The plan for one tower, or a SignatureMismatch naming every problem. `where` starts the message. */
export function planTower(tower: Tower, graph: GraphSignature, spec: StatedSignature, where: string): TowerPlan {
  const problems: string[] = [];
  const s = spec.stated;
  if (tower === 'image') {
    const input = pick(graph.inputs, 'image input', s.imageInput, CLIP_IO.imageInput, (v) => isFloat(v) && (v.shape?.length ?? 4) === 4, problems);
    const output = pick(graph.outputs, 'image output', s.imageOutput, CLIP_IO.imageOutput, (v) => isFloat(v) && (v.shape?.length ?? 2) === 2, problems);
    let batch: number | null = null;
    if (input) {
      if (input.type !== 'float32' && input.type !== 'unknown') problems.push(`image input: expected float32 pixels, found ${describeValue(input)}`);
      const shape = input.shape;
      if (shape && shape.length !== 4) problems.push(`image input: expected [batch, 3, ${spec.imageSize}, ${spec.imageSize}], found ${describeValue(input)}`);
      else if (shape) {
        const c = fixedDim(shape[1]);
        if (c !== null && c !== 3) problems.push(`image input: expected 3 colour channels, found ${c} in ${describeValue(input)}`);
        const [h, w] = [fixedDim(shape[2]), fixedDim(shape[3])];
        if ((h !== null && h !== spec.imageSize) || (w !== null && w !== spec.imageSize)) {
          problems.push(`image input: expected ${spec.imageSize}×${spec.imageSize} pixels (preprocess.size), found ${h ?? '?'}×${w ?? '?'} in ${describeValue(input)}`);
        }
      }
      batch = checkBatch('image input', input, s.imageBatch, 'io.imageBatch', problems);
    }
    const others = graph.inputs.filter((v) => v !== input);
    if (input && others.length > 0) problems.push(`image inputs: the app feeds only ${input.name}, but the graph also needs ${describeAll(others)}`);
    const outputType = output ? checkOutput('image output', output, spec.dim, problems) : 'float32';
    if (problems.length || !input || !output) throw new SignatureMismatch(where, problems);
    return { tower, input: input.name, inputType: 'float32', mask: null, maskType: null, output: output.name, outputType, batch };
  }

  const input = pick(graph.inputs, 'text input', s.textInput, CLIP_IO.textInput, (v) => isInt(v) && !isMask(v) && (v.shape?.length ?? 2) === 2, problems);
  const output = pick(graph.outputs, 'text output', s.textOutput, CLIP_IO.textOutput, (v) => isFloat(v) && (v.shape?.length ?? 2) === 2, problems);
  let mask: GraphValue | null = null;
  if (s.textMask !== undefined) {
    if (s.textMask === null) {
      const extra = graph.inputs.filter((v) => v !== input && isMask(v));
      if (extra.length) problems.push(`text mask: expected none (io.textMask is null), found ${describeAll(extra)}`);
    } else {
      mask = graph.inputs.find((v) => v.name === s.textMask) ?? null;
      if (!mask) problems.push(`text mask: expected "${s.textMask}" (stated), found ${describeAll(graph.inputs)}`);
    }
  } else {
    const masks = graph.inputs.filter((v) => v !== input && isMask(v));
    if (masks.length > 1) problems.push(`text mask: not stated, and the graph has several (${describeAll(masks)}); state io.textMask`);
    else mask = masks[0] ?? null;
  }
  let inputType: 'int32' | 'int64' = s.textIds ?? CLIP_IO.textIds;
  let batch: number | null = null;
  if (input) {
    const declared = input.type === 'int32' || input.type === 'int64' ? input.type : null;
    if (declared === null && input.type !== 'unknown') problems.push(`text input: expected int32 or int64 token ids, found ${describeValue(input)}`);
    if (declared !== null) {
      if (s.textIds !== undefined && s.textIds !== declared) problems.push(`text ids: expected ${s.textIds} (io.textIds), found ${describeValue(input)}`);
      inputType = declared;
    }
    const shape = input.shape;
    if (shape && shape.length !== 2) problems.push(`text input: expected [batch, ${spec.contextLength}], found ${describeValue(input)}`);
    else if (shape) {
      const length = fixedDim(shape[1]);
      if (length !== null && length !== spec.contextLength) {
        problems.push(`text input: expected ${spec.contextLength} tokens per row (tokens.contextLength), found ${length} in ${describeValue(input)}`);
      }
    }
    batch = checkBatch('text input', input, s.textBatch, 'io.textBatch', problems);
  }
  let maskType: MaskType | null = null;
  if (mask) {
    const t = mask.type === 'unknown' ? inputType : mask.type;
    if (t === 'int32' || t === 'int64' || t === 'float32' || t === 'bool') maskType = t;
    else problems.push(`text mask: expected an int32, int64, float32 or bool mask, found ${describeValue(mask)}`);
  }
  const fed = new Set([input, mask]);
  const others = graph.inputs.filter((v) => !fed.has(v));
  if (input && others.length > 0) {
    problems.push(`text inputs: the app feeds ${[input, mask].filter(Boolean).map((v) => v!.name).join(' and ')}, but the graph also needs ${describeAll(others)}`);
  }
  const outputType = output ? checkOutput('text output', output, spec.dim, problems) : 'float32';
  if (problems.length || !input || !output) throw new SignatureMismatch(where, problems);
  return { tower, input: input.name, inputType, mask: mask?.name ?? null, maskType, output: output.name, outputType, batch };
}

/**
 * What an entry states explicitly: its own `io` fields, plus any resolved field that differs from
 * the CLIP default (callers that build a ResolvedModel by hand state things that way).
 */
export function statedIo(resolved: ModelIo, entryIo: Partial<ModelIo> | undefined): Partial<ModelIo> {
  const stated: Partial<ModelIo> = {};
  for (const key of Object.keys(CLIP_IO) as (keyof ModelIo)[]) {
    if (entryIo && Object.prototype.hasOwnProperty.call(entryIo, key) && entryIo[key] !== undefined) {
      (stated as Record<string, unknown>)[key] = resolved[key];
    } else if (resolved[key] !== CLIP_IO[key]) {
      (stated as Record<string, unknown>)[key] = resolved[key];
    }
  }
  return stated;
}
