/**
 * Reads an ONNX graph's inputs, outputs and output width by opening it with ONNX Runtime — the
 * same runtime that will run it, so a file it cannot load is rejected at import time.
 */
import * as ort from 'onnxruntime-node';
import { CONTEXT_LENGTH } from '../../core/model-spec.ts';
import type { GraphSummary, GraphValue } from './pairing.ts';

interface Meta {
  name: string;
  isTensor?: boolean;
  type?: string;
  shape?: (number | string)[];
}

function values(names: readonly string[], meta: readonly unknown[] | undefined): GraphValue[] {
  return names.map((name) => {
    const m = (meta ?? []).find((x) => (x as Meta).name === name) as Meta | undefined;
    return { name, type: m?.type ?? 'unknown', shape: m?.shape ? [...m.shape] : null };
  });
}

export async function openGraph(path: string): Promise<{ session: ort.InferenceSession; summary: GraphSummary }> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
  } catch (err) {
    throw new Error(`${path} is not a valid ONNX model that ONNX Runtime can load: ${(err as Error).message.replace(/\s+/g, ' ')}`);
  }
  return {
    session,
    summary: { inputs: values(session.inputNames, session.inputMetadata), outputs: values(session.outputNames, session.outputMetadata) },
  };
}

/** The embedding width: the output's last dimension, or, when symbolic, one run on a zero input. */
export async function outputDim(
  session: ort.InferenceSession,
  summary: GraphSummary,
  output: string,
  feeds: () => Record<string, ort.Tensor>,
): Promise<number> {
  const shape = summary.outputs.find((v) => v.name === output)?.shape;
  const last = shape?.[shape.length - 1];
  if (typeof last === 'number' && last > 0) return last;
  const out = await session.run(feeds(), [output]);
  const dims = (out[output] as ort.Tensor).dims;
  return dims[dims.length - 1];
}

export function zeroImage(name: string, size: number): Record<string, ort.Tensor> {
  return { [name]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) };
}

export function zeroText(input: GraphValue, mask: string | null): Record<string, ort.Tensor> {
  const ids = new BigInt64Array(CONTEXT_LENGTH);
  ids[0] = 49406n;
  ids[1] = 49407n;
  const int32 = input.type === 'int32';
  const tensor = (a: BigInt64Array) =>
    int32 ? new ort.Tensor('int32', Int32Array.from(a, Number), [1, CONTEXT_LENGTH]) : new ort.Tensor('int64', a, [1, CONTEXT_LENGTH]);
  const feeds: Record<string, ort.Tensor> = { [input.name]: tensor(ids) };
  if (mask) {
    const m = new BigInt64Array(CONTEXT_LENGTH);
    m[0] = 1n;
    m[1] = 1n;
    feeds[mask] = tensor(m);
  }
  return feeds;
}
