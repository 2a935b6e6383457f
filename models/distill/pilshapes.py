"""An out-of-generator evaluation set: shapes drawn another way than ShapesWorld draws them.

ShapesWorld renders numpy masks on 224x224 canvases with its own five backgrounds and caption
templates; a model can score well there by learning the renderer's quirks.  This set keeps the
*concepts* (the same 8 shapes, 11 colour names, counts, left/above/inside) and changes
everything else:
- drawn with PIL's polygon/ellipse primitives at 3x size and downsampled (anti-aliased edges),
  each object with a darker outline, hand-tuned polygon proportions (a fatter star, a heart made
  of two circles and a triangle, a thin ring), colours jittered in HSV rather than RGB;
- canvases of other sizes and aspect ratios (the app's shortest-side resize + centre crop
  applies; objects stay inside the crop), backgrounds ShapesWorld never uses (checkerboard,
  soft blotches, vignette, paper grain);
- captions written from separate hand-made templates (words limited to the reduced vocabulary,
  so the shipped models can read them).

``export_pilshapes(out_dir, n, seed)`` writes ``images/*.png`` + ``labelled.json`` in coco-mini's
format ([{file, captions[5]}]); ``python3 -m models.distill eval-labelled --labelled FILE`` scores
a run's teacher and student on it (or on any folder in that format).
"""
from __future__ import annotations

import colorsys
import json
import math
import os
from typing import List, Tuple

import numpy as np

from .shapesworld import COLORS, COUNT_WORDS, PLURAL, SHAPES

SS = 3  # supersampling factor

# hue (0-1), saturation, value centres per colour name; jittered per object
HSV = {"red": (0.0, 0.85, 0.85), "green": (0.33, 0.75, 0.65), "blue": (0.62, 0.8, 0.85),
       "yellow": (0.15, 0.85, 0.95), "orange": (0.08, 0.9, 0.95), "purple": (0.78, 0.7, 0.65),
       "pink": (0.92, 0.45, 0.97), "brown": (0.07, 0.7, 0.45), "black": (0.0, 0.0, 0.08),
       "white": (0.0, 0.0, 0.97), "gray": (0.0, 0.0, 0.5)}
assert set(HSV) == set(COLORS)
GROUP = ["{n} {c} {ps}", "a picture of {n} {c} {ps}", "there are {n} {sz} {c} {ps}", "an image with {n} {c} {ps}",
         "{n} {sz} {c} {ps} on a background"]
SINGLE = ["a {c} {s}", "one {sz} {c} {s}", "a picture of a single {c} {s}", "there is a {c} {s}",
          "an image of one {c} {s}"]
REL = {"left of": (["a {c1} {s1} left of a {c2} {s2}", "a {c1} {s1} to the left of a {c2} {s2}",
                    "a {c2} {s2} right of a {c1} {s1}", "a {c2} {s2} to the right of a {c1} {s1}",
                    "a {c1} {s1} next to a {c2} {s2}"]),
       "above": (["a {c1} {s1} above a {c2} {s2}", "a {c2} {s2} below a {c1} {s1}", "a {c1} {s1} over a {c2} {s2}",
                  "a {c2} {s2} under a {c1} {s1}", "an image of a {c1} {s1} above a {c2} {s2}"]),
       "inside": (["a {c1} {s1} inside a {c2} {s2}", "a {c2} {s2} around a {c1} {s1}", "a {c1} {s1} in a {c2} {s2}",
                   "a picture of a {c1} {s1} inside a {c2} {s2}", "a {c2} {s2} with a {c1} {s1} inside"])}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _fix_articles(text: str) -> str:
    words = text.split(" ")
    for i in range(len(words) - 1):
        if words[i] in ("a", "an"):
            words[i] = _article(words[i + 1])
    return " ".join(words)


