/**
 * Where the encoder runs, in plain words ("Running on the CPU — no supported GPU found"); the
 * provider names and fallback reasons stay behind the Models view's "Details".
 */
import type { ExecutionInfo } from '../../../main/core/contract.ts';

const GPU_NAMES: Record<string, string> = { cuda: 'CUDA', dml: 'DirectML', directml: 'DirectML', coreml: 'Core ML', webgpu: 'WebGPU', rocm: 'ROCm' };

export function executionSummary(exec: Pick<ExecutionInfo, 'provider' | 'requested'>, useGpu: boolean): { device: string; tone: 'good' | 'warn' | 'neutral'; sentence: string } {
  const provider = exec.provider.toLowerCase();
  if (provider !== 'cpu') return { device: 'GPU', tone: 'good', sentence: `Running on the GPU (${GPU_NAMES[provider] ?? exec.provider}).` };
  if (!useGpu) return { device: 'CPU', tone: 'neutral', sentence: 'Running on the CPU — GPU use is turned off in Settings.' };
  // A GPU was asked for (automatic) but none could be used; "Details" has the provider's reason.
  return { device: 'CPU', tone: 'warn', sentence: 'Running on the CPU — no supported GPU found.' };
}
