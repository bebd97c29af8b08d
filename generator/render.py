"""Stage 5, render: Jinja over the IR. Returns `{relative path: text}` and touches no disk."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2

from . import ir
from .build import wire_annotation
from .models import class_name

# output file -> template, in the order they are written
PYTHON_FILES = {
    "__init__.py": "__init__.py.jinja",
    "_client_runtime.py": "_client_runtime.py.jinja",
    "client.py": "client.py.jinja",
    "_server_runtime.py": "_server_runtime.py.jinja",
    "server.py": "server.py.jinja",
}


def _pyrepr(value: Any) -> str:
    """A Python literal; tuples and lists of strings stay readable and deterministic."""
    return repr(value)


def _pydoc(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()


def _success_annotation(op: ir.Operation) -> str:
    kinds = []
    for r in op.responses:
        if r.is_success:
            kinds.append(r.annotation or "None")
    if not kinds:
        return "None"
    unique: list[str] = []
    for k in kinds:
        if k not in unique:
            unique.append(k)
    return " | ".join(unique)


def _parse_expression(r: ir.Response) -> str:
    if r.kind == "binary":
        return "response.content"
    if r.kind == "text":
        return "response.text"
    if r.annotation is None:
        return "None"
    if r.model:
        return f"{r.annotation}.model_validate(response.json())"
    # explicit subscription: mypy cannot infer a TypeAdapter's type from a union value
    return f"TypeAdapter[{r.annotation}]({r.annotation}).validate_python(response.json())"


def _optional(annotation: str) -> str:
    """`X | None`, once: a nullable schema's annotation may already end so."""
    return annotation if annotation.split(" | ")[-1] == "None" else f"{annotation} | None"


def _structured_path(p: ir.Parameter) -> bool:
    """A path parameter FastAPI cannot type (arrays, objects): taken as text, parsed after."""
    return p.location == "path" and (p.is_array or "dict[" in p.annotation)


def _fastapi_annotation(p: ir.Parameter) -> str:
    if p.is_json or "models." in p.annotation or _structured_path(p):
        # JSON text or a structured value: checked after parsing (`checked_param`)
        return "str" if p.required else "str | None"
    wire = wire_annotation(p.annotation)
    return wire if p.required else _optional(wire)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _specificity(path: str) -> list[float]:
    """Literal segments before templated ones: `/db/export` must be tried before `/db/{timeout}`."""
    return [
        0.0 if "{" not in seg else 0.5 if not seg.startswith("{") or not seg.endswith("}") else 1.0
        for seg in path.strip("/").split("/")
    ]


def _route_order(operations: tuple[ir.Operation, ...]) -> list[ir.Operation]:
    """Spec order, except that a more specific path is matched before one that would shadow it."""
    return sorted(operations, key=lambda op: _specificity(op.path))


def _routes(
    operations: tuple[ir.Operation, ...],
) -> list[tuple[str, list[ir.Operation], list[str]]]:
    """(path, its operations, its declared methods), most specific paths first.

    A path's catch-all for undeclared methods is mounted right after its operations, so that
    `DELETE /db/export` is a 405 of `/db/export` rather than a call of `DELETE /db/{timeout}`.
    """
    found: dict[str, list[ir.Operation]] = {}
    for op in _route_order(operations):
        found.setdefault(op.path, []).append(op)
    return [(path, ops, [op.method.upper() for op in ops]) for path, ops in found.items()]


def _other_methods(declared: list[str]) -> list[str]:
    """The methods a path does not declare (HEAD comes with GET, as HTTP servers answer it)."""
    taken = {*declared, *(["HEAD"] if "GET" in declared else [])}
    return [m for m in _METHODS if m not in taken]


