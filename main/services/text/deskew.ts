/**
 * Straightening tilted text before the engine reads it. Tesseract finds lines of text only when
 * they run within a few degrees of horizontal: on the generated set every sign tilted 12° was
 * missed whole ("v", "Re a"), while the same signs at 0–7° were read. A photo of a sign is often
 * taken at an angle, so the dominant tilt of the photo's strong edges is measured and, when it is
 * clear, the photo is turned back before reading.
 *
 * The tilt: letters' stems and bars, baselines and a sign's own border are straight edges at the
 * text's angle (and at 90° to it); textures, skies and round shapes have edges in every direction.
 * A histogram of strong edges' directions, folded into ±45°, peaks at the tilt. Pure pixels, no I/O.
 */
import type { GreyPixels } from './engine.ts';

/** Tilts below this are left alone: the engine reads them as they are (signs at 3–7° were read). */
export const MIN_SKEW_DEGREES = 4;
/** Beyond this the "tilt" is more likely a diagonal texture than a sign; text at 90° is another matter. */
export const MAX_SKEW_DEGREES = 30;
/** Edges weaker than this (Sobel magnitude, 0–1,442) are texture, not strokes. */
const STRONG_EDGE = 640;
/** Histogram resolution. */
const BIN_DEGREES = 0.5;
/** The peak must hold this many times the share of a flat histogram, or there is no clear tilt. */
const MIN_PEAK_RATIO = 4;

/**
 * The clockwise tilt (degrees, in image coordinates where y runs down) of the photo's dominant
 * straight edges, or 0 when there is no clear one.
 */
export function estimateSkew(img: GreyPixels): number {
  const { data, width, height } = softened(img);
  const bins = Math.round(90 / BIN_DEGREES);
  const hist = new Float64Array(bins);
  let total = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const a = data[i - width - 1]!, b = data[i - width]!, c = data[i - width + 1]!;
      const d = data[i - 1]!, f = data[i + 1]!;
      const g = data[i + width - 1]!, h = data[i + width]!, k = data[i + width + 1]!;
      const gx = 3 * (c + k - a - g) + 10 * (f - d);
      const gy = 3 * (g + k - a - c) + 10 * (h - b);
      const m = Math.hypot(gx, gy);
      if (m < STRONG_EDGE) continue;
      // Edge direction folded into [-45°, 45°): a horizontal and a vertical edge tilted alike land together.
      let deg = (Math.atan2(gy, gx) * 180) / Math.PI;
      deg = ((((deg + 45) % 90) + 90) % 90) - 45;
      hist[Math.min(bins - 1, Math.floor((deg + 45) / BIN_DEGREES))]! += m;
      total += m;
    }
  }
  if (total === 0) return 0;
  // Smoothed over ±1° so a peak split between neighbouring bins still counts as one.
  const span = Math.round(1 / BIN_DEGREES);
  let best = 0;
  let bestAt = 0;
  for (let i = 0; i < bins; i++) {
    let s = 0;
    for (let j = -span; j <= span; j++) s += hist[(i + j + bins) % bins]!;
    if (s > best) {
      best = s;
      bestAt = i;
    }
  }
  const flat = (total * (2 * span + 1)) / bins;
  if (best < MIN_PEAK_RATIO * flat) return 0;
  return (bestAt + 0.5) * BIN_DEGREES - 45;
}

/** Longest side the tilt is measured at: letters of a readable sign still have edges there, and it bounds the cost. */
const MEASURE_SIZE = 800;

/**
 * A box-averaged copy at most MEASURE_SIZE on its long side, blurred once more (3×3). Hard pixel
 * steps (aliased edges, noise) have gradients that lean towards 0° and 45° whatever the real
 * direction; averaged edges point where the edge runs.
 */
function softened(img: GreyPixels): GreyPixels {
  const f = Math.max(1, Math.ceil(Math.max(img.width, img.height) / MEASURE_SIZE));
  const width = Math.floor(img.width / f);
  const height = Math.floor(img.height / f);
  const small = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += img.data[(y * f + dy) * img.width + x * f + dx]!;
      small[y * width + x] = s / (f * f);
    }
  }
  // The border keeps the unblurred values (zeros there would be a frame of strong level edges).
  const out = small.slice();
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      out[i] = (small[i - width - 1]! + small[i - width]! + small[i - width + 1]! + small[i - 1]! + small[i]! + small[i + 1]! + small[i + width - 1]! + small[i + width]! + small[i + width + 1]!) / 9;
    }
  }
  return { data: out as unknown as Uint8Array, width, height };
}

/** A rotated copy and the way back from its pixel coordinates to the original's. */
export interface Turned {
  image: GreyPixels;
  /** Maps a point of the turned image to the original image. */
  back: (x: number, y: number) => [number, number];
}

/**
 * The image turned anticlockwise by `degrees` (so a text tilted clockwise by that much becomes
 * level), on a canvas large enough to keep every corner; the new corners are filled with the
 * image's mean grey, which makes no stroke-like edge for the engine to read.
 */
export function turn(img: GreyPixels, degrees: number): Turned {
  const { data, width, height } = img;
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const outW = Math.ceil(Math.abs(width * cos) + Math.abs(height * sin));
  const outH = Math.ceil(Math.abs(width * sin) + Math.abs(height * cos));
  let sum = 0;
  for (let i = 0; i < data.length; i += 7) sum += data[i]!;
  const fill = Math.round(sum / Math.ceil(data.length / 7));
  const cx = width / 2, cy = height / 2, ox = outW / 2, oy = outH / 2;
  // Output (u, v) → source: rotate back clockwise by `degrees` around the centres.
  const back = (u: number, v: number): [number, number] => {
    const du = u - ox, dv = v - oy;
    return [cx + du * cos - dv * sin, cy + du * sin + dv * cos];
  };
  const out = new Uint8Array(outW * outH);
  for (let v = 0; v < outH; v++) {
    const dv = v - oy;
    for (let u = 0; u < outW; u++) {
      const du = u - ox;
      const sx = cx + du * cos - dv * sin;
      const sy = cy + du * sin + dv * cos;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 >= width - 1 || y0 >= height - 1) {
        out[v * outW + u] = fill;
        continue;
      }
      // Bilinear: nearest-pixel rotation leaves stair-stepped strokes the engine reads worse.
      const fx = sx - x0, fy = sy - y0, i = y0 * width + x0;
      const top = data[i]! + (data[i + 1]! - data[i]!) * fx;
      const bottom = data[i + width]! + (data[i + width + 1]! - data[i + width]!) * fx;
      out[v * outW + u] = Math.round(top + (bottom - top) * fy);
    }
  }
  return { image: { data: out, width: outW, height: outH }, back };
}

/** A box of the turned image as the smallest box of the original holding it (clamped to the photo). */
export function boxBack(t: Turned, box: [number, number, number, number], width: number, height: number): [number, number, number, number] {
  const [x0, y0, x1, y1] = box;
  const corners = [t.back(x0, y0), t.back(x1, y0), t.back(x0, y1), t.back(x1, y1)];
  const xs = corners.map((c) => c[0]);
  const ys = corners.map((c) => c[1]);
  const clamp = (v: number, max: number) => Math.max(0, Math.min(max, Math.round(v)));
  return [clamp(Math.min(...xs), width), clamp(Math.min(...ys), height), clamp(Math.max(...xs), width), clamp(Math.max(...ys), height)];
}
