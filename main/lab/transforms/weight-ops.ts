/**
 * The per-weight rewrites every transform is made of. Each takes a GraphEdit and one weight
 * initializer name and leaves the graph computing (approximately) the same function:
 *   castFp16          W → W_fp16 (FLOAT16) + Cast(to float) producing the name W
 *   dequantizeInt8    W → W_quantized (int8/uint8) + scale + zero point + DequantizeLinear → W
 *   dynamicInt8       MatMul(x, W) → com.microsoft DynamicQuantizeMatMul(x, W_q, scale, zp)
 *   matMulNBits4      MatMul(x, W) → com.microsoft MatMulNBits(x, W_packed, scales), 4 bits
 *   gatherInt8        Gather(T, ids) → Cast(Gather(T_q, ids)) · Unsqueeze(Gather(scale, ids), -1)
 *   gatherFp16        Gather(T, ids) → Cast(Gather(T_fp16, ids)) (the table stays half size in memory)
 *   lowRank           MatMul(x, W) → MatMul(MatMul(x, A), B)
 * Reusing the original value name for the decoded weight means consumers need no edits.
 */
import { DataType, float32ToFloat16 } from '../../core/onnx/proto.ts';
import { AttributeType } from '../../core/onnx/proto.ts';
import type { GraphEdit } from './edit.ts';
import { quantizeInt4, quantizeInt8 } from './quantize.ts';

const MS_DOMAIN = 'com.microsoft';

export function castFp16(edit: GraphEdit, name: string): void {
  const t = edit.tensor(name);
  const half = edit.add(`${name}_fp16`, DataType.FLOAT16, t.dims ?? [], float32ToFloat16(edit.values(name)));
  edit.remove(name);
  edit.prepend({ opType: 'Cast', name: edit.names.fresh(`${name}_cast`), input: [half], output: [name], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] });
}

export function dequantizeInt8(edit: GraphEdit, name: string, symmetric: boolean, perChannel: boolean): void {
  const use = edit.use(name);
  const w = edit.values(name);
  const qz = quantizeInt8(w, use.dims, use.axis, symmetric, perChannel);
  const qType = symmetric ? DataType.INT8 : DataType.UINT8;
  const paramDims = perChannel ? [qz.scale.length] : [];
  const q = edit.add(`${name}_quantized`, qType, use.dims, qz.q);
  const scale = edit.add(`${name}_scale`, DataType.FLOAT, paramDims, qz.scale);
  const zp = edit.add(`${name}_zero_point`, qType, paramDims, qz.zeroPoint);
  edit.remove(name);
  const attribute = perChannel ? [{ name: 'axis', type: AttributeType.INT, i: use.axis }] : [];
  edit.prepend({ opType: 'DequantizeLinear', name: edit.names.fresh(`${name}_dequantize`), input: [q, scale, zp], output: [name], attribute });
}

/** Every reader must be a MatMul with the weight as input 1 (checked by the caller via `use().matmul`). */
export function dynamicInt8(edit: GraphEdit, name: string, symmetric: boolean, perChannel: boolean): void {
  const use = edit.use(name);
  if (!use.matmul) throw new Error(`${name} is not a MatMul weight`);
  const qz = quantizeInt8(edit.values(name), use.dims, 1, symmetric, perChannel);
  // ORT multiplies uint8 activations by the weights. With int8 weights its x86 AVX2 kernel
  // (vpmaddubsw) saturates int16 sums — measured cosine 0.95 on tiny-clip's text tower — so
  // symmetric weights are stored as uint8 with zero point 128: the same values, u8u8 kernel.
  let qU8 = qz.q as Uint8Array;
  if (symmetric) {
    qU8 = new Uint8Array(qz.q.length);
    const src = qz.q as Int8Array;
    for (let i = 0; i < src.length; i++) qU8[i] = src[i]! + 128;
  }
  const zpU8 = symmetric ? new Uint8Array(qz.scale.length).fill(128) : (qz.zeroPoint as Uint8Array);
  const paramDims = perChannel ? [qz.scale.length] : [];
  const q = edit.add(`${name}_quantized`, DataType.UINT8, use.dims, qU8);
  const scale = edit.add(`${name}_scale`, DataType.FLOAT, paramDims, qz.scale);
  const zp = edit.add(`${name}_zero_point`, DataType.UINT8, paramDims, zpU8);
  for (const { node } of edit.readers(name)) {
    edit.replace(node, [{
      opType: 'DynamicQuantizeMatMul',
      domain: MS_DOMAIN,
      name: edit.names.fresh(`${node.name ?? 'MatMul'}_dynamic_int8`),
      input: [node.input![0]!, q, scale, zp],
      output: [...node.output!],
    }]);
  }
  edit.remove(name);
}

