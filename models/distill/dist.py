"""Distributed training helpers (PyTorch DistributedDataParallel, one process per device).

A run is distributed when the environment that ``torchrun`` (or ``models.distill.launch``) sets
is present: ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``.  Without
it every helper here is the identity and the code runs exactly as a single process.

Design (see README, "Distributed training"):
- a step's *global* batch is a function of (seed, step) only; rank r trains on its contiguous
  slice, so any world size sees the same global batches and checkpoints are world-size free;
- contrastive losses are computed on the all-gathered global batch, the local slice keeping its
  autograd graph (``gather``); every rank computes the same global loss, backpropagates
  ``world * loss`` and DDP's gradient *average* then equals the single-process gradient;
- per-sample losses (hard negatives) stay local: their mean over ranks is the global mean.
"""
from __future__ import annotations

import datetime
import os
import sys
from typing import List, Sequence

import torch
import torch.distributed as td


def env_world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_dist() -> bool:
    return td.is_available() and td.is_initialized()


def rank() -> int:
    return td.get_rank() if is_dist() else 0


def world() -> int:
    return td.get_world_size() if is_dist() else 1


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def init(device_kind: str = "cpu", timeout_s: float = 1800.0) -> bool:
    """Join the process group described by the environment (no-op when WORLD_SIZE is 1 or
    unset).  NCCL for CUDA devices, Gloo otherwise.  ``timeout_s`` bounds every collective:
    when a rank dies or hangs the others raise after it instead of waiting forever."""
    if is_dist() or env_world() <= 1:
        return is_dist()
    backend = "nccl" if device_kind == "cuda" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
        # NCCL only honours the timeout when asynchronous error handling is on (torch 1.13 / 2.x)
        os.environ.setdefault("NCCL_ASYNC_ERROR_HANDLING", "1")
        os.environ.setdefault("TORCH_NCCL_ASYNC_ERROR_HANDLING", "1")
    td.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=float(timeout_s)))
    return True


def shutdown():
    if is_dist():
        td.destroy_process_group()


def barrier():
    if is_dist():
        td.barrier()


def shard_range(n: int, r: int = None, w: int = None):
    """Contiguous slice [lo, hi) of n items for rank r of w (first n % w ranks get one more)."""
    r = rank() if r is None else r
    w = world() if w is None else w
    base, extra = divmod(n, w)
    lo = r * base + min(r, extra)
    return lo, lo + base + (1 if r < extra else 0)


def gather(x: torch.Tensor) -> torch.Tensor:
    """All-gather along dim 0 (equal sizes on every rank) keeping the autograd graph of the
    local part: ``all_gather`` returns tensors without gradient, so this rank's slice is
    replaced by the local tensor itself (as OpenCLIP's ``gather_features``)."""
    if not is_dist() or world() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world())]
    td.all_gather(parts, x.detach().contiguous())
    parts[rank()] = x
    return torch.cat(parts, 0)


def gather_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    """Merge the per-rank results of a ``shard_range(n)`` split (sizes may differ by one):
    pad to the largest shard, all-gather, trim.  No gradient (used for evaluation and the
    hard-negative index)."""
    if not is_dist() or world() == 1:
        return x
    w = world()
    size = shard_range(n, 0, w)[1]
    pad = torch.zeros((size,) + tuple(x.shape[1:]), dtype=x.dtype, device=x.device)
    pad[:len(x)] = x
    parts = [torch.empty_like(pad) for _ in range(w)]
    td.all_gather(parts, pad)
    return torch.cat([p[:hi - lo] for p, (lo, hi) in zip(parts, (shard_range(n, r, w) for r in range(w)))], 0)


def mean_values(values: Sequence[float], device) -> List[float]:
    """Mean of each value over the ranks (one all_reduce for the whole list)."""
    if not is_dist() or world() == 1:
        return list(values)
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=device)
    td.all_reduce(t)
    return (t / world()).tolist()


def all_true(flag: bool, device) -> bool:
    """True only when ``flag`` is true on every rank (so that all ranks skip a step together:
    one rank skipping a DDP backward while the others run it would leave them waiting)."""
    if not is_dist() or world() == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    td.all_reduce(t, op=td.ReduceOp.MIN)
    return bool(t.item() > 0.5)


def replicated(p: torch.Tensor) -> torch.Tensor:
    """A replicated parameter (the logit scale) used inside the *global* loss: every rank gets its
    full gradient there, which ``world * loss`` and DDP's average would count ``world`` times;
    the hook divides this use's gradient by the world size so the sum is right again."""
    if not is_dist() or world() == 1 or not p.requires_grad:
        return p
    w = world()
    q = p * 1.0  # a new node, so the hook touches only this use of p
    q.register_hook(lambda g: g / w)
    return q


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DDP around ``module`` when distributed (construct it after setting requires_grad: DDP
    synchronises exactly the parameters that require gradients at construction)."""
    if not is_dist() or world() == 1:
        return module
    ids = [device.index if device.index is not None else 0] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)


def log(msg: str):
    """Progress and messages come from rank 0 only."""
    if is_main():
        print(msg, file=sys.stderr, flush=True)
