"""The app's manifest schema, checked from Python.

`models/manifest.schema.json` is the JSON Schema made from the app's own zod schema
(main/services/models/manifest.ts, exported by scripts/export-manifest-schema.ts), so the entries this
pipeline writes are held to exactly the rules the app loads them with. This is a small validator
for the JSON Schema keywords that file uses (no third-party package: PyPI is not reachable in CI).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, List

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "manifest.schema.json")

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def load_schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def entry_schema(schema: dict | None = None) -> dict:
    """The schema of one entry of `models`."""
    return (schema or load_schema())["properties"]["models"]["items"]


def problems(value: Any, schema: dict, path: str = "") -> List[str]:
    """Every way `value` breaks `schema`, as "path: what" lines (empty: valid)."""
    at = path or "(entry)"
    if "anyOf" in schema:
        if any(not problems(value, s, path) for s in schema["anyOf"]):
            return []
        return [f"{at}: matches none of the allowed forms"]
    out: List[str] = []
    t = schema.get("type")
    types = t if isinstance(t, list) else [t] if t is not None else []
    if types and not any(_TYPES[x](value) for x in types):
        return [f"{at}: expected {' or '.join(types)}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{at}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{at}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{at}: too short")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{at}: does not match {schema['pattern']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{at}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{at}: above {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            out.append(f"{at}: must be above {schema['exclusiveMinimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            out.append(f"{at}: wrong number of items ({len(value)})")
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if isinstance(sub, dict):
                out += problems(item, sub, f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                out.append(f"{path + '.' if path else ''}{k}: missing")
        for k, v in value.items():
            key = f"{path + '.' if path else ''}{k}"
            if k in props:
                out += problems(v, props[k], key)
            elif schema.get("additionalProperties") is False:
                out.append(f"{key}: unknown key")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += problems(v, schema["additionalProperties"], key)
    return out
