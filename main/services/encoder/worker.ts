/**
 * The encoder's worker thread: owns the ONNX Runtime sessions so inference never blocks the
 * main event loop. Sessions are created on first use of each tower; each creation tries the
 * configured execution providers in order and reports which one won and why others failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { Request, Response, SessionReport, Tower, WorkerConfig } from './protocol.ts';

const config = workerData.config as WorkerConfig;
const port = parentPort!;

interface Loaded {
  session: ort.InferenceSession;
  report: SessionReport;
  /** The graph's fixed batch size, or null when the batch dimension is dynamic. */
  fixedBatch: number | null;
  textType: 'int64' | 'int32';
}

// A failed provider probe (no CUDA here) is expected and reported through ExecutionInfo; ORT's
// own error log for it would only alarm people reading the console.
ort.env.logLevel = 'fatal';

const sessions = new Map<Tower, Promise<Loaded>>();
/** Providers that failed to load at all (missing library): skip them for the second tower. */
const deadProviders = new Map<string, string>();

function pathOf(tower: Tower): string {
  return tower === 'image' ? config.imagePath : config.textPath;
}

function expectedNames(tower: Tower): { inputs: string[]; output: string } {
  const io = config.io;
  if (tower === 'image') return { inputs: [io.imageInput], output: io.imageOutput };
  return { inputs: io.textMask ? [io.textInput, io.textMask] : [io.textInput], output: io.textOutput };
}

async function createSession(tower: Tower): Promise<Loaded> {
  const file = pathOf(tower);
  const reasons: string[] = [];
  const started = performance.now();
  let session: ort.InferenceSession | null = null;
  let provider = '';
  let lastError: unknown = null;
  for (const name of config.providers) {
    const dead = deadProviders.get(name);
    if (dead) {
      reasons.push(`${name}: ${dead}`);
      continue;
    }
    try {
      session = await ort.InferenceSession.create(file, {
        executionProviders: [name],
        intraOpNumThreads: config.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // Failed provider probes are expected (no CUDA here); keep ORT's own log quiet and
        // report the reason through ExecutionInfo instead.
        logSeverityLevel: 3,
      });
      provider = name;
      break;
    } catch (err) {
      const message = oneLine(err);
      lastError = err;
      if (isFileProblem(message)) break; // the model file is bad: every provider will say the same
      reasons.push(`${name}: ${message}`);
      deadProviders.set(name, message);
    }
  }
  if (!session) {
    const why = lastError ? oneLine(lastError) : 'no execution provider could be used';
    throw new Error(
      `Could not load the ${tower} encoder of model "${config.modelId}" from ${file}: ${why}` +
        (isFileProblem(why)
          ? '. The file is missing or not a valid ONNX model: verify the model in Models, or download/import it again.'
          : `. Tried providers: ${reasons.join('; ') || config.providers.join(', ')}.`),
    );
  }
  const expected = expectedNames(tower);
  const missingInputs = expected.inputs.filter((n) => !session!.inputNames.includes(n));
  if (missingInputs.length > 0 || !session.outputNames.includes(expected.output)) {
    const actual = `inputs [${session.inputNames.join(', ')}], outputs [${session.outputNames.join(', ')}]`;
    await session.release().catch(() => {});
    throw new Error(
      `The ${tower} encoder of model "${config.modelId}" (${file}) does not match its manifest: expected ` +
        `inputs [${expected.inputs.join(', ')}] and output ${expected.output}, the graph has ${actual}. ` +
        `Fix the "io" names in the manifest entry or re-import the model.`,
    );
  }
  const inputMeta = metadataOf(session.inputMetadata, expected.inputs[0]);
  const outputMeta = metadataOf(session.outputMetadata, expected.output);
  const outDim = outputMeta?.shape?.[outputMeta.shape.length - 1];
  if (typeof outDim === 'number' && outDim !== config.dim) {
    await session.release().catch(() => {});
    throw new Error(
      `The ${tower} encoder of model "${config.modelId}" (${file}) outputs ${outDim}-d vectors but the manifest says dim ${config.dim}. Fix the manifest entry.`,
    );
  }
  const batch = inputMeta?.shape?.[0];
  return {
    session,
    fixedBatch: typeof batch === 'number' && batch > 0 ? batch : null,
    textType: inputMeta?.type === 'int32' ? 'int32' : 'int64',
    report: { tower, provider, fallbackReasons: reasons, loadMs: performance.now() - started },
  };
}

interface Meta {
  type?: string;
  shape?: (number | string)[];
}

function metadataOf(list: readonly unknown[] | undefined, name: string): Meta | undefined {
  const found = (list ?? []).find((m) => (m as { name?: string }).name === name) as (Meta & { isTensor?: boolean }) | undefined;
  return found && found.isTensor !== false ? found : undefined;
}

