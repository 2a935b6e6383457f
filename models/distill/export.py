"""ONNX export of each encoder in the app's signature, parity check through the app's Node
onnxruntime, encoding-speed measurement and manifest entries (main/core/model-spec.ts)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from .model import CLIP, ImageEncoder, TextEncoder, tower_params
from .shapesworld import ShapesWorld
from .tokenizer import CLIP_MEAN, CLIP_STD, get_tokenizer, preprocess_uint8
from . import manifest_schema

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools", "check_onnx.mjs")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_onnx(model: CLIP, out_dir: str, stem: str, opset: int = 14) -> Dict[str, str]:
    """Writes ``<stem>-image.onnx`` (pixel_values float32 [N,3,224,224] -> image_embeds) and
    ``<stem>-text.onnx`` (input_ids int64 [N,77] -> text_embeds); dynamic batch axis;
    embeddings are L2-normalised (as HF CLIPModel's image_embeds/text_embeds)."""
    os.makedirs(out_dir, exist_ok=True)
    model = model.float().cpu().eval()
    res = model.cfg.image_resolution
    img_path = os.path.join(out_dir, f"{stem}-image.onnx")
    txt_path = os.path.join(out_dir, f"{stem}-text.onnx")
    dummy_img = torch.randn(2, 3, res, res)
    dummy_ids = torch.from_numpy(get_tokenizer()(["a red circle", "two small green triangles"], model.cfg.context_length))
    kw = dict(opset_version=opset, do_constant_folding=True)
    with torch.no_grad():
        torch.onnx.export(ImageEncoder(model).eval(), (dummy_img,), img_path, input_names=["pixel_values"],
                          output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}}, **kw)
        torch.onnx.export(TextEncoder(model).eval(), (dummy_ids,), txt_path, input_names=["input_ids"],
                          output_names=["text_embeds"],
                          dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}}, **kw)
    try:
        import onnx
        for p in (img_path, txt_path):
            onnx.checker.check_model(onnx.load(p))
    except ImportError:  # pragma: no cover
        pass
    return {"image": img_path, "text": txt_path}


def node_available() -> Optional[str]:
    node = shutil.which("node")
    if not node:
        return None
    try:
        r = subprocess.run([node, "-e", "require.resolve('onnxruntime-node')"], cwd=REPO_ROOT,
                           capture_output=True, timeout=60)
    except Exception:
        return None
    return node if r.returncode == 0 else None


