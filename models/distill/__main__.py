"""Command line: ``python3 -m models.distill <command> --config <file.json>`` (run from the repo root).

Commands
  all             teacher -> stage 1 -> stage 2 -> eval -> ONNX export + manifest (resumable)
  train-teacher   train (or load with teacher.init) the teacher only
  distill         stage 1 + stage 2 from the run's teacher
  eval            recall@1/5/10 + params + CPU speed of the run's teacher and student
  export          ONNX export + parity check + manifest of the run's teacher and student
  ablation        the paper's ablations, each a real run, as a table
  export-testset  write ShapesWorld test photos + labelled JSON (coco-mini format)
  export-demo     write the app's demo library (test photos incl. showcase scenes + labelled JSON)
  relabel         add each photo's scene (objects: shape, colour, size, position) to a labelled JSON (--labelled)
  export-pilshapes  write the out-of-generator set (PIL-drawn shapes, own captions; --out, --n)
  eval-labelled   recall of the run's teacher and student on a coco-mini JSON (--labelled FILE)
  ship            copy the run's exported pair into models/ (manifest entries merged) + the demo library
  convert         OpenAI CLIP checkpoint (.pt) -> this package's checkpoint (teacher.pt)

Options: ``--config tiny`` (a file, or a name in models/distill/configs/), ``--out-dir DIR``,
``--set key.sub=value`` (JSON value; repeatable), ``--force`` (ignore finished stages).
"""
from __future__ import annotations

import argparse
import json
import os
import sys


SINGLE_PROCESS = ("export-testset", "export-demo", "relabel", "ship", "convert", "export-pilshapes", "eval-labelled")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m models.distill", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["all", "train-teacher", "distill", "eval", "export", "ablation",
                                        "export-testset", "export-demo", "relabel", "ship", "convert", "export-pilshapes",
                                        "eval-labelled"])
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--out-dir", default=None)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--only", action="append", default=None, help="ablation: run only these variants")
    ap.add_argument("--n", type=int, default=None, help="export-testset (200) / export-demo, ship (120): number of photos")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--split", default="test")
    ap.add_argument("--format", default="jpg", choices=["jpg", "png"])
    ap.add_argument("--out", default=None, help="export-testset/export-demo: folder; ship: models folder; convert: output .pt")
    ap.add_argument("--checkpoint", default=None, help="convert: OpenAI CLIP .pt file")
    ap.add_argument("--labelled", default=None, help="eval-labelled: a coco-mini JSON ([{file, captions}])")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    a = ap.parse_args(argv)

    if a.command == "relabel":  # numpy only: runs where torch is not installed
        from .shapesworld import relabel
        print(relabel(a.labelled or "models/shapesworld/demo/labelled.json", seed=a.seed or 0, split=a.split))
        return 0
    import torch
    if a.threads:
        torch.set_num_threads(a.threads)
    from . import dist as D
    if D.env_world() > 1 and a.command in SINGLE_PROCESS:
        # started by torchrun / the launcher: these commands are not distributed, rank 0 does them
        if int(os.environ.get("RANK", "0")) != 0:
            return 0
        os.environ["WORLD_SIZE"] = "1"

    if a.command == "export-testset":
        from .shapesworld import export_testset
        seed = a.seed if a.seed is not None else 0
        if a.config and a.seed is None:
            try:
                from .pipeline import load_config
                seed = load_config(a.config)["seed"]
            except Exception:
                pass
        path = export_testset(a.out or "shapesworld-test", n=a.n or 200, seed=seed, split=a.split, fmt=a.format)
        print(path)
        return 0
    if a.command == "export-pilshapes":
        from .pilshapes import export_pilshapes
        print(export_pilshapes(a.out or "pilshapes", n=a.n or 300, seed=a.seed or 0))
        return 0
    if a.command == "export-demo":
        from .shapesworld import export_demo
        print(export_demo(a.out or "shapesworld-demo", n=a.n or 120, seed=a.seed or 0))
        return 0
    if a.command == "convert":
        from .model import load_checkpoint_file
        from .train import save_model
        m = load_checkpoint_file(a.checkpoint)
        out = a.out or "teacher.pt"
        save_model(m, out, source=os.path.abspath(a.checkpoint))
        print(json.dumps({"out": out, "config": m.cfg.to_dict()}, indent=1))
        return 0

    from . import pipeline as P
    from .train import JsonLog, load_model
    try:
        cfg = P.load_config(a.config, a.set, a.out_dir)
    except P.ConfigError as e:  # a wrong key or value: one clear line, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.seed is not None:
        cfg["seed"] = a.seed
    if not a.threads:
        P.apply_threads(cfg)
    # under torchrun / models.distill.launch: join the process group (NCCL on GPUs, Gloo on CPU);
    # dist.timeout_s bounds every collective, so a dead or stuck rank fails the others
    D.init(P.resolve_device(cfg.get("device", "auto")).type, float(cfg.get("dist", {}).get("timeout_s", 1800)))
    try:
        return _run(a, cfg, P, JsonLog)
    finally:
        D.shutdown()


def _run(a, cfg, P, JsonLog):
    from . import dist as D
    from .train import load_model
    os.makedirs(cfg["out_dir"], exist_ok=True)
    log = JsonLog(os.path.join(cfg["out_dir"], "log.json"))
    if a.command == "all":
        P.run_all(cfg, force=a.force)
    elif a.command == "train-teacher":
        P.get_teacher(cfg, log, force=a.force)
    elif a.command == "distill":
        t = P.get_teacher(cfg, log)
        P.get_student(cfg, t, log, force=a.force)
    elif a.command in ("eval", "export"):
        t = P.get_teacher(cfg, log)
        s = P.get_student(cfg, t, log)
        res = P.evaluate_models(cfg, t, s)
        if a.command == "export" and D.is_main():
            e = P.do_export(cfg, t, s["final"], res)
            res.update({"bytes": e["bytes"], "parity": e["parity"]})
            print("manifest:", e["manifest"])
        if D.is_main():
            print(P.report(res))
    elif a.command == "eval-labelled":
        if not a.labelled:
            raise SystemExit("eval-labelled needs --labelled FILE.json (coco-mini format)")
        res = P.evaluate_labelled(cfg, {"teacher": load_model(os.path.join(cfg["out_dir"], "teacher.pt")),
                                        "student": load_model(os.path.join(cfg["out_dir"], "student.pt"))}, a.labelled)
        print(P.labelled_table(res))
    elif a.command == "ship":
        print(json.dumps(P.ship(cfg, a.out or "models", demo_n=a.n or 120), indent=1))
    elif a.command == "ablation":
        P.run_ablation(cfg, a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
