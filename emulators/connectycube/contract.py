"""The spec as a contract: request parameters and JSON bodies checked against their schemas.

The generated skeleton parses types; the spec says more (`minimum`, `maximum`, `enum`, fields that
may be left out but not sent as null). A reference emulator refuses what the spec forbids, with the
vendor's validation error, before an operation runs. `response_errors` checks answers the same way
(the tests use it on every response).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from generated.connectycube.server import spec


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    pattern: re.Pattern[str]
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # JSON body schema
    responses: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
        target: Any = document
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@functools.cache
def document() -> dict[str, Any]:
    """The bundled spec, read once."""
    return spec()


@functools.cache
def index() -> dict[str, Operation]:
    doc = document()
    out: dict[str, Operation] = {}
    for path, item in doc.get("paths", {}).items():
        for method, raw in item.items():
            if not isinstance(raw, dict) or "operationId" not in raw:
                continue
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
            op = Operation(raw["operationId"], method.upper(), path, re.compile(regex))
            for param in [*item.get("parameters", []), *raw.get("parameters", [])]:
                param = _resolve(doc, param)
                if param.get("in") == "query" and "schema" in param:
                    op.query[param["name"]] = param["schema"]
            body = _resolve(doc, raw.get("requestBody") or {})
            media = (body.get("content") or {}).get("application/json")
            if media and "schema" in media:
                op.body = media["schema"]
            for status, response in (raw.get("responses") or {}).items():
                response = _resolve(doc, response)
                json_media = (response.get("content") or {}).get("application/json")
                op.responses[status] = json_media.get("schema") if json_media else None
            out[op.operation_id] = op
    return out


@functools.cache
def _validator(key: str) -> Draft202012Validator:
    """One validator per schema (`key` is `operationId:part`), resolving the spec's components."""
    op_id, _, part = key.partition(":")
    op = index()[op_id]
    if part == "body":
        schema = op.body
    elif part.startswith("query="):
        schema = op.query[part[6:]]
    else:
        schema = op.responses[part[9:]]
    components = document().get("components", {})
    return Draft202012Validator({**(schema or {}), "components": components})


def _types(schema: dict[str, Any]) -> list[str]:
    schema = _resolve(document(), schema)
    kinds = schema.get("type")
    found = [kinds] if isinstance(kinds, str) else list(kinds or [])
    for option in [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]:
        found.extend(_types(option))
    return found


def _read(text: str, schema: dict[str, Any]) -> Any:
    """A query value as the type its schema names (the first that fits)."""
    kinds = _types(schema)
    for kind in kinds:
        if kind == "integer":
            try:
                return int(text)
            except ValueError:
                continue
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                continue
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return text


def _message(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else str(error.message)


def request_errors(
    operation_id: str, query: list[tuple[str, str]], body: Any, json_body: bool
) -> list[str]:
    """What in the request breaks the operation's declared parameter and body schemas."""
    op = index().get(operation_id)
    if op is None:
        return []
    errors: list[str] = []
    values: dict[str, list[str]] = {}
    for key, text in query:
        values.setdefault(key, []).append(text)
    for name, schema in op.query.items():
        if name not in values:
            continue
        resolved = _resolve(document(), schema)
        if "array" in _types(resolved):
            items = resolved.get("items") or {}
            value: Any = [_read(v, items) for v in values[name]]
        else:
            value = _read(values[name][-1], resolved)
        for error in _validator(f"{operation_id}:query={name}").iter_errors(value):
            errors.append(f"{name}: {error.message}")
    if json_body and op.body is not None and body is not None:
        errors.extend(_message(e) for e in _validator(f"{operation_id}:body").iter_errors(body))
    return errors


def find(method: str, path: str) -> Operation | None:
    """The operation serving a request (literal paths win over templated ones)."""
    matches = [op for op in index().values() if op.method == method and op.pattern.match(path)]
    matches.sort(key=lambda op: op.path.count("{"))
    return matches[0] if matches else None


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """What in a JSON answer breaks the declared response schema of its status."""
    op = find(method, path)
    if op is None:
        return []
    key = str(status) if str(status) in op.responses else "default"
    if key not in op.responses:
        return [f"status {status} is not declared for {op.operation_id}"]
    if op.responses[key] is None:
        return []
    validator = _validator(f"{op.operation_id}:response={key}")
    return [_message(e) for e in validator.iter_errors(body)]
