/**
 * fp16, weight-only: large fp32 initializers are stored as FLOAT16 and cast back to fp32 at load.
 * Why not fp16 compute: ONNX Runtime's CPU provider has fp16 kernels for only a few ops (no fp16
 * MatMul/Gemm on x86), so an fp16-compute graph either fails to load or gets Casts inserted around
 * every node by ORT and runs slower than fp32. Weight-only halves the file; ORT folds each
 * Cast(initializer) once at session creation, so inference runs at fp32 speed and precision.
 * Numerically fragile consumers (LayerNormalization, Softmax, reductions, Pow/Sqrt/Div) keep fp32
 * parameters outright; graph inputs and outputs are untouched (fp32). Embedding tables read by
 * Gather are gathered in fp16 and the gathered rows cast, so they stay half size in memory too.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { GraphEdit } from './edit.ts';
import { consumersOf, gatherTables, isFloatTensor } from './graph.ts';
import { castFp16, gatherFp16 } from './weight-ops.ts';

export const FRAGILE_OPS = new Set(['LayerNormalization', 'Softmax', 'LogSoftmax', 'ReduceMean', 'ReduceSum', 'ReduceSumSquare', 'ReduceL2', 'LpNormalization', 'Pow', 'Sqrt', 'Div', 'Exp', 'Log', 'BatchNormalization', 'InstanceNormalization']);
/** Tensors smaller than this stay fp32: the saving is nil and scalars often set precision-critical constants. */
const MIN_ELEMENTS = 256;

export function toFp16(model: ModelProto): { model: ModelProto; changed: string[] } {
  const edit = new GraphEdit(model);
  const users = consumersOf(edit.graph);
  const tables = new Set(gatherTables(model).map((t) => t.name));
  const changed: string[] = [];
  for (const t of [...(edit.graph.initializer ?? [])]) {
    const name = t.name ?? '';
    if (!name || !isFloatTensor(t)) continue;
    const readers = users.get(name) ?? [];
    if (readers.length === 0 || readers.some((r) => FRAGILE_OPS.has(r.node.opType))) continue;
    if ((t.dims ?? []).reduce((p, d) => p * d, 1) < MIN_ELEMENTS) continue;
    if (tables.has(name)) gatherFp16(edit, name);
    else castFp16(edit, name);
    changed.push(name);
  }
  return { model: edit.finish(), changed };
}
