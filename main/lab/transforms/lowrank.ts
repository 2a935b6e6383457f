/**
 * Low-rank: each large MatMul weight W [K,N] is replaced by A [K,r] · B [r,N] from a truncated SVD
 * (svd.ts), so MatMul(x, W) becomes MatMul(MatMul(x, A), B). The rank is fixed or the smallest
 * reaching an energy share of ‖W‖_F²; a matrix is skipped when r·(K+N) ≥ K·N (not smaller).
 */
import type { ModelProto } from '../../core/onnx/proto.ts';
import { GraphEdit } from './edit.ts';
import { weightMatrices } from './graph.ts';
import { truncatedSvd } from './svd.ts';
import { lowRank } from './weight-ops.ts';

export interface LowRankOptions {
  rank?: number;
  energy?: number;
  /** Matrices with fewer elements are left alone (default 16384). */
  minSize?: number;
  onMatrix?: (name: string, index: number, count: number) => void;
}

export interface LowRankResult {
  model: ModelProto;
  changed: string[];
  ranks: Record<string, { rank: number; energy: number; dims: number[] }>;
}

export function toLowRank(model: ModelProto, opts: LowRankOptions): LowRankResult {
  if (opts.rank === undefined && opts.energy === undefined) throw new Error('low-rank: give a rank or an energy threshold (e.g. energy 0.95)');
  const minSize = opts.minSize ?? 16384;
  const edit = new GraphEdit(model);
  const candidates = weightMatrices(model).filter((w) => edit.use(w.name).matmul && w.dims[0]! * w.dims[1]! >= minSize);
  const changed: string[] = [];
  const ranks: LowRankResult['ranks'] = {};
  candidates.forEach((w, i) => {
    opts.onMatrix?.(w.name, i, candidates.length);
    const [K, N] = w.dims as [number, number];
    // A fixed rank that cannot shrink the matrix is skipped before paying for the SVD.
    if (opts.rank !== undefined && opts.rank * (K + N) >= K * N) return;
    const f = truncatedSvd(edit.values(w.name), K, N, { rank: opts.rank, energy: opts.energy });
    if (f.rank * (K + N) >= K * N) return;
    lowRank(edit, w.name, f.a, f.b, f.rank);
    changed.push(w.name);
    ranks[w.name] = { rank: f.rank, energy: f.energy, dims: [K, N] };
  });
  return { model: edit.finish(), changed, ranks };
}
