"""End-to-end pipeline: teacher -> stage 1 -> stage 2 -> evaluation -> ONNX export + manifest,
and the ablation runner.  Every stage writes its result to ``out_dir`` and is skipped when
that result exists (so ``all`` resumes after an interruption; in-progress stages resume from
``out_dir/ckpt``)."""
from __future__ import annotations

import copy
import json
import os
import sys
import time
from typing import Dict, List, Optional

import torch

from . import dist as D
from . import export as ex
from .config import ConfigError, validated_dict
from .model import CLIP, tower_params
from .shapesworld import VOCAB_WORDS
from .tokenizer import EOT, SOT, get_tokenizer
from .train import (JsonLog, evaluate_pair, init_student, load_model, resolve_device, save_model, stage1, stage2,
                    train_teacher)

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")

# What the paper reports, from the one file the app's lab reads too (main/core/paper-reference.json):
# the abstract's headline figures. Its per-benchmark tables are not available offline here, so we
# print the claims and the expected direction of each ablation, not numbers.
def _paper_reference():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "main", "core", "paper-reference.json")
    with open(path) as f:
        headline = json.load(f)["headline"]
    return {
        "size_ratio": headline["sizeRatio"],
        "image_speedup": headline["imageSpeedup"],
        "text_speedup": headline["textSpeedup"],
        "recall": "on par with or better than the teacher (Flickr30K, MSCOCO)",
    }


PAPER = _paper_reference()
ABLATIONS = [
    ("full", {}, "two-stage method (reference)"),
    ("w/o stage 1", {"stage1.enabled": False}, "lower than full"),
    ("stage 1 MSE", {"stage1.loss": "mse"}, "lower than full"),
    ("w/o sequential", {"stage2.sequential": False}, "lower than full"),
    ("w/o KD", {"stage2.kd_weight": 0.0, "stage2.emb_weight": 0.0}, "lower than full"),
    ("w/o hard negatives", {"stage2.hard_negatives": False}, "lower than full"),
]


# ----------------------------------------------------------------------------- config
def set_path(cfg: dict, dotted: str, value):
    d = cfg
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def load_config(path: str, overrides: Optional[List[str]] = None, out_dir: Optional[str] = None) -> dict:
    if not os.path.exists(path) and os.path.exists(os.path.join(CONFIG_DIR, path)):
        path = os.path.join(CONFIG_DIR, path)
    if not os.path.exists(path) and os.path.exists(os.path.join(CONFIG_DIR, path + ".json")):
        path = os.path.join(CONFIG_DIR, path + ".json")
    if not os.path.exists(path):
        names = ", ".join(sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".json")))
        raise ConfigError(f"config {path!r} not found (a file, or one of: {names})")
    with open(path) as f:
        cfg = json.load(f)
    for o in overrides or []:
        k, _, v = o.partition("=")
        try:
            val = json.loads(v)
        except json.JSONDecodeError:
            val = v
        set_path(cfg, k.strip(), val)
    if out_dir:
        cfg["out_dir"] = out_dir
    if not cfg.get("out_dir"):
        cfg["out_dir"] = os.path.join("models", "distill", "runs", cfg.get("name", "run"))
    # typed check (config.py): unknown / missing / mistyped keys fail here, naming key and file
    return validated_dict(cfg, path)


def shapesworld_vocab() -> List[int]:
    tok = get_tokenizer()
    ids = set(tok.encode(" ".join(VOCAB_WORDS)))
    ids |= set(tok.encode("0 1 2 3 4 5 6 7 8 9 a photo of"))
    ids |= {SOT, EOT}
    return sorted(ids)


def vocab_for(cfg: dict) -> Optional[List[int]]:
    v = cfg.get("vocab")
    if v == "shapesworld":
        return shapesworld_vocab()
    if isinstance(v, list):
        return [int(i) for i in v]
    return None


# ----------------------------------------------------------------------------- stages
def get_teacher(cfg: dict, log: JsonLog, force: bool = False) -> CLIP:
    out = cfg["out_dir"]
    path = os.path.join(out, "teacher.pt")
    device = resolve_device(cfg.get("device", "auto"))
    if os.path.exists(path) and not force:
        return load_model(path, device)
    t = time.time()
    model = train_teacher(cfg, out, log, vocab_for(cfg))
    log.add("events", stage="teacher", event="saved", path=path, seconds=round(time.time() - t, 2))
    save_model(model, path)
    log.save()
    return model


