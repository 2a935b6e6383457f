/**
 * Reading and writing model manifests (`manifest.json`, format `Manifest` in core/model-spec).
 * A broken manifest is reported with its file name and the exact field, because a person has
 * to find and fix it; writes are atomic (temp file + rename) so a crash never leaves half a file.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Manifest } from '../../core/model-spec.ts';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/i, 'expected a 64-character hex sha256');
const modelFile = z.object({
  file: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256,
  url: z.string().url().optional(),
});
const triple = z.tuple([z.number(), z.number(), z.number()]);
const entry = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'ids use letters, digits, ".", "_" and "-"'),
  name: z.string().min(1),
  role: z.enum(['teacher', 'student', 'other']),
  description: z.string().optional(),
  dim: z.number().int().positive(),
  image: modelFile,
  text: modelFile,
  io: z
    .object({
      imageInput: z.string(),
      imageOutput: z.string(),
      textInput: z.string(),
      textMask: z.string().nullable(),
      textOutput: z.string(),
      textIds: z.enum(['int32', 'int64']),
      imageBatch: z.number().int().positive().nullable(),
      textBatch: z.number().int().positive().nullable(),
      normalised: z.boolean(),
    })
    .partial()
    .optional(),
  preprocess: z
    .object({
      size: z.number().int().positive(),
      resize: z.enum(['shortest', 'cover', 'squash']),
      interpolation: z.enum(['bicubic', 'bilinear']),
      mean: triple.nullable(),
      std: triple.nullable(),
    })
    .partial()
    .optional(),
  tokens: z
    .object({ contextLength: z.number().int().positive().max(512), padId: z.number().int().nonnegative() })
    .partial()
    .optional(),
  logitScale: z.number().optional(),
  licence: z.string().optional(),
  licenceUrl: z.string().url().optional(),
  requiresAcceptance: z.boolean().optional(),
  revision: z.string().optional(),
  lineage: z
    .object({ parent: z.string(), transform: z.string(), params: z.record(z.string(), z.unknown()) })
    .nullable()
    .optional(),
  hidden: z.boolean().optional(),
});
const manifest = z.object({ version: z.literal(1), models: z.array(entry) });

/**
 * The same schema as JSON Schema, for the Python pipeline (models/distill), which writes manifest
 * entries and checks them against `models/manifest.schema.json` (made from this by
 * `npx tsx scripts/export-manifest-schema.ts`; a test keeps the two equal).
 */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(manifest, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Parses manifest text; `source` names the file in every error. */
export function parseManifest(text: string, source: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `The model manifest ${source} is not valid JSON (${(err as Error).message}). Fix the file, or delete it to start over.`,
    );
  }
  const r = manifest.safeParse(raw);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    throw new Error(`The model manifest ${source} is malformed: ${why}.`);
  }
  const seen = new Set<string>();
  for (const m of r.data.models) {
    if (seen.has(m.id)) throw new Error(`The model manifest ${source} lists the id "${m.id}" twice; ids must be unique.`);
    seen.add(m.id);
  }
  return r.data as Manifest;
}

/** Reads a manifest file; a missing file is an empty manifest when `optional`. */
export function readManifest(path: string, optional = false): Manifest {
  if (optional && !existsSync(path)) return { version: 1, models: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read the model manifest ${path}: ${(err as Error).message}`);
  }
  return parseManifest(text, path);
}

/** Writes JSON via a temp file in the same folder and a rename, which is atomic on one filesystem. */
export function writeJsonAtomic(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function writeManifest(path: string, m: Manifest): void {
  writeJsonAtomic(path, m);
}
