"""Teacher training, stage 1 (intra-modal contrastive distillation) and stage 2 (InfoNCE + KD +
embedding distillation + corpus-level hard negatives, sequential finetuning).

All loops share ``Trainer``: seeds, mixed precision with automatic fp32 fallback, checkpoints
every N steps with exact resume (the data stream is a function of the step), a progress line
and a JSON log (``<out_dir>/log.json``).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import dist as D
from .model import CLIP, ClipConfig, student_from_teacher
from .shapesworld import ShapesStream, ShapesWorld
from .tokenizer import get_tokenizer, preprocess_uint8

MAX_LOGIT_SCALE = math.log(100.0)


# ----------------------------------------------------------------------------- utils
def seed_everything(seed: int):
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' = CUDA when present, else CPU.  Under torchrun / the launcher each rank takes the
    GPU of its LOCAL_RANK (one process per device)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and D.env_world() > 1:
        return torch.device("cuda", D.local_rank())
    return torch.device(name)


class JsonLog:
    """Append-only JSON log of losses, evaluations and events, rewritten atomically."""

    def __init__(self, path: str):
        self.path = path
        self.data: Dict[str, list] = {"losses": [], "evals": [], "events": []}
        if os.path.exists(path):
            with open(path) as f:
                self.data = json.load(f)

    def add(self, kind: str, **rec):
        rec["time"] = round(time.time(), 3)
        self.data.setdefault(kind, []).append(rec)

    def truncate(self, stage: str, step: int):
        """On resume, drop records of ``stage`` logged after the checkpoint's step."""
        for k in ("losses", "evals"):
            self.data[k] = [r for r in self.data.get(k, []) if not (r.get("stage") == stage and r.get("step", 0) > step)]

    def save(self):
        if not D.is_main():  # rank 0 writes the log; the others keep theirs in memory
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)


class Precision:
    """Mixed precision policy.

    mode: 'auto' (bf16 on CUDA GPUs that support it, else fp16 on CUDA, fp32 on CPU), 'fp32',
    'bf16', 'fp16' (with a GradScaler).  Steps whose gradients overflow (the scaler lowers its
    scale, or the loss is not finite) are skipped and counted; when more than
    ``max_skip_frac`` of at least ``min_steps`` steps were skipped the policy falls back to fp32
    and logs it.
    """

    def __init__(self, mode: str, device: torch.device, log: Optional[JsonLog] = None,
                 max_skip_frac: float = 0.10, min_steps: int = 20):
        self.device, self.log = device, log
        self.max_skip_frac, self.min_steps = max_skip_frac, min_steps
        if device.type != "cuda":
            mode = "fp32"
        elif mode == "auto":
            mode = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif mode == "bf16" and not torch.cuda.is_bf16_supported():
            mode = "fp16"
        self.mode = mode
        self.scaler = torch.cuda.amp.GradScaler() if mode == "fp16" else None
        self.steps = 0
        self.skipped = 0
        self.fell_back = False

    def autocast(self):
        if self.mode == "bf16":
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        if self.mode == "fp16":
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def record(self, skipped: bool, stage: str = "", step: int = 0):
        self.steps += 1
        self.skipped += int(skipped)
        if (self.mode != "fp32" and self.steps >= self.min_steps
                and self.skipped / self.steps > self.max_skip_frac):
            msg = (f"{self.skipped}/{self.steps} steps skipped in {self.mode} "
                   f"(> {self.max_skip_frac:.0%}): falling back to fp32")
            print(f"\n[precision] {msg}", file=sys.stderr)
            if self.log:
                self.log.add("events", stage=stage, step=step, event="precision_fallback", message=msg,
                             skipped=self.skipped, steps=self.steps, from_mode=self.mode)
            self.mode, self.scaler, self.fell_back = "fp32", None, True

    def backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, params, clip: float = 1.0,
                      stage: str = "", step: int = 0, on_grads: Optional[Callable[[], None]] = None) -> bool:
        """Backward + optimiser step.  Returns True when the step was skipped.  ``on_grads`` is
        called with the (synchronised, unscaled, unclipped) gradients in place."""
        # Decided together: a rank that skipped its DDP backward would leave the others waiting.
        if not D.all_true(bool(torch.isfinite(loss.detach())), loss.device):
            opt.zero_grad(set_to_none=True)
            if self.scaler is not None:  # let the scaler back off as well
                self.scaler.update(self.scaler.get_scale() / 2)
            self.record(True, stage, step)
            return True
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(opt)
            if on_grads is not None:
                on_grads()
            torch.nn.utils.clip_grad_norm_(params, clip)
            before = self.scaler.get_scale()
            self.scaler.step(opt)
            self.scaler.update()
            skipped = self.scaler.get_scale() < before
        else:
            loss.backward()
            if on_grads is not None:
                on_grads()
            gn = torch.nn.utils.clip_grad_norm_(params, clip)
            skipped = not torch.isfinite(gn)
            if not skipped:
                opt.step()
        opt.zero_grad(set_to_none=True)
        self.record(skipped, stage, step)
        return skipped

    def state_dict(self):
        return {"mode": self.mode, "steps": self.steps, "skipped": self.skipped, "fell_back": self.fell_back,
                "scaler": self.scaler.state_dict() if self.scaler is not None else None}

    def load_state_dict(self, d):
        self.steps, self.skipped, self.fell_back = d["steps"], d["skipped"], d["fell_back"]
        if d["mode"] == "fp32":
            self.mode, self.scaler = "fp32", None
        if self.scaler is not None and d.get("scaler"):
            self.scaler.load_state_dict(d["scaler"])


