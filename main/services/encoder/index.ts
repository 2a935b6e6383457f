/**
 * encoder — turns pixel tensors and token ids into L2-normalised embedding vectors with ONNX
 * Runtime, in a separate process: a native crash in ONNX Runtime (a bad model, a GPU driver
 * fault) kills that process, never the app, and the app never waits on inference.
 *
 * Owns the encoder process (started through a pluggable launcher: `child_process.fork` by
 * default, Electron's `utilityProcess` from the shell), its restart with backoff after a crash,
 * the two sessions of one model (created lazily in the process: a text-only query process never
 * loads the image tower), the choice of execution provider with fallback and its reasons, the
 * check of each graph's signature against the manifest entry, and fitting token rows to the
 * model's context length and pad id. Must never: decode images, tokenize text, touch the
 * database, run inference in the app's process, or retry a request by itself (the caller decides:
 * the indexer retries a crashed photo once, then reports it failed).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { ResolvedModel } from '../../core/model-spec.ts';
import type { EncoderCrash, ExecutionInfo } from '../../core/contract.ts';
import { CLIP_EOT, fitTokenRows } from '../../core/tokenizer.ts';
import { processEntry } from '../workers/index.ts';
import { forkLauncher, type EncoderExit, type EncoderLauncher, type EncoderProcess } from './launcher.ts';
import type { EngineConfig, Request, Response, SessionReport, Tower } from './protocol.ts';
import { providerOrder, type ProviderName } from './providers.ts';
import { statedIo } from './signature.ts';

export type { ProviderName } from './providers.ts';
export { providerOrder } from './providers.ts';
export { sessionOptions, type EncoderSessionOptions } from './session-options.ts';
export type { EncoderExit, EncoderLaunch, EncoderLauncher, EncoderProcess } from './launcher.ts';
export { forkLauncher } from './launcher.ts';
export { SignatureMismatch } from './signature.ts';

export interface RestartPolicy {
  /** Delay before the first restart; doubles after each crash without a success in between. Default 250 ms. */
  initialDelayMs?: number;
  /** Longest delay between restarts. Default 8 s. */
  maxDelayMs?: number;
  /** Give up after this many crashes in a row (no successful request between them) ... Default 5. */
  maxCrashes?: number;
  /** ... within this window; older crashes are forgotten and the encoder is tried again. Default 60 s. */
  windowMs?: number;
}

export interface EncoderOptions {
  /** Intra-op threads per session; default: every core. */
  threads?: number;
  /** 'auto' = the platform's order (linux/win: cuda, win: dml, mac: coreml), then cpu. */
  providers?: 'auto' | ProviderName[];
  /** Starts the encoder process; default `child_process.fork`. Electron passes a utilityProcess one. */
  launcher?: EncoderLauncher;
  restart?: RestartPolicy;
  /**
   * Told about every crash of the encoder process (to log it or show it): why, when, how many
   * restarts happened before this crash, and `gaveUp` when it will not be restarted for now.
   */
  onCrash?: (crash: EncoderCrash & { restarts: number; gaveUp: boolean }) => void;
}

export interface Encoder {
  readonly model: ResolvedModel;
  readonly dim: number;
  /**
   * The provider actually used, the requested order, why each fallback happened, threads, and
   * how often the encoder process crashed and was restarted. Before any session exists
   * `provider` is 'not loaded'; call `load()` to know up front.
   */
  info(): ExecutionInfo;
  /** `pixels` = `count` CHW tensors (3×size×size) back to back; returns one L2-normalised vector each. */
  encodeImages(pixels: Float32Array, count: number): Promise<Float32Array[]>;
  /**
   * One row of token ids per text: either the framed tokens alone (start … end) or a row already
   * padded (e.g. `ClipTokenizer.encode`, 77 ids). The encoder fits each row to the model's context
   * length and pad id and derives the attention mask from the real tokens (up to the first end
   * token). Returns one L2-normalised vector each.
   */
  encodeTexts(ids: number[][]): Promise<Float32Array[]>;
  /** Creates a tower's session now (validating the file against the manifest) instead of on first use. */
  load(tower: 'image' | 'text' | 'both'): Promise<void>;
  /** Session creation time in ms per tower, null while not loaded. */
  loadTimes(): { imageMs: number | null; textMs: number | null };
  /** The encoder process's id, null while none runs (between a crash and its restart, after close). */
  processId(): number | null;
  /** Stops the encoder process (and waits until it is gone); later calls reject. */
  close(): Promise<void>;
}