def _colour(rng: np.random.Generator, name: str) -> Tuple[int, int, int]:
    h, s, v = HSV[name]
    h = (h + rng.uniform(-0.025, 0.025)) % 1.0
    s = float(np.clip(s + rng.uniform(-0.1, 0.1), 0, 1))
    v = float(np.clip(v + rng.uniform(-0.08, 0.08), 0, 1))
    return tuple(int(round(255 * x)) for x in colorsys.hsv_to_rgb(h, s, v))


def _polygon(shape: str, cx: float, cy: float, r: float, rot: float) -> List[Tuple[float, float]]:
    if shape == "square":
        pts = [(-0.75, -0.75), (0.75, -0.75), (0.75, 0.75), (-0.75, 0.75)]
    elif shape == "diamond":
        pts = [(0, -1.0), (0.7, 0), (0, 1.0), (-0.7, 0)]
    elif shape == "triangle":
        pts = [(0, -1.0), (0.95, 0.75), (-0.95, 0.75)]
    elif shape == "star":
        pts = [((1.0 if k % 2 == 0 else 0.5) * math.sin(k * math.pi / 5), -(1.0 if k % 2 == 0 else 0.5) * math.cos(k * math.pi / 5))
               for k in range(10)]
    elif shape == "cross":
        a, b = 0.28, 0.95
        pts = [(-a, -b), (a, -b), (a, -a), (b, -a), (b, a), (a, a), (a, b), (-a, b), (-a, a), (-b, a), (-b, -a), (-a, -a)]
    else:
        raise ValueError(shape)
    c, s = math.cos(rot), math.sin(rot)
    return [(cx + r * (c * x - s * y), cy + r * (s * x + c * y)) for x, y in pts]


