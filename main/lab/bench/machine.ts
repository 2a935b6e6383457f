/** The machine a run measured on (CPU model, cores, OS): figures are only comparable beside it. */
import { availableParallelism, cpus, release, type as osType } from 'node:os';
import type { LabMachine } from '../../core/contract.ts';

export function machineInfo(threads: number, provider = 'not loaded yet'): LabMachine {
  const cpu = cpus()[0]?.model?.trim() || 'unknown CPU';
  return {
    cpu,
    cores: availableParallelism(),
    os: `${osType()} ${release()} (${process.platform}/${process.arch})`,
    provider,
    threads,
    node: process.version,
  };
}