class Progress:
    def __init__(self, stage: str, total: int, start: int = 0):
        self.stage, self.total, self.t0, self.start = stage, total, time.time(), start
        self.tty = sys.stderr.isatty()
        self.every = max(1, total // 10)

    def update(self, step: int, info: Dict[str, float], force: bool = False):
        if not D.is_main():
            return
        done = step - self.start
        el = time.time() - self.t0
        rate = done / el if el > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else float("nan")
        frac = step / max(1, self.total)
        bar = "#" * int(20 * frac) + "-" * (20 - int(20 * frac))
        vals = " ".join(f"{k} {v:.3f}" for k, v in info.items())
        speed = f"{rate:.1f} it/s" if rate >= 1 or rate == 0 else f"{1 / rate:.1f} s/it"
        line = f"[{self.stage}] |{bar}| {step}/{self.total} {vals} {speed} eta {eta:.0f}s"
        if self.tty:
            print("\r" + line[:150], end="\n" if (force or step >= self.total) else "", file=sys.stderr, flush=True)
        elif force or step % self.every == 0 or step >= self.total:
            print(line, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- losses
def positive_mask(owner: Sequence[int], texts: Sequence[str]) -> torch.Tensor:
    """[B,B] True where image i and caption j belong together (same scene or same caption)."""
    o = torch.as_tensor(np.asarray(owner))
    m = o[:, None] == o[None, :]
    idx = {}
    ids = torch.tensor([idx.setdefault(t, len(idx)) for t in texts])
    return m | (ids[:, None] == ids[None, :])


def soft_ce(logits: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    target = pos.float() / pos.float().sum(1, keepdim=True)
    return -(target * F.log_softmax(logits.float(), dim=1)).sum(1).mean()


def clip_loss(img: torch.Tensor, txt: torch.Tensor, scale: torch.Tensor, pos: Optional[torch.Tensor] = None):
    """Symmetric InfoNCE on L2-normalised embeddings."""
    logits = scale * img.float() @ txt.float().t()
    if pos is None:
        pos = torch.eye(len(img), dtype=torch.bool, device=img.device)
    pos = pos.to(img.device)
    return 0.5 * (soft_ce(logits, pos) + soft_ce(logits.t(), pos.t()))


def intra_modal_loss(student: torch.Tensor, teacher: torch.Tensor, kind: str = "contrastive",
                     temperature: float = 0.05, pos: Optional[torch.Tensor] = None):
    """Stage 1 / embedding-level distillation: student embedding i must pick teacher embedding i
    among the batch's teacher embeddings (contrastive), or match it (MSE ablation)."""
    s, t = F.normalize(student.float(), dim=-1), F.normalize(teacher.float(), dim=-1)
    if kind == "mse":
        return ((s - t) ** 2).sum(-1).mean()
    logits = s @ t.t() / temperature
    if pos is None:
        pos = torch.eye(len(s), dtype=torch.bool, device=s.device)
    return soft_ce(logits, pos.to(s.device))


def kd_loss(s_logits: torch.Tensor, t_logits: torch.Tensor, T: float = 1.0):
    """KL(teacher || student) of the image->text and text->image matching distributions."""
    def kl(s, t):
        return F.kl_div(F.log_softmax(s.float() / T, 1), F.softmax(t.float() / T, 1), reduction="batchmean") * T * T
    return 0.5 * (kl(s_logits, t_logits) + kl(s_logits.t(), t_logits.t()))


def hard_negative_loss(query: torch.Tensor, pos_key: torch.Tensor, hn_keys: torch.Tensor, scale: torch.Tensor):
    """-log softmax of the positive against K mined hard negatives. query [B,D], pos_key [B,D],
    hn_keys [B,K,D] (from the index, no gradient)."""
    q = query.float()
    lp = (q * pos_key.float()).sum(-1, keepdim=True)
    ln = torch.einsum("bd,bkd->bk", q, hn_keys.float())
    logits = scale * torch.cat([lp, ln], 1)
    return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long, device=q.device))


# ----------------------------------------------------------------------------- encoding
class Encoders:
    """Batched, normalised encoding of uint8 images / caption strings with a CLIP."""

    def __init__(self, device: torch.device):
        self.device = device
        self.tok = get_tokenizer()
        self._tok_cache: Dict[str, np.ndarray] = {}

    def pixels(self, imgs_uint8: np.ndarray) -> torch.Tensor:
        return preprocess_uint8(imgs_uint8).to(self.device, non_blocking=True)

    def ids(self, texts: Sequence[str]) -> torch.Tensor:
        rows = []
        for t in texts:
            r = self._tok_cache.get(t)
            if r is None:
                r = self.tok([t])[0]
                if len(self._tok_cache) < 200_000:
                    self._tok_cache[t] = r
            rows.append(r)
        return torch.from_numpy(np.stack(rows)).to(self.device)

    @torch.no_grad()
    def encode_images(self, model: CLIP, imgs: np.ndarray, bs: int = 128, prec: Optional[Precision] = None):
        out = []
        for i in range(0, len(imgs), bs):
            with (prec.autocast() if prec else contextlib.nullcontext()):
                out.append(F.normalize(model.encode_image(self.pixels(imgs[i:i + bs])).float(), dim=-1))
        return torch.cat(out)

    @torch.no_grad()
    def encode_texts(self, model: CLIP, texts: Sequence[str], bs: int = 256, prec: Optional[Precision] = None):
        out = []
        for i in range(0, len(texts), bs):
            with (prec.autocast() if prec else contextlib.nullcontext()):
                out.append(F.normalize(model.encode_text(self.ids(texts[i:i + bs])).float(), dim=-1))
        return torch.cat(out)

    def _sharded(self, fn, model: CLIP, items, prec):
        """Each rank encodes its contiguous share of ``items``; the shares are merged on every
        rank (evaluation and the hard-negative index are sharded, the result is the whole set)."""
        if D.world() == 1:
            return fn(model, items, prec=prec)
        lo, hi = D.shard_range(len(items))
        e = fn(model, items[lo:hi], prec=prec) if hi > lo else \
            torch.zeros((0, model.cfg.embed_dim), device=self.device)
        return D.gather_rows(e, len(items))

    def encode_images_all(self, model: CLIP, imgs: np.ndarray, prec: Optional[Precision] = None):
        return self._sharded(self.encode_images, model, imgs, prec)

    def encode_texts_all(self, model: CLIP, texts: Sequence[str], prec: Optional[Precision] = None):
        return self._sharded(self.encode_texts, model, list(texts), prec)


class Towers(torch.nn.Module):
    """Both encoders behind one ``forward`` so DistributedDataParallel sees every training
    forward (DDP synchronises gradients of what runs through its own forward, not of direct
    ``encode_*`` calls).  ``None`` skips a tower."""

    def __init__(self, model: CLIP):
        super().__init__()
        self.model = model

    def forward(self, pixels: Optional[torch.Tensor] = None, ids: Optional[torch.Tensor] = None):
        img = self.model.encode_image(pixels) if pixels is not None else None
        txt = self.model.encode_text(ids) if ids is not None else None
        return img, txt


def recall_at_k(img_emb: torch.Tensor, txt_emb: torch.Tensor, txt_owner: Sequence[int], ks=(1, 5, 10)) -> Dict[str, float]:
    """COCO convention: t2i R@K = share of captions whose own image is in the top K;
    i2t R@K = share of images with at least one own caption in the top K."""
    sims = txt_emb.float() @ img_emb.float().t()  # [T, I]
    owner = torch.as_tensor(np.asarray(txt_owner), device=sims.device)
    own = sims[torch.arange(len(owner)), owner]
    t2i_rank = (sims > own[:, None]).sum(1)  # 0 = first
    s_it = sims.t()  # [I, T]
    best = torch.full((len(img_emb),), 10 ** 9, dtype=torch.long, device=sims.device)
    for j in range(len(owner)):
        i = int(owner[j])
        r = int((s_it[i] > s_it[i, j]).sum())
        if r < best[i]:
            best[i] = r
    out = {}
    for k in ks:
        out[f"t2i_r{k}"] = 100.0 * float((t2i_rank < k).float().mean())
        out[f"i2t_r{k}"] = 100.0 * float((best < k).float().mean())
    out["rsum"] = sum(out[f"t2i_r{k}"] + out[f"i2t_r{k}"] for k in ks)
    out["n_images"], out["n_captions"] = len(img_emb), len(owner)
    return out


_SET_CACHE: Dict[tuple, tuple] = {}


def eval_set(seed: int, split: str, n: int):
    key = (seed, split, n)
    if key not in _SET_CACHE:
        imgs, caps = ShapesWorld(seed).dataset(split, n)
        texts = [c for cs in caps for c in cs]
        owner = [i for i, cs in enumerate(caps) for _ in cs]
        _SET_CACHE[key] = (imgs, texts, owner)
    return _SET_CACHE[key]


def evaluate_pair(image_model: CLIP, text_model: CLIP, seed: int, split: str, n: int, device, prec=None):
    imgs, texts, owner = eval_set(seed, split, n)
    enc = Encoders(device)
    was = (image_model.training, text_model.training)
    image_model.eval(), text_model.eval()
    ie = enc.encode_images_all(image_model, imgs, prec=prec)
    te = enc.encode_texts_all(text_model, texts, prec=prec)
    image_model.train(was[0]), text_model.train(was[1])
    return recall_at_k(ie, te, owner)


# ----------------------------------------------------------------------------- trainer
class Trainer:
    """Shared loop: optimiser + cosine schedule, precision, checkpoint/resume, progress, log."""

    def __init__(self, cfg: dict, stage: str, params: List[torch.nn.Parameter], steps: int, lr: float,
                 wd: float, warmup: int, device, log: JsonLog, ckpt_path: str, modules: Dict[str, torch.nn.Module],
                 batch_size: int = 0):
        self.cfg, self.stage, self.steps, self.device, self.log = cfg, stage, steps, device, log
        self.batch_size = batch_size  # global batch, for the samples/s figure
        self.params = params
        decay = [p for p in params if p.ndim >= 2]
        no_decay = [p for p in params if p.ndim < 2]
        self.opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                                     lr=lr, betas=(0.9, 0.98), eps=1e-6)
        self.base_lr, self.warmup = lr, warmup
        self.prec = Precision(cfg.get("precision", "auto"), device, log)
        self.ckpt_path, self.modules = ckpt_path, modules
        self.ckpt_every = int(cfg.get("checkpoint_every", 100))
        self.step = 0
        self.extra: dict = {}
        self._maybe_resume()
        self.names = {id(p): f"{k}.{n}" for k, m in modules.items() for n, p in m.named_parameters()}

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.base_lr * (step + 1) / max(1, self.warmup)
        p = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.base_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, p)))

    def _maybe_resume(self):
        if not self.cfg.get("resume", True) or not os.path.exists(self.ckpt_path):
            return
        ck = torch.load(self.ckpt_path, map_location=self.device)
        for k, m in self.modules.items():
            m.load_state_dict(ck["modules"][k])
        self.opt.load_state_dict(ck["opt"])
        self.prec.load_state_dict(ck["precision"])
        self.step = ck["step"]
        self.extra = ck.get("extra", {})
        torch.set_rng_state(ck["torch_rng"].cpu())
        self.log.truncate(self.stage, self.step)
        self.log.add("events", stage=self.stage, step=self.step, event="resumed", path=self.ckpt_path,
                     world_size=D.world())
        D.log(f"[{self.stage}] resumed from {self.ckpt_path} at step {self.step}")

    def save(self):
        """Rank 0 writes (temp file + rename: a crash mid-write leaves the previous checkpoint);
        the barrier keeps the others from reading a checkpoint that is not there yet.  The file
        holds the plain (un-wrapped) modules, so it resumes on any number of ranks."""
        if D.is_main():
            os.makedirs(os.path.dirname(self.ckpt_path), exist_ok=True)
            tmp = self.ckpt_path + ".tmp"
            torch.save({"modules": {k: m.state_dict() for k, m in self.modules.items()}, "opt": self.opt.state_dict(),
                        "precision": self.prec.state_dict(), "step": self.step, "extra": self.extra,
                        "torch_rng": torch.get_rng_state(), "world_size": D.world()}, tmp)
            os.replace(tmp, self.ckpt_path)
            self.log.save()
        D.barrier()

    def _fault(self):
        """Test hook (``"_crash": {"rank", "stage", "step", "mode"}`` in the config): this rank
        dies (``exit``) or stops answering (``hang``) before the step, as a failing GPU would."""
        c = self.cfg.get("_crash")
        if not c or c.get("stage") != self.stage or int(c.get("step", -1)) != self.step or int(c.get("rank", 0)) != D.rank():
            return
        print(f"[{self.stage}] rank {D.rank()}: injected {c.get('mode', 'exit')} at step {self.step}", file=sys.stderr, flush=True)
        if c.get("mode") == "hang":
            time.sleep(3600)
        os._exit(17)

    def _dump_grads(self):
        """Test hook (``"_grad_dump": DIR``): rank 0 writes the first step's synchronised gradients
        to DIR/<stage>.pt, so 2 ranks can be compared with 1 rank."""
        if D.is_main():
            os.makedirs(self.cfg["_grad_dump"], exist_ok=True)
            g = {self.names.get(id(p), str(i)): p.grad.detach().float().cpu().clone()
                 for i, p in enumerate(self.params) if p.grad is not None}
            torch.save(g, os.path.join(self.cfg["_grad_dump"], f"{self.stage}.pt"))

    def run(self, step_fn: Callable[[int], Dict[str, torch.Tensor]], eval_fn: Optional[Callable[[], dict]] = None,
            eval_every: int = 0, stop_after: Optional[int] = None):
        """``step_fn(step)`` returns a dict of losses with key 'loss' (the total)."""
        prog = Progress(self.stage, self.steps, self.step)
        t0 = time.time()
        run_until = self.steps if stop_after is None else min(self.steps, stop_after)
        first, t1 = self.step, None
        while self.step < run_until:
            if self.step == first + 1:
                t1 = time.time()  # throughput leaves out the first step (data pool, CUDA warm-up)
            self._fault()
            for g in self.opt.param_groups:
                g["lr"] = self.lr_at(self.step)
            with self.prec.autocast():
                losses = step_fn(self.step)
            dump = self._dump_grads if self.cfg.get("_grad_dump") and self.step == 0 else None
            # "backward" (distributed runs) is world * global part + local part: see dist.py
            skipped = self.prec.backward_step(losses.get("backward", losses["loss"]), self.opt, self.params,
                                              stage=self.stage, step=self.step, on_grads=dump)
            self.step += 1
            vals = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in losses.items() if k != "backward"}
            vals = dict(zip(vals, D.mean_values(list(vals.values()), self.device)))  # the global batch's values
            self.log.add("losses", stage=self.stage, step=self.step, skipped=bool(skipped),
                         lr=self.opt.param_groups[0]["lr"], **vals)
            prog.update(self.step, {k: v for k, v in vals.items() if k == "loss"})
            if eval_fn is not None and eval_every and (self.step % eval_every == 0) and self.step < self.steps:
                r = eval_fn()
                self.log.add("evals", stage=self.stage, step=self.step, split="val", **r)
            if self.step % self.ckpt_every == 0 or self.step == self.steps:
                self.save()
        el = time.time() - t0
        rate = {}
        if t1 is not None and self.step - first > 1 and time.time() > t1:
            sps = (self.step - first - 1) / (time.time() - t1)
            rate = {"steps_per_s": round(sps, 3), "samples_per_s": round(sps * self.batch_size, 1)}
            D.log(f"[{self.stage}] {sps:.2f} steps/s, {sps * self.batch_size:.1f} samples/s (global batch "
                  f"{self.batch_size}, {D.world()} rank(s), {self.prec.mode})")
        self.log.add("events", stage=self.stage, step=self.step, event="stage_done", seconds=round(el, 2),
                     precision=self.prec.mode, skipped_steps=self.prec.skipped, total_steps=self.prec.steps,
                     precision_fallback=self.prec.fell_back, world_size=D.world(), **rate)
        self.log.save()
        return self.step >= self.steps


