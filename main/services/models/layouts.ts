/**
 * Model folders people already have on disk, besides LeanLens's own pair-in-a-folder:
 *
 * - an Immich model folder, as Immich's machine-learning service caches it
 *   (`<cache>/clip/ViT-B-32__openai/`): `visual/model.onnx`, `textual/model.onnx`,
 *   `visual/preprocess_cfg.json` (open_clip's preprocess config: size, mean, std, interpolation,
 *   resize_mode), `textual/tokenizer.json` + `textual/tokenizer_config.json` (pad_token), and the
 *   open_clip model config `config.json` at the top (text_cfg.context_length). Immich reads exactly
 *   these (immich_ml/models/clip/visual.py and textual.py).
 * - a Hugging Face snapshot of a CLIP ONNX export (Xenova/transformers.js, Optimum):
 *   `onnx/vision_model{,_fp16,_quantized}.onnx`, `onnx/text_model{…}.onnx`,
 *   `preprocessor_config.json` (CLIPImageProcessor: size.shortest_edge or size, crop_size,
 *   do_center_crop, resample 2=bilinear 3=bicubic, do_normalize, image_mean, image_std),
 *   `tokenizer_config.json` / `special_tokens_map.json` (pad_token) and `config.json`
 *   (text_config.max_position_embeddings).
 *
 * Reading the processing from those files is what makes such a folder search correctly without
 * edits: the same graph fed another family's crop or normalisation returns plausible, wrong vectors.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { PreprocessSpec, TokenSpec } from '../../core/model-spec.ts';

export type Variant = 'quantized' | 'fp16' | 'fp32';

export interface FolderLayout {
  kind: 'immich' | 'huggingface';
  /** Absolute paths of the two graphs. */
  image: string;
  text: string;
  /** File names for the copies in the user models folder (distinct even when both are model.onnx). */
  imageName: string;
  textName: string;
  /** A readable model name (the Immich model name, the Hugging Face repository). */
  name: string;
  preprocess: Partial<PreprocessSpec>;
  tokens: Partial<TokenSpec>;
  /** Which files the settings came from, for the entry's description. */
  sources: string[];
  variant?: Variant;
}

