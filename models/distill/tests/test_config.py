"""Typed configuration: configs/*.json (+ --set overrides) are checked against dataclasses."""
import json
import os

import pytest

from models.distill.config import ConfigError, RunConfig, typed
from models.distill.pipeline import CONFIG_DIR, load_config


@pytest.mark.parametrize("name", sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".json")))
def test_shipped_configs_are_valid_and_completed(name):
    cfg = load_config(name)
    assert isinstance(typed(cfg, name), RunConfig)
    # defaults filled in where a file leaves a key out (the values the code used before)
    assert cfg["dist"]["timeout_s"] > 0 and cfg["stage2"]["wd"] == json.load(
        open(os.path.join(CONFIG_DIR, name + ".json")))["stage2"].get("wd", 0.05)
    assert cfg["out_dir"].endswith(os.path.join("runs", cfg["name"]))


def test_unknown_key_is_named_with_the_file():
    with pytest.raises(ConfigError, match=r"tiny\.json: unknown key teacher\.stpes \(known: .*steps"):
        load_config("tiny", ["teacher.stpes=5"])
    with pytest.raises(ConfigError, match=r"unknown key student\.model\.vision_widht"):
        load_config("tiny", ["student.model.vision_widht=8"])


def test_missing_and_mistyped_keys(tmp_path):
    raw = json.load(open(os.path.join(CONFIG_DIR, "tiny.json")))
    del raw["stage2"]["steps_text"]
    p = tmp_path / "broken.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"broken\.json: missing required key stage2\.steps_text"):
        load_config(str(p))
    with pytest.raises(ConfigError, match=r"teacher\.steps: expected an integer, got '5'"):
        load_config("tiny", ['teacher.steps="5"'])
    with pytest.raises(ConfigError, match=r"precision: 'fp8' is not one of"):
        load_config("tiny", ["precision=fp8"])
    with pytest.raises(ConfigError, match=r"stage1\.enabled: expected true/false"):
        load_config("tiny", ["stage1.enabled=1"])


def test_overrides_and_test_hooks_pass():
    cfg = load_config("tiny", ["teacher.steps=7", "stage2.hn_k=3", "_stop_after=2"])
    assert cfg["teacher"]["steps"] == 7 and cfg["stage2"]["hn_k"] == 3 and cfg["_stop_after"] == 2
    assert cfg["teacher"]["lr"] == pytest.approx(0.002) and isinstance(cfg["teacher"]["lr"], float)


def test_cli_reports_a_bad_key_in_one_line():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(CONFIG_DIR)))
    r = subprocess.run([sys.executable, "-m", "models.distill", "train-teacher", "--config", "tiny",
                        "--set", "teacher.stpes=5"], cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "error: " in r.stderr and "unknown key teacher.stpes" in r.stderr and "Traceback" not in r.stderr
