/**
 * A small ONNX graph builder: declare inputs, weights and ops by name, get a ModelProto back.
 * Convention that the model lab relies on: learnable weights are graph initializers; structural
 * constants (shapes, scalars, masks) are Constant nodes, so "transform every initializer" touches
 * only weights.
 */
import { AttributeType, DataType, makeTensor, type AttributeProto, type ModelProto, type NodeProto, type TensorData, type TensorProto, type ValueInfoProto } from './proto.ts';

export type ElemType = 'float32' | 'float16' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool';
/** A dimension: a fixed size, or a name for a dynamic one (e.g. 'N' for batch). */
export type Dim = number | string;

export const ELEM_TYPE_CODE: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
};

/** Forces a float attribute even when the value happens to be a whole number (e.g. alpha = 1). */
export interface FloatAttr { kind: 'float'; value: number }
export interface FloatsAttr { kind: 'floats'; value: number[] }
export const floatAttr = (value: number): FloatAttr => ({ kind: 'float', value });

/** Whole numbers become INT(S), others FLOAT(S); strings STRING; TensorProto TENSOR. */
export type AttrValue = number | number[] | string | TensorProto | FloatAttr | FloatsAttr;

export interface ToModelOptions {
  opset?: number;
  producer?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  graphName?: string;
}

function typeCodeOf(data: TensorData): number {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Uint16Array) return DataType.FLOAT16;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  throw new Error('unsupported tensor data array');
}

function valueInfo(name: string, type: ElemType, shape: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE_CODE[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    return value.every(Number.isInteger) ? { name, type: AttributeType.INTS, ints: value } : { name, type: AttributeType.FLOATS, floats: value };
  }
  if ('kind' in value) {
    return value.kind === 'float' ? { name, type: AttributeType.FLOAT, f: value.value } : { name, type: AttributeType.FLOATS, floats: value.value };
  }
  return { name, type: AttributeType.TENSOR, t: value };
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name starting with `prefix`. */
  uniqueName(prefix: string): string {
    let name = prefix;
    while (this.names.has(name)) name = `${prefix}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph already has a value named ${name}`);
    this.names.add(name);
    return name;
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, shape));
    return name;
  }

  /** A weight tensor. The data's memory is shared, not copied (big models stay at one copy). */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    this.claim(name);
    this.inits.push(makeTensor(name, typeCodeOf(data), dims, data));
    return name;
  }

  /** A structural constant as a Constant node (not an initializer, see the header). */
  constant(data: TensorData, dims: readonly number[], name = 'const'): string {
    const out = this.uniqueName(name);
    this.nodes.push({ opType: 'Constant', name: out, input: [], output: [out], attribute: [attribute('value', makeTensor(out, typeCodeOf(data), dims, data))] });
    return out;
  }

  /** int64 constant, e.g. a target shape for Reshape. Dims default to a 1-D list. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), dims, 'shape');
  }

  /** float32 constant; a single number gives a scalar. */
  floats(values: number | readonly number[], dims?: readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    return this.constant(Float32Array.from(list), dims ?? (typeof values === 'number' ? [] : [list.length]), 'const');
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, options: { name?: string; domain?: string } = {}): string {
    return this.opMulti(opType, inputs, 1, attrs, options)[0]!;
  }

  /** An op with several outputs (e.g. Split); inputs may be '' for an omitted optional input. */
  opMulti(opType: string, inputs: readonly string[], outputCount: number, attrs: Record<string, AttrValue> = {}, options: { name?: string; domain?: string } = {}): string[] {
    for (const i of inputs) if (i !== '' && !this.names.has(i)) throw new Error(`${opType}: unknown input ${i}`);
    const base = this.uniqueName(options.name ?? opType);
    const outputs = Array.from({ length: outputCount }, (_, k) => (k === 0 ? base : this.uniqueName(`${base}_out${k}`)));
    const node: NodeProto = { opType, name: base, input: [...inputs], output: outputs };
    const list = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    if (list.length) node.attribute = list;
    if (options.domain) node.domain = options.domain;
    this.nodes.push(node);
    return outputs;
  }

  /**
   * Declares `value` as a graph output named `name`. The producing node's output is renamed so
   * the graph needs no Identity; graph inputs and initializers get an Identity instead.
   */
  output(value: string, name: string, type: ElemType, shape: readonly Dim[]): string {
    if (value !== name) {
      const producer = this.nodes.find((n) => n.output?.includes(value));
      this.claim(name);
      if (!producer || this.outputs.some((o) => o.name === value)) {
        this.nodes.push({ opType: 'Identity', name, input: [value], output: [name] });
      } else {
        for (const n of this.nodes) {
          n.input = n.input?.map((i) => (i === value ? name : i));
          n.output = n.output?.map((o) => (o === value ? name : o));
        }
      }
    }
    this.outputs.push(valueInfo(name, type, shape));
    return name;
  }

  get initializers(): readonly TensorProto[] {
    return this.inits;
  }

  toModel(options: ToModelOptions = {}): ModelProto {
    const opset = options.opset ?? 17;
    const model: ModelProto = {
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      producerName: options.producer ?? 'leanlens',
      graph: {
        node: this.nodes,
        name: options.graphName ?? 'main',
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    };
    if (options.producerVersion) model.producerVersion = options.producerVersion;
    if (options.docString) model.docString = options.docString;
    if (options.metadata) model.metadataProps = Object.entries(options.metadata).map(([key, value]) => ({ key, value }));
    return model;
  }
}
