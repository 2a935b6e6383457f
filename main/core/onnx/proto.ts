/**
 * ONNX ModelProto <-> bytes, with the schema embedded as text so no .proto file is read at run time.
 * Only the messages a CLIP-style model needs are declared; unknown fields are skipped on decode
 * (protobuf's rule), so real exported models still decode, just without e.g. training_info.
 * 64-bit integers are surfaced as JS numbers (exact below 2^53, which covers dims and ids).
 */
import protobuf from 'protobufjs';

// Field numbers copied from onnx/onnx.proto (IR version 8). Packed flags match the official file,
// so bytes we write are what the reference implementation writes.
const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11;
    TYPE_PROTO = 13; FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
    SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  optional TypeProto tp = 14;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  repeated TypeProto type_protos = 15;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
    STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; COMPLEX64 = 14;
    COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  optional DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}
`;

/** TensorProto.DataType values used in this project. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

// Plain-object view of the messages (protobufjs toObject with longs as numbers, bytes as Uint8Array).
export interface TensorProto {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
  docString?: string;
  dataLocation?: number;
  externalData?: StringStringEntryProto[];
}
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  docString?: string;
}
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}
export interface TensorShapeDim {
  dimValue?: number;
  dimParam?: string;
}
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: TensorShapeDim[] } };
}
export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  docString?: string;
}
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}
export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}
export interface StringStringEntryProto {
  key?: string;
  value?: string;
}
export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
}

const root = protobuf.parse(ONNX_SCHEMA, { keepCase: false }).root;
const ModelType = root.lookupType('onnx.ModelProto');
const GraphType = root.lookupType('onnx.GraphProto');
const TensorType = root.lookupType('onnx.TensorProto');

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: false, arrays: false, oneofs: false };

function encodeMessage(type: protobuf.Type, value: object): Uint8Array {
  const bytes = type.encode(type.fromObject(value as Record<string, unknown>)).finish();
  // Node's protobufjs returns a Buffer; hand out a plain Uint8Array view (no copy) everywhere.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return encodeMessage(ModelType, model);
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  const message = ModelType.decode(bytes);
  const model = ModelType.toObject(message, TO_OBJECT) as ModelProto;
  // Node's protobufjs hands out Buffers that share the input's memory; copy raw_data so callers can
  // keep tensors after the input goes away and so Float32Array views start aligned.
  for (const t of model.graph?.initializer ?? []) if (t.rawData) t.rawData = new Uint8Array(t.rawData);
  return model;
}

export function encodeTensor(tensor: TensorProto): Uint8Array {
  return encodeMessage(TensorType, tensor);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field header: tag (field, wire type 2) then the length. */
function fieldHeader(field: number, length: number): Uint8Array {
  return Uint8Array.from([...varint(field * 8 + 2), ...varint(length)]);
}

/**
 * The same bytes as `encodeModel(model)`, as a sequence of chunks with each initializer encoded on
 * its own. Lets a writer stream a 350 MB model to disk without a second full copy in memory.
 * (protobufjs writes fields in field-number order, so splitting around field 5 of GraphProto and
 * field 7 of ModelProto reproduces its output exactly — the round-trip test checks this.)
 */
export function* encodeModelChunks(model: ModelProto): Generator<Uint8Array> {
  const graph = model.graph ?? {};
  const { graph: _g, ...modelRest } = model;
  const modelBefore = encodeMessage(ModelType, pick(modelRest, ['irVersion', 'producerName', 'producerVersion', 'domain', 'modelVersion', 'docString']));
  const modelAfter = encodeMessage(ModelType, pick(modelRest, ['opsetImport', 'metadataProps']));
  const graphBefore = encodeMessage(GraphType, pick(graph, ['node', 'name']));
  const graphAfter = encodeMessage(GraphType, pick(graph, ['docString', 'input', 'output', 'valueInfo']));
  const inits = graph.initializer ?? [];
  // First pass: sizes only (encoding each tensor twice costs time, not memory).
  let graphLength = graphBefore.length + graphAfter.length;
  const sizes: number[] = [];
  for (const t of inits) {
    const n = TensorType.encode(TensorType.fromObject(t as Record<string, unknown>)).len;
    sizes.push(n);
    graphLength += fieldHeader(5, n).length + n;
  }
  yield modelBefore;
  if (model.graph) {
    yield fieldHeader(7, graphLength);
    yield graphBefore;
    for (let i = 0; i < inits.length; i++) {
      const bytes = encodeTensor(inits[i]!);
      if (bytes.length !== sizes[i]) throw new Error(`initializer ${inits[i]!.name}: size changed while encoding`);
      yield fieldHeader(5, bytes.length);
      yield bytes;
    }
    yield graphAfter;
  }
  yield modelAfter;
}

function pick<T extends object>(obj: T, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((obj as Record<string, unknown>)[k] !== undefined) out[k] = (obj as Record<string, unknown>)[k];
  return out;
}

// ---------- tensor data helpers ----------

export type TensorData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

const BYTES_PER_ELEMENT: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.FLOAT16]: 2,
  [DataType.INT8]: 1,
  [DataType.UINT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.DOUBLE]: 8,
};

export function elementCount(dims: readonly number[] | undefined): number {
  return (dims ?? []).reduce((a, b) => a * b, 1);
}

/**
 * A TensorProto holding `data` as little-endian raw_data. FLOAT16 data is passed as the raw bit
 * patterns in a Uint16Array (see `float32ToFloat16`). The bytes are shared with `data`, not copied,
 * so a 350 MB model is held once; don't modify `data` afterwards.
 */
export function makeTensor(name: string, dataType: number, dims: readonly number[], data: TensorData): TensorProto {
  const size = BYTES_PER_ELEMENT[dataType];
  if (!size) throw new Error(`makeTensor: unsupported data type ${dataType}`);
  const count = elementCount(dims);
  if (data.length !== count) throw new Error(`makeTensor ${name}: ${data.length} values for dims [${dims.join(',')}]`);
  if (data.BYTES_PER_ELEMENT !== size) throw new Error(`makeTensor ${name}: data array does not match type ${dataType}`);
  // Typed arrays are little-endian on every platform Node ships for.
  const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dims: [...dims], dataType, rawData };
}

/** The raw little-endian bytes of a tensor, whichever field holds them. */
export function tensorBytes(t: TensorProto): Uint8Array {
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  const dt = t.dataType ?? 0;
  const n = elementCount(t.dims);
  if (dt === DataType.FLOAT && t.floatData) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  if (dt === DataType.INT64 && t.int64Data) return new Uint8Array(BigInt64Array.from(t.int64Data.map((v) => BigInt(v))).buffer);
  if (dt === DataType.INT32 && t.int32Data) return new Uint8Array(Int32Array.from(t.int32Data).buffer);
  // FLOAT16, INT8, UINT8, BOOL etc. are stored in int32_data one value per element when not raw.
  if (t.int32Data && (dt === DataType.FLOAT16 || dt === DataType.BFLOAT16)) return new Uint8Array(Uint16Array.from(t.int32Data).buffer);
  if (t.int32Data && (dt === DataType.INT8)) return new Uint8Array(Int8Array.from(t.int32Data).buffer);
  if (t.int32Data && (dt === DataType.UINT8 || dt === DataType.BOOL)) return Uint8Array.from(t.int32Data);
  if (n === 0) return new Uint8Array(0);
  throw new Error(`tensor ${t.name}: no data in a supported field (type ${dt})`);
}

/** The values of a tensor as float32 (FLOAT16 and integer types are converted, not rescaled). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const dt = t.dataType ?? 0;
  if (dt === DataType.FLOAT && !(t.rawData && t.rawData.length) && t.floatData) return Float32Array.from(t.floatData);
  const raw = tensorBytes(t);
  const aligned = raw.byteOffset % 8 === 0 ? raw : new Uint8Array(raw);
  const buf = aligned.buffer, off = aligned.byteOffset, n = elementCount(t.dims);
  switch (dt) {
    case DataType.FLOAT: return new Float32Array(buf.slice(off, off + n * 4));
    case DataType.FLOAT16: return float16ToFloat32(new Uint16Array(buf, off, n));
    case DataType.INT8: return Float32Array.from(new Int8Array(buf, off, n));
    case DataType.UINT8: return Float32Array.from(new Uint8Array(buf, off, n));
    case DataType.INT32: return Float32Array.from(new Int32Array(buf, off, n));
    case DataType.INT64: return Float32Array.from(new BigInt64Array(buf, off, n), (v) => Number(v));
    case DataType.DOUBLE: return Float32Array.from(new Float64Array(buf, off, n));
    default: throw new Error(`tensor ${t.name}: cannot read type ${dt} as float32`);
  }
}

/** Integer tensor values (INT64/INT32/INT8/UINT8) as numbers. */
export function tensorToNumbers(t: TensorProto): number[] {
  if (t.dataType === DataType.INT64 && !(t.rawData && t.rawData.length) && t.int64Data) return t.int64Data.map(Number);
  return Array.from(tensorToFloat32(t));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bit patterns, round-to-nearest-even, overflow to ±Inf. */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const x = u32[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 127 + 15;
    if (e >= 0x1f) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
    out[i] = sign | h; // a carry into the exponent is still the correct rounding (up to Inf)
  }
  return out;
}

export function float16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f, mant = h & 0x3ff;
    out[i] = exp === 0 ? sign * mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Number of parameters held in a graph's initializers. */
export function countParameters(graph: GraphProto | undefined): number {
  return (graph?.initializer ?? []).reduce((sum, t) => sum + elementCount(t.dims), 0);
}
