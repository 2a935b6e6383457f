/**
 * The arithmetic of preparing a photo for an image encoder: where to resize and crop, and how
 * 8-bit RGB pixels become a normalised CHW float tensor. Pure; decoding and resampling live in
 * the `media` service, which uses these helpers so the maths is tested once, here.
 */
import type { PreprocessSpec } from './model-spec.ts';

export interface Size {
  width: number;
  height: number;
}

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Size after resizing the shorter side to `size` while keeping the aspect ratio (CLIP's
 * `Resize(size)`); the longer side is rounded like torchvision (int(size * long / short)).
 */
export function shortestSideTarget(width: number, height: number, size: number): Size {
  assertDims(width, height);
  if (width <= height) {
    return { width: size, height: Math.max(size, Math.floor((size * height) / width)) };
  }
  return { width: Math.max(size, Math.floor((size * width) / height)), height: size };
}

/**
 * The centred `size`×`size` window of a `w`×`h` image (CLIP's `CenterCrop`), offsets rounded as
 * torchvision does: int(round((w - size) / 2)) with Python's half-to-even round.
 */
export function centreCropBox(w: number, h: number, size: number): CropBox {
  assertDims(w, h);
  if (w < size || h < size) throw new RangeError(`cannot crop ${size}x${size} from ${w}x${h}`);
  return { left: roundHalfEven((w - size) / 2), top: roundHalfEven((h - size) / 2), width: size, height: size };
}

/**
 * Python's round(): halves go to the even neighbour (round(0.5) = 0, round(1.5) = 2). torchvision's
 * CenterCrop rounds its offsets this way, so an odd margin of 1 gives offset 0, not 1.
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Size after scaling so the image covers `size`×`size` (Ente's MobileCLIP pipeline): scale =
 * max(size/w, size/h) and each side round(side × scale), at least `size`. Ente computes in float32
 * and rounds halves away from zero, which decides the odd pixel (e.g. 640×427 → 384×256, where
 * shortestSideTarget gives 383×256); Math.fround reproduces float32 exactly here because one
 * rounding of a double quotient or product of float32 values equals the float32 operation.
 */
export function coverTarget(width: number, height: number, size: number): Size {
  assertDims(width, height);
  const f = Math.fround;
  const scale = Math.max(f(size / width), f(size / height));
  return {
    width: Math.max(size, Math.round(f(width * scale))),
    height: Math.max(size, Math.round(f(height * scale))),
  };
}

/** How a decoded (upright) image of `width`×`height` becomes the model's square input. */
export interface ResizePlan {
  /** Size to resample the whole image to. */
  resize: Size;
  /** The `size`×`size` window of the resized image that becomes the tensor. */
  crop: CropBox;
}

/**
 * Resize and crop for a preprocessing spec, each mode rounding exactly as its reference does:
 * - 'shortest' (OpenAI CLIP, torchvision Resize + CenterCrop): long side int(size·long/short),
 *   crop offsets round-half-even((w − size)/2);
 * - 'cover' (MobileCLIP as Ente runs it): coverTarget, crop offsets floor((w − size)/2);
 * - 'squash': both sides to `size`, no crop.
 */
export function resizePlan(width: number, height: number, spec: Pick<PreprocessSpec, 'size' | 'resize'>): ResizePlan {
  const size = spec.size;
  if (spec.resize === 'squash') {
    assertDims(width, height);
    return { resize: { width: size, height: size }, crop: { left: 0, top: 0, width: size, height: size } };
  }
  if (spec.resize === 'cover') {
    const resize = coverTarget(width, height, size);
    return {
      resize,
      crop: { left: Math.floor((resize.width - size) / 2), top: Math.floor((resize.height - size) / 2), width: size, height: size },
    };
  }
  const resize = shortestSideTarget(width, height, size);
  return { resize, crop: centreCropBox(resize.width, resize.height, size) };
}

/**
 * Interleaved 8-bit RGB (HWC) → planar float32 (CHW), each value (v/255 − mean[c]) / std[c], or
 * plain v/255 when the model takes no mean/std (null). Writes into `out` at `offset` when given,
 * so a batch can be filled in place.
 */
export function toClipTensor(
  rgb: Uint8Array,
  width: number,
  height: number,
  mean: [number, number, number] | null,
  std: [number, number, number] | null,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  assertDims(width, height);
  const plane = width * height;
  if (rgb.length !== plane * 3) {
    throw new RangeError(`expected ${plane * 3} bytes for ${width}x${height} RGB, got ${rgb.length}`);
  }
  const target = out ?? new Float32Array(plane * 3);
  if (offset < 0 || offset + plane * 3 > target.length) {
    throw new RangeError(`output too small: need ${plane * 3} floats at offset ${offset}, have ${target.length}`);
  }
  // One lookup table per channel: 256 entries instead of a divide per pixel.
  const luts = [0, 1, 2].map((c) => {
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = mean && std ? (v / 255 - mean[c]) / std[c] : v / 255;
    return lut;
  });
  const [r, g, b] = luts;
  const rBase = offset;
  const gBase = offset + plane;
  const bBase = offset + 2 * plane;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    target[rBase + i] = r[rgb[j]];
    target[gBase + i] = g[rgb[j + 1]];
    target[bBase + i] = b[rgb[j + 2]];
  }
  return target;
}

/**
 * The `crop` window of interleaved 8-bit pixels (`channels` bytes each) of a `width`×`height`
 * image, row by row, as a new array.
 */
export function cropInterleaved(pixels: Uint8Array, width: number, height: number, crop: CropBox, channels = 3): Uint8Array {
  assertDims(width, height);
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${pixels.length}`);
  }
  if (crop.left < 0 || crop.top < 0 || crop.width < 1 || crop.height < 1 || crop.left + crop.width > width || crop.top + crop.height > height) {
    throw new RangeError(`crop ${crop.width}x${crop.height}+${crop.left}+${crop.top} outside ${width}x${height}`);
  }
  const row = crop.width * channels;
  const out = new Uint8Array(row * crop.height);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.top + y) * width + crop.left) * channels;
    out.set(pixels.subarray(from, from + row), y * row);
  }
  return out;
}

function assertDims(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
}
