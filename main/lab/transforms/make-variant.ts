/**
 * makeVariant: the thin file-handling shell around transformModel. Transforms the parent's two
 * towers one at a time (only one big model in memory) in a worker thread, into a temporary
 * folder, and registers the pair with the models registry with its lineage.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, type ModelInfo } from '../../core/contract.ts';
import type { ManifestEntry } from '../../core/model-spec.ts';
import { GraphBuilder } from '../../core/onnx/builder.ts';
import { encodeModel, type ModelProto } from '../../core/onnx/proto.ts';
import type { ModelRegistry } from '../../services/models/index.ts';
import { workerEntry } from '../../services/workers/index.ts';
import { variantFileName, variantId, variantTag, type VariantSpec } from './index.ts';
import { quantizeInt4 } from './quantize.ts';
import type { TowerJob, TowerResult } from './tower-job.ts';

let contribProbe: Promise<{ matMulNBits: string | null; dynamicQuantizeMatMul: string | null }> | null = null;

/**
 * Whether this ONNX Runtime build runs the com.microsoft ops the int4 and int8-dynamic variants
 * use: null when it does, else the reason. Checked once per process on 2-op models.
 */
export function probeContribOps(): Promise<{ matMulNBits: string | null; dynamicQuantizeMatMul: string | null }> {
  contribProbe ??= (async () => {
    const ort = await import('onnxruntime-node');
    const tryRun = async (model: ModelProto): Promise<string | null> => {
      try {
        const s = await ort.InferenceSession.create(encodeModel(model), { intraOpNumThreads: 1 });
        await s.run({ x: new ort.Tensor('float32', new Float32Array(32), [1, 32]) });
        await s.release();
        return null;
      } catch (err) {
        return (err as Error).message.split('\n')[0]!;
      }
    };
    const g4 = new GraphBuilder();
    const x4 = g4.input('x', 'float32', [1, 32]);
    const q = quantizeInt4(new Float32Array(32 * 4).fill(0.5), 32, 4, 32);
    const b = g4.initializer('b', q.packed, [4, 1, 16]);
    const s = g4.initializer('s', q.scales, [4]);
    g4.output(g4.op('MatMulNBits', [x4, b, s], { K: 32, N: 4, bits: 4, block_size: 32 }, { domain: 'com.microsoft' }), 'y', 'float32', [1, 4]);
    const m4 = g4.toModel();
    m4.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
    const g8 = new GraphBuilder();
    const x8 = g8.input('x', 'float32', [1, 32]);
    const b8 = g8.initializer('b', new Int8Array(32 * 4).fill(1), [32, 4]);
    const s8 = g8.initializer('s', new Float32Array(4).fill(0.1), [4]);
    const z8 = g8.initializer('z', new Int8Array(4), [4]);
    g8.output(g8.op('DynamicQuantizeMatMul', [x8, b8, s8, z8], {}, { domain: 'com.microsoft' }), 'y', 'float32', [1, 4]);
    const m8 = g8.toModel();
    m8.opsetImport!.push({ domain: 'com.microsoft', version: 1 });
    return { matMulNBits: await tryRun(m4), dynamicQuantizeMatMul: await tryRun(m8) };
  })();
  return contribProbe;
}

/** Runs one tower job in a worker thread (tower-worker.ts), so the event loop is never held for seconds. */
function inWorker(job: TowerJob): Promise<TowerResult> {
  const entry = workerEntry(import.meta.url, 'tower-worker');
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry.file, { workerData: { job, script: entry.script } });
    let settled = false;
    worker.once('message', (m: { ok: true; result: TowerResult } | { ok: false; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else reject(new Error(m.message));
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the model transform stopped unexpectedly (worker exit code ${code})`));
    });
  });
}

export interface MakeVariantOptions {
  onProgress?: (frac: number, what: string) => void;
  /** Override the id (default variantId(parent, spec)). */
  id?: string;
}

/**
 * Makes a variant of a registered model: both towers transformed, written, and registered with
 * lineage { parent, transform: spec.kind, params }. For 'mixed', `bits` may name weights of
 * either tower (their names differ); a name found in neither is an error.
 */
export async function makeVariant(registry: ModelRegistry, parentId: string, spec: VariantSpec, opts: MakeVariantOptions = {}): Promise<ModelInfo> {
  const progress = opts.onProgress ?? (() => {});
  const id = opts.id ?? variantId(parentId, spec);
  if (registry.entry(id)) throw new AppError('invalid-argument', `A model with id "${id}" already exists.`);
  if (spec.kind === 'int4' || (spec.kind === 'int8' && spec.mode === 'dynamic') || (spec.kind === 'mixed' && Object.values(spec.bits).includes(4))) {
    const probe = await probeContribOps();
    const reason = spec.kind === 'int8' ? probe.dynamicQuantizeMatMul : probe.matMulNBits;
    if (reason) throw new AppError('unsupported', `This ONNX Runtime build cannot run the ${spec.kind === 'int8' ? 'DynamicQuantizeMatMul' : 'MatMulNBits (4-bit)'} op that a ${variantTag(spec)} variant needs: ${reason}`);
  }
  progress(0, 'resolving parent');
  const parent = registry.resolve(parentId);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leanlens-variant-'));
  try {
    const files = { image: '', text: '' };
    const reports: Record<string, unknown> = {};
    const remaining = spec.kind === 'mixed' ? new Set(Object.keys(spec.bits)) : null;
    const towers = [['image', parent.imagePath], ['text', parent.textPath]] as const;
    for (const [i, [tower, src]] of towers.entries()) {
      progress(i / 2 + 0.05, `transforming ${tower} encoder`);
      const file = path.join(tmp, variantFileName(tower, spec));
      const { report, weightNames } = await inWorker({ src, spec, out: file });
      for (const n of weightNames) remaining?.delete(n);
      files[tower] = file;
      reports[tower] = { changed: report.changed.length, bytesBefore: report.bytesBefore, bytesAfter: report.bytesAfter, ...(report.ranks ? { ranks: report.ranks } : {}) };
    }
    if (remaining && remaining.size) {
      throw new AppError('invalid-argument', `mixed precision: ${[...remaining].slice(0, 5).join(', ')} are weights of neither tower of "${parentId}"`);
    }
    progress(0.95, 'registering');
    const { kind, ...params } = spec;
    const entry: ManifestEntry = {
      ...parent.entry,
      id,
      name: `${parent.entry.name} · ${variantTag(spec)}`,
      role: parent.entry.role === 'teacher' ? 'student' : parent.entry.role,
      description: `${variantTag(spec)} variant of ${parentId} made by the LeanLens lab.`,
      image: { file: path.basename(files.image), bytes: 0, sha256: '' },
      text: { file: path.basename(files.text), bytes: 0, sha256: '' },
      lineage: { parent: parentId, transform: kind, params: { ...params, report: reports } },
    };
    delete entry.image.url;
    delete entry.text.url;
    const info = registry.register(entry, files, { move: true });
    progress(1, 'done');
    return info;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
