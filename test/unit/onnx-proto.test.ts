import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../main/core/onnx/builder.ts';
import { buildImageTower, buildTextTower } from '../../main/core/onnx/clip.ts';
import {
  AttributeType, DataType, decodeModel, encodeModel, encodeModelChunks, float16ToFloat32, float32ToFloat16,
  makeTensor, tensorToFloat32, tensorToNumbers, type ModelProto,
} from '../../main/core/onnx/proto.ts';
import { SeededRandom } from '../../main/core/onnx/random.ts';

function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const list = [...chunks];
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of list) { out.set(c, at); at += c.length; }
  return out;
}

function smallModel(): ModelProto {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['N', 4]);
  const w = g.initializer('w', new SeededRandom(7).normals(12, 1), [4, 3]);
  const y = g.op('MatMul', [x, w]);
  const z = g.op('LayerNormalization', [y, g.initializer('s', new Float32Array([1, 2, 3]), [3]), g.initializer('b', new Float32Array(3), [3])], { axis: -1, epsilon: 1e-5 });
  g.output(z, 'y', 'float32', ['N', 3]);
  return g.toModel({ opset: 17, producer: 'test', metadata: { purpose: 'round trip' } });
}

describe('ONNX protobuf layer', () => {
  it('encode → decode → encode gives identical bytes, and decoded initializers equal what was written', () => {
    const weights = new SeededRandom(7).normals(12, 1);
    const bytes = encodeModel(smallModel());
    const decoded = decodeModel(bytes);
    expect(Buffer.from(encodeModel(decoded)).equals(Buffer.from(bytes))).toBe(true);
    expect(decoded.irVersion).toBe(8);
    expect(decoded.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(decoded.metadataProps).toEqual([{ key: 'purpose', value: 'round trip' }]);
    const w = decoded.graph!.initializer!.find((t) => t.name === 'w')!;
    expect(w.dims).toEqual([4, 3]);
    expect(w.dataType).toBe(DataType.FLOAT);
    expect(tensorToFloat32(w)).toEqual(weights);
    expect(decoded.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'N' }, { dimValue: 4 }]);
    const ln = decoded.graph!.node!.find((n) => n.opType === 'LayerNormalization')!;
    expect(ln.attribute).toEqual([
      { name: 'axis', type: AttributeType.INT, i: -1 },
      { name: 'epsilon', type: AttributeType.FLOAT, f: expect.closeTo(1e-5, 10) },
    ]);
  });

  it('streams exactly the bytes encodeModel writes, for whole CLIP-shaped towers', () => {
    for (const model of [
      buildImageTower({ width: 32, layers: 1, heads: 2, patch: 32, embedDim: 16, seed: 3 }),
      buildTextTower({ width: 32, layers: 1, heads: 2, embedDim: 16, seed: 4, vocab: 500 }),
    ]) {
      const whole = encodeModel(model);
      // Buffer.equals: vitest's deep equality is very slow on 100s of kB.
      expect(Buffer.from(concat(encodeModelChunks(model))).equals(Buffer.from(whole))).toBe(true);
      expect(Buffer.from(encodeModel(decodeModel(whole))).equals(Buffer.from(whole))).toBe(true);
    }
  });

  it('writes FLOAT, FLOAT16, INT8, UINT8, INT32 and INT64 as raw_data and reads them back', () => {
    const cases = [
      makeTensor('f', DataType.FLOAT, [2, 2], new Float32Array([1.5, -2, 0.25, 3e-8])),
      makeTensor('h', DataType.FLOAT16, [3], float32ToFloat16(new Float32Array([1, -0.5, 65504]))),
      makeTensor('i8', DataType.INT8, [3], new Int8Array([-128, 0, 127])),
      makeTensor('u8', DataType.UINT8, [2], new Uint8Array([0, 255])),
      makeTensor('i32', DataType.INT32, [2], new Int32Array([-7, 1 << 30])),
      makeTensor('i64', DataType.INT64, [2], new BigInt64Array([-1n, 49407n])),
    ];
    const g = new GraphBuilder();
    const model = g.toModel();
    model.graph!.initializer = cases;
    const back = decodeModel(encodeModel(model)).graph!.initializer!;
    expect(back.map((t) => t.dataType)).toEqual([DataType.FLOAT, DataType.FLOAT16, DataType.INT8, DataType.UINT8, DataType.INT32, DataType.INT64]);
    expect(Array.from(tensorToFloat32(back[0]!))).toEqual(Array.from(new Float32Array([1.5, -2, 0.25, 3e-8])));
    expect(Array.from(tensorToFloat32(back[1]!))).toEqual([1, -0.5, 65504]);
    expect(tensorToNumbers(back[2]!)).toEqual([-128, 0, 127]);
    expect(tensorToNumbers(back[3]!)).toEqual([0, 255]);
    expect(tensorToNumbers(back[4]!)).toEqual([-7, 1 << 30]);
    expect(tensorToNumbers(back[5]!)).toEqual([-1, 49407]);
  });

  it('reads float_data tensors (as some exporters write them) as Float32Array', () => {
    const model = new GraphBuilder().toModel();
    model.graph!.initializer = [{ name: 'fd', dims: [3], dataType: DataType.FLOAT, floatData: [1, 2.5, -3] }];
    const t = decodeModel(encodeModel(model)).graph!.initializer![0]!;
    expect(tensorToFloat32(t)).toEqual(new Float32Array([1, 2.5, -3]));
  });

  it('converts float16 with round-to-nearest-even, subnormals, overflow and NaN', () => {
    const values = new Float32Array([0, -0, 1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -20, 65504, 70000, -Infinity, NaN, 0.1]);
    const back = float16ToFloat32(float32ToFloat16(values));
    expect(Array.from(back.slice(0, 9))).toEqual([0, -0, 1, 1, 1 + 2 ** -9, 2 ** -24, 2 ** -20, 65504, Infinity]);
    expect(back[9]).toBe(-Infinity);
    expect(back[10]).toBeNaN();
    expect(back[11]).toBeCloseTo(0.1, 4);
  });

  it('rejects data that does not match the declared dims', () => {
    expect(() => makeTensor('w', DataType.FLOAT, [2, 3], new Float32Array(5))).toThrow(/5 values/);
  });
});
