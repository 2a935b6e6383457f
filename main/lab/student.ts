/**
 * `lab init-student`: a student built from a teacher the way the paper initialises it, ready for
 * a training pipeline. Its text encoder has the teacher's width and the teacher's weights: token
 * and position embeddings, final LayerNorm and projection copied, and student block j copied from
 * teacher block `textLayers[j]`. Its image encoder is a fresh ViT-S/16 (width 384, 12 layers,
 * 6 heads, patch 16) projecting to the teacher's embedding width, seeded random weights — the
 * paper distils it, there is nothing of the ViT-B/32 to copy into it.
 *
 * Works on CLIP-shaped text graphs as the project's graph builder writes them (initializer names
 * `transformer.resblocks.<i>.…`); anything else gets an error saying so.
 */
import { mkdtempSync, readFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelInfo } from '../core/contract.ts';
import { buildImageTower, buildTextTower, type ImageTowerConfig, type TextTowerConfig } from '../core/onnx/clip.ts';
import { decodeModel, encodeModelChunks, type ModelProto, type TensorProto } from '../core/onnx/proto.ts';
import type { ManifestEntry } from '../core/model-spec.ts';
import type { ModelRegistry } from '../services/models/index.ts';

/** The paper's ViT-S/16 image encoder. */
export const VITS16_RECIPE: Omit<ImageTowerConfig, 'embedDim' | 'seed' | 'imageSize'> = { width: 384, layers: 12, heads: 6, patch: 16 };

export interface InitStudentOptions {
  /** Teacher text layers to copy, in order: student block j ← teacher block textLayers[j]. */
  textLayers: number[];
  /** Id of the new model; default `<teacher>-student-t<n>`. */
  id?: string;
  seed?: number;
  /** Override the image recipe (tests use a smaller one); default ViT-S/16. */
  image?: Partial<Omit<ImageTowerConfig, 'embedDim'>>;
  onProgress?: (message: string) => void;
}

const BLOCK = /^transformer\.resblocks\.(\d+)\.(.+)$/;

/** Text tower settings read back from the graph: its builder docString, else its initializers. */
export function textConfigOf(model: ModelProto): Omit<TextTowerConfig, 'seed'> & { layers: number } {
  const inits = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const pos = inits.get('positional_embedding');
  const proj = inits.get('text_projection');
  if (!pos?.dims || !proj?.dims) {
    throw new Error('the teacher text encoder is not CLIP-shaped as LeanLens builds it (no positional_embedding/text_projection initializers)');
  }
  const blocks = new Set<number>();
  for (const name of inits.keys()) {
    const m = BLOCK.exec(name);
    if (m) blocks.add(Number(m[1]));
  }
  const width = Number(pos.dims[1]);
  let heads = Math.max(1, Math.round(width / 64));
  let tokenEmbedRank: number | undefined;
  const json = /\{.*\}$/s.exec(model.docString ?? '')?.[0];
  if (json) {
    try {
      const cfg = JSON.parse(json) as Partial<TextTowerConfig>;
      if (typeof cfg.heads === 'number') heads = cfg.heads;
    } catch {
      // Not our docString: keep the width/64 guess (CLIP's head size).
    }
  }
  const up = inits.get('token_embedding.up');
  if (up?.dims) tokenEmbedRank = Number(up.dims[0]);
  const table = inits.get('token_embedding.weight');
  return {
    width,
    layers: blocks.size,
    heads,
    context: Number(pos.dims[0]),
    vocab: table?.dims ? Number(table.dims[0]) : undefined,
    embedDim: Number(proj.dims[1]),
    tokenEmbedRank,
  };
}

