"""The pipeline checks its manifest entries against the app's own schema (models/manifest.schema.json)."""
import json
import os

from models.distill import manifest_schema

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")


def entry_problems(e):
    return manifest_schema.problems(e, manifest_schema.entry_schema())


def test_every_entry_the_app_ships_is_valid():
    with open(os.path.join(ROOT, "models", "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest_schema.problems(manifest, manifest_schema.load_schema()) == []
    assert len(manifest["models"]) >= 5


def test_what_the_app_would_refuse_is_reported_by_field():
    with open(os.path.join(ROOT, "models", "manifest.json")) as f:
        good = json.load(f)["models"][0]
    assert entry_problems(good) == []
    bad = dict(good, role="boss", dim=0, colour="red")
    bad["image"] = dict(good["image"], sha256="xyz")
    bad["preprocess"] = dict(good.get("preprocess", {}), resize="stretch", mean=[0.5, 0.5])
    bad["lineage"] = {"parent": "x"}
    del bad["text"]
    found = "\n".join(entry_problems(bad))
    for expected in ["role: 'boss' is not one of", "dim: must be above 0", "colour: unknown key", "image.sha256: does not match",
                     "preprocess.resize: 'stretch' is not one of", "preprocess.mean", "lineage: matches none", "text: missing"]:
        assert expected in found, (expected, found)
