/**
 * int4 weight-only: each MatMul weight [K,N] → com.microsoft MatMulNBits (bits 4, blockwise
 * symmetric scales along K, block size 32 by default). ORT's CPU provider runs it with
 * its own 4-bit kernels (makeVariant checks this build can, and refuses with a clear 'unsupported'
 * error otherwise). Weights 4-bit cannot express through a contrib op (Conv, Gemm) go to int8
 * weight-only, and embedding tables to per-row int8, so the whole model shrinks.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { quantizeWeights } from './int8.ts';
import { matMulNBits4 } from './weight-ops.ts';

export function toInt4(model: ModelProto, opts: { blockSize?: number } = {}): { model: ModelProto; changed: string[] } {
  const blockSize = opts.blockSize ?? 32;
  return quantizeWeights(model, (edit, name) => matMulNBits4(edit, name, blockSize), true, true);
}
