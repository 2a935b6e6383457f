/**
 * encoder — turns pixel tensors and token ids into L2-normalised embedding vectors with ONNX
 * Runtime, in a worker thread so the event loop never waits on inference.
 *
 * Owns the worker, the two sessions of one model (created lazily: a text-only query process
 * never loads the image tower), the choice of execution provider with fallback, and the
 * reasons each fallback happened. Must never: decode images, tokenize text, touch the
 * database, or run inference on the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CONTEXT_LENGTH, type ResolvedModel } from '../../core/model-spec.ts';
import type { ExecutionInfo } from '../../core/contract.ts';
import { workerEntry } from '../worker-entry.ts';
import type { Request, Response, SessionReport, Tower, WorkerConfig } from './protocol.ts';
import { providerOrder, type ProviderName } from './providers.ts';

export type { ProviderName } from './providers.ts';
export { providerOrder } from './providers.ts';

export interface EncoderOptions {
  /** Intra-op threads per session; default: every core. */
  threads?: number;
  /** 'auto' = the platform's order (linux/win: cuda, win: dml, mac: coreml), then cpu. */
  providers?: 'auto' | ProviderName[];
}

export interface Encoder {
  readonly model: ResolvedModel;
  readonly dim: number;
  /**
   * The provider actually used, the requested order, why each fallback happened, threads.
   * Before any session exists `provider` is 'not loaded'; call `load()` to know up front.
   */
  info(): ExecutionInfo;
  /** `pixels` = `count` CHW tensors (3×size×size) back to back; returns one L2-normalised vector each. */
  encodeImages(pixels: Float32Array, count: number): Promise<Float32Array[]>;
  /** Each row = 77 token ids (CONTEXT_LENGTH); returns one L2-normalised vector each. */
  encodeTexts(ids: number[][]): Promise<Float32Array[]>;
  /** Creates a tower's session now (validating the file against the manifest) instead of on first use. */
  load(tower: 'image' | 'text' | 'both'): Promise<void>;
  /** Session creation time in ms per tower, null while not loaded. */
  loadTimes(): { imageMs: number | null; textMs: number | null };
  close(): Promise<void>;
}

export async function openEncoder(model: ResolvedModel, options: EncoderOptions = {}): Promise<Encoder> {
  for (const [tower, path] of [['image', model.imagePath], ['text', model.textPath]] as const) {
    if (!existsSync(path)) {
      throw new Error(
        `The ${tower} encoder of model "${model.id}" is missing (${path}). Download or re-import the model in Models.`,
      );
    }
  }
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const providers = providerOrder(options.providers);
  const config: WorkerConfig = {
    modelId: model.id,
    dim: model.dim,
    imagePath: model.imagePath,
    textPath: model.textPath,
    io: model.io,
    imageSize: model.preprocess.size,
    threads,
    providers,
  };
  const entry = workerEntry(import.meta.url, 'worker');
  const worker = new Worker(entry.file, { workerData: { config, script: entry.script } });
  return new WorkerEncoder(model, worker, providers, threads);
}

class WorkerEncoder implements Encoder {
  readonly dim: number;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void }>();
  private sessions: Partial<Record<Tower, SessionReport>> = {};
  private closed: Error | null = null;

  constructor(
    readonly model: ResolvedModel,
    private worker: Worker,
    private requested: ProviderName[],
    private threads: number,
  ) {
    this.dim = model.dim;
    worker.on('message', (msg: Response) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.session) this.sessions[msg.session.tower] = msg.session;
      waiter.resolve(msg);
    });
    worker.on('error', (err) => this.fail(new Error(`The encoder worker for model "${model.id}" crashed: ${err.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`The encoder worker for model "${model.id}" stopped (exit code ${code}).`)));
  }

  private fail(err: Error): void {
    if (!this.closed) this.closed = err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  private request(msg: Request, transfer: ArrayBuffer[] = []): Promise<Extract<Response, { ok: true }>> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<Response>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    }).then((r) => {
      if (!r.ok) throw new Error(r.error);
      return r as Extract<Response, { ok: true }>;
    });
  }

  info(): ExecutionInfo {
    const reports = [this.sessions.image, this.sessions.text].filter((r): r is SessionReport => !!r);
    const reasons = [...new Set(reports.flatMap((r) => r.fallbackReasons))];
    const providers = [...new Set(reports.map((r) => r.provider))];
    return {
      provider: providers.length ? providers.join('+') : 'not loaded',
      requested: [...this.requested],
      fallbackReasons: reasons,
      threads: this.threads,
    };
  }

  async load(tower: 'image' | 'text' | 'both'): Promise<void> {
    const towers: Tower[] = tower === 'both' ? ['text', 'image'] : [tower];
    for (const t of towers) await this.request({ id: this.nextId++, kind: 'load', tower: t });
  }

  async encodeImages(pixels: Float32Array, count: number): Promise<Float32Array[]> {
    const s = this.model.preprocess.size;
    const per = 3 * s * s;
    if (!Number.isInteger(count) || count < 0) throw new Error(`encodeImages: count must be a whole number, got ${count}`);
    if (pixels.length !== count * per) {
      throw new Error(
        `encodeImages: got ${pixels.length} floats for ${count} image(s); model "${this.model.id}" needs ${per} per image (3×${s}×${s}).`,
      );
    }
    if (count === 0) return [];
    // The worker takes ownership of the buffer (transfer), so give it a private one when the
    // caller's view is part of a larger buffer it may still use.
    const own = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer
      ? pixels
      : pixels.slice();
    const r = await this.request({ id: this.nextId++, kind: 'images', pixels: own, count }, [own.buffer as ArrayBuffer]);
    return this.split(r.vectors!, count);
  }

  async encodeTexts(ids: number[][]): Promise<Float32Array[]> {
    if (ids.length === 0) return [];
    const length = CONTEXT_LENGTH;
    const flat = new BigInt64Array(ids.length * length);
    ids.forEach((row, r) => {
      if (row.length !== length) {
        throw new Error(`encodeTexts: row ${r} has ${row.length} token ids; the text encoder needs exactly ${length} (pad with 0).`);
      }
      for (let i = 0; i < length; i++) flat[r * length + i] = BigInt(row[i]);
    });
    const r = await this.request({ id: this.nextId++, kind: 'texts', ids: flat, count: ids.length, length }, [flat.buffer]);
    return this.split(r.vectors!, ids.length);
  }

  private split(all: Float32Array, count: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; i < count; i++) out.push(all.subarray(i * this.dim, (i + 1) * this.dim));
    return out;
  }

  loadTimes(): { imageMs: number | null; textMs: number | null } {
    return { imageMs: this.sessions.image?.loadMs ?? null, textMs: this.sessions.text?.loadMs ?? null };
  }

  async close(): Promise<void> {
    this.fail(new Error(`The encoder for model "${this.model.id}" is closed.`));
    await this.worker.terminate();
  }
}
