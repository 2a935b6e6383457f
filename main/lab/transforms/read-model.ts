/** Reading .onnx files for the transforms, with errors that say which file is not a model. */
import fs from 'node:fs';
import { decodeModel, type ModelProto } from '../../core/onnx/proto.ts';

/** Decodes an .onnx file, with an error that names the file when it is not a model. */
export function readModelFile(file: string): ModelProto {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`Cannot read the model file ${file}: ${(err as Error).message}`);
  }
  return decodeModelBytes(bytes, file);
}

export function decodeModelBytes(bytes: Uint8Array, what = 'the model'): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new Error(`${what} is not a valid ONNX model (${(err as Error).message}).`);
  }
  if (!model.graph || !model.graph.node?.length) throw new Error(`${what} is not a valid ONNX model (no graph nodes found).`);
  return model;
}
