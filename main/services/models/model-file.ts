/** Writing ONNX model files: streamed (a 350 MB tower is never held twice) and atomic. */
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { encodeModelChunks, type ModelProto } from '../../core/onnx/index.ts';

/** Streams a model to `file` through a temporary name; returns its size and sha256. */
export function writeModelFile(file: string, model: ModelProto): { bytes: number; sha256: string } {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  const fd = fs.openSync(tmp, 'w');
  try {
    for (const chunk of encodeModelChunks(model)) {
      hash.update(chunk);
      fs.writeSync(fd, chunk);
      bytes += chunk.length;
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  return { bytes, sha256: hash.digest('hex') };
}
