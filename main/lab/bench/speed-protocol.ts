/** What the runner sends its measuring child and what the child answers (see child.ts). */
import type { ExecutionInfo, Percentiles } from '../../core/contract.ts';
import type { ResolvedModel } from '../../core/model-spec.ts';
import type { ProviderName } from '../../services/encoder/index.ts';

export const SPEED_MARKER = 'LEANLENS-SPEED';

export interface SpeedJob {
  model: ResolvedModel;
  /** Folder holding the CLIP vocabulary. */
  modelsDir: string;
  threads: number;
  providers: ProviderName[];
  /** Sample photos (the same for every model of a run). */
  photos: string[];
  queries: string[];
  /** Images at batch 1 (batch 8 runs ceil(iterations/8) batches); text runs max(queries, 2·iterations). */
  iterations: number;
}

export interface SpeedReport {
  loadMs: { image: number | null; text: number | null };
  execution: ExecutionInfo;
  baselineRssBytes: number;
  peakRssBytes: number;
  imagesPerSecBatch1: number;
  imagesPerSecBatch8: number;
  textLatencyMs: Percentiles;
  photos: number;
}