export function matMulNBits4(edit: GraphEdit, name: string, blockSize: number): void {
  const use = edit.use(name);
  if (!use.matmul) throw new Error(`${name} is not a MatMul weight; 4-bit applies only to MatMul weights`);
  const [K, N] = use.dims as [number, number];
  const q4 = quantizeInt4(edit.values(name), K, N, blockSize);
  const b = edit.add(`${name}_q4`, DataType.UINT8, [N, q4.kBlocks, blockSize / 2], q4.packed);
  const scales = edit.add(`${name}_scales`, DataType.FLOAT, [N * q4.kBlocks], q4.scales);
  for (const { node } of edit.readers(name)) {
    edit.replace(node, [{
      opType: 'MatMulNBits',
      domain: MS_DOMAIN,
      name: edit.names.fresh(`${node.name ?? 'MatMul'}_int4`),
      input: [node.input![0]!, b, scales],
      output: [...node.output!],
      attribute: [
        { name: 'K', type: AttributeType.INT, i: K },
        { name: 'N', type: AttributeType.INT, i: N },
        { name: 'bits', type: AttributeType.INT, i: 4 },
        { name: 'block_size', type: AttributeType.INT, i: blockSize },
      ],
    }]);
  }
  edit.remove(name);
}

/** Symmetric per-row int8 for an embedding table: only the gathered rows are dequantized. */
export function gatherInt8(edit: GraphEdit, name: string): void {
  const t = edit.tensor(name);
  const dims = t.dims!;
  const qz = quantizeInt8(edit.values(name), dims, 0, true, true);
  const q = edit.add(`${name}_quantized`, DataType.INT8, dims, qz.q);
  const scale = edit.add(`${name}_scale`, DataType.FLOAT, [dims[0]!], qz.scale);
  const axes = edit.int64Constant(`${name}_unsqueeze_axes`, [-1]);
  for (const { node } of edit.readers(name)) {
    const ids = node.input![1]!;
    const out = node.output![0]!;
    const base = node.name ?? 'Gather';
    const rowsQ = edit.names.fresh(`${base}_rows_int8`);
    const rows = edit.names.fresh(`${base}_rows_float`);
    const rowScale = edit.names.fresh(`${base}_row_scale`);
    const rowScale1 = edit.names.fresh(`${base}_row_scale_unsqueezed`);
    edit.replace(node, [
      { opType: 'Gather', name: rowsQ, input: [q, ids], output: [rowsQ], attribute: [{ name: 'axis', type: AttributeType.INT, i: 0 }] },
      { opType: 'Cast', name: rows, input: [rowsQ], output: [rows], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] },
      { opType: 'Gather', name: rowScale, input: [scale, ids], output: [rowScale], attribute: [{ name: 'axis', type: AttributeType.INT, i: 0 }] },
      { opType: 'Unsqueeze', name: rowScale1, input: [rowScale, axes], output: [rowScale1] },
      { opType: 'Mul', name: edit.names.fresh(`${base}_dequantize`), input: [rows, rowScale1], output: [out] },
    ]);
  }
  edit.remove(name);
}

export function gatherFp16(edit: GraphEdit, name: string): void {
  const t = edit.tensor(name);
  const half = edit.add(`${name}_fp16`, DataType.FLOAT16, t.dims ?? [], float32ToFloat16(edit.values(name)));
  for (const { node } of edit.readers(name)) {
    const out = node.output![0]!;
    const mid = edit.names.fresh(`${node.name ?? 'Gather'}_fp16`);
    edit.replace(node, [
      { ...node, input: [half, ...node.input!.slice(1)], output: [mid] },
      { opType: 'Cast', name: edit.names.fresh(`${mid}_cast`), input: [mid], output: [out], attribute: [{ name: 'to', type: AttributeType.INT, i: DataType.FLOAT }] },
    ]);
  }
  edit.remove(name);
}

/** W [K,N] ≈ A [K,r] · B [r,N]; every MatMul reading W becomes two. */
export function lowRank(edit: GraphEdit, name: string, a: Float32Array, b: Float32Array, rank: number): void {
  const [K, N] = edit.use(name).dims as [number, number];
  const aName = edit.add(`${name}_lowrank_a`, DataType.FLOAT, [K, rank], a);
  const bName = edit.add(`${name}_lowrank_b`, DataType.FLOAT, [rank, N], b);
  for (const { node } of edit.readers(name)) {
    const mid = edit.names.fresh(`${node.name ?? 'MatMul'}_lowrank`);
    edit.replace(node, [
      { opType: 'MatMul', name: mid, input: [node.input![0]!, aName], output: [mid] },
      { opType: 'MatMul', name: edit.names.fresh(`${mid}_b`), input: [mid, bName], output: [...node.output!] },
    ]);
  }
  edit.remove(name);
}
