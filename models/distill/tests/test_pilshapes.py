"""The out-of-generator evaluation set (PIL-drawn shapes, own caption templates)."""
import json

import numpy as np
import pytest

from models.distill import pilshapes as P
from models.distill.pipeline import shapesworld_vocab
from models.distill.shapesworld import PLURAL, SHAPES
from models.distill.tokenizer import get_tokenizer


def test_items_are_deterministic_and_export_is_coco_mini(tmp_path):
    a, ca, da = P.item(0, 3)
    b, cb, db = P.item(0, 3)
    assert np.array_equal(np.asarray(a), np.asarray(b)) and ca == cb and da == db
    assert not np.array_equal(np.asarray(P.item(1, 3)[0]), np.asarray(a))
    path = P.export_pilshapes(str(tmp_path), n=3, seed=0)
    imgs, texts, owner = P.load_labelled(path)
    assert len(imgs) == 3 and len(texts) == 15 and owner == [i for i in range(3) for _ in range(5)]
    assert all(im.dtype == np.uint8 and im.ndim == 3 and min(im.shape[:2]) >= 224 for im in imgs)


def test_every_template_caption_is_in_the_reduced_vocabulary():
    """The shipped models store only ShapesWorld's ~150 token rows: a caption word outside them
    would read as the shared unknown row and make this set unfairly hard."""
    vocab, tok = set(shapesworld_vocab()), get_tokenizer()
    caps = [P._fix_articles(t.format(n="two", c=c, ps=PLURAL[s], s=s, sz="small")) for t in P.GROUP + P.SINGLE
            for c in P.HSV for s in SHAPES]
    caps += [P._fix_articles(t.format(c1=c, s1=s, c2="orange", s2="ring")) for ts in P.REL.values() for t in ts
             for c in P.HSV for s in SHAPES]
    for c in caps:
        missing = [tok.decode([i]) for i in tok.encode(c) if i not in vocab]
        assert not missing, (c, missing)
    assert "an orange ring" in " ".join(caps) and "a orange" not in " ".join(caps)


def test_load_labelled_names_the_bad_entry(tmp_path):
    (tmp_path / "l.json").write_text(json.dumps([{"file": "x.png"}]))
    with pytest.raises(ValueError, match="entry 0"):
        P.load_labelled(str(tmp_path / "l.json"))
