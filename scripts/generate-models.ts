/**
 * Writes the models the project generates itself (no pretrained weights can be downloaded here):
 *   npx tsx scripts/generate-models.ts          → models/color-oracle, models/tiny-clip (+ manifest)
 *   npx tsx scripts/generate-models.ts --bench  → also models/generated/ (CLIP-shaped, 100s of MB)
 *   npx tsx scripts/generate-models.ts --twins  → only models/generated/twins/ (signature twins of the catalog, ~2 MB each)
 * Seeded: the same code writes byte-identical files, so sha256 sums in the manifest are stable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import { CLIP_IO, CLIP_PREPROCESS, type Manifest, type ManifestEntry, type ModelFile } from '../main/core/model-spec.ts';
import { buildImageTower, buildTextTower, type ImageTowerConfig, type TextTowerConfig } from '../main/core/onnx/clip.ts';
import { buildColourOracleImage, buildColourOracleText, COLOUR_ORACLE_DIM, colourTokenIds } from '../main/core/onnx/color-oracle.ts';
import type { ModelProto } from '../main/core/onnx/proto.ts';
import { buildTwin, signatureOf } from '../main/core/onnx/twin.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const MODELS_DIR = path.resolve(HERE, '..', 'models');
export const BENCH_DIR = path.join(MODELS_DIR, 'generated');
const VOCAB_FILE = 'bpe_simple_vocab_16e6.txt.gz';
const CLIP_LOGIT_SCALE = 100;

export { writeModelFile as writeModel } from '../main/services/models/model-file.ts';
import { writeModelFile as writeModel } from '../main/services/models/model-file.ts';

function writePair(dir: string, id: string, image: () => ModelProto, text: () => ModelProto): { image: ModelFile; text: ModelFile } {
  // Build, write and drop one tower before building the next: only one big model in memory.
  const imageFile = `${id}/image_fp32.onnx`;
  const imageInfo = writeModel(path.join(dir, imageFile), image());
  const textFile = `${id}/text_fp32.onnx`;
  const textInfo = writeModel(path.join(dir, textFile), text());
  return { image: { file: imageFile, ...imageInfo }, text: { file: textFile, ...textInfo } };
}

/** Replaces the entries with the same ids in `dir/manifest.json`, keeping any others. */
export function updateManifest(dir: string, entries: ManifestEntry[]): Manifest {
  const file = path.join(dir, 'manifest.json');
  let manifest: Manifest = { version: 1, models: [] };
  if (fs.existsSync(file)) manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest;
  const ids = new Set(entries.map((e) => e.id));
  manifest.models = [...manifest.models.filter((m) => !ids.has(m.id)), ...entries];
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export const TINY_CLIP = {
  image: { width: 64, layers: 2, heads: 4, patch: 32, imageSize: 224, embedDim: 64, seed: 1001 } satisfies ImageTowerConfig,
  text: { width: 64, layers: 2, heads: 4, embedDim: 64, seed: 1002, tokenEmbedRank: 8 } satisfies TextTowerConfig,
};

/** Writes color-oracle and tiny-clip under `modelsDir` and their manifest entries. */
export function generateBundledModels(modelsDir = MODELS_DIR): ManifestEntry[] {
  const vocab = zlib.gunzipSync(fs.readFileSync(path.join(modelsDir, VOCAB_FILE))).toString('utf8');
  const oracleOptions = { tokenIds: colourTokenIds(vocab), mean: CLIP_PREPROCESS.mean, std: CLIP_PREPROCESS.std };
  const common = { io: { ...CLIP_IO }, preprocess: { ...CLIP_PREPROCESS }, licence: 'MIT', lineage: null, hidden: true } as const;
  const oracle: ManifestEntry = {
    id: 'color-oracle',
    name: 'Colour oracle (test model)',
    role: 'other',
    description:
      'Hand-built test encoder: a photo vector is the share of its pixels near each of 11 named colours; a query vector counts the colour words in it (red, green, blue, yellow, orange, purple, pink, brown, black, white, gray/grey). A query without colour words gives every photo the same score, 0.1.',
    dim: COLOUR_ORACLE_DIM,
    ...writePair(modelsDir, 'color-oracle', () => buildColourOracleImage(oracleOptions), () => buildColourOracleText(oracleOptions)),
    logitScale: CLIP_LOGIT_SCALE,
    ...common,
  };
  const tiny: ManifestEntry = {
    id: 'tiny-clip',
    name: 'Tiny CLIP (random weights, test model)',
    role: 'other',
    description: 'CLIP-shaped ViT (width 64, 2 layers, patch 32) and causal text transformer (width 64, 2 layers) with seeded random weights: exercises the real inference path fast; its search results mean nothing.',
    dim: TINY_CLIP.image.embedDim,
    ...writePair(modelsDir, 'tiny-clip', () => buildImageTower(TINY_CLIP.image), () => buildTextTower(TINY_CLIP.text)),
    logitScale: CLIP_LOGIT_SCALE,
    ...common,
  };
  updateManifest(modelsDir, [oracle, tiny]);
  return [oracle, tiny];
}

export interface BenchModelSpec {
  id: string;
  name: string;
  role: 'teacher' | 'student';
  description: string;
  image: ImageTowerConfig;
  text: TextTowerConfig;
}

export const BENCH_MODELS: BenchModelSpec[] = [
  {
    id: 'vitb32-shaped',
    name: 'ViT-B/32-shaped (random weights)',
    role: 'teacher',
    description: 'Same architecture and parameter count as OpenAI CLIP ViT-B/32 (image 87.8M, text 63.4M parameters), seeded random weights: for speed and size benchmarks.',
    image: { width: 768, layers: 12, heads: 12, patch: 32, imageSize: 224, embedDim: 512, seed: 3201 },
    text: { width: 512, layers: 12, heads: 8, embedDim: 512, seed: 3202 },
  },
  ...[4, 6].map((textLayers): BenchModelSpec => ({
    id: `vits16-t${textLayers}-shaped`,
    name: `ViT-S/16, ${textLayers}-layer text (random weights)`,
    role: 'student',
    description: `Student-sized: ViT-S/16 image tower (width 384, 12 layers, 6 heads) and a ${textLayers}-layer width-512 text tower, 512-d embeddings; seeded random weights for benchmarks.`,
    image: { width: 384, layers: 12, heads: 6, patch: 16, imageSize: 224, embedDim: 512, seed: 1600 + textLayers },
    text: { width: 512, layers: textLayers, heads: 8, embedDim: 512, seed: 1610 + textLayers },
  })),
];

/**
 * Writes the CLIP-shaped benchmark models (all, or the ids in `which`) and `outDir/manifest.json`.
 * `catalogue` lets tests pass reduced-depth variants of the same recipes.
 */
export function generateBenchModels(outDir = BENCH_DIR, which?: readonly string[], catalogue: readonly BenchModelSpec[] = BENCH_MODELS): ManifestEntry[] {
  const specs = catalogue.filter((s) => !which || which.includes(s.id));
  if (which) for (const id of which) if (!catalogue.some((s) => s.id === id)) throw new Error(`unknown bench model ${id}`);
  const entries = specs.map((spec): ManifestEntry => ({
    id: spec.id,
    name: spec.name,
    role: spec.role,
    description: spec.description,
    dim: spec.image.embedDim,
    ...writePair(outDir, spec.id, () => buildImageTower(spec.image), () => buildTextTower(spec.text)),
    io: { ...CLIP_IO },
    preprocess: { ...CLIP_PREPROCESS },
    logitScale: CLIP_LOGIT_SCALE,
    licence: 'MIT',
    lineage: null,
    hidden: true,
  }));
  updateManifest(outDir, entries);
  return entries;
}

/** The catalog: bundled entries users can download (both files have a URL). */
export function catalogEntries(modelsDir = MODELS_DIR): ManifestEntry[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelsDir, 'manifest.json'), 'utf8')) as Manifest;
  return manifest.models.filter((m) => m.image.url && m.text.url);
}