def _draw(draw, shape: str, cx: float, cy: float, r: float, rot: float, fill, outline):
    w = max(2, int(r * 0.08))
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill, outline=outline, width=w)
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fill, width=max(3, int(r * 0.3)))
    elif shape == "heart":  # two circles on a downward triangle
        q = r * 0.5
        draw.ellipse([cx - 2 * q, cy - 1.5 * q, cx, cy + 0.5 * q], fill=fill)
        draw.ellipse([cx, cy - 1.5 * q, cx + 2 * q, cy + 0.5 * q], fill=fill)
        draw.polygon([(cx - 1.93 * q, cy - 0.2 * q), (cx + 1.93 * q, cy - 0.2 * q), (cx, cy + 2 * q)], fill=fill)
    else:
        draw.polygon(_polygon(shape, cx, cy, r, rot), fill=fill, outline=outline)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    kind = rng.choice(["checker", "blotches", "vignette", "grain"])
    c0 = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.6, 0.95))) * 255
    c1 = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.5, 0.9))) * 255
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "checker":
        p = rng.uniform(18, 40) * SS
        m = ((xx // p + yy // p) % 2)[..., None]
        img = c0 * (1 - m) + c1 * m
    elif kind == "blotches":
        img = np.zeros((h, w, 3), np.float32) + c0
        for _ in range(6):
            x0, y0, rad = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.35) * min(w, h)
            t = np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * rad * rad))[..., None]
            img = img * (1 - 0.6 * t) + c1 * 0.6 * t
    elif kind == "vignette":
        d = np.sqrt((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2)[..., None] / 0.7
        img = c0 * (1 - d) + c1 * d
    else:
        img = np.zeros((h, w, 3), np.float32) + c0 + rng.normal(0, 10, (h // SS + 1, w // SS + 1, 1)).repeat(SS, 0).repeat(SS, 1)[:h, :w]
    return np.clip(img, 0, 255).astype(np.uint8)


def item(seed: int, index: int):
    """(PIL image, 5 captions, scene description) for one index."""
    from PIL import Image, ImageDraw
    rng = np.random.default_rng([seed, 7331, index])
    w, h = [(224, 224), (320, 240), (240, 320), (300, 300), (400, 260)][rng.integers(5)]
    W, H = w * SS, h * SS
    side = min(W, H)  # the centre crop the app keeps; everything is drawn inside it
    ox, oy = (W - side) / 2, (H - side) / 2
    img = Image.fromarray(_background(rng, W, H))
    draw = ImageDraw.Draw(img)
    kind = rng.choice(["group", "relation", "inside"], p=[0.45, 0.4, 0.15])
    colours = list(HSV)

    def put(shape, colour, cx, cy, r):
        fill = _colour(rng, colour)
        outline = tuple(int(v * 0.55) for v in fill)
        _draw(draw, shape, ox + cx * side, oy + cy * side, r * side, rng.uniform(-0.3, 0.3), fill, outline)

    if kind == "group":
        n = int(rng.integers(1, 4))
        shape, colour = SHAPES[rng.integers(len(SHAPES))], colours[rng.integers(len(colours))]
        size = "large" if rng.random() < 0.5 else "small"
        r = (0.16 if size == "large" else 0.09) / (1 + 0.3 * (n - 1))
        slots = [(0.3, 0.3), (0.7, 0.35), (0.35, 0.72), (0.7, 0.72)]
        for k in rng.permutation(4)[:n]:
            put(shape, colour, slots[k][0] + rng.uniform(-0.05, 0.05), slots[k][1] + rng.uniform(-0.05, 0.05), r)
        ps = PLURAL[shape]
        tmpl = SINGLE if n == 1 else GROUP
        caps = [t.format(n=COUNT_WORDS[n], c=colour, ps=ps, s=shape, sz=size) for t in tmpl]
        desc = {"kind": kind, "shape": shape, "color": colour, "count": n}
    else:
        s1, s2 = SHAPES[rng.integers(len(SHAPES))], SHAPES[rng.integers(len(SHAPES))]
        c1, c2 = rng.choice(len(colours), 2, replace=False)
        c1, c2 = colours[c1], colours[c2]
        if kind == "inside":
            s2 = ["ring", "circle", "square"][rng.integers(3)]
            put(s2, c2, 0.5, 0.5, 0.36)
            put(s1, c1, 0.5, 0.5, 0.12)
            rel = "inside"
        else:
            rel = "left of" if rng.random() < 0.5 else "above"
            a, b = (0.28, 0.72)
            j = rng.uniform(-0.08, 0.08)
            p1, p2 = ((a, 0.5 + j), (b, 0.5 - j)) if rel == "left of" else ((0.5 + j, a), (0.5 - j, b))
            put(s1, c1, *p1, 0.14)
            put(s2, c2, *p2, 0.14)
        caps = [t.format(c1=c1, s1=s1, c2=c2, s2=s2) for t in REL[rel]]
        desc = {"kind": "relation", "relation": rel, "objects": [[c1, s1], [c2, s2]]}
    img = img.resize((w, h), Image.LANCZOS)
    return img, [_fix_articles(c) for c in caps], desc


def export_pilshapes(out_dir: str, n: int = 300, seed: int = 0) -> str:
    """Write ``n`` PNG photos + ``labelled.json`` (coco-mini format); returns the JSON's path."""
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    entries = []
    for i in range(n):
        img, caps, _ = item(seed, i)
        name = f"images/pil_{i:05d}.png"
        img.save(os.path.join(out_dir, name))
        entries.append({"file": name, "captions": caps})
    path = os.path.join(out_dir, "labelled.json")
    with open(path, "w") as f:
        json.dump(entries, f, indent=1)
    return path


def load_labelled(path: str):
    """coco-mini format -> (list of uint8 HWC arrays, captions, caption owners)."""
    from PIL import Image
    with open(path) as f:
        entries = json.load(f)
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: expected a non-empty JSON list of {{file, captions}}")
    base = os.path.dirname(os.path.abspath(path))
    imgs, texts, owner = [], [], []
    for i, e in enumerate(entries):
        if "file" not in e or not e.get("captions"):
            raise ValueError(f"{path}: entry {i} needs 'file' and a non-empty 'captions' list")
        imgs.append(np.asarray(Image.open(os.path.join(base, e["file"])).convert("RGB")))
        for c in e["captions"]:
            texts.append(c)
            owner.append(i)
    return imgs, texts, owner