def get_student(cfg: dict, teacher: CLIP, log: JsonLog, force: bool = False) -> Dict[str, CLIP]:
    """Returns {'stage1': student after stage 1 (or its init), 'final': after stage 2}."""
    out = cfg["out_dir"]
    device = resolve_device(cfg.get("device", "auto"))
    p1, p2 = os.path.join(out, "stage1.pt"), os.path.join(out, "student.pt")
    if os.path.exists(p2) and os.path.exists(p1) and not force:
        return {"stage1": load_model(p1, device), "final": load_model(p2, device)}
    if os.path.exists(p1) and not force:
        s = load_model(p1, device)
    else:
        s = init_student(cfg, teacher)
        if cfg["stage1"].get("enabled", True) and int(cfg["stage1"].get("steps", 0)) > 0:
            t = time.time()
            s = stage1(cfg, teacher, s, out, log)
            log.add("events", stage="stage1", event="saved", seconds=round(time.time() - t, 2))
        save_model(s, p1)
    s1_copy = copy.deepcopy(s)
    t = time.time()
    s = stage2(cfg, teacher, s, out, log)
    log.add("events", stage="stage2", event="saved", seconds=round(time.time() - t, 2))
    save_model(s, p2, lineage={"parent": "teacher", "layers": cfg["student"].get("text_layers_from")})
    log.save()
    return {"stage1": s1_copy, "final": s}


def evaluate_models(cfg: dict, teacher: CLIP, students: Dict[str, CLIP], speed: bool = True) -> dict:
    device = resolve_device(cfg.get("device", "auto"))
    n = int(cfg["data"].get("test_size", 200))
    res = {"test_images": n, "teacher": evaluate_pair(teacher, teacher, cfg["seed"], "test", n, device)}
    if "stage1" in students:
        res["student_stage1"] = evaluate_pair(students["stage1"], students["stage1"], cfg["seed"], "test", n, device)
    res["student"] = evaluate_pair(students["final"], students["final"], cfg["seed"], "test", n, device)
    res["params"] = {"teacher": tower_params(teacher), "student": tower_params(students["final"])}
    if speed and D.is_main():  # a timing, not a result: rank 0 measures it alone
        res["speed_cpu"] = {"teacher": ex.encoding_speed(teacher), "student": ex.encoding_speed(students["final"])}
        teacher.to(device), students["final"].to(device)
    return res


def do_export(cfg: dict, teacher: CLIP, student: CLIP, results: Optional[dict] = None) -> dict:
    ec = cfg.get("export", {})
    out = os.path.join(cfg["out_dir"], "export")
    prefix = ec.get("id_prefix") or f"shapesworld-{cfg.get('name', 'run')}"
    opset = int(ec.get("opset", 14))
    tpaths = ex.export_onnx(teacher, out, f"{prefix}-teacher", opset)
    spaths = ex.export_onnx(student, out, f"{prefix}-student", opset)
    parity = {"teacher": ex.parity_check(teacher, tpaths), "student": ex.parity_check(student, spaths)}
    hidden = bool(ec.get("hidden", True))
    tparams = tower_params(teacher)
    sc = student.cfg
    t_entry = ex.manifest_entry(
        teacher, tpaths, out, f"{prefix}-teacher", f"ShapesWorld {cfg.get('name', '')} teacher".strip(), "teacher",
        description=(f"CLIP (ViT/{teacher.cfg.vision_patch_size} image tower, {teacher.cfg.transformer_layers}-layer text tower, "
                     f"{tparams['total']:,} params) trained on ShapesWorld, generated photos of shapes: it knows shapes, colours, "
                     "counts and positions, not real-world photos. The demo library's model."),
        lineage=None, hidden=hidden)
    params = {
        "method": "two-stage (Ren & Zhu 2022)",
        "stage1": {"enabled": bool(cfg["stage1"].get("enabled", True)), "loss": cfg["stage1"].get("loss", "contrastive"),
                   "steps": cfg["stage1"].get("steps")},
        "stage2": {k: cfg["stage2"].get(k) for k in ("sequential", "kd_weight", "emb_weight", "hard_negatives",
                                                       "steps_image", "steps_text")},
        "student": {"vision_width": sc.vision_width, "vision_layers": sc.vision_layers,
                    "vision_patch_size": sc.vision_patch_size, "text_layers": sc.transformer_layers,
                    "text_layers_from": cfg["student"].get("text_layers_from")},
        "seed": cfg["seed"],
    }
    if results:
        params["recall"] = {"teacher_t2i_r1": round(results["teacher"]["t2i_r1"], 2),
                            "student_t2i_r1": round(results["student"]["t2i_r1"], 2),
                            "test_images": results["test_images"]}
    s_entry = ex.manifest_entry(
        student, spaths, out, f"{prefix}-student", f"ShapesWorld {cfg.get('name', '')} student".strip(), "student",
        description=(f"Two-stage distilled student of {prefix}-teacher (ViT/{sc.vision_patch_size} image tower width "
                     f"{sc.vision_width}, {sc.transformer_layers}-layer text tower, {tower_params(student)['total']:,} params), "
                     "for comparing in the Lab."),
        lineage={"parent": f"{prefix}-teacher", "transform": "distill", "params": params}, hidden=hidden)
    mpath = os.path.join(out, "manifest.json")
    ex.write_manifest([t_entry, s_entry], mpath)
    sizes = {"teacher": t_entry["image"]["bytes"] + t_entry["text"]["bytes"],
             "student": s_entry["image"]["bytes"] + s_entry["text"]["bytes"]}
    return {"manifest": mpath, "parity": parity, "bytes": sizes, "entries": [t_entry, s_entry],
            "files": {"teacher": tpaths, "student": spaths}}


