/**
 * int8 quantization of the weight matrices (MatMul/Gemm/Conv weights) and embedding tables.
 *  - weight-only: W → int8 (symmetric, zero point 0) or uint8 (asymmetric) + per-output-channel
 *    scale/zero point + DequantizeLinear(axis) producing W's old name. Compute stays fp32; the file
 *    is ~¼ size. Needs opset ≥ 13 for per-channel axis.
 *  - dynamic: MatMul(x, W) → com.microsoft DynamicQuantizeMatMul(x, W_q, scale[N], zp[N]): ORT
 *    quantizes x to uint8 per call and runs an integer GEMM — the int8 speed-up on CPU. (This is
 *    the node ORT's own fusion makes from DynamicQuantizeLinear + MatMulInteger.) Conv and Gemm
 *    weights fall back to weight-only.
 *  - embedding tables (an initializer read only by axis-0 Gather, e.g. CLIP's token embedding or
 *    the colour oracle's word table): symmetric per-row int8; the graph gathers int8 rows and
 *    their scales and multiplies, so the full table is never dequantized.
 * Biases, LayerNorm parameters and positional embeddings stay fp32 (small, and sensitive).
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { GraphEdit } from './edit.ts';
import { defaultOpset, ensureOpset, gatherTables, weightMatrices } from './graph.ts';
import { dequantizeInt8, dynamicInt8, gatherInt8 } from './weight-ops.ts';

export interface Int8Options {
  mode: 'weight-only' | 'dynamic';
  symmetric?: boolean;
  perChannel?: boolean;
}

export function toInt8(model: ModelProto, opts: Int8Options): { model: ModelProto; changed: string[] } {
  const symmetric = opts.symmetric ?? true;
  const perChannel = opts.perChannel ?? true;
  if (perChannel && defaultOpset(model) < 13) throw new Error(`per-channel int8 needs ONNX opset ≥ 13 (DequantizeLinear axis); this model imports opset ${defaultOpset(model)}`);
  if (defaultOpset(model) < 10) throw new Error(`int8 needs ONNX opset ≥ 10; this model imports opset ${defaultOpset(model)}`);
  const dynamic = opts.mode === 'dynamic' ? (edit: GraphEdit, name: string) => dynamicInt8(edit, name, symmetric, perChannel) : null;
  return quantizeWeights(model, dynamic, symmetric, perChannel);
}

/**
 * The loop int8 and int4 share: MatMul weights go through `matmul` (a com.microsoft contrib op)
 * when one is given, every other weight matrix to int8 + DequantizeLinear, and embedding tables to
 * per-row int8.
 */
export function quantizeWeights(
  model: ModelProto,
  matmul: ((edit: GraphEdit, name: string) => void) | null,
  symmetric: boolean,
  perChannel: boolean,
): { model: ModelProto; changed: string[] } {
  const edit = new GraphEdit(model);
  const changed: string[] = [];
  let usedContribOp = false;
  for (const w of weightMatrices(model)) {
    if (matmul && edit.use(w.name).matmul) {
      matmul(edit, w.name);
      usedContribOp = true;
    } else {
      dequantizeInt8(edit, w.name, symmetric, perChannel);
    }
    changed.push(w.name);
  }
  changed.push(...quantizeTables(edit, model));
  const out = edit.finish();
  if (usedContribOp) ensureOpset(out, 'com.microsoft', 1);
  return { model: out, changed };
}

/** Every embedding table (axis-0 Gather data) to per-row int8; returns their names. Shared with mixed precision. */
export function quantizeTables(edit: GraphEdit, model: ModelProto): string[] {
  const names = gatherTables(model).map((t) => t.name);
  for (const name of names) gatherInt8(edit, name);
  return names;
}
