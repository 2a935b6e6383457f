"""Distributed (DDP, Gloo on CPU) training through ``models.distill.launch``, against the single
process run: 2 ranks x batch B must equal 1 rank x batch 2B (losses, synchronised gradients,
sharded evaluation, weights), a crashed 2-rank run must fail cleanly and resume on 1 rank, and a
stuck rank must not hang the run (process-group timeout + the launcher stopping the others).

All runs use a shrunken tiny config (a few steps of every stage, hard negatives on, mid-stage
evaluations on an 11-image split so the 2 evaluation shards differ in size)."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from models.distill import __main__ as cli
from models.distill.shapesworld import ShapesStream

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SMALL = ["teacher.steps=4", "teacher.batch_size=8", "data.pool=32", "stage1.steps=3", "stage1.batch_size=8",
         "stage2.steps_image=3", "stage2.steps_text=3", "stage2.batch_size=8", "stage2.hn_corpus=16",
         "stage2.hn_k=4", "stage2.hn_refresh=2", "data.val_size=11", "eval.every=2", "checkpoint_every=2",
         "dist.timeout_s=60"]
STAGES = ["teacher", "stage1", "stage2_image", "stage2_text"]


def args(out, *extra):
    a = ["distill", "--config", "tiny", "--out-dir", str(out)]
    for s in SMALL + list(extra):
        a += ["--set", s]
    return a


def launch(nproc, argv, timeout=240):
    t = time.time()
    r = subprocess.run([sys.executable, "-m", "models.distill.launch", "--nproc-per-node", str(nproc)] + argv,
                       cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return r, time.time() - t


def log_of(out):
    return json.load(open(os.path.join(out, "log.json")))


def assert_same_losses(a, b, tol=1e-5):
    la, lb = [r for r in a["losses"]], [r for r in b["losses"]]
    assert [(r["stage"], r["step"]) for r in la] == [(r["stage"], r["step"]) for r in lb]
    assert {r["stage"] for r in la} == set(STAGES)
    for ra, rb in zip(la, lb):
        for k in ("loss", "con", "kd", "emb", "hn", "img", "txt"):
            if k in ra:
                assert abs(ra[k] - rb[k]) <= tol, (ra["stage"], ra["step"], k, ra[k], rb[k])


def assert_same_weights(out_a, out_b, tol=1e-5):
    for f in ("teacher.pt", "stage1.pt", "student.pt"):
        ma, mb = torch.load(os.path.join(out_a, f))["model"], torch.load(os.path.join(out_b, f))["model"]
        for k in ma:
            assert torch.allclose(ma[k].float(), mb[k].float(), atol=tol, rtol=0), (f, k)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """1 process, global batch 8 (run in this process: no process group, the plain code path)."""
    out = tmp_path_factory.mktemp("ref")
    assert cli.main(args(out, f'_grad_dump="{out}/grads"')) == 0
    return str(out)


def test_stream_shards_are_disjoint_slices_of_the_global_batch():
    for pool in (16, 0):
        whole = ShapesStream(3, 4, pool=pool).shard(5)
        parts = [ShapesStream(3, 4, pool=pool, rank=r, world_size=2).shard(5) for r in range(2)]
        assert np.array_equal(np.concatenate([p[0] for p in parts]), whole[0])
        assert sum([p[1] for p in parts], []) == whole[1]
        assert np.array_equal(np.concatenate([p[2] for p in parts]), whole[2])
        assert all(p[4] == whole[1] and np.array_equal(p[5], whole[2]) for p in parts)  # global metadata
    with pytest.raises(ValueError, match="divisible"):
        ShapesStream(0, 6, rank=0, world_size=4)


def test_two_ranks_equal_one_rank_with_double_batch(reference, tmp_path):
    out = tmp_path / "ddp"
    r, _ = launch(2, args(out, f'_grad_dump="{out}/grads"'))
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = log_of(reference), log_of(out)
    assert_same_losses(a, b)
    # the first step's gradients of every stage after DDP's averaging (logit scale included:
    # it is replicated, see dist.replicated) equal the single-process gradients
    for stage in STAGES:
        ga, gb = torch.load(f"{reference}/grads/{stage}.pt"), torch.load(f"{out}/grads/{stage}.pt")
        assert ga.keys() == gb.keys() and len(ga) > 0
        for k in ga:
            scale = max(1.0, float(ga[k].abs().max()))
            assert float((ga[k] - gb[k]).abs().max()) <= 1e-5 * scale, (stage, k)
    # sharded evaluation (shards of 6 + 5 images) merged = the single-process evaluation
    ea = [(e["stage"], e["step"], e["rsum"], e["t2i_r1"]) for e in a["evals"]]
    eb = [(e["stage"], e["step"], e["rsum"], e["t2i_r1"]) for e in b["evals"]]
    assert len(ea) == len(STAGES) and [x[:2] for x in ea] == [y[:2] for y in eb]
    assert all(abs(x[2] - y[2]) < 1e-3 and abs(x[3] - y[3]) < 1e-3 for x, y in zip(ea, eb)), (ea, eb)
    assert sum(e["event"] == "hn_index_refresh" for e in b["events"]) == 4  # sharded + merged index
    assert_same_weights(reference, str(out))
    # only rank 0 printed progress
    assert r.stderr.count("[teacher] |####################| 4/4") == 1


def test_crashed_two_rank_run_fails_cleanly_and_resumes_on_one_rank(reference, tmp_path):
    out = tmp_path / "crash"
    r, took = launch(2, args(out, '_crash={"rank": 1, "stage": "teacher", "step": 3, "mode": "exit"}'))
    assert r.returncode != 0
    assert "injected exit at step 3" in r.stderr and "[launch] rank" in r.stderr
    assert os.path.exists(out / "ckpt" / "teacher.pt") and not os.path.exists(out / "teacher.pt")
    assert torch.load(out / "ckpt" / "teacher.pt")["step"] == 2  # the last checkpoint, written by rank 0
    assert not list((out / "ckpt").glob("*.tmp"))
    # resume on 1 rank: continues from step 2 and ends where the uninterrupted run ends
    assert cli.main(args(out)) == 0
    b = log_of(out)
    resumed = [e for e in b["events"] if e["event"] == "resumed"]
    assert resumed and resumed[0]["stage"] == "teacher" and resumed[0]["step"] == 2 and resumed[0]["world_size"] == 1
    assert_same_losses(log_of(reference), b)
    assert_same_weights(reference, str(out))


def test_stuck_rank_times_out_and_launcher_stops_the_rest(tmp_path):
    """Rank 1 stops answering: rank 0's collective raises after dist.timeout_s (without a timeout
    it would wait 30 min), then the launcher kills the stuck rank (which would otherwise sleep for
    an hour) and exits non-zero."""
    out = tmp_path / "hang"
    r, took = launch(2, args(out, "dist.timeout_s=4", '_crash={"rank": 1, "stage": "teacher", "step": 1, "mode": "hang"}'),
                     timeout=150)
    assert r.returncode != 0
    assert "injected hang at step 1" in r.stderr
    assert "rank 0 exited" in r.stderr  # rank 0 failed first (timeout), then the launcher stopped rank 1
    assert took < 120, took
