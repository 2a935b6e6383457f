/**
 * int4 weight-only: each MatMul weight [K,N] → com.microsoft MatMulNBits (bits 4, blockwise
 * symmetric scales along K, block size 32 by default). ORT's CPU provider runs it with
 * its own 4-bit kernels (makeVariant checks this build can, and refuses with a clear 'unsupported'
 * error otherwise). Weights 4-bit cannot express through a contrib op (Conv, Gemm) go to int8
 * weight-only, and embedding tables to per-row int8, so the whole model shrinks.
 */
import type { ModelProto } from '../../../core/onnx/proto.ts';
import { GraphEdit } from './edit.ts';
import { ensureOpset, gatherTables, weightMatrices } from './graph.ts';
import { dequantizeInt8, gatherInt8, matMulNBits4 } from './weight-ops.ts';

export function toInt4(model: ModelProto, opts: { blockSize?: number } = {}): { model: ModelProto; changed: string[] } {
  const blockSize = opts.blockSize ?? 32;
  const edit = new GraphEdit(model);
  const changed: string[] = [];
  let usedMs = false;
  for (const w of weightMatrices(model)) {
    if (edit.use(w.name).matmul) {
      matMulNBits4(edit, w.name, blockSize);
      usedMs = true;
    } else {
      dequantizeInt8(edit, w.name, true, true);
    }
    changed.push(w.name);
  }
  for (const t of gatherTables(model)) {
    gatherInt8(edit, t.name);
    changed.push(t.name);
  }
  const out = edit.finish();
  if (usedMs) ensureOpset(out, 'com.microsoft', 1);
  return { model: out, changed };
}
