/**
 * lab/transforms — compression transforms on decoded ONNX models, each producing a new model
 * that computes (approximately) the same embeddings:
 *   fp16     weight-only half precision (Cast back to fp32 at load; fragile ops keep fp32 params)
 *   int8     weight-only (DequantizeLinear) or dynamic (com.microsoft DynamicQuantizeMatMul),
 *            per-channel, symmetric or asymmetric; embedding tables per-row int8
 *   int4     com.microsoft MatMulNBits (4-bit blockwise) for MatMul weights
 *   mixed    a bit-width per weight matrix (chosen by ../hawq)
 *   lowrank  W ≈ A·B by truncated SVD, two MatMuls
 * Owns the graph rewrites and the quantizers. Must never: do file I/O inside a transform (only
 * makeVariant reads/writes files, through the models registry), run ORT inside a transform, or
 * change a graph's input/output names, types or shapes.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { initializerBytes, requireGraph } from './graph.ts';
import { toFp16 } from './fp16.ts';
import { toInt4 } from './int4.ts';
import { toInt8 } from './int8.ts';
import { toLowRank } from './lowrank.ts';
import { toMixed } from '../mixed-precision/apply-bits.ts';
import type { Bits } from './quantize.ts';

export { weightMatrices, gatherTables, initializerBytes, type WeightMatrix } from './graph.ts';
export { quantizeInt8, dequantizeInt8, quantizeInt4, dequantizeInt4, fakeQuantize, quantizationError, quantizedBytes, type Bits, type WeightUse } from './quantize.ts';
export { truncatedSvd, symmetricEigen, type LowRankFactors } from './svd.ts';
export { weightUseFrom } from './edit.ts';
export { makeVariant, probeContribOps } from './make-variant.ts';
export { readModelFile } from './read-model.ts';
export { writeModelFile } from '../../services/models/index.ts';

export type VariantSpec =
  | { kind: 'fp16' }
  | { kind: 'int8'; mode: 'weight-only' | 'dynamic'; symmetric?: boolean; perChannel?: boolean }
  | { kind: 'int4'; blockSize?: number }
  | { kind: 'mixed'; bits: Record<string, Bits> }
  | { kind: 'lowrank'; rank?: number; energy?: number; minSize?: number };

export interface TransformReport {
  /** Initializers (weights) that were replaced. */
  changed: string[];
  /** Bytes held in initializers before and after (≈ the .onnx file size for weight-dominated models). */
  bytesBefore: number;
  bytesAfter: number;
  /** low-rank only: the rank and kept energy per factorised matrix. */
  ranks?: Record<string, { rank: number; energy: number; dims: number[] }>;
}

/** Applies `spec` to a decoded model; the input model is not modified (tensors are shared, not copied). */
export function transformModel(model: ModelProto, spec: VariantSpec): { model: ModelProto; report: TransformReport } {
  requireGraph(model);
  const bytesBefore = initializerBytes(model);
  let result: { model: ModelProto; changed: string[]; ranks?: TransformReport['ranks'] };
  switch (spec.kind) {
    case 'fp16': result = toFp16(model); break;
    case 'int8': result = toInt8(model, spec); break;
    case 'int4': result = toInt4(model, spec); break;
    case 'mixed': result = toMixed(model, spec.bits); break;
    case 'lowrank': result = toLowRank(model, spec); break;
    default: throw new Error(`unknown transform ${(spec as { kind?: unknown }).kind}`);
  }
  const out = result.model;
  out.metadataProps = [
    ...(out.metadataProps ?? []).filter((p) => p.key !== 'leanlens.transform'),
    { key: 'leanlens.transform', value: JSON.stringify(spec.kind === 'mixed' ? { kind: 'mixed', weights: Object.keys(spec.bits).length } : spec) },
  ];
  return { model: out, report: { changed: result.changed, bytesBefore, bytesAfter: initializerBytes(out), ...(result.ranks ? { ranks: result.ranks } : {}) } };
}

/** Short tag of a spec, precision first: 'fp16', 'int8', 'int8-dynamic', 'int4', 'mixed-5.1b-3fa2c1', 'lowrank-r64'. */
export function variantTag(spec: VariantSpec): string {
  switch (spec.kind) {
    case 'fp16': return 'fp16';
    case 'int8': {
      let tag = spec.mode === 'dynamic' ? 'int8-dynamic' : 'int8';
      if (spec.symmetric === false) tag += '-asym';
      if (spec.perChannel === false) tag += '-pertensor';
      return tag;
    }
    case 'int4': return spec.blockSize && spec.blockSize !== 32 ? `int4-b${spec.blockSize}` : 'int4';
    case 'mixed': {
      const entries = Object.entries(spec.bits).sort(([a], [b]) => (a < b ? -1 : 1));
      const text = entries.map(([k, v]) => `${k}=${v}`).join(';');
      let h = 0x811c9dc5; // FNV-1a: a stable short id for the bit assignment
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
      const mean = entries.length ? entries.reduce((s, [, v]) => s + v, 0) / entries.length : 32;
      return `mixed-${mean.toFixed(1)}b-${h.toString(16).padStart(8, '0').slice(0, 6)}`;
    }
    case 'lowrank': {
      const parts = ['lowrank'];
      if (spec.rank !== undefined) parts.push(`r${spec.rank}`);
      if (spec.energy !== undefined) parts.push(`e${Math.round(spec.energy * 1000) / 10}`.replace('.', 'p'));
      return parts.join('-');
    }
  }
}

/** e.g. variantId('vitb32-shaped', { kind: 'int8', mode: 'weight-only' }) → 'vitb32-shaped-int8'. */
export function variantId(parentId: string, spec: VariantSpec): string {
  return `${parentId}-${variantTag(spec)}`;
}

/** File name of a variant's tower, showing precision: image_int8.onnx, text_fp16.onnx, image_lowrank_r64.onnx. */
export function variantFileName(tower: 'image' | 'text', spec: VariantSpec): string {
  return `${tower}_${variantTag(spec).replace(/[^A-Za-z0-9]+/g, '_')}.onnx`;
}
