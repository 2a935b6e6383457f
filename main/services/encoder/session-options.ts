/**
 * The ONNX Runtime session settings the encoder runs with, in one place so that the bench that
 * compares them with ONNX Runtime's best on this machine (test/bench/ort-settings.bench.ts)
 * measures exactly what the app uses.
 */
export interface EncoderSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: 'basic' | 'extended' | 'all';
  enableCpuMemArena: boolean;
  executionMode: 'sequential' | 'parallel';
}

export function sessionOptions(threads: number): EncoderSessionOptions {
  return {
    intraOpNumThreads: threads,
    // The encoder graphs are one chain of layers: nothing for a second operator pool to run.
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    executionMode: 'sequential',
  };
}
