import json
import os

import numpy as np

from models.distill.shapesworld import ShapesStream, ShapesWorld, export_testset, relabel, SHAPES, COLOR_NAMES
from models.distill.pipeline import shapesworld_vocab
from models.distill.tokenizer import get_tokenizer


def test_deterministic_and_varied():
    a, b = ShapesWorld(3), ShapesWorld(3)
    for i in range(5):
        ia, ca, _ = a.item("test", i)
        ib, cb, _ = b.item("test", i)
        assert ia.dtype == np.uint8 and ia.shape == (224, 224, 3)
        assert np.array_equal(ia, ib) and ca == cb and len(ca) == 5
    assert not np.array_equal(ShapesWorld(4).item("test", 0)[0], a.item("test", 0)[0])
    assert not np.array_equal(a.item("val", 0)[0], a.item("test", 0)[0])


def test_scene_variety_and_captions_mention_content():
    w = ShapesWorld(0)
    kinds, bgs, rels = set(), set(), set()
    for i in range(120):
        _, caps, sc = w.item("train", i)
        kinds.add(sc.kind), bgs.add(sc.background), rels.add(sc.relation)
        assert 1 <= len(sc.objects) <= 4
        o = sc.objects[-1]
        assert any(o.color in c for c in caps)
        assert any(o.shape in c for c in caps)
    assert kinds == {"group", "relation", "mixed"}
    assert bgs == {"plain", "striped", "dotted", "gradient", "noisy"}
    assert {"left of", "above", "inside"} <= rels


def test_stream_batches_are_step_indexed():
    s = ShapesStream(0, 4)
    x1, t1, o1, c1 = s.batch(7)
    x2, t2, o2, c2 = ShapesStream(0, 4, start=7).batch(7)
    assert np.array_equal(x1, x2) and t1 == t2
    it = iter(ShapesStream(0, 4, start=7))
    assert np.array_equal(next(it)[0], x1)
    xu, tu, ou, _ = ShapesStream(0, 4, unpaired=True).batch(7)
    assert (ou < 0).all() and tu != t1


def test_export_testset_coco_format(tmp_path):
    path = export_testset(str(tmp_path), n=3, seed=0, fmt="png")
    data = json.load(open(path))
    assert len(data) == 3
    for e in data:
        assert e["file"].startswith("images/") and os.path.exists(tmp_path / e["file"])
        assert len(e["captions"]) == 5 and all(isinstance(c, str) for c in e["captions"])


def test_reduced_vocab_covers_captions():
    vocab = set(shapesworld_vocab())
    tok = get_tokenizer()
    w = ShapesWorld(1)
    for i in range(300):
        for c in w.captions_only("train", i):
            missing = [t for t in tok.encode(c) if t not in vocab]
            assert not missing, (c, [tok.decode([t]) for t in missing])


def test_export_writes_each_scene_and_relabel_adds_it(tmp_path):
    path = export_testset(str(tmp_path), n=4, seed=0, fmt="png")
    entries = json.load(open(path))
    world = ShapesWorld(0)
    for i, e in enumerate(entries):
        _, caps, sc = world.item("test", i)
        rec = e["scene"]
        assert [(o["shape"], o["color"]) for o in rec["objects"]] == [(o.shape, o.color) for o in sc.objects]
        assert sum(rec["counts"].values()) == len(sc.objects)
        # each object's colour and shape appear in at least one caption
        for o in rec["objects"]:
            assert any(o["color"] in c for c in e["captions"])
    # relabel regenerates the same scenes from file names, and refuses a wrong seed
    for e in entries:
        del e["scene"]
    json.dump(entries, open(path, "w"))
    relabel(path, seed=0)
    assert [e["scene"] for e in json.load(open(path))] == [world.item("test", i)[2].record() for i in range(4)]
    import pytest
    with pytest.raises(ValueError):
        relabel(path, seed=1)