function load(tower: Tower): Promise<Loaded> {
  let p = sessions.get(tower);
  if (!p) {
    p = createSession(tower);
    sessions.set(tower, p);
    // A failed load is not cached: the user may fix the file and try again.
    p.catch(() => sessions.delete(tower));
  }
  return p;
}

function l2normalise(out: Float32Array, dim: number, rows: number): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const base = r * dim;
    for (let i = 0; i < dim; i++) sum += out[base + i] * out[base + i];
    const norm = Math.sqrt(sum);
    if (norm > 0) for (let i = 0; i < dim; i++) out[base + i] /= norm;
  }
}

/** Runs the graph over `count` rows in chunks the graph accepts; returns count*dim floats. */
async function runRows(
  loaded: Loaded,
  tower: Tower,
  count: number,
  feedsFor: (start: number, rows: number) => Record<string, ort.Tensor>,
): Promise<Float32Array> {
  const dim = config.dim;
  const result = new Float32Array(count * dim);
  const step = loaded.fixedBatch ?? count;
  const output = expectedNames(tower).output;
  for (let start = 0; start < count; start += step) {
    const rows = Math.min(step, count - start);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await loaded.session.run(feedsFor(start, rows));
    } catch (err) {
      throw new Error(
        `The ${tower} encoder of model "${config.modelId}" (${pathOf(tower)}) rejected its input: ${oneLine(err)}. ` +
          `The model's manifest entry (input size, io names) probably does not match the graph.`,
      );
    }
    const tensor = out[output] as ort.Tensor;
    const data = tensor.data as Float32Array;
    if (!(data instanceof Float32Array) || data.length !== rows * dim) {
      throw new Error(
        `The ${tower} encoder of model "${config.modelId}" returned ${tensor.type} of shape [${tensor.dims.join(', ')}], expected [${rows}, ${dim}] float32. Check the manifest's dim and output name.`,
      );
    }
    result.set(data, start * dim);
    for (const v of Object.values(out)) (v as ort.Tensor).dispose?.();
  }
  l2normalise(result, dim, count);
  return result;
}

const EOT = 49407n;

/** 1 up to and including the end-of-text token, 0 for the padding after it. */
function attentionMask(ids: BigInt64Array, count: number, length: number): BigInt64Array {
  const mask = new BigInt64Array(ids.length);
  for (let r = 0; r < count; r++) {
    const row = r * length;
    let end = length - 1;
    for (let i = 0; i < length; i++) {
      if (ids[row + i] === EOT) {
        end = i;
        break;
      }
    }
    for (let i = 0; i <= end; i++) mask[row + i] = 1n;
  }
  return mask;
}

async function handle(msg: Request): Promise<Response> {
  if (msg.kind === 'load') {
    const loaded = await load(msg.tower);
    return { id: msg.id, ok: true, session: loaded.report };
  }
  if (msg.kind === 'images') {
    const loaded = await load('image');
    const s = config.imageSize;
    const per = 3 * s * s;
    const vectors = await runRows(loaded, 'image', msg.count, (start, rows) => ({
      [config.io.imageInput]: new ort.Tensor('float32', msg.pixels.subarray(start * per, (start + rows) * per), [rows, 3, s, s]),
    }));
    return { id: msg.id, ok: true, vectors, count: msg.count, session: loaded.report };
  }
  const loaded = await load('text');
  const { ids, count, length } = msg;
  const mask = config.io.textMask ? attentionMask(ids, count, length) : null;
  const vectors = await runRows(loaded, 'text', count, (start, rows) => {
    const slice = ids.subarray(start * length, (start + rows) * length);
    const feeds: Record<string, ort.Tensor> = {
      [config.io.textInput]:
        loaded.textType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(slice, (v) => Number(v)), [rows, length])
          : new ort.Tensor('int64', slice, [rows, length]),
    };
    if (mask && config.io.textMask) {
      const m = mask.subarray(start * length, (start + rows) * length);
      feeds[config.io.textMask] =
        loaded.textType === 'int32'
          ? new ort.Tensor('int32', Int32Array.from(m, (v) => Number(v)), [rows, length])
          : new ort.Tensor('int64', m, [rows, length]);
    }
    return feeds;
  });
  return { id: msg.id, ok: true, vectors, count, session: loaded.report };
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim();
}

function isFileProblem(message: string): boolean {
  return /Protobuf parsing failed|File doesn't exist|No such file|ModelProto|Invalid model|INVALID_PROTOBUF|Load model .* failed/i.test(message);
}

// Requests are served one at a time, in order: ORT already uses every intra-op thread for one
// run, and ordering keeps batch results matched to their callers.
let queue: Promise<unknown> = Promise.resolve();
port.on('message', (msg: Request) => {
  queue = queue.then(async () => {
    let reply: Response;
    try {
      reply = await handle(msg);
    } catch (err) {
      reply = { id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply, reply.ok && reply.vectors ? [reply.vectors.buffer as ArrayBuffer] : []);
  });
});
