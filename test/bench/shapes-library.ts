/**
 * A larger labelled ShapesWorld library for the relevance bench: the demo's 120 photos give only
 * 60 report queries with 1–7 relevant photos each, so a difference of 0.01 mean F1 is noise there.
 *
 * The photos are drawn by the project's own generator (models/distill/shapesworld.py, numpy only:
 * no PIL needed), from the test split at indices far from the demo's (5000…) and from the first test
 * images the distillation pipeline evaluates on, so no model was trained or chosen on them. Python
 * writes raw RGB and each scene; sharp encodes the JPEGs (quality 90, like the demo).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Scene } from './relevance-eval.ts';

/** First test-split index of the bench library (the demo starts at 5000 and has 120 photos). */
export const LIBRARY_START = 20000;

const DRAW = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
from models.distill.shapesworld import ShapesWorld
out, start, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
world = ShapesWorld(0)
entries = []
for i in range(start, start + n):
    img, caps, scene = world.item("test", i)
    name = "shapes_%05d" % i
    with open(os.path.join(out, name + ".rgb"), "wb") as f:
        f.write(img.tobytes())
    entries.append({"file": name, "size": list(img.shape), "captions": caps, "scene": scene.record()})
with open(os.path.join(out, "labelled.json"), "w") as f:
    json.dump(entries, f)
`;

/** Draws `n` labelled photos into `dir`; returns their JPEG paths and scenes, in order. */
export async function makeShapesLibrary(dir: string, n: number, repoRoot: string): Promise<{ files: string[]; scenes: Scene[] }> {
  mkdirSync(dir, { recursive: true });
  execFileSync('python3', ['-c', DRAW, repoRoot, dir, String(LIBRARY_START), String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const entries = JSON.parse(readFileSync(join(dir, 'labelled.json'), 'utf8')) as { file: string; size: [number, number, number]; scene: Scene }[];
  const files: string[] = [];
  for (const e of entries) {
    const raw = join(dir, `${e.file}.rgb`);
    const jpg = join(dir, `${e.file}.jpg`);
    const [height, width, channels] = e.size;
    await sharp(readFileSync(raw), { raw: { width, height, channels: channels as 3 } }).jpeg({ quality: 90 }).toFile(jpg);
    rmSync(raw);
    files.push(jpg);
  }
  return { files, scenes: entries.map((e) => e.scene) };
}