/** The student text graph: the teacher's structure at `textLayers.length` blocks, its weights copied. */
export function studentTextFrom(teacher: ModelProto, textLayers: number[]): ModelProto {
  const cfg = textConfigOf(teacher);
  if (textLayers.length === 0) throw new Error('choose at least one teacher text layer to copy');
  for (const l of textLayers) {
    if (!Number.isInteger(l) || l < 0 || l >= cfg.layers) {
      throw new Error(`text layer ${l} does not exist: the teacher has layers 0 to ${cfg.layers - 1}`);
    }
  }
  // Zero weights: every initializer is replaced by the teacher's below, so random init is wasted work.
  const student = buildTextTower({ ...cfg, layers: textLayers.length, seed: 0, weights: 'zeros' });
  const source = new Map((teacher.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  student.graph!.initializer = (student.graph!.initializer ?? []).map((t): TensorProto => {
    const name = t.name ?? '';
    const m = BLOCK.exec(name);
    const from = m ? `transformer.resblocks.${textLayers[Number(m[1])]}.${m[2]}` : name;
    const src = source.get(from);
    if (!src) return t; // a constant of the builder (e.g. the causal mask), not a weight
    if ((src.dims ?? []).join('x') !== (t.dims ?? []).join('x')) {
      throw new Error(`teacher weight ${from} has shape [${src.dims}] but the student needs [${t.dims}]`);
    }
    return { ...src, name };
  });
  student.docString = `LeanLens student text encoder: teacher layers ${textLayers.join(',')} of ${JSON.stringify({ ...cfg })}`;
  return student;
}

function writeModelFile(file: string, model: ModelProto): void {
  const fd = openSync(file, 'w');
  try {
    for (const chunk of encodeModelChunks(model)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Builds, writes and registers the student (role 'student', lineage → the teacher). */
export async function initStudent(registry: ModelRegistry, teacherId: string, opts: InitStudentOptions): Promise<ModelInfo> {
  const teacher = registry.resolve(teacherId);
  const id = opts.id ?? `${teacherId}-student-t${opts.textLayers.length}`;
  if (registry.entry(id)) throw new Error(`a model with id "${id}" already exists; pass another id`);
  const dir = mkdtempSync(join(tmpdir(), 'leanlens-student-'));
  try {
    opts.onProgress?.(`copying text layers ${opts.textLayers.join(',')} of ${teacherId}`);
    const text = studentTextFrom(decodeModel(readFileSync(teacher.textPath)), opts.textLayers);
    const textFile = join(dir, 'text_fp32.onnx');
    writeModelFile(textFile, text);
    opts.onProgress?.('building the ViT-S/16 image encoder');
    const imageCfg: ImageTowerConfig = {
      ...VITS16_RECIPE,
      imageSize: teacher.preprocess.size,
      seed: opts.seed ?? 1616,
      ...opts.image,
      embedDim: teacher.dim,
    };
    const imageFile = join(dir, 'image_fp32.onnx');
    writeModelFile(imageFile, buildImageTower(imageCfg));
    const entry: ManifestEntry = {
      id,
      name: `Student of ${teacher.entry.name} (${opts.textLayers.length}-layer text, untrained image tower)`,
      role: 'student',
      description: `Initialised from ${teacherId}: text layers ${opts.textLayers.join(',')} copied; image encoder ViT (width ${imageCfg.width}, ${imageCfg.layers} layers, patch ${imageCfg.patch}) with random weights, to be distilled.`,
      dim: teacher.dim,
      image: { file: 'image_fp32.onnx', bytes: 0, sha256: '' },
      text: { file: 'text_fp32.onnx', bytes: 0, sha256: '' },
      io: { ...teacher.io },
      preprocess: { ...teacher.preprocess },
      ...(teacher.entry.logitScale ? { logitScale: teacher.entry.logitScale } : {}),
      lineage: {
        parent: teacherId,
        transform: 'init-student',
        params: { textLayers: opts.textLayers, image: { width: imageCfg.width, layers: imageCfg.layers, heads: imageCfg.heads, patch: imageCfg.patch, seed: imageCfg.seed } },
      },
    };
    return registry.register(entry, { image: imageFile, text: textFile }, { move: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
