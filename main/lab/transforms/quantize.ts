/**
 * The quantizers, as plain array maths. The transforms store what these return, and HAWQ measures
 * ‖Q(W) − W‖² with the very same functions, so the sensitivity model and the file agree.
 */
import { float16ToFloat32, float32ToFloat16 } from '../../core/onnx/proto.ts';

export type Bits = 4 | 8 | 16 | 32;

export interface ChannelLayout {
  /** Product of the dims before the channel axis. */
  outer: number;
  channels: number;
  /** Product of the dims after the channel axis. */
  inner: number;
}

export function channelLayout(dims: readonly number[], axis: number): ChannelLayout {
  const a = axis < 0 ? dims.length + axis : axis;
  if (a < 0 || a >= dims.length) throw new Error(`channel axis ${axis} is out of range for dims [${dims.join(',')}]`);
  const prod = (xs: readonly number[]) => xs.reduce((p, d) => p * d, 1);
  return { outer: prod(dims.slice(0, a)), channels: dims[a]!, inner: prod(dims.slice(a + 1)) };
}

export interface Int8Quantized {
  /** int8 values (symmetric, zero point 0) or uint8 values (asymmetric). */
  q: Int8Array | Uint8Array;
  scale: Float32Array;
  zeroPoint: Int8Array | Uint8Array;
  symmetric: boolean;
}

/**
 * Per-channel 8-bit quantization along `axis` (the output axis: 1 for a MatMul [K,N] weight,
 * 0 for Conv [M,C,kh,kw]). Symmetric: int8 in [−127, 127], zero point 0. Asymmetric: uint8 with
 * the range widened to include 0 so that 0 stays exact (ONNX's requirement for zero padding).
 * `perChannel: false` uses one scale for the tensor (channels = 1).
 */
export function quantizeInt8(w: Float32Array, dims: readonly number[], axis: number, symmetric: boolean, perChannel = true): Int8Quantized {
  const { outer, channels, inner } = perChannel ? channelLayout(dims, axis) : { outer: 1, channels: 1, inner: w.length };
  const lo = new Float64Array(channels).fill(0), hi = new Float64Array(channels).fill(0);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      let l = lo[c]!, h = hi[c]!;
      for (let i = 0; i < inner; i++) {
        const v = w[base + i]!;
        if (v < l) l = v;
        if (v > h) h = v;
      }
      lo[c] = l;
      hi[c] = h;
    }
  }
  const scale = new Float32Array(channels);
  const zeroPoint = symmetric ? new Int8Array(channels) : new Uint8Array(channels);
  for (let c = 0; c < channels; c++) {
    if (symmetric) {
      const m = Math.max(-lo[c]!, hi[c]!);
      scale[c] = m > 0 ? m / 127 : 1;
    } else {
      const range = hi[c]! - lo[c]!;
      scale[c] = range > 0 ? range / 255 : 1;
      zeroPoint[c] = Math.min(255, Math.max(0, Math.round(-lo[c]! / scale[c]!)));
    }
  }
  const q = symmetric ? new Int8Array(w.length) : new Uint8Array(w.length);
  const qmin = symmetric ? -127 : 0, qmax = symmetric ? 127 : 255;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = scale[c]!, z = zeroPoint[c]!;
      for (let i = 0; i < inner; i++) {
        const v = Math.round(w[base + i]! / s) + z;
        q[base + i] = v < qmin ? qmin : v > qmax ? qmax : v;
      }
    }
  }
  return { q, scale, zeroPoint, symmetric };
}

/** What ONNX DequantizeLinear computes from `quantizeInt8`'s output: (q − zp)·scale in float32. */
export function dequantizeInt8(qz: Int8Quantized, dims: readonly number[], axis: number): Float32Array {
  const channels = qz.scale.length;
  const { outer, inner } = channels === 1 ? { outer: 1, inner: qz.q.length } : channelLayout(dims, axis);
  const out = new Float32Array(qz.q.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const base = (o * channels + c) * inner;
      const s = qz.scale[c]!, z = qz.zeroPoint[c]!;
      for (let i = 0; i < inner; i++) out[base + i] = Math.fround((qz.q[base + i]! - z) * s);
    }
  }
  return out;
}

export interface Int4Quantized {
  /** MatMulNBits layout: [N, kBlocks, blockSize/2] bytes, two 4-bit values a byte, low nibble first. */
  packed: Uint8Array;
  /** [N * kBlocks] scales, column-major by block (column n's blocks are adjacent). */
  scales: Float32Array;
  kBlocks: number;
  blockSize: number;
}

