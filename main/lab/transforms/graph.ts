/**
 * Small graph-editing helpers shared by the transforms: finding a weight's consumers, fresh value
 * names, opset imports, and byte counts. Pure functions on decoded ModelProto objects.
 */
import { DataType, elementCount, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';

/** Ops whose weight input (index 1) is a candidate for compression. */
export const WEIGHT_OPS = new Set(['MatMul', 'Gemm', 'Conv']);

export interface WeightMatrix {
  name: string;
  dims: number[];
  /** Op types of the nodes reading this initializer. */
  consumers: string[];
}

/** A deep-enough copy: new node/initializer/input lists, tensors shared (transforms replace, never mutate, them). */
export function cloneModel(model: ModelProto): ModelProto {
  const g = model.graph ?? {};
  return {
    ...model,
    opsetImport: (model.opsetImport ?? []).map((o) => ({ ...o })),
    metadataProps: model.metadataProps?.map((p) => ({ ...p })),
    graph: {
      ...g,
      node: (g.node ?? []).map((n) => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])] })),
      initializer: [...(g.initializer ?? [])],
      input: [...(g.input ?? [])],
      output: [...(g.output ?? [])],
      valueInfo: g.valueInfo ? [...g.valueInfo] : undefined,
    },
  };
}

export function requireGraph(model: ModelProto): GraphProto {
  if (!model || typeof model !== 'object' || !model.graph || !Array.isArray(model.graph.node) || model.graph.node.length === 0) {
    throw new Error('not an ONNX model: it has no graph nodes (is the file an .onnx model?)');
  }
  return model.graph;
}

export function isFloatTensor(t: TensorProto): boolean {
  return (t.dataType ?? 0) === DataType.FLOAT && t.dataLocation !== 1;
}

/** Nodes reading each value name, with the input slot. */
export function consumersOf(graph: GraphProto): Map<string, { node: NodeProto; slot: number }[]> {
  const map = new Map<string, { node: NodeProto; slot: number }[]>();
  for (const node of graph.node ?? []) {
    (node.input ?? []).forEach((name, slot) => {
      if (!name) return;
      let list = map.get(name);
      if (!list) map.set(name, (list = []));
      list.push({ node, slot });
    });
  }
  return map;
}

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i ?? fallback;
}

/**
 * The fp32 initializers that are the weight (input 1) of MatMul/Gemm/Conv and are read by nothing
 * else. Structural constants are Constant nodes in this project's graphs, so they never appear.
 */
export function weightMatrices(model: ModelProto): WeightMatrix[] {
  const graph = requireGraph(model);
  const users = consumersOf(graph);
  const out: WeightMatrix[] = [];
  for (const t of graph.initializer ?? []) {
    if (!t.name || !isFloatTensor(t)) continue;
    const readers = users.get(t.name) ?? [];
    if (readers.length === 0) continue;
    if (!readers.every((r) => r.slot === 1 && WEIGHT_OPS.has(r.node.opType) && !r.node.domain)) continue;
    const dims = t.dims ?? [];
    if (readers.some((r) => r.node.opType === 'MatMul') && dims.length !== 2) continue;
    if (readers.some((r) => r.node.opType === 'Gemm') && dims.length !== 2) continue;
    out.push({ name: t.name, dims: [...dims], consumers: [...new Set(readers.map((r) => r.node.opType))] });
  }
  return out;
}

/** fp32 initializers used as the data (input 0) of an axis-0 Gather: embedding tables. */
export function gatherTables(model: ModelProto): WeightMatrix[] {
  const graph = requireGraph(model);
  const users = consumersOf(graph);
  const out: WeightMatrix[] = [];
  for (const t of graph.initializer ?? []) {
    if (!t.name || !isFloatTensor(t) || (t.dims ?? []).length !== 2) continue;
    const readers = users.get(t.name) ?? [];
    if (readers.length === 0 || !readers.every((r) => r.slot === 0 && r.node.opType === 'Gather' && !r.node.domain && attrInt(r.node, 'axis', 0) === 0)) continue;
    out.push({ name: t.name, dims: [...t.dims!], consumers: ['Gather'] });
  }
  return out;
}

/** Fresh value names that collide with nothing in the graph. */
export class Names {
  private used = new Set<string>();
  constructor(graph: GraphProto) {
    for (const n of graph.node ?? []) {
      for (const v of [...(n.input ?? []), ...(n.output ?? [])]) this.used.add(v);
      if (n.name) this.used.add(n.name);
    }
    for (const t of graph.initializer ?? []) if (t.name) this.used.add(t.name);
    for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) this.used.add(v.name);
  }
  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** Makes sure the model imports `domain` at least at `version` (raising the default domain's opset is not done here). */
export function ensureOpset(model: ModelProto, domain: string, version: number): void {
  const list = (model.opsetImport ??= []);
  const found = list.find((o) => (o.domain ?? '') === domain);
  if (!found) list.push(domain ? { domain, version } : { version });
  else if ((found.version ?? 0) < version) {
    if (domain === '') throw new Error(`this transform needs ONNX opset ≥ ${version}; the model imports opset ${found.version}`);
    found.version = version;
  }
}

export function defaultOpset(model: ModelProto): number {
  return model.opsetImport?.find((o) => !o.domain)?.version ?? 0;
}

/** Bytes held by the graph's initializers (what dominates an .onnx file). */
export function initializerBytes(model: ModelProto): number {
  let sum = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (t.rawData && t.rawData.length) sum += t.rawData.length;
    else if (t.floatData?.length) sum += 4 * t.floatData.length;
    else if (t.int64Data?.length) sum += 8 * t.int64Data.length;
    else if (t.int32Data?.length) sum += 4 * t.int32Data.length;
    else sum += 4 * elementCount(t.dims);
  }
  return sum;
}

/** Removes initializers nothing reads any more. */
export function dropUnusedInitializers(graph: GraphProto): void {
  const read = new Set<string>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) read.add(i);
  for (const o of graph.output ?? []) read.add(o.name);
  graph.initializer = (graph.initializer ?? []).filter((t) => read.has(t.name ?? ''));
}

