#!/usr/bin/env node
// Parity check of an exported encoder in the app's onnxruntime-node.
//   node models/distill/tools/check_onnx.mjs model.onnx spec.json
// spec.json: { input: {name, dtype: "float32"|"int64", shape, file}, expected: {name, shape, file}, tol }
// (files are raw little-endian arrays).  Prints one JSON line {ok, maxAbsDiff, shape, ...};
// exit 0 when within tol, 1 when not, 2 on error.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));

async function main() {
  const [modelPath, specPath] = process.argv.slice(2);
  if (!modelPath || !specPath) throw new Error('usage: check_onnx.mjs model.onnx spec.json');
  const ort = require('onnxruntime-node');
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  const buf = readFileSync(spec.input.file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const data = spec.input.dtype === 'int64' ? new BigInt64Array(ab) : new Float32Array(ab);
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
  const feeds = { [spec.input.name]: new ort.Tensor(spec.input.dtype, data, spec.input.shape) };
  const t0 = performance.now();
  const out = await session.run(feeds);
  const ms = performance.now() - t0;
  const got = out[spec.expected.name];
  if (!got) throw new Error(`output ${spec.expected.name} missing; outputs: ${session.outputNames.join(', ')}`);
  const eb = readFileSync(spec.expected.file);
  const exp = new Float32Array(eb.buffer.slice(eb.byteOffset, eb.byteOffset + eb.byteLength));
  if (exp.length !== got.data.length) throw new Error(`size mismatch ${exp.length} vs ${got.data.length}`);
  let maxAbsDiff = 0;
  for (let i = 0; i < exp.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(exp[i] - got.data[i]));
  const ok = Number.isFinite(maxAbsDiff) && maxAbsDiff <= spec.tol;
  console.log(JSON.stringify({
    ok, maxAbsDiff, tol: spec.tol, shape: got.dims, inputNames: session.inputNames,
    outputNames: session.outputNames, runMs: Math.round(ms * 100) / 100,
  }));
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(2);
});