/**
 * Blockwise symmetric 4-bit quantization of a MatMul weight [K,N] along K, in the layout of ORT's
 * com.microsoft MatMulNBits: values stored unsigned as q+8 (its default zero point is 8), q in
 * [−7, 7], scale = max|w|/7 per block of `blockSize` consecutive k of one output column.
 */
export function quantizeInt4(w: Float32Array, K: number, N: number, blockSize = 32): Int4Quantized {
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`int4 block size must be a power of two ≥ 16, got ${blockSize}`);
  const kBlocks = Math.ceil(K / blockSize);
  const half = blockSize / 2;
  const packed = new Uint8Array(N * kBlocks * half);
  const scales = new Float32Array(N * kBlocks);
  // Work on one transposed column at a time: W is [K,N] row-major, blocks run down a column.
  const col = new Float32Array(K);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) col[k] = w[k * N + n]!;
    for (let b = 0; b < kBlocks; b++) {
      let m = 0;
      const k0 = b * blockSize, k1 = Math.min(K, k0 + blockSize);
      for (let k = k0; k < k1; k++) {
        const a = Math.abs(col[k]!);
        if (a > m) m = a;
      }
      const s = m > 0 ? Math.fround(m / 7) : 1;
      scales[n * kBlocks + b] = s;
      const base = (n * kBlocks + b) * half;
      for (let j = 0; j < blockSize; j += 2) {
        // Padding past K stays at the zero point (8), so it dequantizes to exactly 0.
        const lo = k0 + j < k1 ? Math.min(7, Math.max(-8, Math.round(col[k0 + j]! / s))) + 8 : 8;
        const hi = k0 + j + 1 < k1 ? Math.min(7, Math.max(-8, Math.round(col[k0 + j + 1]! / s))) + 8 : 8;
        packed[base + (j >> 1)] = lo | (hi << 4);
      }
    }
  }
  return { packed, scales, kBlocks, blockSize };
}

export function dequantizeInt4(q: Int4Quantized, K: number, N: number): Float32Array {
  const out = new Float32Array(K * N);
  const half = q.blockSize / 2;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / q.blockSize), j = k - b * q.blockSize;
      const byte = q.packed[(n * q.kBlocks + b) * half + (j >> 1)]!;
      const v = (j & 1 ? byte >> 4 : byte & 15) - 8;
      out[k * N + n] = Math.fround(v * q.scales[n * q.kBlocks + b]!);
    }
  }
  return out;
}

export function roundTripFloat16(w: Float32Array): Float32Array {
  return float16ToFloat32(float32ToFloat16(w));
}

/** How a weight is read, which decides its quantization axis and whether 4-bit applies. */
export interface WeightUse {
  dims: number[];
  /** The output-channel axis (per-channel scales run along it). */
  axis: number;
  /** Only plain MatMul weights [K,N] can go to 4 bits (MatMulNBits). */
  matmul: boolean;
}

/** W after quantizing to `bits` with the transforms' quantizers (32 = unchanged). */
export function fakeQuantize(w: Float32Array, use: WeightUse, bits: Bits, blockSize = 32): Float32Array {
  switch (bits) {
    case 32: return w;
    case 16: return roundTripFloat16(w);
    case 8: return dequantizeInt8(quantizeInt8(w, use.dims, use.axis, true), use.dims, use.axis);
    case 4: {
      if (!use.matmul) throw new Error('4-bit quantization applies only to MatMul weights');
      const [K, N] = use.dims as [number, number];
      return dequantizeInt4(quantizeInt4(w, K, N, blockSize), K, N);
    }
  }
}

/** ‖Q_b(W) − W‖² (Float64 sum). */
export function quantizationError(w: Float32Array, use: WeightUse, bits: Bits, blockSize = 32): number {
  if (bits === 32) return 0;
  const q = fakeQuantize(w, use, bits, blockSize);
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const d = q[i]! - w[i]!;
    s += d * d;
  }
  return s;
}

/** Bytes a weight takes at `bits` in the files the transforms write (data + scales/zero points). */
export function quantizedBytes(use: WeightUse, bits: Bits, blockSize = 32): number {
  const n = use.dims.reduce((p, d) => p * d, 1);
  switch (bits) {
    case 32: return 4 * n;
    case 16: return 2 * n;
    case 8: return n + 5 * use.dims[use.axis < 0 ? use.dims.length + use.axis : use.axis]!; // int8 data + fp32 scale + int8 zero point per channel
    case 4: {
      const [K, N] = use.dims as [number, number];
      const kBlocks = Math.ceil(K / blockSize);
      return N * kBlocks * (blockSize / 2) + 4 * N * kBlocks;
    }
  }
}
