/**
 * The cheap first step: does a photo look as if it could hold text? Decided on a small grey copy
 * in a few milliseconds, so a library of holiday photos never pays for the OCR engine.
 *
 * Text is strokes: along a row through a letter the brightness jumps up and comes back down
 * within a few pixels, and the same happens along a column. A tile where many rows AND many
 * columns hold such an up-and-down pair is "stroke-like". Smooth skies, gradients, soft shapes and
 * single edges (a horizon, a wire) do not make one; text of any colour does, at one of two scales
 * (small print at the full small size, big lettering at a quarter of it). It errs on the side of
 * reading: dense texture (foliage, gravel) passes, and the engine then finds no words.
 */
import type { GreyImage } from '../media/index.ts';

/**
 * Longest side of the grey copy the first look reads. The JPEG decode is the first look's whole
 * cost, and libvips decodes a JPEG at 1/2, 1/4 or 1/8 of its size when asked for a small copy:
 * 480 px lets a 1600×1200 photo decode at a quarter instead of a half (median 37 vs 76 ms, 4000×3000:
 * 48 vs 72 ms at best, on the shared 2-core machine). Every sign and screenshot of the generated
 * set still passes at 480 (at least 6 stroke-like tiles, 3 needed); the price is that text below
 * ~1.3 % of the photo's long side (was ~1 % at 640) is not seen.
 */
export const FIRST_LOOK_SIZE = 480;

const TILE = 16;
/** A brightness step this large (of 255) is an edge: faint watermarks aside, text contrasts more. */
const EDGE = 40;
/** Rows (and columns) of a tile that must cross a stroke. */
const MIN_LINES = 3;
/** Stroke-like tiles needed: one word makes several. */
const MIN_TILES = 3;

export function mayHaveText(img: GreyImage): boolean {
  if (strokeTiles(img) >= MIN_TILES) return true;
  return strokeTiles(shrink4(img)) >= MIN_TILES;
}

/** How many tiles look like strokes. */
export function strokeTiles(img: GreyImage): number {
  const { data, width, height } = img;
  let count = 0;
  for (let ty = 0; ty + TILE <= height; ty += TILE) {
    for (let tx = 0; tx + TILE <= width; tx += TILE) {
      let rows = 0;
      for (let y = ty; y < ty + TILE && rows < MIN_LINES; y++) if (crosses(data, y * width + tx, 1, TILE)) rows++;
      if (rows < MIN_LINES) continue;
      let cols = 0;
      for (let x = tx; x < tx + TILE && cols < MIN_LINES; x++) if (crosses(data, ty * width + x, width, TILE)) cols++;
      if (cols >= MIN_LINES) count++;
    }
  }
  return count;
}

/** A step up and a step down (both ≥ EDGE) along `n` pixels from `start`, `step` apart. */
function crosses(data: Uint8Array, start: number, step: number, n: number): boolean {
  let up = false;
  let down = false;
  let prev = data[start]!;
  for (let i = 1; i < n; i++) {
    const v = data[start + i * step]!;
    const d = v - prev;
    if (d >= EDGE) up = true;
    else if (d <= -EDGE) down = true;
    if (up && down) return true;
    prev = v;
  }
  return false;
}

/** A quarter-size copy (4×4 box average): big lettering's strokes then fit in a tile. */
function shrink4(img: GreyImage): GreyImage {
  const width = Math.floor(img.width / 4);
  const height = Math.floor(img.height / 4);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let dy = 0; dy < 4; dy++) {
        const row = (y * 4 + dy) * img.width + x * 4;
        s += img.data[row]! + img.data[row + 1]! + img.data[row + 2]! + img.data[row + 3]!;
      }
      out[y * width + x] = s >> 4;
    }
  }
  return { data: out, width, height };
}
