import os

import numpy as np
import torch

from models.distill.train import (Precision, clip_loss, hard_negative_loss, kd_loss, positive_mask, recall_at_k,
                                  train_teacher, JsonLog, load_model)
from models.distill.pipeline import load_config


def test_precision_cpu_is_fp32_and_skips_nonfinite():
    p = Precision("fp16", torch.device("cpu"))
    assert p.mode == "fp32" and p.scaler is None
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.SGD([w], lr=0.1)
    assert p.backward_step((w * float("nan")).sum(), opt, [w]) is True
    assert torch.equal(w.detach(), torch.ones(3))
    assert p.backward_step((w * 2).sum(), opt, [w]) is False
    assert p.skipped == 1 and p.steps == 2


def test_precision_falls_back_after_10_percent_skipped(tmp_path):
    log = JsonLog(str(tmp_path / "log.json"))
    p = Precision("fp32", torch.device("cpu"), log, min_steps=20)
    p.mode = "fp16"  # as on a GPU
    for i in range(20):
        p.record(i < 2)  # exactly 10%: no fallback
    assert p.mode == "fp16"
    p.record(True)  # 3/21 > 10%
    assert p.mode == "fp32" and p.fell_back
    assert any(e["event"] == "precision_fallback" for e in log.data["events"])


def test_losses_and_recall():
    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    assert clip_loss(x, x, torch.tensor(100.0)) < 0.01
    assert clip_loss(x, x.flip(0), torch.tensor(100.0)) > 1.0
    assert kd_loss(x @ x.t(), x @ x.t()).abs() < 1e-6
    pos = positive_mask([0, 0, 1], ["a", "b", "a"])
    assert pos.tolist() == [[True, True, True], [True, True, False], [True, False, True]]
    hn = hard_negative_loss(x, x, x.flip(0)[:, None, :].repeat(1, 3, 1), torch.tensor(50.0))
    assert hn < 0.1
    r = recall_at_k(x, torch.cat([x, x]), list(range(8)) * 2)
    assert r["t2i_r1"] == 100.0 and r["i2t_r1"] == 100.0
    r = recall_at_k(x, x.flip(0), list(range(8)))
    assert r["t2i_r1"] == 0.0


def test_teacher_resume_is_exact(tmp_path):
    cfg = load_config("tiny", ["teacher.steps=4", "teacher.batch_size=4", "data.pool=16", "checkpoint_every=1",
                               "teacher.warmup=1"])
    a = str(tmp_path / "a")
    b = str(tmp_path / "b")
    os.makedirs(a), os.makedirs(b)
    cfg["out_dir"] = a
    ma = train_teacher(cfg, a, JsonLog(os.path.join(a, "log.json")))
    cfg_b = dict(cfg, out_dir=b, _stop_after=2)
    train_teacher(cfg_b, b, JsonLog(os.path.join(b, "log.json")))  # "interrupted" after step 2
    cfg_b.pop("_stop_after")
    log_b = JsonLog(os.path.join(b, "log.json"))
    mb = train_teacher(cfg_b, b, log_b)
    assert any(e["event"] == "resumed" for e in log_b.data["events"])
    for (k, va), vb in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.allclose(va, vb, atol=1e-6), k
    assert [r["step"] for r in log_b.data["losses"] if r["stage"] == "teacher"] == [1, 2, 3, 4]
