/**
 * One tower of a variant: read the parent's .onnx file, transform it, write the result. This is
 * the CPU-heavy part of making a variant (seconds for a ViT-B/32 tower: decoding, quantizing or
 * factorising every weight, encoding), so makeVariant runs it in a worker thread
 * (tower-worker.ts) and the app's event loop keeps serving searches meanwhile.
 */
import { writeModelFile } from '../../services/models/index.ts';
import { weightMatrices } from './graph.ts';
import { transformModel, type TransformReport, type VariantSpec } from './index.ts';
import { readModelFile } from './read-model.ts';

export interface TowerJob {
  src: string;
  /** For 'mixed', `bits` may name weights of both towers: this tower takes the ones it has. */
  spec: VariantSpec;
  out: string;
}

export interface TowerResult {
  report: TransformReport;
  /** Weight-matrix names of this tower (makeVariant checks every mixed name was found in one). */
  weightNames: string[];
}

export function transformTowerFile(job: TowerJob): TowerResult {
  const model = readModelFile(job.src);
  const weightNames = weightMatrices(model).map((w) => w.name);
  let spec = job.spec;
  if (spec.kind === 'mixed') {
    const names = new Set(weightNames);
    spec = { kind: 'mixed', bits: Object.fromEntries(Object.entries(spec.bits).filter(([n]) => names.has(n))) };
  }
  const { model: out, report } = transformModel(model, spec);
  writeModelFile(job.out, out);
  return { report, weightNames };
}