/** A request was in flight when the encoder process died; the process is being restarted. */
export class EncoderCrashedError extends Error {
  readonly code = 'ENCODER_CRASHED';
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = 'EncoderCrashedError';
  }
}

/** The encoder cannot take requests: closed, or it crashed too often and gave up. Nothing was attempted. */
export class EncoderUnavailableError extends Error {
  readonly code = 'ENCODER_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'EncoderUnavailableError';
  }
}

/** Backoff before restarting after the `crashes`-th crash in a row: initial, doubled each time, capped. */
export function restartDelay(crashes: number, policy: RestartPolicy = {}): number {
  const initial = policy.initialDelayMs ?? 250;
  return Math.min(policy.maxDelayMs ?? 8000, initial * 2 ** Math.max(0, crashes - 1));
}

export async function openEncoder(model: ResolvedModel, options: EncoderOptions = {}): Promise<Encoder> {
  for (const [tower, path] of [['image', model.imagePath], ['text', model.textPath]] as const) {
    if (!existsSync(path)) {
      throw new Error(
        `The ${tower} encoder of model "${model.id}" is missing (${path}). Download or import the model again.`,
      );
    }
  }
  const threads = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const providers = providerOrder(options.providers);
  const tokens = model.tokens ?? { contextLength: 77, padId: 0 };
  const config: EngineConfig = {
    modelId: model.id,
    dim: model.dim,
    imagePath: model.imagePath,
    textPath: model.textPath,
    stated: statedIo(model.io, model.entry?.io),
    imageSize: model.preprocess.size,
    contextLength: tokens.contextLength,
    padId: tokens.padId,
    threads,
    providers,
  };
  return new ProcessEncoder(model, config, providers, threads, options);
}

interface Pending {
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
}

class ProcessEncoder implements Encoder {
  readonly dim: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions: Partial<Record<Tower, SessionReport>> = {};
  private readonly launcher: EncoderLauncher;
  private readonly policy: Required<RestartPolicy>;
  private proc: EncoderProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** Resolves when a process runs again after a crash (the backoff wait). */
  private restarting: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Wakes requests waiting out the backoff (close() uses it, so they reject instead of hanging). */
  private endRestartWait: (() => void) | null = null;
  private closed: Error | null = null;
  private gaveUp: Error | null = null;
  private restarts = 0;
  private lastCrash: EncoderCrash | null = null;
  /** Times of the crashes since the last successful request. */
  private crashes: number[] = [];

  constructor(
    readonly model: ResolvedModel,
    private readonly config: EngineConfig,
    private readonly requested: ProviderName[],
    private readonly threads: number,
    private readonly options: EncoderOptions,
  ) {
    this.dim = model.dim;
    this.launcher = options.launcher ?? forkLauncher;
    this.policy = {
      initialDelayMs: options.restart?.initialDelayMs ?? 250,
      maxDelayMs: options.restart?.maxDelayMs ?? 8000,
      maxCrashes: options.restart?.maxCrashes ?? 5,
      windowMs: options.restart?.windowMs ?? 60_000,
    };
    this.start();
  }

