/**
 * The encoder's inference engine: owns the ONNX Runtime sessions of one model and answers
 * requests. Transport-agnostic — `encoder-process.ts` runs it in the encoder process and wires it to IPC —
 * so a native crash in ONNX Runtime takes down only that process. Sessions are created on first
 * use of each tower; each creation tries the configured execution providers in order, reports
 * which one won and why others failed, and checks the graph's own signature against the manifest
 * entry (signature.ts) before any input is fed.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from '../../core/onnx/proto.ts';
import type { EngineConfig, Request, Response, SessionReport, Tower } from './protocol.ts';
import { sessionOptions } from './session-options.ts';
import { planTower, type GraphSignature, type GraphValue, type TowerPlan } from './signature.ts';

interface Loaded {
  session: ort.InferenceSession;
  report: SessionReport;
  plan: TowerPlan;
}

export class Engine {
  private readonly sessions = new Map<Tower, Promise<Loaded>>();
  /** Providers that failed to load at all (missing library): skip them for the second tower. */
  private readonly deadProviders = new Map<string, string>();

  constructor(private readonly config: EngineConfig) {
    // A failed provider probe (no CUDA here) is expected and reported through ExecutionInfo; ORT's
    // own error log for it would only alarm people reading the console.
    ort.env.logLevel = 'fatal';
  }

  async handle(msg: Request): Promise<Response> {
    if (msg.kind === 'load') {
      const loaded = await this.load(msg.tower);
      return { id: msg.id, ok: true, session: loaded.report };
    }
    if (msg.kind === 'images') {
      const loaded = await this.load('image');
      const s = this.config.imageSize;
      const per = 3 * s * s;
      const vectors = await this.runRows(loaded, msg.count, (start, rows, batch) => {
        const pixels = padRows(msg.pixels, per, start, rows, batch);
        return { [loaded.plan.input]: new ort.Tensor('float32', pixels, [batch, 3, s, s]) };
      });
      return { id: msg.id, ok: true, vectors, count: msg.count, session: loaded.report };
    }
    const loaded = await this.load('text');
    const { ids, lengths, count, length } = msg;
    const plan = loaded.plan;
    const vectors = await this.runRows(loaded, count, (start, rows, batch) => {
      const slice = padRows(ids, length, start, rows, batch);
      const feeds: Record<string, ort.Tensor> = {
        [plan.input]:
          plan.inputType === 'int32'
            ? new ort.Tensor('int32', slice, [batch, length])
            : new ort.Tensor('int64', BigInt64Array.from(slice, (v) => BigInt(v)), [batch, length]),
      };
      if (plan.mask) feeds[plan.mask] = maskTensor(plan.maskType ?? plan.inputType, lengths, start, rows, batch, length);
      return feeds;
    });
    return { id: msg.id, ok: true, vectors, count, session: loaded.report };
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) await p.then((l) => l.session.release()).catch(() => {});
  }

  private pathOf(tower: Tower): string {
    return tower === 'image' ? this.config.imagePath : this.config.textPath;
  }

  private load(tower: Tower): Promise<Loaded> {
    let p = this.sessions.get(tower);
    if (!p) {
      p = this.createSession(tower);
      this.sessions.set(tower, p);
      // A failed load is not cached: the user may fix the file and try again.
      p.catch(() => this.sessions.delete(tower));
    }
    return p;
  }

  private async createSession(tower: Tower): Promise<Loaded> {
    const { config } = this;
    const file = this.pathOf(tower);
    const reasons: string[] = [];
    const started = performance.now();
    let session: ort.InferenceSession | null = null;
    let provider = '';
    let lastError: unknown = null;
    for (const name of config.providers) {
      const dead = this.deadProviders.get(name);
      if (dead) {
        reasons.push(`${name}: ${dead}`);
        continue;
      }
      try {
        session = await ort.InferenceSession.create(file, {
          executionProviders: [name],
          ...sessionOptions(config.threads, tower),
          logSeverityLevel: 3,
        });
        provider = name;
        break;
      } catch (err) {
        const message = oneLine(err);
        lastError = err;
        if (isFileProblem(message)) break; // the model file is bad: every provider will say the same
        reasons.push(`${name}: ${message}`);
        this.deadProviders.set(name, message);
      }
    }
    if (!session) {
      const why = lastError ? oneLine(lastError) : 'no execution provider could be used';
      throw new Error(
        `Could not load the ${tower} encoder of model "${config.modelId}" from ${file}: ${why}` +
          (isFileProblem(why)
            ? '. The file is missing or not a valid ONNX model: download or import the model again.'
            : `. Tried providers: ${reasons.join('; ') || config.providers.join(', ')}.`),
      );
    }
    let plan: TowerPlan;
    try {
      plan = planTower(tower, signatureOf(session), {
        stated: config.stated,
        dim: config.dim,
        imageSize: config.imageSize,
        contextLength: config.contextLength,
      }, `The ${tower} encoder of model "${config.modelId}" (${file})`);
    } catch (err) {
      await session.release().catch(() => {});
      throw err;
    }
    return { session, plan, report: { tower, provider, fallbackReasons: reasons, loadMs: performance.now() - started } };
  }

  /**
   * Runs the graph over `count` rows in chunks it accepts (a fixed batch runs at exactly that
   * size, the last chunk padded with zero rows whose outputs are dropped); returns count×dim
   * L2-normalised floats. The app normalises even when the entry says the graph does: it costs
   * nothing and a wrong `normalised` flag would otherwise skew every score.
   */
  private async runRows(
    loaded: Loaded,
    count: number,
    feedsFor: (start: number, rows: number, batch: number) => Record<string, ort.Tensor>,
  ): Promise<Float32Array> {
    const { dim, modelId } = this.config;
    const { plan } = loaded;
    const result = new Float32Array(count * dim);
    const step = plan.batch ?? count;
    for (let start = 0; start < count; start += step) {
      const rows = Math.min(step, count - start);
      const batch = plan.batch ?? rows;
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await loaded.session.run(feedsFor(start, rows, batch), [plan.output]);
      } catch (err) {
        throw new Error(
          `The ${plan.tower} encoder of model "${modelId}" (${this.pathOf(plan.tower)}) rejected its input: ${oneLine(err)}. ` +
            `The model's manifest entry probably does not match the graph.`,
        );
      }
      const tensor = out[plan.output] as ort.Tensor;
      const data = floats(tensor);
      if (!data || data.length !== batch * dim) {
        throw new Error(
          `The ${plan.tower} encoder of model "${modelId}" returned ${tensor.type} of shape [${tensor.dims.join(', ')}], expected [${batch}, ${dim}] float32. Check the manifest's dim and output name.`,
        );
      }
      result.set(data.subarray(0, rows * dim), start * dim);
      for (const v of Object.values(out)) (v as ort.Tensor).dispose?.();
    }
    l2normalise(result, dim, count);
    return result;
  }
}