def parity_check(model: CLIP, paths: Dict[str, str], n: int = 3, seed: int = 0, tol: float = 1e-4) -> dict:
    """Runs both ONNX graphs in the app's onnxruntime-node on real ShapesWorld inputs (and a
    different batch size than the export's dummy) and compares with PyTorch."""
    node = node_available()
    if node is None:
        return {"skipped": True, "reason": "node or onnxruntime-node not available (run from a checkout with node_modules)"}
    model = model.float().cpu().eval()
    world = ShapesWorld(seed)
    imgs, caps = world.dataset("test", n)
    px = preprocess_uint8(imgs)
    ids = torch.from_numpy(get_tokenizer()([c[0] for c in caps] + ["a photo of a cat"], model.cfg.context_length))
    with torch.no_grad():
        ie = ImageEncoder(model)(px).numpy().astype(np.float32)
        te = TextEncoder(model)(ids).numpy().astype(np.float32)
    out = {"tol": tol}
    with tempfile.TemporaryDirectory() as td:
        for kind, inp, exp, iname, oname, dtype in (
                ("image", px.numpy().astype(np.float32), ie, "pixel_values", "image_embeds", "float32"),
                ("text", ids.numpy().astype(np.int64), te, "input_ids", "text_embeds", "int64")):
            inp_file, exp_file = os.path.join(td, f"{kind}-in.bin"), os.path.join(td, f"{kind}-exp.bin")
            inp.tofile(inp_file)
            exp.tofile(exp_file)
            spec = {"input": {"name": iname, "dtype": dtype, "shape": list(inp.shape), "file": inp_file},
                    "expected": {"name": oname, "shape": list(exp.shape), "file": exp_file}, "tol": tol}
            spec_file = os.path.join(td, f"{kind}.json")
            with open(spec_file, "w") as f:
                json.dump(spec, f)
            r = subprocess.run([node, CHECK_SCRIPT, paths[kind], spec_file], cwd=REPO_ROOT, capture_output=True,
                               text=True, timeout=300)
            if r.returncode not in (0, 1):
                raise RuntimeError(f"check_onnx.mjs failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
            res = json.loads(r.stdout.strip().splitlines()[-1])
            out[kind] = res
    out["ok"] = bool(out["image"]["ok"] and out["text"]["ok"])
    return out


@torch.no_grad()
def encoding_speed(model: CLIP, reps: int = 21, image_batch: int = 8, threads: Optional[int] = None) -> dict:
    """CPU PyTorch timing: one text query (batch 1) and images (batch ``image_batch``)."""
    model = model.float().cpu().eval()
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        ids = torch.from_numpy(get_tokenizer()(["two small green triangles"], model.cfg.context_length))
        px = torch.randn(image_batch, 3, model.cfg.image_resolution, model.cfg.image_resolution)
        te, ie = TextEncoder(model), ImageEncoder(model)
        te(ids), ie(px)  # warm up

        def median_s(fn, n):
            times = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            return sorted(times)[n // 2]  # the median: one stalled call on a shared box does not move it
        with torch.no_grad():
            text_ms = median_s(lambda: te(ids), reps) * 1000
            img_s = median_s(lambda: ie(px), max(3, reps // 3))
    finally:
        torch.set_num_threads(old)
    return {"text_query_ms": round(text_ms, 3), "image_per_s": round(image_batch / img_s, 1), "image_batch": image_batch}


def model_file(path: str, manifest_dir: str) -> dict:
    return {"file": os.path.relpath(path, manifest_dir).replace(os.sep, "/"), "bytes": os.path.getsize(path),
            "sha256": sha256_file(path)}


def manifest_entry(model: CLIP, paths: Dict[str, str], manifest_dir: str, id: str, name: str, role: str,
                   description: str = "", lineage: Optional[dict] = None, hidden: bool = False) -> dict:
    e = {
        "id": id,
        "name": name,
        "role": role,
        "description": description,
        "dim": int(model.cfg.embed_dim),
        "image": model_file(paths["image"], manifest_dir),
        "text": model_file(paths["text"], manifest_dir),
        "io": {"imageInput": "pixel_values", "imageOutput": "image_embeds", "textInput": "input_ids",
               "textMask": None, "textOutput": "text_embeds"},
        "preprocess": {"size": int(model.cfg.image_resolution), "resize": "shortest", "mean": list(CLIP_MEAN),
                       "std": list(CLIP_STD)},
        "logitScale": round(float(model.logit_scale.detach().exp()), 4),
        "licence": "MIT",
        "lineage": lineage,
    }
    if hidden:
        e["hidden"] = True
    return e


def validate_entry(e: dict, manifest_dir: str) -> List[str]:
    """Problems with one entry (empty = valid): the app's own schema (models/manifest.schema.json,
    exported from main/services/models/manifest.ts), then the files it names, size and sha256."""
    p = manifest_schema.problems(e, manifest_schema.entry_schema())
    for side in ("image", "text"):
        f = e.get(side)
        if not isinstance(f, dict) or not isinstance(f.get("file"), str):
            continue  # already reported by the schema
        path = os.path.join(manifest_dir, f["file"])
        if not os.path.exists(path):
            p.append(f"{side}: {path} missing")
            continue
        if os.path.getsize(path) != f.get("bytes"):
            p.append(f"{side}: bytes mismatch")
        if sha256_file(path) != f.get("sha256"):
            p.append(f"{side}: sha256 mismatch")
    return p


def write_manifest(entries: List[dict], path: str):
    with open(path, "w") as f:
        json.dump({"version": 1, "models": entries}, f, indent=2)