# ----------------------------------------------------------------------------- data helpers
class BatchSource:
    """Step-indexed batches; with workers > 0 batches are prefetched by a DataLoader.
    ``get(step)`` returns this rank's slice of the step's global batch (images, captions, owners,
    each image's captions) + the global batch's captions and owners."""

    def __init__(self, cfg: dict, offset: int, batch_size: int, start: int, unpaired: bool = False):
        d = cfg.get("data", {})
        pool = int(d.get("pool", 0))
        seed = cfg["seed"] if pool else cfg["seed"] + offset
        self.offset = offset if pool else 0
        self.stream = ShapesStream(seed, batch_size, start=start + self.offset * 1_000_000 if pool else start,
                                   pool=pool, unpaired=unpaired, rank=D.rank(), world_size=D.world())
        self.workers = int(d.get("workers", 0)) if not pool else 0
        self.next_step = start
        self._it = None
        if self.workers:
            dl = torch.utils.data.DataLoader(self.stream, batch_size=None, num_workers=self.workers,
                                             prefetch_factor=4, persistent_workers=False)
            self._it = iter(dl)

    def get(self, step: int):
        assert step == self.next_step, "batches must be consumed in order"
        self.next_step += 1
        if self._it is not None:
            return next(self._it)
        b = step + (self.offset * 1_000_000 if self.stream.pool else 0)
        return self.stream.shard(b)