  private start(): void {
    const proc = this.launcher({ ...processEntry(import.meta.url, 'encoder-process'), modelId: this.model.id });
    this.proc = proc;
    let exitedResolve!: () => void;
    this.exited = new Promise((r) => (exitedResolve = r));
    proc.onMessage((msg) => {
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.session) this.sessions[msg.session.tower] = msg.session;
      // The process answered: whatever crashed before is behind us.
      this.crashes = [];
      waiter.resolve(msg);
    });
    proc.onExit((exit) => {
      exitedResolve();
      if (this.proc === proc) this.proc = null;
      if (!this.closed) this.crashed(exit);
    });
    proc.send({ kind: 'init', config: this.config });
  }

  private crashed(exit: EncoderExit): void {
    const reason = exit.error
      ? `could not start: ${exit.error}`
      : exit.signal
        ? `signal ${exit.signal}`
        : `exit code ${exit.code}`;
    const at = Date.now();
    this.lastCrash = { reason, at };
    this.crashes = this.crashes.filter((t) => at - t < this.policy.windowMs);
    this.crashes.push(at);
    const err = new EncoderCrashedError(
      `encoder process crashed (${reason}) while working for model "${this.model.id}"; it is restarted automatically`,
      reason,
    );
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();

    const gaveUp = this.crashes.length >= this.policy.maxCrashes;
    if (gaveUp) {
      this.gaveUp = new EncoderUnavailableError(
        `The encoder process of model "${this.model.id}" crashed ${this.crashes.length} times in a row (last: ${reason}); ` +
          `it is not restarted for now. The model or the execution provider is probably broken: try another model, ` +
          `turn off GPU use in Settings, or re-download the model.`,
      );
      // After the window the crashes are forgotten and the next request tries again.
      this.restarting = null;
    } else {
      const delay = restartDelay(this.crashes.length, this.policy);
      this.restarting = new Promise((resolve) => {
        this.endRestartWait = resolve;
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          this.restarting = null;
          this.endRestartWait = null;
          if (!this.closed) {
            this.restarts++;
            this.start();
          }
          resolve();
        }, delay);
      });
    }
    try {
      this.options.onCrash?.({ reason, at, restarts: this.restarts, gaveUp });
    } catch {
      // A listener's bug must not stop the restart.
    }
  }

  /** The running process, after waiting out a restart's backoff; throws when closed or given up. */
  private async ready(): Promise<EncoderProcess> {
    for (;;) {
      if (this.closed) throw this.closed;
      if (this.proc) return this.proc;
      if (this.restarting) {
        await this.restarting;
        continue;
      }
      if (this.gaveUp) {
        const now = Date.now();
        if (this.crashes.every((t) => now - t >= this.policy.windowMs)) {
          this.gaveUp = null;
          this.crashes = [];
          this.restarts++;
          this.start();
          continue;
        }
        throw this.gaveUp;
      }
      // Not reachable: a process runs, is being restarted, or the encoder gave up.
      this.restarts++;
      this.start();
    }
  }

  private async request(msg: Request): Promise<Extract<Response, { ok: true }>> {
    const proc = await this.ready();
    const r = await new Promise<Response>((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      proc.send(msg);
    });
    if (!r.ok) throw new Error(r.error);
    return r;
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
      restarts: this.restarts,
      lastCrash: this.lastCrash ? { ...this.lastCrash } : null,
    };
  }

  processId(): number | null {
    return this.proc?.pid ?? null;
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
    const r = await this.request({ id: this.nextId++, kind: 'images', pixels, count });
    return this.split(r.vectors!, count);
  }

  async encodeTexts(ids: number[][]): Promise<Float32Array[]> {
    if (ids.length === 0) return [];
    const { contextLength, padId } = this.config;
    const fitted = fitTokenRows(ids, { contextLength, padId }, CLIP_EOT);
    const r = await this.request({ id: this.nextId++, kind: 'texts', ids: fitted.ids, lengths: fitted.lengths, count: ids.length, length: contextLength });
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
    if (!this.closed) this.closed = new EncoderUnavailableError(`The encoder for model "${this.model.id}" is closed.`);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.restarting = null;
    this.endRestartWait?.();
    this.endRestartWait = null;
    for (const waiter of this.pending.values()) waiter.reject(this.closed);
    this.pending.clear();
    const proc = this.proc;
    this.proc = null;
    proc?.kill();
    // Resolve only once the process is really gone: no orphan outlives close().
    await this.exited;
  }
}
