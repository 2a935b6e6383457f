/**
 * Messages between the encoder's front (main thread) and its worker thread. Kept in one place
 * so both sides agree; tensors travel as transferred ArrayBuffers, never copied.
 */
import type { ModelIo } from '../../core/model-spec.ts';

export type Tower = 'image' | 'text';

/** What the worker needs to build sessions; sent once as workerData. */
export interface WorkerConfig {
  modelId: string;
  dim: number;
  imagePath: string;
  textPath: string;
  io: ModelIo;
  /** Side of the square image input (preprocess.size). */
  imageSize: number;
  threads: number;
  providers: string[];
}

export type Request =
  | { id: number; kind: 'load'; tower: Tower }
  | { id: number; kind: 'images'; pixels: Float32Array; count: number }
  /** Token ids, `count` rows of `length`, row-major (int64 on the wire as the graph wants it). */
  | { id: number; kind: 'texts'; ids: BigInt64Array; count: number; length: number };

export interface SessionReport {
  tower: Tower;
  provider: string;
  /** One line per provider tried and rejected, e.g. "cuda: Failed to load shared library". */
  fallbackReasons: string[];
  loadMs: number;
}

export type Response =
  | { id: number; ok: true; session?: SessionReport; vectors?: Float32Array; count?: number }
  | { id: number; ok: false; error: string; session?: undefined };