def evaluate_labelled(cfg: dict, models: Dict[str, CLIP], path: str) -> dict:
    """Recall of each model on a labelled folder in coco-mini's format (e.g. the out-of-generator
    set of ``pilshapes``): images go through the app's preprocessing (shortest side -> 224,
    centre crop), so any size works.  Writes ``out_dir/eval-<folder>.json``."""
    from .pilshapes import load_labelled
    from .tokenizer import preprocess_uint8
    from .train import Encoders, recall_at_k
    device = resolve_device(cfg.get("device", "auto"))
    imgs, texts, owner = load_labelled(path)
    px = torch.cat([preprocess_uint8(im) for im in imgs])
    enc = Encoders(device)
    res = {"labelled": os.path.abspath(path), "n_images": len(imgs), "n_captions": len(texts)}
    for name, m in models.items():
        m = m.to(device).eval()
        with torch.no_grad():
            ie = torch.cat([torch.nn.functional.normalize(m.encode_image(px[i:i + 64].to(device)).float(), dim=-1)
                            for i in range(0, len(px), 64)])
        res[name] = recall_at_k(ie, enc.encode_texts(m, texts), owner)
    label = os.path.basename(os.path.dirname(os.path.abspath(path))) or "labelled"
    with open(os.path.join(cfg["out_dir"], f"eval-{label}.json"), "w") as f:
        json.dump(res, f, indent=1)
    return res


