"""Between validate and build: read an OpenAPI 3.0 document as the 3.1 document it means.

Every later stage (IR, models, servers' JSON Schema checks, docs) then speaks one dialect: JSON
Schema 2020-12. The rewrites are the ones 3.1 itself describes for the 3.0 keywords it dropped:

- `nullable: true` becomes `null` among the types (`type: [string, "null"]`, `None` in an `enum`),
  or a `{"type": "null"}` branch around a `$ref` / composition, whose own `nullable` 3.0 ignored
  but whose authors meant it;
- boolean `exclusiveMinimum`/`exclusiveMaximum` become the numbers they qualified.

A 3.1 document comes back unchanged (the same object).
"""

from __future__ import annotations

import copy
from typing import Any

from .diagnostics import split_pointer
from .load import resolve_pointer

# annotations that describe the value as a whole: they stay beside a `{"type": "null"}` branch
_OUTER: tuple[str, ...] = ("title", "description", "default", "example", "examples", "deprecated")
_OUTER += ("readOnly", "writeOnly", "externalDocs", "xml")
# members whose values are instances, not schemas: an example may well say `nullable: true`
_DATA = frozenset({"example", "examples", "default", "enum", "const"})


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """The 3.1 reading of a 3.0 document (a new dict); a 3.1 document as it is."""
    if not str(data.get("openapi", "")).startswith("3.0"):
        return data
    out: dict[str, Any] = _walk(data)
    out["openapi"] = "3.1.0"
    return out


def _walk(node: Any) -> Any:
    if isinstance(node, list):
        return [_walk(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k.startswith("x-") or k in _DATA else _walk(v)) for k, v in node.items()}
    for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(bound), bool) and out.pop(bound) and limit in out:
            out[bound] = out.pop(limit)
    nullable = out.get("nullable")
    if not isinstance(nullable, bool):
        return out  # a property *named* nullable, or no such keyword
    del out["nullable"]
    return _nullable(out) if nullable else out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"] if kind != "null" else "null"
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if isinstance(kind, list):
        if "null" not in kind:
            schema["type"] = [*kind, "null"]
        return schema
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and len(schema) == 1 + _count(schema, _OUTER):
            if {"type": "null"} not in branches:
                schema[key] = [*branches, {"type": "null"}]
            return schema
    if not any(k in schema for k in ("$ref", "allOf", "anyOf", "oneOf", "not")):
        return schema  # no type at all: null is already allowed
    outer = {k: schema.pop(k) for k in _OUTER if k in schema}
    return {**outer, "anyOf": [schema, {"type": "null"}]}


def _count(schema: dict[str, Any], keys: tuple[str, ...]) -> int:
    return sum(1 for k in keys if k in schema)


def drop_flagged_defaults(data: dict[str, Any], pointers: list[str]) -> dict[str, Any]:
    """A copy without the `default` values the validator rejected (under `--lenient`).

    A default of the wrong type (`"false"` for a boolean) would become a typed field whose default
    is not of its type; without it the field is simply optional. Pointers may pass through `$ref`s,
    as the validator walks them.
    """
    out: dict[str, Any] = copy.deepcopy(data)
    for pointer in pointers:
        tokens = split_pointer(pointer)
        if not tokens or tokens[-1] != "default":
            continue
        parent = _follow(out, tokens[:-1])
        if isinstance(parent, dict):
            parent.pop("default", None)
    return out


def _follow(data: dict[str, Any], tokens: list[str]) -> Any:
    node: Any = data
    for token in tokens:
        for _ in range(32):  # through `$ref`s that do not have the member themselves
            if isinstance(node, dict) and token not in node and isinstance(node.get("$ref"), str):
                try:
                    node = resolve_pointer(data, node["$ref"].removeprefix("#"))
                except LookupError:
                    return None
            else:
                break
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node