def with_backward(out: dict, global_loss, local_loss=0.0) -> dict:
    """``global_loss``: computed on the gathered global batch (same value on every rank);
    ``local_loss``: mean over this rank's samples.  DDP averages gradients over ranks, so the
    global part is backpropagated ``world`` times (its gradient reaches only the local slice);
    the local part as is (the average of local means is the global mean)."""
    w = D.world()
    if w > 1:
        out["backward"] = w * global_loss + local_loss
    return out


# ----------------------------------------------------------------------------- teacher
def build_model(mcfg: dict, vocab: Optional[List[int]]) -> CLIP:
    c = ClipConfig.from_dict(mcfg)
    if vocab is not None and c.vocab is None:
        c.vocab = vocab
    return CLIP(c)


def save_model(model: CLIP, path: str, **meta):
    """Rank 0 writes (atomically); every rank waits until the file is there."""
    if D.is_main():
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        torch.save({"model": model.state_dict(), "config": model.cfg.to_dict(), **meta}, path + ".tmp")
        os.replace(path + ".tmp", path)
    D.barrier()


def load_model(path: str, device="cpu") -> CLIP:
    ck = torch.load(path, map_location="cpu")
    m = CLIP(ClipConfig.from_dict(ck["config"]))
    m.load_state_dict(ck["model"])
    return m.to(device)


