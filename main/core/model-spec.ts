/**
 * What a model is, as `models/manifest.json` describes it: the files of its two encoders, the
 * names of their inputs and outputs, and how photos must be prepared for it. Pure types and
 * defaults; reading and verifying the manifest is the `models` service's job.
 */
import type { ModelLineage, ModelRole } from './contract.ts';

/** How a photo becomes the image encoder's input tensor (CLIP's recipe by default). */
export interface PreprocessSpec {
  /** Side of the square input, e.g. 224. */
  size: number;
  /** 'shortest': resize the shorter side to `size` (bicubic) then centre-crop; 'squash': resize both sides. */
  resize: 'shortest' | 'squash';
  mean: [number, number, number];
  std: [number, number, number];
}

export const CLIP_PREPROCESS: PreprocessSpec = {
  size: 224,
  resize: 'shortest',
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** Input/output names of the two graphs; the defaults are the common CLIP ONNX export signature. */
export interface ModelIo {
  imageInput: string;
  imageOutput: string;
  textInput: string;
  /** Name of an optional int64 attention-mask input, or null when the graph has none. */
  textMask: string | null;
  textOutput: string;
}

export const CLIP_IO: ModelIo = {
  imageInput: 'pixel_values',
  imageOutput: 'image_embeds',
  textInput: 'input_ids',
  textMask: null,
  textOutput: 'text_embeds',
};

/** Token sequence length of CLIP's text encoder. */
export const CONTEXT_LENGTH = 77;

export interface ModelFile {
  /** Relative to the folder holding the manifest that lists it. */
  file: string;
  bytes: number;
  sha256: string;
  /** Where to fetch it from when not installed (https). */
  url?: string;
}

/** One entry of `models/manifest.json`. */
export interface ManifestEntry {
  id: string;
  name: string;
  role: ModelRole;
  description?: string;
  dim: number;
  image: ModelFile;
  text: ModelFile;
  io?: Partial<ModelIo>;
  preprocess?: Partial<PreprocessSpec>;
  /** CLIP's learned temperature; scores are shown as cosines, this is kept for the lab's recall maths. */
  logitScale?: number;
  licence?: string;
  lineage?: ModelLineage | null;
  /** Test and benchmark models are hidden from the model picker unless asked for. */
  hidden?: boolean;
}

export interface Manifest {
  version: 1;
  models: ManifestEntry[];
}

/** A manifest entry resolved to absolute file paths and complete settings, ready to load. */
export interface ResolvedModel {
  id: string;
  dim: number;
  imagePath: string;
  textPath: string;
  io: ModelIo;
  preprocess: PreprocessSpec;
  entry: ManifestEntry;
}

export function resolveSettings(entry: ManifestEntry): { io: ModelIo; preprocess: PreprocessSpec } {
  return {
    io: { ...CLIP_IO, ...entry.io },
    preprocess: { ...CLIP_PREPROCESS, ...entry.preprocess },
  };
}
