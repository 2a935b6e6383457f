/**
 * One in-progress edit of a model's graph: initializers by name, nodes to prepend (weight decoders
 * that read only initializers), and in-place node replacements. `finish()` writes the result back
 * in topological order and drops initializers nothing reads.
 */
import { DataType, makeTensor, tensorToFloat32, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { attrInt, cloneModel, consumersOf, dropUnusedInitializers, Names, requireGraph } from './graph.ts';
import type { WeightUse } from './quantize.ts';

export class GraphEdit {
  readonly model: ModelProto;
  readonly graph: GraphProto;
  readonly names: Names;
  private readonly inits = new Map<string, TensorProto>();
  private readonly prelude: NodeProto[] = [];
  private readonly replaced = new Map<NodeProto, NodeProto[]>();

  constructor(source: ModelProto) {
    requireGraph(source);
    this.model = cloneModel(source);
    this.graph = this.model.graph!;
    this.names = new Names(this.graph);
    for (const t of this.graph.initializer ?? []) if (t.name) this.inits.set(t.name, t);
  }

  tensor(name: string): TensorProto {
    const t = this.inits.get(name);
    if (!t) throw new Error(`the model has no initializer named "${name}"`);
    return t;
  }

  values(name: string): Float32Array {
    return tensorToFloat32(this.tensor(name));
  }

  /** Adds an initializer under a fresh name derived from `base`; returns the name. */
  add(base: string, dataType: number, dims: readonly number[], data: Parameters<typeof makeTensor>[3]): string {
    const name = this.names.fresh(base);
    this.inits.set(name, makeTensor(name, dataType, dims, data));
    return name;
  }

  remove(name: string): void {
    this.inits.delete(name);
  }

  /** A node that reads only initializers/constants, placed at the start of the graph. */
  prepend(node: NodeProto): void {
    this.prelude.push(node);
  }

  /** Nodes currently reading `name` (from the original node list). */
  readers(name: string): { node: NodeProto; slot: number }[] {
    return consumersOf(this.graph).get(name) ?? [];
  }

  replace(node: NodeProto, withNodes: NodeProto[]): void {
    if (this.replaced.has(node)) throw new Error(`node ${node.name ?? node.opType} was already replaced`);
    this.replaced.set(node, withNodes);
  }

  /** The int64 Constant node holding `values` (a structural constant, per the builder's convention). */
  int64Constant(base: string, values: number[]): string {
    const name = this.names.fresh(base);
    this.prepend({
      opType: 'Constant',
      name,
      input: [],
      output: [name],
      attribute: [{ name: 'value', type: 4, t: makeTensor(name, DataType.INT64, [values.length], BigInt64Array.from(values, (v) => BigInt(v))) }],
    });
    return name;
  }

  /** How `name` is read: dims, output-channel axis, and whether it is a plain MatMul weight. */
  use(name: string): WeightUse {
    const dims = [...(this.tensor(name).dims ?? [])];
    return weightUseFrom(dims, this.readers(name).map((r) => r.node));
  }

  finish(): ModelProto {
    const nodes: NodeProto[] = [...this.prelude];
    for (const n of this.graph.node ?? []) nodes.push(...(this.replaced.get(n) ?? [n]));
    this.graph.node = nodes;
    this.graph.initializer = [...this.inits.values()];
    dropUnusedInitializers(this.graph);
    return this.model;
  }
}

export function weightUseFrom(dims: number[], readers: NodeProto[]): WeightUse {
  const first = readers[0];
  if (!first) return { dims, axis: dims.length > 1 ? 1 : 0, matmul: false };
  switch (first.opType) {
    case 'Conv': return { dims, axis: 0, matmul: false };
    case 'Gemm': return { dims, axis: attrInt(first, 'transB', 0) ? 0 : 1, matmul: false };
    default: return { dims, axis: dims.length - 1, matmul: first.opType === 'MatMul' && readers.every((r) => r.opType === 'MatMul') && dims.length === 2 };
  }
}
