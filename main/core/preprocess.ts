/**
 * The arithmetic of preparing a photo for an image encoder: where to resize and crop, and how
 * 8-bit RGB pixels become a normalised CHW float tensor. Pure; decoding and resampling live in
 * the `media` service, which uses these helpers so the maths is tested once, here.
 */

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
 * torchvision does: round((w - size) / 2).
 */
export function centreCropBox(w: number, h: number, size: number): CropBox {
  assertDims(w, h);
  if (w < size || h < size) throw new RangeError(`cannot crop ${size}x${size} from ${w}x${h}`);
  return { left: Math.round((w - size) / 2), top: Math.round((h - size) / 2), width: size, height: size };
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

function assertDims(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
}
