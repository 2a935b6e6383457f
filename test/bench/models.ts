/**
 * The CLIP-shaped benchmark models (ViT-B/32 teacher, ViT-S/16 students): generated on first need
 * (seeded, about a minute each), then resolved through the real model registry exactly as the app
 * would (size + sha256 verified). The bench generates everything it measures.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../main/services/models/index.ts';
import type { ResolvedModel } from '../../main/core/model-spec.ts';
import { BENCH_MODEL, GENERATED_MANIFEST, REPO_ROOT } from './util.ts';

function benchModelPresent(id: string): boolean {
  if (!existsSync(GENERATED_MANIFEST)) return false;
  try {
    const m = JSON.parse(readFileSync(GENERATED_MANIFEST, 'utf8')) as { models: { id: string; image: { file: string }; text: { file: string } }[] };
    const e = m.models.find((x) => x.id === id);
    const dir = join(REPO_ROOT, 'models', 'generated');
    return !!e && existsSync(join(dir, e.image.file)) && existsSync(join(dir, e.text.file));
  } catch {
    return false;
  }
}

/** Generates the named models into models/generated when missing (default: the ViT-B/32 shape). */
export async function ensureBenchModel(ids: readonly string[] = [BENCH_MODEL]): Promise<void> {
  const missing = ids.filter((id) => !benchModelPresent(id));
  if (!missing.length) return;
  console.log(`generating ${missing.join(', ')} into models/generated (seeded, about a minute each) …`);
  const t = performance.now();
  const { generateBenchModels } = await import('../../scripts/generate-models.ts');
  generateBenchModels(undefined, missing);
  console.log(`  done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

/** The bench model's absolute paths and settings, verified by the registry. */
export function resolveBenchModel(): ResolvedModel {
  const userDir = mkdtempSync(join(tmpdir(), 'leanlens-bench-models-'));
  try {
    const registry = ModelRegistry.open({ bundledDir: join(REPO_ROOT, 'models'), userDir, extraManifests: [GENERATED_MANIFEST] });
    return registry.resolve(BENCH_MODEL);
  } finally {
    rmSync(userDir, { recursive: true, force: true });
  }
}

export function modelBytes(model: ResolvedModel): number {
  return model.entry.image.bytes + model.entry.text.bytes;
}