export const TWINS_DIR = path.join(BENCH_DIR, 'twins');

/** A seed per id, so each twin is reproducible and twins of different models differ. */
function seedOf(id: string): number {
  let h = 2166136261;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h % 1_000_000;
}

/**
 * Writes a random-weight signature twin of each catalog entry (or of `entries`) into
 * `outDir/<file>` — the same relative file names as the real entry — and `outDir/manifest.json`
 * listing each twin as a copy of the real entry (same id, io, processing, licence) with the twin's
 * own sizes and sha256 and no URL (tests add a local one). Never touches the real entries.
 */
export function generateTwins(outDir = TWINS_DIR, entries: readonly ManifestEntry[] = catalogEntries()): ManifestEntry[] {
  const twins = entries.map((real): ManifestEntry => {
    const { image, text } = buildTwin(signatureOf(real), seedOf(real.id), `twin of ${real.id}`);
    const imageInfo = writeModel(path.join(outDir, real.image.file), image);
    const textInfo = writeModel(path.join(outDir, real.text.file), text);
    const { url: _i, ...imageFile } = real.image;
    const { url: _t, ...textFile } = real.text;
    return {
      ...real,
      description: `Signature twin of ${real.id} (random weights, same inputs, outputs, dtypes, shapes and processing): ${real.description ?? ''}`,
      image: { ...imageFile, ...imageInfo },
      text: { ...textFile, ...textInfo },
      hidden: true,
    };
  });
  updateManifest(outDir, twins);
  return twins;
}

function describe(entries: ManifestEntry[], dir: string): void {
  for (const e of entries) {
    for (const f of [e.image, e.text]) console.log(`${path.join(dir, f.file)}  ${(f.bytes / 1e6).toFixed(2)} MB  sha256 ${f.sha256.slice(0, 16)}…`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (process.argv.includes('--twins')) {
    describe(generateTwins(), TWINS_DIR);
    process.exit(0);
  }
  describe(generateBundledModels(), MODELS_DIR);
  if (process.argv.includes('--bench')) {
    const t0 = Date.now();
    describe(generateBenchModels(), BENCH_DIR);
    console.log(`bench models written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