def train_teacher(cfg: dict, out_dir: str, log: JsonLog, vocab=None) -> CLIP:
    tc = cfg["teacher"]
    device = resolve_device(cfg.get("device", "auto"))
    seed_everything(cfg["seed"])
    if tc.get("init"):
        from .model import load_checkpoint_file
        model = load_checkpoint_file(tc["init"]).to(device)
        log.add("events", stage="teacher", event="loaded_checkpoint", path=tc["init"])
        if not tc.get("steps"):
            return model
    else:
        model = build_model(tc["model"], vocab).to(device)
    enc = Encoders(device)
    bs = int(tc["batch_size"])
    trainer = Trainer(cfg, "teacher", [p for p in model.parameters()], int(tc["steps"]), float(tc["lr"]),
                      float(tc.get("wd", 0.1)), int(tc.get("warmup", 10)), device, log,
                      os.path.join(out_dir, "ckpt", "teacher.pt"), {"model": model}, batch_size=bs)
    src = BatchSource(cfg, 0, bs, trainer.step)
    net = D.wrap(Towers(model), device)
    ev = cfg.get("eval", {})

    def step_fn(step):
        x, texts, _, _, g_texts, g_owner = src.get(step)
        img, txt = net(enc.pixels(x), enc.ids(texts))
        img, txt = D.gather(F.normalize(img, dim=-1)), D.gather(F.normalize(txt, dim=-1))
        scale = D.replicated(model.logit_scale).clamp(max=MAX_LOGIT_SCALE).exp()
        loss = clip_loss(img, txt, scale, positive_mask(g_owner, g_texts))
        return with_backward({"loss": loss}, loss)

    def eval_fn():
        return evaluate_pair(model, model, cfg["seed"], "val", int(cfg["data"].get("val_size", 200)), device)

    model.train()
    trainer.run(step_fn, eval_fn, int(ev.get("every", 0)), stop_after=cfg.get("_stop_after"))
    with torch.no_grad():
        model.logit_scale.clamp_(max=MAX_LOGIT_SCALE)
    return model