def _route_param(name: str) -> str:
    """A path template name Starlette can capture: `{dag-id}` is routed as `{dag_id}`."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"p_{cleaned}"


def _route_path(path: str) -> str:
    """Starlette matches decoded paths, so a literal `%23` in a spec path is routed as `#`."""
    return re.sub(r"{([^}]*)}", lambda m: "{" + _route_param(m.group(1)) + "}", unquote(path))


def _isort_names(names: list[str]) -> list[str]:
    """`__all__` order as ruff (RUF022) and isort want it: CONSTANTS, Classes, functions."""

    def key(name: str) -> tuple[int, str]:
        group = 0 if name.isupper() else 1 if name[:1].isupper() else 2
        return (group, name)

    return sorted(set(names), key=key)


def _needs_check(p: ir.Parameter) -> bool:
    """Whether the route re-validates a parameter against its real annotation."""
    return (
        p.is_json
        or p.is_object
        or _structured_path(p)
        or "models." in p.annotation
        or wire_annotation(p.annotation) != p.annotation
    )


# JSON Schema bound -> FastAPI keyword, by the Python type the value is parsed as
_NUMBER_BOUNDS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
}
_STRING_BOUNDS = {"minLength": "min_length", "maxLength": "max_length", "pattern": "pattern"}
_ARRAY_BOUNDS = {"minItems": "min_length", "maxItems": "max_length"}


def _bounds(p: ir.Parameter) -> str:
    wire = _fastapi_annotation(p).removesuffix(" | None")
    table = (
        _NUMBER_BOUNDS
        if wire in ("int", "float")
        else _STRING_BOUNDS
        if wire == "str"
        else _ARRAY_BOUNDS
        if wire.startswith("list[")
        else {}
    )
    if p.is_json or "models." in p.annotation or _structured_path(p):
        table = {}
    return "".join(f", {table[k]}={v!r}" for k, v in p.constraints if k in table)


def _fastapi_marker(p: ir.Parameter) -> str:
    kind = {"path": "Path", "query": "Query", "header": "Header", "cookie": "Cookie"}[p.location]
    extra = ", convert_underscores=False" if p.location == "header" else ""
    alias = _route_param(p.name) if p.location == "path" else p.name
    return f"{kind}(alias={alias!r}{extra}{_bounds(p)})"


def _declared_map(op: ir.Operation) -> str:
    entries = []
    for r in op.responses:
        annotation = r.annotation if r.kind == "json" else None
        entries.append(f"{r.code}: Declared({annotation or 'None'}, {r.media_type!r}, {r.kind!r})")
    return "{" + ", ".join(entries) + "}"


def _signature_dict(sig: ir.HeaderSignature | None) -> dict[str, str] | None:
    if sig is None:
        return None
    return {
        "algorithm": sig.algorithm,
        "message": sig.message,
        "value": sig.value,
        "timestamp": sig.timestamp_unit,
        "suffix_when": sig.suffix_when,
        "suffix_text": sig.suffix_text,
    }


def _body_signature_dict(sig: ir.BodySignature) -> dict[str, Any]:
    return {
        "algorithm": sig.algorithm,
        "secret": sig.secret,
        "field": sig.field,
        "nonce": sig.nonce,
        "timestamp": sig.timestamp,
        "exclude": list(sig.exclude),
    }


def _items_annotation(pg: ir.Pagination) -> str:
    return pg.item_annotation


def environment(templates: Path, *, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=html,
    )
    env.filters.update(
        pyrepr=_pyrepr,
        pydoc=_pydoc,
        class_name=class_name,
        success_annotation=_success_annotation,
        parse_expression=_parse_expression,
        fastapi_annotation=_fastapi_annotation,
        fastapi_marker=_fastapi_marker,
        declared_map=_declared_map,
        signature_dict=_signature_dict,
        body_signature_dict=_body_signature_dict,
        items_annotation=_items_annotation,
        needs_check=_needs_check,
        route_path=_route_path,
        routes=_routes,
        route_order=_route_order,
        other_methods=_other_methods,
        tojson_pretty=lambda v: json.dumps(v, indent=2, ensure_ascii=False),
        format_handlers=lambda stem: f"{stem}Handlers",
        optional=_optional,
        isort_names=_isort_names,
    )
    return env


def render(api: ir.Api, templates: Path, header: str) -> dict[str, str]:
    """The Python files of a package but the models, unformatted."""
    out: dict[str, str] = {}
    py = environment(templates, html=False)
    for target, template in PYTHON_FILES.items():
        out[target] = py.get_template(template).render(api=api, header=f"# {header}")
    return out
