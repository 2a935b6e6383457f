"""ShapesWorld: a seeded, deterministic generator of 224x224 captioned photos-like images.

Every image is a function of (seed, split, index) only, so train batches, the validation
set and the test set are reproducible on any machine.  Drawing is plain numpy on bounding
box crops (vectorised masks), ~1 ms per image on one CPU core.

Scenes come in three kinds:
  * group     - 1-4 identical objects            "two small green triangles"
  * relation  - two objects, left of/above/inside "a red star above a blue ring"
  * mixed     - 2-3 different objects            "a red circle and a blue square"
Each image gets ``n_captions`` (default 5) captions from varied templates/paraphrases;
some mention the background ("... on a striped background").
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

SIZE = 224

COLORS: Dict[str, Tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 170, 50),
    "blue": (30, 70, 220),
    "yellow": (240, 220, 30),
    "orange": (250, 140, 20),
    "purple": (140, 40, 180),
    "pink": (250, 130, 190),
    "brown": (120, 70, 30),
    "black": (15, 15, 15),
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
}
COLOR_NAMES = list(COLORS)
SHAPES = ["circle", "square", "triangle", "star", "heart", "ring", "diamond", "cross"]
PLURAL = {s: s + "s" for s in SHAPES}
PLURAL["cross"] = "crosses"
BACKGROUNDS = ["plain", "striped", "dotted", "gradient", "noisy"]
SIZES = ["small", "large"]
SIZE_SYNONYMS = {"small": ["small", "small", "little", "tiny"], "large": ["large", "large", "big"]}
COUNT_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
RELATIONS = ["left of", "above", "inside"]
CONTAINERS = ["ring", "circle", "square"]
SPLITS = {"train": 0, "val": 1, "test": 2, "text": 3, "corpus": 4}

# Every word a caption can contain (used to build the reduced text vocabulary).
VOCAB_WORDS = sorted(set(
    COLOR_NAMES + SHAPES + list(PLURAL.values()) + BACKGROUNDS + ["background", "backdrop"]
    + [w for v in SIZE_SYNONYMS.values() for w in v] + list(COUNT_WORDS.values())
    + "a an the of on with and photo picture image there is are to left right above below "
      "inside around in next under over some single pattern shapes , . 1 2 3 4".split()))


@dataclass
class Obj:
    shape: str
    color: str
    size: str
    cx: float
    cy: float
    r: float
    rot: float


@dataclass
class Scene:
    kind: str
    background: str
    bg_colors: Tuple[Tuple[int, int, int], Tuple[int, int, int]]
    objects: List[Obj]
    relation: Optional[str] = None
    captions: List[str] = field(default_factory=list)

    def describe(self) -> dict:
        return {"kind": self.kind, "background": self.background, "relation": self.relation,
                "objects": [{"shape": o.shape, "color": o.color, "size": o.size} for o in self.objects]}

    def record(self) -> dict:
        """The scene as written next to a photo's captions, so queries made from attributes have
        known relevant photos: each object's shape, colour, size and centre (x right, y down, in
        pixels of the 224-px image), the relation between the two objects of a relation scene
        (objects[0] is its subject; for "inside", objects[1] sits inside objects[0]), and per
        (colour, shape) how many objects there are."""
        counts: Dict[str, int] = {}
        for o in self.objects:
            counts[f"{o.color} {o.shape}"] = counts.get(f"{o.color} {o.shape}", 0) + 1
        return {"kind": self.kind, "background": self.background, "relation": self.relation,
                "objects": [{"shape": o.shape, "color": o.color, "size": o.size,
                             "x": round(o.cx, 1), "y": round(o.cy, 1)} for o in self.objects],
                "counts": counts}


# ----------------------------------------------------------------------------- drawing
_GRID_Y, _GRID_X = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
# A fixed bank of Gaussian noise; images take random crops of it (much cheaper than
# drawing fresh normals per pixel, and still deterministic per (seed, split, index)).
_NOISE = np.random.default_rng(1234567).standard_normal((SIZE * 2, SIZE * 2, 3), dtype=np.float32)


def _noise(rng: np.random.Generator, channels: int = 3) -> np.ndarray:
    oy, ox = rng.integers(0, SIZE, 2)
    n = _NOISE[oy:oy + SIZE, ox:ox + SIZE]
    if rng.random() < 0.5:
        n = n[::-1]
    return n[..., :channels]


def _shape_mask(shape: str, u: np.ndarray, v: np.ndarray, r: float) -> np.ndarray:
    """Boolean mask in rotated, centred coordinates (u right, v down), radius r."""
    if shape == "circle":
        return u * u + v * v <= r * r
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= r * 0.8
    if shape == "diamond":
        return np.abs(u) + np.abs(v) <= r
    if shape == "ring":
        d2 = u * u + v * v
        return (d2 <= r * r) & (d2 >= (0.6 * r) ** 2)
    if shape == "cross":
        a, b = np.abs(u), np.abs(v)
        return ((a <= r * 0.33) & (b <= r)) | ((b <= r * 0.33) & (a <= r))
    if shape == "triangle":  # equilateral, apex up, centroid at origin
        s3 = math.sqrt(3.0)
        return (v <= r * 0.5) & (s3 * u - v <= r) & (-s3 * u - v <= r)
    if shape == "star":
        ang = np.arctan2(v, u) + math.pi / 2
        k = 5
        t = np.abs(((ang * k / (2 * math.pi)) % 1.0) - 0.5) * 2.0  # 1 at tips, 0 between
        rho = np.sqrt(u * u + v * v)
        return rho <= r * (0.42 + 0.58 * t ** 1.5)
    if shape == "heart":
        x = u / (r * 0.95)
        y = -(v / (r * 0.95)) + 0.15
        x, y = x * 1.25, y * 1.25
        return (x * x + y * y - 1) ** 3 - x * x * y ** 3 <= 0
    raise ValueError(shape)


def _background(rng: np.random.Generator, kind: str, c0, c1) -> np.ndarray:
    img = np.empty((SIZE, SIZE, 3), np.float32)
    img[:] = c0
    yy, xx = _GRID_Y, _GRID_X
    if kind == "striped":
        period = rng.uniform(10, 28)
        ang = rng.uniform(0, math.pi)
        t = (xx * math.cos(ang) + yy * math.sin(ang)) / period
        m = (t % 1.0) < 0.5
        img[m] = c1
    elif kind == "dotted":
        period = rng.uniform(12, 24)
        rad = period * rng.uniform(0.15, 0.3)
        ox, oy = rng.uniform(0, period, 2)
        dx = ((xx + ox) % period) - period / 2
        dy = ((yy + oy) % period) - period / 2
        img[dx * dx + dy * dy <= rad * rad] = c1
    elif kind == "gradient":
        ang = rng.uniform(0, 2 * math.pi)
        t = (xx * math.cos(ang) + yy * math.sin(ang))
        t = (t - t.min()) / (t.max() - t.min() + 1e-6)
        img = (1 - t[..., None]) * np.asarray(c0, np.float32) + t[..., None] * np.asarray(c1, np.float32)
    elif kind == "noisy":
        coarse = rng.normal(0, 1, (SIZE // 8, SIZE // 8, 1)).astype(np.float32)
        coarse = np.repeat(np.repeat(coarse, 8, 0), 8, 1)
        fine = _noise(rng, 1)
        img = img + 28 * coarse + 22 * fine
    return img


def render(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """Draw a scene to a uint8 [224,224,3] image."""
    img = _background(rng, scene.background, *scene.bg_colors)
    for o in scene.objects:  # objects are drawn in list order (containers first)
        pad = int(math.ceil(o.r * 1.15)) + 1
        x0, x1 = max(0, int(o.cx) - pad), min(SIZE, int(o.cx) + pad + 1)
        y0, y1 = max(0, int(o.cy) - pad), min(SIZE, int(o.cy) + pad + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        dx, dy = _GRID_X[y0:y1, x0:x1] - o.cx, _GRID_Y[y0:y1, x0:x1] - o.cy
        c, s = math.cos(o.rot), math.sin(o.rot)
        u, v = c * dx + s * dy, -s * dx + c * dy
        m = _shape_mask(o.shape, u, v, o.r)
        col = np.asarray(COLORS[o.color], np.float32) + rng.uniform(-12, 12, 3).astype(np.float32)
        # mild shading so objects look less flat
        shade = 1.0 + 0.12 * (-(v / max(o.r, 1.0)))
        patch = img[y0:y1, x0:x1]
        patch[m] = (col[None, :] * np.clip(shade[m], 0.8, 1.2)[:, None])
    img += float(rng.uniform(2, 7)) * _noise(rng)  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- scenes
def _bg_colors(rng: np.random.Generator):
    base = rng.uniform(70, 200)
    tint = rng.uniform(-35, 35, 3)
    c0 = np.clip(base + tint, 0, 255)
    c1 = np.clip(c0 + rng.choice([-1, 1]) * rng.uniform(35, 60), 0, 255)
    return tuple(int(x) for x in c0), tuple(int(x) for x in c1)


def _radius(rng, size: str) -> float:
    return float(rng.uniform(11, 17) if size == "small" else rng.uniform(28, 38))


def _place(rng, objs: List[Obj], r: float, tries: int = 60) -> Optional[Tuple[float, float]]:
    for _ in range(tries):
        cx, cy = rng.uniform(r + 2, SIZE - r - 2, 2)
        if all((cx - o.cx) ** 2 + (cy - o.cy) ** 2 > (r + o.r + 4) ** 2 for o in objs):
            return float(cx), float(cy)
    return None


def _rot(rng, shape):
    return float(rng.uniform(-0.35, 0.35)) if shape in ("triangle", "star", "heart") else float(rng.uniform(-0.6, 0.6))


class ShapesWorld:
    def __init__(self, seed: int = 0, n_captions: int = 5):
        self.seed = int(seed)
        self.n_captions = n_captions

    # -- random scene description ------------------------------------------------
    def _scene(self, rng: np.random.Generator) -> Scene:
        bg = BACKGROUNDS[rng.integers(len(BACKGROUNDS))]
        bgc = _bg_colors(rng)
        kind = ["group", "relation", "mixed"][rng.choice(3, p=[0.45, 0.35, 0.2])]
        objs: List[Obj] = []
        rel = None
        if kind == "group":
            n = int(rng.integers(1, 5))
            shape, color = SHAPES[rng.integers(8)], COLOR_NAMES[rng.integers(11)]
            size = "large" if n <= 2 and rng.random() < 0.5 else "small"
            for _ in range(n):
                r = _radius(rng, size)
                p = _place(rng, objs, r)
                if p is None:
                    break
                objs.append(Obj(shape, color, size, p[0], p[1], r, _rot(rng, shape)))
        elif kind == "relation":
            rel = RELATIONS[rng.integers(3)]
            c1, c2 = rng.choice(11, 2, replace=False)
            if rel == "inside":
                outer_shape = CONTAINERS[rng.integers(3)]
                inner_shape = SHAPES[rng.integers(8)]
                R = float(rng.uniform(40, 52))
                cx, cy = rng.uniform(R + 2, SIZE - R - 2, 2)
                r_in = R * (0.3 if outer_shape == "ring" else 0.45)
                objs = [Obj(outer_shape, COLOR_NAMES[c2], "large", float(cx), float(cy), R, _rot(rng, outer_shape)),
                        Obj(inner_shape, COLOR_NAMES[c1], "small", float(cx), float(cy), r_in, _rot(rng, inner_shape))]
                # objects[1] is the subject ("a red star inside a blue ring")
                objs = objs  # order: container drawn first
            else:
                sa, sb = SHAPES[rng.integers(8)], SHAPES[rng.integers(8)]
                za, zb = SIZES[rng.integers(2)], SIZES[rng.integers(2)]
                ra, rb = _radius(rng, za), _radius(rng, zb)
                for _ in range(100):
                    if rel == "left of":
                        xa = rng.uniform(ra + 2, SIZE * 0.55)
                        xb = rng.uniform(max(xa + ra + rb + 10, SIZE * 0.45), SIZE + 100)
                        ya = rng.uniform(ra + 2, SIZE - ra - 2)
                        yb = ya + rng.uniform(-30, 30)
                    else:  # above
                        ya = rng.uniform(ra + 2, SIZE * 0.55)
                        yb = rng.uniform(max(ya + ra + rb + 10, SIZE * 0.45), SIZE + 100)
                        xa = rng.uniform(ra + 2, SIZE - ra - 2)
                        xb = xa + rng.uniform(-30, 30)
                    if rb + 2 <= xb <= SIZE - rb - 2 and rb + 2 <= yb <= SIZE - rb - 2:
                        break
                else:
                    xa, ya, xb, yb = 60.0, 60.0, 160.0, 160.0
                    ra = rb = 15.0
                    za = zb = "small"
                objs = [Obj(sa, COLOR_NAMES[c1], za, float(xa), float(ya), ra, _rot(rng, sa)),
                        Obj(sb, COLOR_NAMES[c2], zb, float(xb), float(yb), rb, _rot(rng, sb))]
        else:  # mixed
            n = int(rng.integers(2, 4))
            shapes = rng.choice(8, n, replace=False)
            colors = rng.choice(11, n, replace=False)
            for i in range(n):
                size = SIZES[rng.integers(2)] if n == 2 else "small"
                r = _radius(rng, size)
                p = _place(rng, objs, r)
                if p is None:
                    continue
                objs.append(Obj(SHAPES[shapes[i]], COLOR_NAMES[colors[i]], size, p[0], p[1], r, _rot(rng, SHAPES[shapes[i]])))
            if len(objs) == 1:
                kind = "group"
        if not objs:  # should not happen; keep it safe
            objs = [Obj("circle", "red", "large", 112.0, 112.0, 30.0, 0.0)]
            kind = "group"
        return Scene(kind, bg, bgc, objs, rel)

    # -- captions -----------------------------------------------------------------
    def _captions(self, sc: Scene, rng: np.random.Generator) -> List[str]:
        def sz(o):
            return SIZE_SYNONYMS[o.size][rng.integers(len(SIZE_SYNONYMS[o.size]))]

        def one(o, with_size=None):
            ws = rng.random() < 0.5 if with_size is None else with_size
            art = "a"
            words = ([sz(o)] if ws else []) + [o.color, o.shape]
            return f"{art} {' '.join(words)}"

        bgp = sc.background if sc.background != "noisy" else "noisy"
        bgword = ["background", "background", "backdrop"][rng.integers(3)]
        bg_suffix = f" on a {bgp} {bgword}"
        out: List[str] = []
        if sc.kind == "group":
            n = len(sc.objects)
            o = sc.objects[0]
            noun = PLURAL[o.shape] if n > 1 else o.shape
            cnt = COUNT_WORDS[n] if n > 1 else "a"
            cands = [
                f"{cnt} {sz(o)} {o.color} {noun}",
                f"{cnt} {o.color} {noun}",
                f"a photo of {cnt} {o.color} {noun}",
                f"{cnt} {sz(o)} {o.color} {noun}{bg_suffix}",
                (f"there are {cnt} {o.color} {noun}" if n > 1 else f"there is {cnt} {o.color} {noun}"),
                f"{cnt} {o.color} {noun}{bg_suffix}",
                (f"{n} {o.color} {noun}" if n > 1 else f"a single {o.color} {noun}"),
                f"an image with {cnt} {sz(o)} {o.color} {noun}",
            ]
        elif sc.kind == "relation":
            a, b = sc.objects[0], sc.objects[1]
            if sc.relation == "inside":
                inner, outer = sc.objects[1], sc.objects[0]
                cands = [
                    f"{one(inner, False)} inside {one(outer, False)}",
                    f"{one(outer, False)} around {one(inner, False)}",
                    f"{one(inner, False)} in {one(outer, False)}",
                    f"{one(inner, True)} inside {one(outer, False)}{bg_suffix}",
                    f"a photo of {one(inner, False)} inside {one(outer, False)}",
                    f"{one(outer, True)} with {one(inner, False)} inside",
                ]
            elif sc.relation == "left of":
                cands = [
                    f"{one(a)} left of {one(b)}",
                    f"{one(a)} to the left of {one(b)}",
                    f"{one(b)} to the right of {one(a)}",
                    f"{one(b)} right of {one(a)}{bg_suffix}",
                    f"a photo of {one(a)} next to {one(b)}",
                    f"{one(a)} and {one(b)}",
                ]
            else:
                cands = [
                    f"{one(a)} above {one(b)}",
                    f"{one(b)} below {one(a)}",
                    f"{one(a)} over {one(b)}",
                    f"{one(b)} under {one(a)}{bg_suffix}",
                    f"a photo of {one(a)} above {one(b)}",
                    f"{one(a)} and {one(b)}",
                ]
        else:
            objs = list(sc.objects)
            parts = [one(o) for o in objs]
            perm = [parts[i] for i in rng.permutation(len(parts))]

            def join(ps):
                return ps[0] if len(ps) == 1 else ", ".join(ps[:-1]) + " and " + ps[-1]
            cands = [
                join(parts),
                join(perm),
                f"a photo of {join(parts)}",
                f"{join(perm)}{bg_suffix}",
                f"{COUNT_WORDS[len(objs)]} shapes: {join(parts)}".replace(":", ","),
                f"an image with {join(perm)}",
            ]
        order = rng.permutation(len(cands))
        out = [cands[i] for i in order[: self.n_captions]]
        while len(out) < self.n_captions:
            out.append(cands[len(out) % len(cands)])
        return out

    # -- public API ---------------------------------------------------------------
    def item(self, split: str, index: int) -> Tuple[np.ndarray, List[str], Scene]:
        rng = np.random.default_rng([self.seed, SPLITS[split], int(index)])
        sc = self._scene(rng)
        sc.captions = self._captions(sc, rng)
        img = render(sc, rng)
        return img, sc.captions, sc

    def captions_only(self, split: str, index: int) -> List[str]:
        rng = np.random.default_rng([self.seed, SPLITS[split], int(index)])
        sc = self._scene(rng)
        return self._captions(sc, rng)

    def dataset(self, split: str, n: int) -> Tuple[np.ndarray, List[List[str]]]:
        imgs = np.empty((n, SIZE, SIZE, 3), np.uint8)
        caps: List[List[str]] = []
        for i in range(n):
            imgs[i], c, _ = self.item(split, i)
            caps.append(c)
        return imgs, caps


# ----------------------------------------------------------------------------- streams
try:
    import torch
    from torch.utils.data import IterableDataset, get_worker_info
except Exception:  # pragma: no cover - torch is required for training only
    torch = None
    IterableDataset = object  # type: ignore


class ShapesStream(IterableDataset):  # type: ignore[misc]
    """Infinite stream of *batches*: (uint8 images [B,224,224,3], one caption per image,
    owner ids (equal ids = same scene; negative ids for unpaired captions), every caption of
    each image's scene).

    Batch ``b`` depends only on (seed, b), so a resumed run continues the exact stream.
    With DataLoader(batch_size=None, num_workers=W) worker w produces batches b = w mod W;
    the DataLoader's round-robin order keeps the global order deterministic.
    ``pool`` > 0 cycles a fixed pool of pre-generated images instead (fast for CPU tests).
    ``split='text'`` with ``unpaired=True`` gives captions of *other* scenes than the images
    (for stage 1's unpaired data).
    """

    def __init__(self, seed: int, batch_size: int, start: int = 0, split: str = "train",
                 pool: int = 0, unpaired: bool = False, pool_cache: Optional[dict] = None,
                 rank: int = 0, world_size: int = 1):
        self.world = ShapesWorld(seed)
        self.seed, self.bs, self.start, self.split = seed, batch_size, start, split
        self.pool, self.unpaired = pool, unpaired
        self._cache = pool_cache
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} is the global batch: it must be divisible by the "
                             f"number of ranks ({world_size})")
        # Distributed runs: batch b is still the same *global* batch; rank r gets the contiguous
        # slice [r*B/W, (r+1)*B/W), so ranks never share a sample position and any world size
        # trains on the same global stream.
        self.rank, self.world_size = rank, world_size
        self.lo = rank * (batch_size // world_size)
        self.hi = self.lo + batch_size // world_size

    def _pool(self):
        key = (self.seed, self.split, self.pool)
        cache = self._cache if self._cache is not None else _POOL_CACHE
        if key not in cache:
            cache[key] = self.world.dataset(self.split, self.pool)
        return cache[key]

    def batch(self, b: int):
        """(images, captions, owners, each image's captions) of this rank's part of batch ``b``."""
        return self.shard(b)[:4]

    def shard(self, b: int):
        """This rank's part of batch ``b`` plus the captions and owners of the whole global batch
        (the contrastive losses' positive mask covers the global batch)."""
        rng = np.random.default_rng([self.seed, 99, int(b)])
        lo, hi = self.lo, self.hi
        if self.pool:
            imgs, caps = self._pool()
            idx = rng.integers(0, self.pool, self.bs)
            texts = [caps[i][rng.integers(len(caps[i]))] for i in idx]
            owner = idx.copy()
            allcaps = [caps[i] for i in idx]
            if self.unpaired:
                tidx = rng.integers(0, self.pool, self.bs)
                texts = [caps[i][rng.integers(len(caps[i]))] for i in tidx]
                owner = -1 - tidx
            return imgs[idx[lo:hi]], texts[lo:hi], owner[lo:hi], allcaps[lo:hi], texts, owner
        x = np.empty((hi - lo, SIZE, SIZE, 3), np.uint8)
        texts, allcaps = [], []
        base = int(b) * self.bs
        for j in range(self.bs):
            if lo <= j < hi:  # only this rank's images are rendered; the others' captions are cheap
                x[j - lo], c, _ = self.world.item(self.split, base + j)
            else:
                c = self.world.captions_only(self.split, base + j)
            texts.append(c[rng.integers(len(c))])
            allcaps.append(c)
        owner = np.arange(base, base + self.bs)
        if self.unpaired:
            texts = []
            for j in range(self.bs):
                c = self.world.captions_only("text", base + j)
                texts.append(c[rng.integers(len(c))])
            owner = -1 - owner
        return x, texts[lo:hi], owner[lo:hi], allcaps[lo:hi], texts, owner

    def __iter__(self) -> Iterator:
        wi = get_worker_info() if torch is not None else None
        w, nw = (wi.id, wi.num_workers) if wi is not None else (0, 1)
        b = self.start + w
        while True:
            yield self.shard(b)
            b += nw


_POOL_CACHE: dict = {}


# ----------------------------------------------------------------------------- export
def export_testset(out_dir: str, n: int = 200, seed: int = 0, split: str = "test", fmt: str = "jpg",
                   json_name: Optional[str] = None) -> str:
    """Write ``n`` photos + a labelled JSON in coco-mini's format ([{file, captions}])."""
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    world = ShapesWorld(seed)
    entries = []
    try:
        from PIL import Image  # type: ignore
    except Exception:  # pragma: no cover
        Image = None
    for i in range(n):
        img, caps, _ = world.item(split, i)
        if Image is None:
            name = f"images/shapes_{split}_{i:05d}.ppm"
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(b"P6 %d %d 255\n" % (SIZE, SIZE) + img.tobytes())
        else:
            name = f"images/shapes_{split}_{i:05d}.{fmt}"
            im = Image.fromarray(img)
            if fmt in ("jpg", "jpeg"):
                im.save(os.path.join(out_dir, name), quality=95)
            else:
                im.save(os.path.join(out_dir, name))
        entries.append({"file": name, "captions": caps, "scene": _scene_of(world, split, i).record()})
    path = os.path.join(out_dir, json_name or f"{split}.json")
    with open(path, "w") as f:
        json.dump(entries, f, indent=1)
    return path


# Scenes the demo library always contains, so its showcase queries have answers:
# (what a user would type, how many photos, which scenes match).
DEMO_SHOWCASE = [
    ("two red circles", 3, lambda sc: sc.kind == "group" and len(sc.objects) == 2
     and all(o.shape == "circle" and o.color == "red" for o in sc.objects)),
    ("a yellow star", 2, lambda sc: sc.kind == "group" and len(sc.objects) == 1
     and sc.objects[0].shape == "star" and sc.objects[0].color == "yellow"),
    ("a blue ring", 2, lambda sc: any(o.shape == "ring" and o.color == "blue" for o in sc.objects)),
    ("three green triangles", 2, lambda sc: sc.kind == "group" and len(sc.objects) == 3
     and all(o.shape == "triangle" and o.color == "green" for o in sc.objects)),
]


def export_demo(out_dir: str, n: int = 150, seed: int = 0, start: int = 5000, quality: int = 90) -> str:
    """The app's demo library: ``n`` test-split photos (from index ``start``, far from the first
    test images the pipeline evaluates on) including every DEMO_SHOWCASE scene, written as
    ``photos/*.jpg`` + ``labelled.json`` in coco-mini's format (files relative to the JSON)."""
    from PIL import Image  # type: ignore
    world = ShapesWorld(seed)
    chosen: List[int] = []
    for _query, count, match in DEMO_SHOWCASE:
        found, i = 0, start
        while found < count:
            sc = world._scene(np.random.default_rng([world.seed, SPLITS["test"], i]))
            if match(sc) and i not in chosen:
                chosen.append(i)
                found += 1
            i += 1
    i = start
    while len(chosen) < n:
        if i not in chosen:
            chosen.append(i)
        i += 1
    os.makedirs(os.path.join(out_dir, "photos"), exist_ok=True)
    entries = []
    for i in sorted(chosen):
        img, caps, sc = world.item("test", i)
        name = f"photos/shapes_{i:05d}.jpg"
        Image.fromarray(img).save(os.path.join(out_dir, name), quality=quality)
        entries.append({"file": name, "captions": caps, "scene": sc.record()})
    path = os.path.join(out_dir, "labelled.json")
    with open(path, "w") as f:
        json.dump(entries, f, indent=1)
    return path


def _scene_of(world: ShapesWorld, split: str, index: int) -> Scene:
    return world._scene(np.random.default_rng([world.seed, SPLITS[split], int(index)]))


def relabel(json_path: str, seed: int = 0, split: str = "test") -> str:
    """Adds each photo's scene to an exported labelled JSON (demo or test set) without redrawing
    the photos (so no PIL needed): the index is read from the file name, the scene regenerated
    from (seed, split, index), and its captions must equal the stored ones - a mismatch means a
    wrong seed or split, and nothing is written."""
    world = ShapesWorld(seed)
    with open(json_path) as f:
        entries = json.load(f)
    for e in entries:
        m = re.search(r"(\d+)\.[a-z]+$", e["file"])
        if not m:
            raise ValueError(f"{e['file']}: no photo index in the file name")
        i = int(m.group(1))
        rng = np.random.default_rng([world.seed, SPLITS[split], i])
        sc = world._scene(rng)
        caps = world._captions(sc, rng)
        if caps != e["captions"]:
            raise ValueError(f"{e['file']}: its captions are not those of ShapesWorld(seed={seed}) {split} #{i}")
        e["scene"] = sc.record()
    with open(json_path, "w") as f:
        json.dump(entries, f, indent=1)
    return json_path
