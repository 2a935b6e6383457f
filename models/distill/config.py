"""Typed run configuration: ``configs/*.json`` (after ``--set`` overrides) are checked against
these dataclasses.  An unknown key (a typo such as ``teacher.stpes``), a missing required key or a
value of the wrong type is an error that names the key and the file, instead of a silently ignored
setting or a KeyError deep in training.

The pipeline keeps passing plain dicts around (``RunConfig.to_dict()``, every default filled in),
so the JSON files stay the single source and ``--set key.sub=value`` works as before.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from .model import ClipConfig

class ConfigError(ValueError):
    pass


@dataclass
class DataConfig:
    pool: int = 0  # > 0: cycle a pre-generated pool of this many images; 0: infinite stream
    val_size: int = 200
    test_size: int = 200
    workers: int = 0  # DataLoader workers per rank (stream mode only)


@dataclass
class EvalConfig:
    every: int = 0  # validation recall every N steps (0: never)


@dataclass
class DistConfig:
    timeout_s: float = 1800.0  # bound on every collective: a dead/stuck rank fails the others


# Fields without a default are required (they come first: dataclass ordering).  Defaults equal
# the ones the training code used with ``dict.get`` before this module existed.
@dataclass
class TeacherConfig:
    steps: int
    batch_size: int  # global batch (all ranks together)
    lr: float
    model: Dict[str, Any] = field(default_factory=dict)  # ClipConfig fields
    wd: float = 0.1
    warmup: int = 10
    init: Optional[str] = None  # OpenAI CLIP .pt / checkpoint to start from


@dataclass
class StudentConfig:
    model: Dict[str, Any]  # ClipConfig fields; dims/vocab come from the teacher
    text_layers_from: Optional[List[int]] = None


@dataclass
class Stage1Config:
    batch_size: Optional[int] = None  # required when stage 1 runs (enabled and steps > 0)
    lr: Optional[float] = None
    steps: int = 0
    enabled: bool = True
    loss: str = "contrastive"  # or "mse" (ablation)
    temperature: float = 0.05
    wd: float = 0.05
    warmup: int = 10


@dataclass
class Stage2Config:
    steps_image: int
    steps_text: int
    batch_size: int
    lr: float
    sequential: bool = True
    wd: float = 0.05
    warmup: int = 10
    kd_weight: float = 1.0
    emb_weight: float = 1.0
    kd_temperature: float = 1.0
    hard_negatives: bool = True
    hn_weight: float = 1.0
    hn_k: int = 8
    hn_corpus: int = 256
    hn_refresh: int = 50


@dataclass
class ExportConfig:
    opset: int = 14
    id_prefix: Optional[str] = None
    hidden: bool = True


@dataclass
class RunConfig:
    name: str
    teacher: TeacherConfig
    student: StudentConfig
    stage2: Stage2Config
    stage1: Stage1Config = field(default_factory=Stage1Config)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | fp16
    checkpoint_every: int = 100
    vocab: Union[str, List[int], None] = None  # "shapesworld", a list of token ids, or null
    threads: Optional[int] = None
    resume: bool = True
    out_dir: Optional[str] = None
    data: DataConfig = field(default_factory=DataConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    dist: DistConfig = field(default_factory=DistConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Test hooks (leading underscore) pass through unchecked: see Trainer._fault / _dump_grads.
PRIVATE_PREFIX = "_"
CHOICES = {"precision": ("auto", "fp32", "bf16", "fp16"), "stage1.loss": ("contrastive", "mse")}


def _check_type(value, tp, where: str):
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin is Union:
        errors = []
        for t in typing.get_args(tp):
            if t is type(None):
                if value is None:
                    return None
                continue
            try:
                return _check_type(value, t, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{where}: expected {_name(tp)}, got {value!r}")
    if origin in (list, List):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_check_type(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected an object, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    raise ConfigError(f"{where}: unsupported type {tp}")  # pragma: no cover


def _name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _build(cls, d, where: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{where or 'config'}: expected an object, got {d!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{where}." if where else ""
    unknown = [k for k in d if k not in fields and not k.startswith(PRIVATE_PREFIX)]
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(prefix + k for k in unknown)} (known: {', '.join(sorted(fields))})")
    kw = {}
    for name, f in fields.items():
        key = prefix + name
        if name not in d:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:  # type: ignore[misc]
                raise ConfigError(f"missing required key {key}")
            continue
        v = _check_type(d[name], hints[name], key)
        if key in CHOICES and v not in CHOICES[key]:
            raise ConfigError(f"{key}: {v!r} is not one of {', '.join(CHOICES[key])}")
        kw[name] = v
    return cls(**kw)


def _check_model(d: dict, where: str):
    known = set(ClipConfig.__dataclass_fields__)
    unknown = [k for k in d if k not in known]
    if unknown:
        raise ConfigError(f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(f'{where}.{k}' for k in unknown)} "
                          f"(model fields: {', '.join(sorted(known))})")
    for k, v in d.items():
        if k != "vocab" and (isinstance(v, bool) or not isinstance(v, int)):
            raise ConfigError(f"{where}.{k}: expected an integer, got {v!r}")


def typed(raw: dict, source: str = "config") -> RunConfig:
    """Check a loaded (and overridden) config; errors name the key and ``source``."""
    try:
        cfg = _build(RunConfig, raw, "")
        _check_model(cfg.teacher.model, "teacher.model")
        _check_model(cfg.student.model, "student.model")
        s1 = cfg.stage1
        if s1.enabled and s1.steps > 0:
            for k in ("batch_size", "lr"):
                if getattr(s1, k) is None:
                    raise ConfigError(f"missing key stage1.{k} (stage 1 runs: enabled with {s1.steps} steps)")
        if not cfg.teacher.model and not cfg.teacher.init:
            raise ConfigError("teacher.model is empty and teacher.init is not set: nothing to build the teacher from")
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
    return cfg


def validated_dict(raw: dict, source: str = "config") -> dict:
    """``raw`` checked and completed with defaults; private test hooks (``_x``) kept."""
    out = typed(raw, source).to_dict()
    out.update({k: v for k, v in raw.items() if k.startswith(PRIVATE_PREFIX)})
    return out
