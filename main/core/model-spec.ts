/**
 * What a model is, as `models/manifest.json` describes it: the files of its two encoders, the
 * names of their inputs and outputs, and how photos must be prepared for it. Pure types and
 * defaults; reading and verifying the manifest is the `models` service's job.
 */
import type { ModelLineage, ModelRole } from './contract.ts';

/**
 * How a photo becomes the image encoder's input tensor (OpenAI CLIP's recipe by default). Each
 * family's reference pipeline differs here, and a model fed another family's tensor searches
 * badly without any error, so every field is stated per model.
 */
export interface PreprocessSpec {
  /** Side of the square input, e.g. 224. */
  size: number;
  /**
   * 'shortest': resize the shorter side to `size`, then centre-crop (OpenAI CLIP, torchvision's
   * Resize+CenterCrop rounding); 'cover': scale so the image covers `size`×`size` (each side
   * rounded to nearest, as Ente does), then centre-crop (MobileCLIP / Ente); 'squash': resize both
   * sides to `size`. `resizePlan` in core/preprocess.ts has the exact arithmetic.
   */
  resize: 'shortest' | 'cover' | 'squash';
  /** Resampling filter of the reference pipeline (PIL's names). */
  interpolation: 'bicubic' | 'bilinear';
  /** Per-channel mean and std applied after /255, or null for models fed plain v/255 (MobileCLIP). */
  mean: [number, number, number] | null;
  std: [number, number, number] | null;
}

export const CLIP_PREPROCESS: PreprocessSpec & { mean: [number, number, number]; std: [number, number, number] } = {
  size: 224,
  resize: 'shortest',
  interpolation: 'bicubic',
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
};

/** How a query becomes the text encoder's token ids. */
export interface TokenSpec {
  /** Tokens per row (CLIP: 77). */
  contextLength: number;
  /** Id written after the end token; 0 for OpenAI's tokenizer, 49407 (EOT) for some exporters. */
  padId: number;
}

export const CLIP_TOKENS: TokenSpec = { contextLength: 77, padId: 0 };

/**
 * The signature of the two graphs: input/output names, the dtype of the token ids, fixed or
 * dynamic batch, and whether the outputs are already L2-normalised. The defaults are the common
 * CLIP ONNX export (Hugging Face's `CLIPModel` split into towers). At load the encoder checks the
 * stated values against the graph itself; see `services/encoder`.
 */
export interface ModelIo {
  imageInput: string;
  imageOutput: string;
  textInput: string;
  /** Name of an optional attention-mask input (1 for real tokens, 0 for padding), or null when the graph has none. */
  textMask: string | null;
  textOutput: string;
  /** Element type of the token-id input (and the mask), as the graph declares it. */
  textIds: 'int32' | 'int64';
  /** Fixed batch size of the image graph (e.g. Immich's export: 1), or null when dynamic. */
  imageBatch: number | null;
  /** Fixed batch size of the text graph, or null when dynamic. */
  textBatch: number | null;
  /** Whether the graphs already L2-normalise their outputs (the app normalises either way). */
  normalised: boolean;
}

export const CLIP_IO: ModelIo = {
  imageInput: 'pixel_values',
  imageOutput: 'image_embeds',
  textInput: 'input_ids',
  textMask: null,
  textOutput: 'text_embeds',
  textIds: 'int64',
  imageBatch: null,
  textBatch: null,
  normalised: false,
};

/** Token sequence length of CLIP's text encoder (the default `TokenSpec.contextLength`). */
export const CONTEXT_LENGTH = CLIP_TOKENS.contextLength;

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
  tokens?: Partial<TokenSpec>;
  /** CLIP's learned temperature; scores are shown as cosines, this is kept for the lab's recall maths. */
  logitScale?: number;
  licence?: string;
  /** Set when the licence has terms the user must accept before download (shown, then asked). */
  licenceUrl?: string;
  requiresAcceptance?: boolean;
  /** Upstream revision the files are pinned to (e.g. a Hugging Face commit). */
  revision?: string;
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
  tokens: TokenSpec;
  entry: ManifestEntry;
}

export function resolveSettings(entry: ManifestEntry): { io: ModelIo; preprocess: PreprocessSpec; tokens: TokenSpec } {
  return {
    io: { ...CLIP_IO, ...entry.io },
    preprocess: { ...CLIP_PREPROCESS, ...entry.preprocess },
    tokens: { ...CLIP_TOKENS, ...entry.tokens },
  };
}