/** The session's own inputs and outputs with their declared types and shapes. */
export function signatureOf(session: ort.InferenceSession): GraphSignature {
  const values = (names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[] | undefined): GraphValue[] =>
    names.map((name) => {
      const m = (meta ?? []).find((x) => x.name === name);
      if (!m) return { name, type: 'unknown', shape: null };
      if (!m.isTensor) return { name, type: 'non-tensor', shape: null };
      return { name, type: m.type, shape: m.shape.length ? [...m.shape] : null };
    });
  return { inputs: values(session.inputNames, session.inputMetadata), outputs: values(session.outputNames, session.outputMetadata) };
}

function floats(tensor: ort.Tensor): Float32Array | null {
  if (tensor.data instanceof Float32Array) return tensor.data;
  // float16 comes back as raw 16-bit words.
  if (tensor.type === 'float16' && tensor.data instanceof Uint16Array) return float16ToFloat32(tensor.data);
  return null;
}

/** Rows [start, start+rows) of `data` (each `per` long), zero-padded to `batch` rows. */
function padRows<T extends Float32Array | Int32Array>(data: T, per: number, start: number, rows: number, batch: number): T {
  const slice = data.subarray(start * per, (start + rows) * per) as T;
  if (rows === batch) return slice;
  const out = new (data.constructor as { new (n: number): T })(batch * per);
  out.set(slice);
  return out;
}

/** 1 for each row's real tokens (start and end included), 0 for padding and for filler rows. */
function maskTensor(type: string, lengths: Int32Array, start: number, rows: number, batch: number, length: number): ort.Tensor {
  const bits = new Uint8Array(batch * length);
  for (let r = 0; r < rows; r++) bits.fill(1, r * length, r * length + Math.min(length, lengths[start + r]!));
  const dims = [batch, length];
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(bits, (b) => BigInt(b)), dims);
  if (type === 'float32') return new ort.Tensor('float32', Float32Array.from(bits), dims);
  if (type === 'bool') return new ort.Tensor('bool', bits, dims);
  return new ort.Tensor('int32', Int32Array.from(bits), dims);
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

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim();
}

function isFileProblem(message: string): boolean {
  return /Protobuf parsing failed|File doesn't exist|No such file|ModelProto|Invalid model|INVALID_PROTOBUF|Load model .* failed/i.test(message);
}
