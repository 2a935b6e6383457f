/**
 * Messages between the encoder's front (in the app's process) and the encoder process. Kept in
 * one place so both sides agree. They travel over Node's IPC with 'advanced' serialization (or
 * Electron's structured clone), so typed arrays arrive as typed arrays.
 */
import type { ModelIo } from '../../core/model-spec.ts';

export type Tower = 'image' | 'text';

/** What the engine needs to build sessions; the first message to every (re)started process. */
export interface EngineConfig {
  modelId: string;
  dim: number;
  imagePath: string;
  textPath: string;
  /** Only what the manifest entry states; the rest is read from the graph at load (signature.ts). */
  stated: Partial<ModelIo>;
  /** Side of the square image input (preprocess.size). */
  imageSize: number;
  /** Tokens per text row and the id written after the end token. */
  contextLength: number;
  padId: number;
  threads: number;
  providers: string[];
}

export type Request =
  | { id: number; kind: 'load'; tower: Tower }
  | { id: number; kind: 'images'; pixels: Float32Array; count: number }
  /**
   * Token ids, `count` rows of `length` (the context length), row-major, already padded with the
   * model's pad id; `lengths[r]` = real tokens of row r (start and end tokens included), which is
   * what the attention mask marks with 1 — never derived from the ids, since the pad id may equal
   * the end token's.
   */
  | { id: number; kind: 'texts'; ids: Int32Array; lengths: Int32Array; count: number; length: number };

export type Envelope = { kind: 'init'; config: EngineConfig } | Request;

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