# ----------------------------------------------------------------------------- students
def init_student(cfg: dict, teacher: CLIP) -> CLIP:
    sc = dict(cfg["student"]["model"])
    sc["embed_dim"] = teacher.cfg.embed_dim
    sc["transformer_width"] = teacher.cfg.transformer_width
    sc["context_length"] = teacher.cfg.context_length
    sc["vocab"] = teacher.cfg.vocab
    sc["vocab_size"] = teacher.cfg.vocab_size
    c = ClipConfig.from_dict(sc)
    layers = cfg["student"].get("text_layers_from")
    if layers is None:  # evenly spaced teacher layers, always keeping the last one
        L, n = teacher.cfg.transformer_layers, c.transformer_layers
        layers = sorted({round(i * (L - 1) / max(1, n - 1)) for i in range(n)}) if n > 1 else [L - 1]
    torch.manual_seed(cfg["seed"] + 7)
    return student_from_teacher(teacher.cpu(), c, layers)


def stage1(cfg: dict, teacher: CLIP, student: CLIP, out_dir: str, log: JsonLog) -> CLIP:
    """Intra-modal contrastive distillation on unpaired images and captions."""
    s1 = cfg["stage1"]
    device = resolve_device(cfg.get("device", "auto"))
    seed_everything(cfg["seed"] + 1)
    teacher, student = teacher.to(device).eval(), student.to(device).train()
    for p in teacher.parameters():
        p.requires_grad_(False)
    enc = Encoders(device)
    # Stage 1 does not use the logit scale: frozen here so that DDP (which expects a gradient
    # for every trainable parameter) accepts the step; AdamW skipped it anyway (no gradient).
    student.logit_scale.requires_grad_(False)
    trainer = Trainer(cfg, "stage1", [p for p in student.parameters() if p.requires_grad], int(s1["steps"]),
                      float(s1["lr"]), float(s1.get("wd", 0.05)), int(s1.get("warmup", 10)), device, log,
                      os.path.join(out_dir, "ckpt", "stage1.pt"), {"student": student}, batch_size=int(s1["batch_size"]))
    src = BatchSource(cfg, 1, int(s1["batch_size"]), trainer.step, unpaired=True)
    net = D.wrap(Towers(student), device)
    kind, tau = s1.get("loss", "contrastive"), float(s1.get("temperature", 0.05))
    ev = cfg.get("eval", {})

    def step_fn(step):
        x, texts, _, _, g_texts, g_owner = src.get(step)
        px, ids = enc.pixels(x), enc.ids(texts)
        with torch.no_grad():
            ti, tt = D.gather(teacher.encode_image(px)), D.gather(teacher.encode_text(ids))
        si, st = net(px, ids)
        si, st = D.gather(si), D.gather(st)
        img_pos = positive_mask(g_owner, [str(o) for o in g_owner])
        txt_pos = positive_mask(list(range(len(g_texts))), g_texts)
        li = intra_modal_loss(si, ti, kind, tau, img_pos)
        lt = intra_modal_loss(st, tt, kind, tau, txt_pos)
        return with_backward({"loss": li + lt, "img": li, "txt": lt}, li + lt)

    def eval_fn():
        return evaluate_pair(student, student, cfg["seed"], "val", int(cfg["data"].get("val_size", 200)), device)

    trainer.run(step_fn, eval_fn, int(ev.get("every", 0)), stop_after=cfg.get("_stop_after"))
    student.logit_scale.requires_grad_(True)
    return student