/** CLIP's BPE specials, for a tokenizer_config whose tokenizer.json is not there to look them up. */
const CLIP_SPECIALS: Record<string, number> = { '<|startoftext|>': 49406, '<|endoftext|>': 49407, '!': 0 };

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); fix or delete it and import again.`);
  }
  throw new Error(`${path} should hold a JSON object.`);
}

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function triple(v: unknown, what: string, source: string): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return v as [number, number, number];
  throw new Error(`${source}: ${what} should be three numbers, found ${JSON.stringify(v)}.`);
}

/** open_clip's preprocess config (Immich's `visual/preprocess_cfg.json`). */
export function preprocessFromOpenClip(cfg: Record<string, unknown>, source: string): Partial<PreprocessSpec> {
  const rawSize = cfg.size;
  const size = Array.isArray(rawSize) ? num(rawSize[0]) : num(rawSize);
  if (!size || (Array.isArray(rawSize) && rawSize[1] !== rawSize[0])) {
    throw new Error(`${source}: size ${JSON.stringify(rawSize)} is not a square input size LeanLens can feed.`);
  }
  const interpolation = cfg.interpolation ?? 'bicubic';
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') {
    throw new Error(`${source}: interpolation "${String(interpolation)}" is not supported (bicubic or bilinear).`);
  }
  // open_clip's default for configs older than resize_mode is 'shortest' (Immich assumes the same).
  const mode = cfg.resize_mode ?? 'shortest';
  if (mode !== 'shortest' && mode !== 'squash') {
    throw new Error(`${source}: resize_mode "${String(mode)}" is not supported (shortest or squash).`);
  }
  return {
    size,
    resize: mode,
    interpolation,
    mean: triple(cfg.mean, 'mean', source),
    std: triple(cfg.std, 'std', source),
  };
}

/** Hugging Face CLIPImageProcessor's `preprocessor_config.json` (old and new formats of size/crop_size). */
export function preprocessFromHuggingFace(cfg: Record<string, unknown>, source: string): Partial<PreprocessSpec> {
  const sizeField = cfg.size;
  const sizeObj = obj(sizeField);
  const crop = num(cfg.crop_size) ?? num(obj(cfg.crop_size)?.height);
  const cropW = num(cfg.crop_size) ?? num(obj(cfg.crop_size)?.width);
  const centreCrop = cfg.do_center_crop !== false;
  let resize: PreprocessSpec['resize'];
  let size: number | undefined;
  if (num(sizeField) !== undefined || num(sizeObj?.shortest_edge) !== undefined) {
    // An int `size` is the shortest edge in the old CLIPFeatureExtractor format.
    resize = 'shortest';
    size = num(sizeField) ?? num(sizeObj?.shortest_edge);
  } else if (num(sizeObj?.height) !== undefined && sizeObj?.height === sizeObj?.width) {
    resize = 'squash';
    size = num(sizeObj?.height);
  } else {
    throw new Error(`${source}: size ${JSON.stringify(sizeField)} is not supported (shortest_edge, or equal height and width).`);
  }
  if (resize === 'shortest') {
    if (!centreCrop) throw new Error(`${source}: do_center_crop is false with a shortest-edge resize; LeanLens needs a square input.`);
    if (crop !== undefined && (crop !== size || cropW !== crop)) {
      throw new Error(`${source}: resizing to ${size} and cropping to ${crop}×${cropW} is not supported (the crop must equal the resize).`);
    }
  }
  const resample = cfg.resample ?? 3;
  // PIL's codes, which Hugging Face stores: 2 = BILINEAR, 3 = BICUBIC.
  const interpolation = resample === 3 ? 'bicubic' : resample === 2 ? 'bilinear' : null;
  if (!interpolation) throw new Error(`${source}: resample ${JSON.stringify(resample)} is not supported (2 = bilinear, 3 = bicubic).`);
  const normalise = cfg.do_normalize !== false;
  return {
    size,
    resize,
    interpolation,
    mean: normalise ? triple(cfg.image_mean, 'image_mean', source) : null,
    std: normalise ? triple(cfg.image_std, 'image_std', source) : null,
  };
}

/** The pad token's text: a string, or an AddedToken object `{content: …}` as tokenizers serialise it. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const content = obj(v)?.content;
  return typeof content === 'string' ? content : undefined;
}

/**
 * The pad id from tokenizer_config.json's pad_token (or special_tokens_map.json's), looked up in
 * tokenizer.json (added tokens, then the vocabulary) when present, else among CLIP's specials.
 */
export function padIdFrom(
  files: { tokenizerConfig: Record<string, unknown> | null; specialTokens?: Record<string, unknown> | null; tokenizer?: Record<string, unknown> | null },
  source: string,
): number | undefined {
  const pad = tokenText(files.tokenizerConfig?.pad_token) ?? tokenText(files.specialTokens?.pad_token);
  if (pad === undefined) return undefined;
  const added = files.tokenizer?.added_tokens;
  if (Array.isArray(added)) {
    const hit = added.find((t) => obj(t)?.content === pad);
    const id = num(obj(hit)?.id);
    if (id !== undefined) return id;
  }
  const vocabId = num(obj(obj(files.tokenizer?.model)?.vocab)?.[pad]);
  if (vocabId !== undefined) return vocabId;
  if (pad in CLIP_SPECIALS) return CLIP_SPECIALS[pad];
  throw new Error(`${source}: pad_token "${pad}" is not a token LeanLens knows; add tokenizer.json beside it.`);
}

function contextFrom(values: unknown[]): number | undefined {
  for (const v of values) {
    const n = num(v);
    // model_max_length is a huge sentinel (1e30) when a tokenizer has no limit.
    if (n !== undefined && Number.isInteger(n) && n > 0 && n <= 512) return n;
  }
  return undefined;
}

/** An Immich model folder, or null when `folder` is not laid out like one. */
export function readImmichFolder(folder: string): FolderLayout | null {
  const image = join(folder, 'visual', 'model.onnx');
  const text = join(folder, 'textual', 'model.onnx');
  if (!existsSync(image) || !existsSync(text)) return null;
  const sources: string[] = [];
  const preprocessPath = join(folder, 'visual', 'preprocess_cfg.json');
  const pre = readJson(preprocessPath);
  let preprocess: Partial<PreprocessSpec> = {};
  if (pre) {
    preprocess = preprocessFromOpenClip(pre, preprocessPath);
    sources.push('visual/preprocess_cfg.json');
  }
  const config = readJson(join(folder, 'config.json'));
  const tokenizerConfig = readJson(join(folder, 'textual', 'tokenizer_config.json'));
  const tokenizer = readJson(join(folder, 'textual', 'tokenizer.json'));
  const specialTokens = readJson(join(folder, 'textual', 'special_tokens_map.json'));
  const tokens: Partial<TokenSpec> = {};
  const padId = padIdFrom({ tokenizerConfig, tokenizer, specialTokens }, join(folder, 'textual', 'tokenizer_config.json'));
  if (padId !== undefined) {
    tokens.padId = padId;
    sources.push('textual/tokenizer_config.json');
  }
  const context = contextFrom([obj(config?.text_cfg)?.context_length]);
  if (context !== undefined) {
    tokens.contextLength = context;
    sources.push('config.json');
  }
  return { kind: 'immich', image, text, imageName: 'visual_model.onnx', textName: 'textual_model.onnx', name: basename(folder), preprocess, tokens, sources };
}

const VARIANT_SUFFIX: Record<Variant, string> = { fp32: '', fp16: '_fp16', quantized: '_quantized' };

/**
 * A Hugging Face snapshot of a CLIP ONNX export, or null when `folder` is not one. `variant`
 * picks among the precisions present; without it fp32 is taken when present, else the only one.
 */
export function readHuggingFaceFolder(folder: string, variant?: Variant): FolderLayout | null {
  const onnxDir = [join(folder, 'onnx'), folder].find((d) => existsSync(d) && readdirSync(d).some((n) => /^vision_model.*\.onnx$/.test(n)));
  if (!onnxDir) return null;
  const names = readdirSync(onnxDir);
  const present = (Object.keys(VARIANT_SUFFIX) as Variant[]).filter((v) =>
    names.includes(`vision_model${VARIANT_SUFFIX[v]}.onnx`) && names.includes(`text_model${VARIANT_SUFFIX[v]}.onnx`),
  );
  const where = onnxDir === folder ? folder : join(folder, 'onnx');
  if (present.length === 0) {
    throw new Error(
      `${where} holds no matching vision_model/text_model pair LeanLens can use (found: ${names.filter((n) => n.endsWith('.onnx')).join(', ')}). It takes the fp32, fp16 or quantized pair.`,
    );
  }
  const chosen = variant ?? (present.includes('fp32') ? 'fp32' : present.length === 1 ? present[0]! : undefined);
  if (!chosen) throw new Error(`${where} holds several variants (${present.join(', ')}); choose one with --variant (Models → Import asks).`);
  if (!present.includes(chosen)) {
    throw new Error(`${where} has no ${chosen} pair (vision_model${VARIANT_SUFFIX[chosen]}.onnx and text_model${VARIANT_SUFFIX[chosen]}.onnx); it has: ${present.join(', ')}.`);
  }
  const sources: string[] = [];
  const prePath = join(folder, 'preprocessor_config.json');
  const pre = readJson(prePath);
  let preprocess: Partial<PreprocessSpec> = {};
  if (pre) {
    preprocess = preprocessFromHuggingFace(pre, prePath);
    sources.push('preprocessor_config.json');
  }
  const config = readJson(join(folder, 'config.json'));
  const tokenizerConfig = readJson(join(folder, 'tokenizer_config.json'));
  const tokens: Partial<TokenSpec> = {};
  const padId = padIdFrom(
    { tokenizerConfig, specialTokens: readJson(join(folder, 'special_tokens_map.json')), tokenizer: readJson(join(folder, 'tokenizer.json')) },
    join(folder, 'tokenizer_config.json'),
  );
  if (padId !== undefined) {
    tokens.padId = padId;
    sources.push('tokenizer_config.json');
  }
  // config.json's text_config.pad_token_id (1 in OpenAI's CLIP configs) is a leftover the tokenizer
  // does not use; the tokenizer's pad_token is what the exported graph was fed.
  const context = contextFrom([obj(config?.text_config)?.max_position_embeddings, tokenizerConfig?.model_max_length]);
  if (context !== undefined) {
    tokens.contextLength = context;
    sources.push(obj(config?.text_config)?.max_position_embeddings !== undefined ? 'config.json' : 'tokenizer_config.json (model_max_length)');
  }
  const suffix = VARIANT_SUFFIX[chosen];
  return {
    kind: 'huggingface',
    image: join(onnxDir, `vision_model${suffix}.onnx`),
    text: join(onnxDir, `text_model${suffix}.onnx`),
    imageName: `vision_model${suffix}.onnx`,
    textName: `text_model${suffix}.onnx`,
    name: `${huggingFaceName(folder)}${chosen === 'fp32' ? '' : ` (${chosen})`}`,
    preprocess,
    tokens,
    sources,
    variant: chosen,
  };
}

/**
 * The repository name of a snapshot: the hub cache keeps `models--Owner--name/snapshots/<commit>/`,
 * where the folder's own name is only a commit hash.
 */
export function huggingFaceName(folder: string): string {
  const own = basename(folder);
  const parent = dirname(folder);
  if (/^[0-9a-f]{40}$/.test(own) && basename(parent) === 'snapshots') {
    return basename(dirname(parent)).replace(/^models--/, '').replace(/--/g, '/');
  }
  return own;
}

/** The layout of `folder` (Immich, then Hugging Face), or null for a plain folder of .onnx files. */
export function readLayout(folder: string, variant?: Variant): FolderLayout | null {
  const immich = readImmichFolder(folder);
  if (immich) {
    if (variant) throw new Error(`${folder} is an Immich model folder, which holds one precision; --variant applies to Hugging Face snapshots.`);
    return immich;
  }
  return readHuggingFaceFolder(folder, variant);
}
