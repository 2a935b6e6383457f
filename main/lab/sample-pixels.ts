/**
 * Pixel tensors for measuring a model: the given photos with the model's preprocessing (an
 * unreadable one is skipped), or, when none can be read, seeded noise of the same shape, so the
 * measurement still runs and repeats exactly. Used by the speed child and by HAWQ's calibration.
 */
import type { PreprocessSpec } from '../core/model-spec.ts';
import { preparePhoto } from '../services/media/index.ts';

export async function samplePixels(photos: readonly string[], spec: PreprocessSpec, noise: { count: number; seed: number }): Promise<Float32Array[]> {
  const tensors: Float32Array[] = [];
  for (const path of photos) {
    try {
      tensors.push((await preparePhoto(path, spec)).pixels);
    } catch {
      // skipped: the others still measure
    }
  }
  if (tensors.length > 0) return tensors;
  let seed = noise.seed;
  for (let n = 0; n < noise.count; n++) {
    const t = new Float32Array(3 * spec.size * spec.size);
    for (let i = 0; i < t.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0; // a plain LCG: uniform in [-2, 2)
      t[i] = (seed / 4294967296) * 4 - 2;
    }
    tensors.push(t);
  }
  return tensors;
}
