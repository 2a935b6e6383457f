"""Runs the whole tiny configuration once (teacher -> stage 1 -> stage 2 -> eval -> export)
and checks what the issue's CI targets ask for.  ~1.5-3 min on 2 CPU cores."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from models.distill import export as ex
from models.distill.pipeline import load_config, run_all

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("tiny"))
    cfg = load_config("tiny", out_dir=out)
    res = run_all(cfg)
    log = json.load(open(os.path.join(out, "log.json")))
    return cfg, res, log


def _losses(log, stage, key="loss"):
    return np.array([r[key] for r in log["losses"] if r["stage"] == stage])


@pytest.mark.parametrize("stage", ["teacher", "stage1", "stage2_image", "stage2_text"])
def test_losses_decrease(tiny, stage):
    _, _, log = tiny
    l = _losses(log, stage)
    assert len(l) >= 20
    k = max(5, len(l) // 5)
    assert l[-k:].mean() < l[:k].mean(), (stage, l[:k].mean(), l[-k:].mean())


def test_teacher_well_above_chance(tiny):
    _, res, _ = tiny
    n = res["test_images"]
    t = res["teacher"]
    chance_r1, chance_r10 = 100.0 / n, 1000.0 / n
    assert t["t2i_r1"] >= 3 * chance_r1, t
    assert t["t2i_r10"] >= 2 * chance_r10, t
    assert t["i2t_r10"] >= 2 * chance_r10, t


def test_student_close_to_teacher(tiny):
    _, res, _ = tiny
    t, s = res["teacher"], res["student"]
    n = res["test_images"]
    # well above chance and close to the teacher (the tiny run is short: the README reports
    # the measured gap; the strict "within 1 point" target is for the longer configs)
    assert s["t2i_r10"] >= 2 * 1000.0 / n, s
    assert s["rsum"] >= 0.5 * t["rsum"], (s["rsum"], t["rsum"])


def test_student_smaller_and_faster(tiny):
    _, res, _ = tiny
    assert res["bytes"]["student"] <= 0.45 * res["bytes"]["teacher"], res["bytes"]
    assert res["params"]["student"]["total"] < res["params"]["teacher"]["total"]


def test_export_files_and_manifest(tiny):
    cfg, res, _ = tiny
    mdir = os.path.dirname(res["manifest"])
    man = json.load(open(res["manifest"]))
    assert man["version"] == 1 and len(man["models"]) == 2
    roles = {e["role"]: e for e in man["models"]}
    assert set(roles) == {"teacher", "student"}
    for e in man["models"]:
        assert ex.validate_entry(e, mdir) == [], e["id"]
        assert os.path.getsize(os.path.join(mdir, e["image"]["file"])) > 0
        assert e["dim"] == cfg["teacher"]["model"]["embed_dim"]
    lin = roles["student"]["lineage"]
    assert lin["parent"] == roles["teacher"]["id"] and lin["transform"] == "distill"
    assert roles["teacher"]["lineage"] is None


def test_onnx_signature(tiny):
    import onnx
    _, res, _ = tiny
    mdir = os.path.dirname(res["manifest"])
    man = json.load(open(res["manifest"]))
    for e in man["models"]:
        for side, iname, oname, elem in (("image", "pixel_values", "image_embeds", 1), ("text", "input_ids", "text_embeds", 7)):
            m = onnx.load(os.path.join(mdir, e[side]["file"]))
            assert m.opset_import[0].version >= 14
            (inp,), (out,) = m.graph.input, m.graph.output
            assert inp.name == iname and out.name == oname
            assert inp.type.tensor_type.elem_type == elem
            dims = inp.type.tensor_type.shape.dim
            assert dims[0].dim_param  # dynamic batch
            assert [d.dim_value for d in dims[1:]] == ([3, 224, 224] if side == "image" else [77])


def test_onnx_parity_via_node_ort(tiny):
    _, res, _ = tiny
    for who, p in res["parity"].items():
        if p.get("skipped"):
            pytest.skip(p["reason"])
        assert p["ok"], (who, p)
        assert p["image"]["maxAbsDiff"] <= 1e-4 and p["text"]["maxAbsDiff"] <= 1e-4


def test_cli_export_testset(tmp_path):
    r = subprocess.run([sys.executable, "-m", "models.distill", "export-testset", "--n", "2", "--format", "png",
                        "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    data = json.load(open(tmp_path / "test.json"))
    assert len(data) == 2 and os.path.exists(tmp_path / data[0]["file"])


def test_ship_into_app_models_folder(tiny, tmp_path):
    """`ship` copies the pair next to an existing manifest (keeping its other entries), and
    writes the demo library the app's `library.demo` reads."""
    from models.distill.pipeline import ship
    cfg, _, _ = tiny
    (tmp_path / "manifest.json").write_text(json.dumps({"version": 1, "models": [{"id": "keep-me"}]}))
    out = ship(cfg, str(tmp_path), demo_n=12)
    man = json.load(open(out["manifest"]))
    assert [m["id"] for m in man["models"]][0] == "keep-me"
    shipped = [m for m in man["models"] if m["id"] in out["models"]]
    assert len(shipped) == 2
    for e in shipped:
        assert e["image"]["file"].startswith("shapesworld/")
        assert ex.validate_entry(e, str(tmp_path)) == []  # bytes + sha256 of the copied files
    demo = json.load(open(tmp_path / "shapesworld" / "demo" / "demo.json"))
    assert demo["model"] == next(e["id"] for e in shipped if e["role"] == "teacher")
    assert "two red circles" in demo["queries"]
    labelled = json.load(open(tmp_path / "shapesworld" / "demo" / "labelled.json"))
    assert len(labelled) == 12
    assert all(os.path.exists(tmp_path / "shapesworld" / "demo" / e["file"]) for e in labelled)
    # The showcase scenes are in it: "two red circles" has photos whose captions say so.
    assert sum("two red circles" in " ".join(e["captions"]) for e in labelled) >= 3
    # Shipping again replaces the entries instead of duplicating them.
    ship(cfg, str(tmp_path), demo_n=12)
    assert len(json.load(open(out["manifest"]))["models"]) == 3


def test_eval_labelled_on_out_of_generator_set(tiny, tmp_path):
    """`eval-labelled` scores the run's pair on a coco-mini folder of other-sized images (the
    PIL-drawn out-of-generator set), through the app's resize + centre crop."""
    from models.distill.pilshapes import export_pilshapes
    path = export_pilshapes(str(tmp_path / "pil"), n=4, seed=0)
    r = subprocess.run([sys.executable, "-m", "models.distill", "eval-labelled", "--config", "tiny",
                        "--out-dir", tiny[0]["out_dir"], "--labelled", path], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "teacher" in r.stdout and "student" in r.stdout
    res = json.load(open(os.path.join(tiny[0]["out_dir"], "eval-pil.json")))
    assert res["n_images"] == 4 and res["n_captions"] == 20
    for who in ("teacher", "student"):
        assert res[who]["n_images"] == 4 and 0 <= res[who]["t2i_r1"] <= 100
        assert res[who]["t2i_r5"] == 100.0  # 4 images: every caption's image is in the top 5