def labelled_table(res: dict) -> str:
    n = res["n_images"]
    lines = [f"{res['labelled']}: {n} images, {res['n_captions']} captions (chance t2i R@1 = {100.0 / n:.1f}%)",
             f"{'model':<10} {'t2i R@1':>7} {'R@5':>5} {'R@10':>5} {'i2t R@1':>7} {'R@5':>5} {'R@10':>5} {'RSUM':>6}"]
    for name in ("teacher", "student"):
        if name in res:
            r = res[name]
            lines.append(f"{name:<10} {r['t2i_r1']:7.1f} {r['t2i_r5']:5.1f} {r['t2i_r10']:5.1f} {r['i2t_r1']:7.1f} "
                         f"{r['i2t_r5']:5.1f} {r['i2t_r10']:5.1f} {r['rsum']:6.1f}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- reports
def fmt_recall(r: dict) -> str:
    return " ".join(f"{r[k]:5.1f}" for k in ("t2i_r1", "t2i_r5", "t2i_r10", "i2t_r1", "i2t_r5", "i2t_r10"))


def report(res: dict) -> str:
    lines = []
    n = res["test_images"]
    lines.append(f"ShapesWorld test set: {n} images, {res['teacher']['n_captions']} captions "
                 f"(chance t2i R@1 = {100.0 / n:.1f}%, R@10 = {1000.0 / n:.1f}%)")
    lines.append(f"{'model':<18} {'t2i R@1':>7} {'R@5':>5} {'R@10':>5} {'i2t R@1':>7} {'R@5':>5} {'R@10':>5}  params")
    rows = [("teacher", res["teacher"], res["params"]["teacher"]["total"])]
    if "student_stage1" in res:
        rows.append(("student (stage 1)", res["student_stage1"], res["params"]["student"]["total"]))
    rows.append(("student (final)", res["student"], res["params"]["student"]["total"]))
    for name, r, p in rows:
        lines.append(f"{name:<18} {r['t2i_r1']:7.1f} {r['t2i_r5']:5.1f} {r['t2i_r10']:5.1f} {r['i2t_r1']:7.1f} "
                     f"{r['i2t_r5']:5.1f} {r['i2t_r10']:5.1f}  {p:,}")
    d = res["student"]["t2i_r1"] - res["teacher"]["t2i_r1"]
    lines.append("")
    lines.append(f"{'target':<44} {'measured':>14} {'paper':>10}  ok")
    lines.append(f"{'student t2i R@1 within 1 pt of teacher':<44} {d:+14.1f} {'on par':>10}  {'yes' if d >= -1 else 'NO'}")
    if "bytes" in res:
        ratio = res["bytes"]["student"] / res["bytes"]["teacher"]
        lines.append(f"{'student disk <= 0.45x teacher (ONNX)':<44} {ratio:14.2f} {PAPER['size_ratio']:10.2f}  {'yes' if ratio <= 0.45 else 'NO'}")
    if "speed_cpu" in res:
        sp = res["speed_cpu"]
        q = sp["teacher"]["text_query_ms"] / max(1e-9, sp["student"]["text_query_ms"])
        i = sp["student"]["image_per_s"] / max(1e-9, sp["teacher"]["image_per_s"])
        lines.append(f"{'query (text) encoding speed-up >= 2x (CPU)':<44} {q:13.2f}x {PAPER['text_speedup']:9.1f}x  {'yes' if q >= 2 else 'NO'}")
        lines.append(f"{'image encoding speed-up (CPU)':<44} {i:13.2f}x {PAPER['image_speedup']:9.1f}x")
    if "parity" in res:
        for who, p in res["parity"].items():
            if p.get("skipped"):
                lines.append(f"ONNX parity {who}: skipped ({p['reason']})")
            else:
                lines.append(f"ONNX parity {who}: image {p['image']['maxAbsDiff']:.2e} text {p['text']['maxAbsDiff']:.2e} "
                             f"(tol {p['tol']:.0e}) {'ok' if p['ok'] else 'FAIL'}")
    return "\n".join(lines)


def apply_threads(cfg: dict):
    """``threads`` in a config caps torch's CPU threads (1 is fastest on a busy 2-core box)."""
    if cfg.get("threads") and resolve_device(cfg.get("device", "auto")).type == "cpu":
        torch.set_num_threads(int(cfg["threads"]))


def run_all(cfg: dict, force: bool = False, do_export_step: bool = True) -> dict:
    """Every rank trains and evaluates (sharded); rank 0 alone exports and writes the reports."""
    apply_threads(cfg)
    os.makedirs(cfg["out_dir"], exist_ok=True)
    if D.is_main():
        with open(os.path.join(cfg["out_dir"], "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
    log = JsonLog(os.path.join(cfg["out_dir"], "log.json"))
    timings = {}
    t0 = time.time()
    teacher = get_teacher(cfg, log, force)
    timings["teacher_s"] = round(time.time() - t0, 1)
    t = time.time()
    students = get_student(cfg, teacher, log, force)
    timings["students_s"] = round(time.time() - t, 1)
    t = time.time()
    res = evaluate_models(cfg, teacher, students)
    timings["eval_s"] = round(time.time() - t, 1)
    if not D.is_main():
        return res
    res["world_size"] = D.world()
    if do_export_step:
        t = time.time()
        exp = do_export(cfg, teacher, students["final"], res)
        timings["export_s"] = round(time.time() - t, 1)
        res.update({"bytes": exp["bytes"], "parity": exp["parity"], "manifest": exp["manifest"]})
    timings["total_s"] = round(time.time() - t0, 1)
    res["timings"] = timings
    log.add("evals", stage="final", step=0, split="test", teacher=res["teacher"], student=res["student"])
    log.save()
    with open(os.path.join(cfg["out_dir"], "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    text = report(res)
    with open(os.path.join(cfg["out_dir"], "report.txt"), "w") as f:
        f.write(text + "\n" + json.dumps(timings) + "\n")
    print(text)
    print("timings:", json.dumps(timings))
    return res


def run_ablation(cfg: dict, only: Optional[List[str]] = None) -> List[dict]:
    """Each ablation is a real run of stage 1 + stage 2 from the same trained teacher."""
    apply_threads(cfg)
    base_out = cfg["out_dir"]
    log = JsonLog(os.path.join(base_out, "log.json"))
    os.makedirs(base_out, exist_ok=True)
    teacher = get_teacher(cfg, log)
    n = int(cfg["data"].get("test_size", 200))
    device = resolve_device(cfg.get("device", "auto"))
    t_res = evaluate_pair(teacher, teacher, cfg["seed"], "test", n, device)
    rows = []
    for name, changes, expect in ABLATIONS:
        if only and name not in only:
            continue
        c = copy.deepcopy(cfg)
        for k, v in changes.items():
            set_path(c, k, v)
        c["out_dir"] = os.path.join(base_out, "ablation", name.replace(" ", "_").replace("/", ""))
        os.makedirs(c["out_dir"], exist_ok=True)
        alog = JsonLog(os.path.join(c["out_dir"], "log.json"))
        t = time.time()
        st = get_student(c, teacher, alog)
        r = evaluate_pair(st["final"], st["final"], c["seed"], "test", n, device)
        rows.append({"variant": name, "expected": expect, "seconds": round(time.time() - t, 1), **r})
        D.log(f"[ablation] {name}: t2i R@1 {r['t2i_r1']:.1f} rsum {r['rsum']:.1f}")
    table = ablation_table(t_res, rows)
    if not D.is_main():
        return rows
    print(table)
    with open(os.path.join(base_out, "ablation.json"), "w") as f:
        json.dump({"teacher": t_res, "rows": rows}, f, indent=1)
    with open(os.path.join(base_out, "ablation.txt"), "w") as f:
        f.write(table + "\n")
    return rows


def ablation_table(teacher: dict, rows: List[dict]) -> str:
    full = next((r for r in rows if r["variant"] == "full"), None)
    out = [f"Ablation (ShapesWorld test, {teacher['n_images']} images)   columns: t2i R@1 R@5 R@10 | i2t R@1 R@5 R@10 | RSUM",
           f"{'variant':<20} {'t2i R@1':>7} {'R@5':>5} {'R@10':>5} {'i2t R@1':>7} {'R@5':>5} {'R@10':>5} {'RSUM':>6} "
           f"{'dRSUM':>6}  paper (Table 2 direction)"]

    def line(name, r, exp, delta=True):
        d = "" if full is None or r is full or not delta else f"{r['rsum'] - full['rsum']:+6.1f}"
        return (f"{name:<20} {r['t2i_r1']:7.1f} {r['t2i_r5']:5.1f} {r['t2i_r10']:5.1f} {r['i2t_r1']:7.1f} "
                f"{r['i2t_r5']:5.1f} {r['i2t_r10']:5.1f} {r['rsum']:6.1f} {d:>6}  {exp}")
    out.append(line("teacher", teacher, "-", delta=False))
    for r in rows:
        agrees = ""
        if full is not None and r is not full:
            agrees = " (agrees)" if r["rsum"] < full["rsum"] else " (does NOT agree here)"
        out.append(line(r["variant"], r, r["expected"] + agrees))
    return "\n".join(out)


# ----------------------------------------------------------------------------- ship
def ship(cfg: dict, models_dir: str, demo_n: int = 120) -> dict:
    """Put a finished run's exported pair into the app: copy the four .onnx files to
    ``<models_dir>/shapesworld/``, merge their entries into ``<models_dir>/manifest.json``
    (replacing entries with the same ids, file paths rewritten relative to it), and write the
    demo library (``shapesworld/demo``: photos, labelled.json, demo.json naming the teacher)."""
    import shutil
    from .shapesworld import DEMO_SHOWCASE, export_demo
    export_dir = os.path.join(cfg["out_dir"], "export")
    src_manifest = os.path.join(export_dir, "manifest.json")
    if not os.path.exists(src_manifest):
        raise SystemExit(f"{src_manifest} does not exist: run `all` or `export` for this config first")
    entries = json.load(open(src_manifest))["models"]
    dest = os.path.join(models_dir, "shapesworld")
    os.makedirs(dest, exist_ok=True)
    for e in entries:
        for side in ("image", "text"):
            name = os.path.basename(e[side]["file"])
            shutil.copyfile(os.path.join(export_dir, e[side]["file"]), os.path.join(dest, name))
            e[side]["file"] = f"shapesworld/{name}"
        problems = ex.validate_entry(e, models_dir)
        if problems:
            raise SystemExit(f"{e['id']}: {problems}")
    mpath = os.path.join(models_dir, "manifest.json")
    manifest = json.load(open(mpath)) if os.path.exists(mpath) else {"version": 1, "models": []}
    ids = {e["id"] for e in entries}
    manifest["models"] = [m for m in manifest["models"] if m["id"] not in ids] + entries
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    teacher = next(e["id"] for e in entries if e["role"] == "teacher")
    demo = os.path.join(dest, "demo")
    shutil.rmtree(demo, ignore_errors=True)
    export_demo(demo, n=demo_n, seed=cfg["seed"], quality=85)
    with open(os.path.join(demo, "demo.json"), "w") as f:
        json.dump({"name": "ShapesWorld demo", "model": teacher, "queries": [q for q, _, _ in DEMO_SHOWCASE]}, f, indent=1)
        f.write("\n")
    return {"manifest": mpath, "models": sorted(ids), "demo": demo}