class HardNegativeIndex:
    """Corpus-level hard negatives: a corpus of scenes (images + their captions) encoded by the
    current *partner* encoder, re-encoded every ``refresh`` steps.  ``mine_texts(query_img,
    own_captions)`` returns the K most similar corpus captions that are not the image's own;
    ``mine_images(query_txt, texts)`` the K most similar corpus images not described by it."""

    def __init__(self, cfg: dict, n: int, k: int, refresh: int, device):
        self.imgs, caps = ShapesWorld(cfg["seed"]).dataset("corpus", n)
        self.texts = [c for cs in caps for c in cs]
        self.text_owner = np.array([i for i, cs in enumerate(caps) for _ in cs])
        self.text_index: Dict[str, List[int]] = {}  # caption -> its positions in self.texts
        self.caption_images: Dict[str, List[int]] = {}  # caption -> corpus images it describes
        for j, t in enumerate(self.texts):
            self.text_index.setdefault(t, []).append(j)
            self.caption_images.setdefault(t, []).append(int(self.text_owner[j]))
        self.k, self.refresh, self.device = k, max(1, refresh), device
        self.text_emb = self.img_emb = None
        self.last = -10 ** 9
        self.refreshes = 0
        self.enc = Encoders(device)

    def maybe_refresh(self, step: int, text_model: Optional[CLIP], image_model: Optional[CLIP], prec=None):
        if step - self.last < self.refresh:
            return False
        if text_model is not None:
            was = text_model.training
            text_model.eval()
            self.text_emb = self.enc.encode_texts_all(text_model, self.texts, prec=prec)
            text_model.train(was)
        if image_model is not None:
            was = image_model.training
            image_model.eval()
            self.img_emb = self.enc.encode_images_all(image_model, self.imgs, prec=prec)
            image_model.train(was)
        self.last = step
        self.refreshes += 1
        return True

    def mine_texts(self, query_img: torch.Tensor, own_caps: Sequence[Sequence[str]]) -> torch.Tensor:
        sims = query_img.detach().float() @ self.text_emb.t()
        for i, caps in enumerate(own_caps):
            bad = [j for t in set(caps or ()) for j in self.text_index.get(t, ())]
            if bad:
                sims[i, bad] = -1e4
        idx = sims.topk(self.k, dim=1).indices
        return self.text_emb[idx]  # [B,K,D]

    def mine_images(self, query_txt: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        sims = query_txt.detach().float() @ self.img_emb.t()
        for i, t in enumerate(texts):
            bad = self.caption_images.get(t)
            if bad:
                sims[i, bad] = -1e4
        idx = sims.topk(self.k, dim=1).indices
        return self.img_emb[idx]


def stage2(cfg: dict, teacher: CLIP, student: CLIP, out_dir: str, log: JsonLog) -> CLIP:
    """InfoNCE + KD + embedding-level contrastive distillation + hard negatives.

    sequential=True: phase 'stage2_image' trains the image student against the frozen teacher
    text tower, then phase 'stage2_text' trains the text student against the frozen (finetuned)
    image student.  sequential=False trains both towers jointly for the same total steps."""
    s2 = cfg["stage2"]
    device = resolve_device(cfg.get("device", "auto"))
    teacher, student = teacher.to(device).eval(), student.to(device)
    for p in teacher.parameters():
        p.requires_grad_(False)
    if s2.get("sequential", True):
        phases = [("stage2_image", "image", int(s2["steps_image"])), ("stage2_text", "text", int(s2["steps_text"]))]
    else:
        phases = [("stage2_joint", "joint", int(s2["steps_image"]) + int(s2["steps_text"]))]
    for pi, (name, which, steps) in enumerate(phases):
        if steps <= 0:
            continue
        seed_everything(cfg["seed"] + 2 + pi)
        _stage2_phase(cfg, s2, name, which, steps, teacher, student, out_dir, log, device, 2 + pi)
    return student


def _stage2_phase(cfg, s2, name, which, steps, teacher, student, out_dir, log, device, offset):
    enc = Encoders(device)
    vis_params = list(student.visual.parameters())
    vis_ids = {id(p) for p in vis_params}
    txt_params = [p for n, p in student.named_parameters() if id(p) not in vis_ids and n != "logit_scale"]
    train_img = which in ("image", "joint")
    train_txt = which in ("text", "joint")
    for p in vis_params:
        p.requires_grad_(train_img)
    for p in txt_params:
        p.requires_grad_(train_txt)
    student.logit_scale.requires_grad_(True)
    params = [p for p in student.parameters() if p.requires_grad]
    student.train()
    if not train_img:
        student.visual.eval()
    trainer = Trainer(cfg, name, params, steps, float(s2["lr"]), float(s2.get("wd", 0.05)),
                      int(s2.get("warmup", 10)), device, log, os.path.join(out_dir, "ckpt", f"{name}.pt"),
                      {"student": student}, batch_size=int(s2["batch_size"]))
    src = BatchSource(cfg, offset, int(s2["batch_size"]), trainer.step)
    net = D.wrap(Towers(student), device)
    w_kd, w_emb, w_hn = float(s2.get("kd_weight", 1.0)), float(s2.get("emb_weight", 1.0)), float(s2.get("hn_weight", 1.0))
    use_hn = bool(s2.get("hard_negatives", True)) and w_hn > 0
    kdT, tau = float(s2.get("kd_temperature", 1.0)), float(cfg["stage1"].get("temperature", 0.05))
    index = None
    if use_hn:
        index = HardNegativeIndex(cfg, int(s2.get("hn_corpus", 256)), int(s2.get("hn_k", 8)),
                                  int(s2.get("hn_refresh", 50)), device)
    text_partner = teacher if which == "image" else student
    image_partner = student
    ev = cfg.get("eval", {})

    def step_fn(step):
        # Batch-level terms (InfoNCE, KD, embedding distillation) use the gathered global batch
        # (suffix _g); hard negatives are per sample and stay on this rank's slice.
        x, texts, _, allcaps, g_texts, g_owner = src.get(step)
        px, ids = enc.pixels(x), enc.ids(texts)
        pos = positive_mask(g_owner, g_texts)
        with torch.no_grad():
            ti, tt = F.normalize(teacher.encode_image(px), dim=-1), F.normalize(teacher.encode_text(ids), dim=-1)
            ti_g, tt_g = D.gather(ti), D.gather(tt)
            t_logits = teacher.logit_scale.exp() * ti_g.float() @ tt_g.float().t()
        if which == "image":
            si = F.normalize(net(px, None)[0], dim=-1)
            st = tt  # frozen teacher text tower
        elif which == "text":
            with torch.no_grad():
                si = F.normalize(student.encode_image(px), dim=-1)
            st = F.normalize(net(None, ids)[1], dim=-1)
        else:
            si, st = net(px, ids)
            si, st = F.normalize(si, dim=-1), F.normalize(st, dim=-1)
        si_g, st_g = D.gather(si), D.gather(st)
        scale = student.logit_scale.clamp(max=MAX_LOGIT_SCALE).exp()
        scale_g = D.replicated(student.logit_scale).clamp(max=MAX_LOGIT_SCALE).exp()
        l_con = clip_loss(si_g, st_g, scale_g, pos)
        out = {"con": l_con}
        loss = l_con
        if w_kd > 0:
            l_kd = kd_loss(scale_g * si_g.float() @ st_g.float().t(), t_logits, kdT)
            out["kd"] = l_kd
            loss = loss + w_kd * l_kd
        if w_emb > 0:
            l_emb = 0.0
            if train_img:
                l_emb = l_emb + intra_modal_loss(si_g, ti_g, "contrastive", tau, positive_mask(g_owner, [str(o) for o in g_owner]))
            if train_txt:
                l_emb = l_emb + intra_modal_loss(st_g, tt_g, "contrastive", tau, positive_mask(list(range(len(g_texts))), g_texts))
            out["emb"] = l_emb
            loss = loss + w_emb * l_emb
        l_local = 0.0
        if index is not None:
            if index.maybe_refresh(step, text_partner if train_img else None, image_partner if train_txt else None,
                                   trainer.prec):
                log.add("events", stage=name, step=step, event="hn_index_refresh", n=index.refreshes)
            l_hn = 0.0
            if train_img:
                l_hn = l_hn + hard_negative_loss(si, st.detach() if which == "joint" else st, index.mine_texts(si, allcaps), scale)
            if train_txt:
                l_hn = l_hn + hard_negative_loss(st, si.detach() if which == "joint" else si, index.mine_images(st, texts), scale)
            out["hn"] = l_hn
            l_local = w_hn * l_hn
        out["loss"] = loss + l_local
        return with_backward(out, loss, l_local)

    def eval_fn():
        return evaluate_pair(student, teacher if which == "image" else student, cfg["seed"], "val",
                             int(cfg["data"].get("val_size", 200)), device)

    trainer.run(step_fn, eval_fn, int(ev.get("every", 0)), stop_after=cfg.get("_stop_after"))
    for p in student.parameters():
        p.requires_grad_(True)
    with torch.no_grad():
        student.logit_scale.clamp_(max=MAX_LOGIT_SCALE)
