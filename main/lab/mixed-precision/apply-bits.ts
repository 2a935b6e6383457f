/**
 * Mixed precision: one bit-width per weight matrix, as chosen by HAWQ (sensitivity.ts and pareto.ts beside this file). 32 = unchanged,
 * 16 = fp16 storage + Cast, 8 = int8 symmetric per-channel + DequantizeLinear, 4 = MatMulNBits
 * (MatMul weights only). These are exactly the quantizers HAWQ's Ω uses (quantize.ts).
 * Weights not named keep fp32; a name that is not a weight matrix of the model is an error.
 * Embedding tables (read only by Gather, e.g. the token embedding) are not compute weights and a
 * query reads only a few rows, so they get per-row int8 here exactly as in the int8 transform:
 * "mixed at the int8 size" then means the same bytes as the int8 variant.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { GraphEdit } from '../transforms/edit.ts';
import { ensureOpset, weightMatrices } from '../transforms/graph.ts';
import { quantizeTables } from '../transforms/int8.ts';
import type { Bits } from '../transforms/quantize.ts';
import { castFp16, dequantizeInt8, matMulNBits4 } from '../transforms/weight-ops.ts';

export const MIXED_BLOCK_SIZE = 32;

export function toMixed(model: ModelProto, bits: Record<string, Bits>): { model: ModelProto; changed: string[] } {
  const known = new Set(weightMatrices(model).map((w) => w.name));
  const unknown = Object.keys(bits).filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`mixed precision: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''} are not weight matrices of this model`);
  const edit = new GraphEdit(model);
  const changed: string[] = [];
  let usedMs = false;
  for (const [name, b] of Object.entries(bits)) {
    switch (b) {
      case 32: continue;
      case 16: castFp16(edit, name); break;
      case 8: dequantizeInt8(edit, name, true, true); break;
      case 4:
        if (!edit.use(name).matmul) throw new Error(`mixed precision: ${name} is not a MatMul weight, so it cannot be 4-bit`);
        matMulNBits4(edit, name, MIXED_BLOCK_SIZE);
        usedMs = true;
        break;
      default: throw new Error(`mixed precision: ${name} has unsupported bit-width ${String(b)} (use 4, 8, 16 or 32)`);
    }
    changed.push(name);
  }
  changed.push(...quantizeTables(edit, model));
  const out = edit.finish();
  if (usedMs) ensureOpset(out, 'com.microsoft', 1);
  return { model: out, changed };
}
