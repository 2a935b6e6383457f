/**
 * The ONNX Runtime session settings the encoder runs with, in one place so that the benches that
 * compare them with ONNX Runtime's best on this machine (test/bench/ort-settings.bench.ts) and
 * the indexing pipeline with the raw encoder (test/bench/pipeline.bench.ts) measure exactly what
 * the app uses.
 */
import type { Tower } from './protocol.ts';

export interface EncoderSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: 'basic' | 'extended' | 'all';
  enableCpuMemArena: boolean;
  executionMode: 'sequential' | 'parallel';
  /** Session config entries (onnxruntime_session_options_config_keys.h), values as strings. */
  extra: { session: { intra_op: { allow_spinning: '0' | '1' } } };
}

export function sessionOptions(threads: number, tower: Tower): EncoderSessionOptions {
  return {
    intraOpNumThreads: threads,
    // The encoder graphs are one chain of layers: nothing for a second operator pool to run.
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    executionMode: 'sequential',
    // The image tower runs while the indexer decodes the next photos (sharp) on the same cores.
    // ONNX Runtime's idle intra-op threads spin by default, taking CPU the decodes need; not
    // spinning made indexing faster on 2 cores (docs/speed.md). A text query runs alone and is
    // latency-bound, so its threads keep spinning.
    extra: { session: { intra_op: { allow_spinning: tower === 'image' ? '0' : '1' } } },
  };
}
