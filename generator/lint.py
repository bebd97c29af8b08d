"""The project's own rules on top of structural validation (see specs/README.md, "Lint rules")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match
from referencing.exceptions import Unresolvable

from .diagnostics import Diagnostic, join_pointer, split_pointer
from .load import Document, resolve_pointer
from .naming import is_python_name, snake

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
KNOWN_EXTENSIONS = frozenset(
    {
        "x-baas-error",
        "x-baas-signature",
        "x-baas-value-format",
        "x-baas-session",
        "x-baas-pagination",
    }
)
_REFERENCE_ERRORS = (Unresolvable, LookupError)
_OPERATION_ID = re.compile(r"^[a-z][A-Za-z0-9]*$")


def operations(data: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(pointer, path or webhook name, method, operation) for every operation, in document order."""
    for section in ("paths", "webhooks"):
        for path, item in (data.get(section) or {}).items():
            if not isinstance(item, dict):
                continue
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    yield join_pointer("", section, path, method), path, method, op


def lint(doc: Document, *, house: bool = True) -> list[Diagnostic]:
    """Every problem the project rules find.

    `house` holds a document to our own specs' conventions (operationIds, one tag, summaries, no
    unused components, valid examples). Without it, only what generation itself needs is checked:
    any OpenAPI document people write is welcome.
    """
    out: list[Diagnostic] = []
    out += _operation_rules(doc, house)
    out += _ref_rules(doc, house)
    if house:
        out += _example_rules(doc)
    out += _extension_rules(doc)
    return out


def _operation_rules(doc: Document, house: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    declared_tags = {t.get("name") for t in doc.data.get("tags") or [] if isinstance(t, dict)}
    seen: dict[str, str] = {}
    for ptr, _path, _method, op in operations(doc.data):
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            if house:
                out.append(doc.diagnostic(ptr, "operation has no operationId", "operation-id"))
        else:
            id_ptr = join_pointer(ptr, "operationId")
            if op_id in seen:
                out.append(
                    doc.diagnostic(
                        id_ptr,
                        f"operationId {op_id!r} is already used at {seen[op_id]}",
                        "operation-id",
                    )
                )
            else:
                seen[op_id] = ptr
            if house and not _OPERATION_ID.match(op_id):
                out.append(
                    doc.diagnostic(
                        id_ptr,
                        f"operationId {op_id!r} is not lowerCamelCase letters and digits",
                        "operation-id",
                    )
                )
            elif house and not is_python_name(snake(op_id)):
                out.append(
                    doc.diagnostic(
                        id_ptr, f"operationId {op_id!r} does not make a Python name", "operation-id"
                    )
                )
        if not house:
            continue
        tags = op.get("tags")
        if not isinstance(tags, list) or len(tags) != 1:
            out.append(doc.diagnostic(ptr, "operation must have exactly one tag", "operation-tag"))
        elif tags[0] not in declared_tags:
            out.append(
                doc.diagnostic(
                    join_pointer(ptr, "tags", 0),
                    f"tag {tags[0]!r} is not declared in the root tags",
                    "operation-tag",
                )
            )
        if not op.get("summary"):
            out.append(doc.diagnostic(ptr, "operation has no summary", "operation-summary"))
        responses = op.get("responses")
        if not isinstance(responses, dict) or not responses:
            out.append(
                doc.diagnostic(ptr, "operation declares no responses", "operation-responses")
            )
            continue
        for status, response in responses.items():
            rptr = join_pointer(ptr, "responses", status)
            response = _deref(doc.data, response)
            if not isinstance(response, dict):
                continue
            for media, media_obj in (response.get("content") or {}).items():
                if not isinstance(media_obj, dict) or "schema" not in media_obj:
                    out.append(
                        doc.diagnostic(
                            join_pointer(rptr, "content", media),
                            f"response {status} {media} has no schema",
                            "response-schema",
                        )
                    )
    return out


def _deref(data: dict[str, Any], value: Any, depth: int = 0) -> Any:
    while isinstance(value, dict) and isinstance(value.get("$ref"), str) and depth < 32:
        ref = value["$ref"]
        if not ref.startswith("#"):
            return None
        try:
            value = resolve_pointer(data, ref[1:])
        except LookupError:
            return None
        depth += 1
    return value


def _refs(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """(pointer of the `$ref` member, its value) for every reference below `value`."""
    stack: list[tuple[Any, str]] = [(value, pointer)]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield join_pointer(ptr, "$ref"), ref
            # extensions are the author's data: a `$ref` there is not an OpenAPI reference
            stack.extend(
                (v, join_pointer(ptr, k))
                for k, v in reversed(list(node.items()))
                if not k.startswith("x-")
            )
        elif isinstance(node, list):
            stack.extend((v, join_pointer(ptr, i)) for i, v in reversed(list(enumerate(node))))


def _ref_rules(doc: Document, house: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    data = doc.data
    for ptr, ref in _refs(data):
        if ptr.removesuffix("/$ref") in doc.broken_refs:
            continue
        if not ref.startswith("#"):
            out.append(doc.diagnostic(ptr, f"$ref {ref!r} was not bundled", "ref-resolves"))
            continue
        try:
            resolve_pointer(data, ref[1:])
        except LookupError:
            out.append(doc.diagnostic(ptr, f"$ref {ref!r} does not resolve", "ref-resolves"))
    if house:
        out += _unused_components(doc)
    return out


def _unused_components(doc: Document) -> list[Diagnostic]:
    data = doc.data
    components = data.get("components") or {}
    reached: set[tuple[str, str]] = set()
    queue: list[Any] = [v for k, v in data.items() if k != "components"]
    # security requirements name schemes without a $ref
    for _ptr, _p, _m, op in operations(data):
        for requirement in op.get("security") or []:
            for name in requirement:
                reached.add(("securitySchemes", name))
    for requirement in data.get("security") or []:
        for name in requirement:
            reached.add(("securitySchemes", name))
    while queue:
        node = queue.pop()
        for _ptr, ref in _refs(node):
            tokens = split_pointer(ref[1:]) if ref.startswith("#") else []
            if len(tokens) >= 3 and tokens[0] == "components":
                key = (tokens[1], tokens[2])
                if key not in reached:
                    reached.add(key)
                    target = components.get(tokens[1], {}).get(tokens[2])
                    if target is not None:
                        queue.append(target)
    out = []
    for kind, bucket in components.items():
        if not isinstance(bucket, dict) or kind.startswith("x-"):
            continue
        for name in bucket:
            if (kind, name) not in reached and not _used_by_extension(data, kind, name):
                out.append(
                    doc.diagnostic(
                        join_pointer("/components", kind, name),
                        f"component {name!r} is never used",
                        "unused-component",
                    )
                )
    return out


def _used_by_extension(data: dict[str, Any], kind: str, name: str) -> bool:
    error = data.get("x-baas-error")
    return kind == "schemas" and isinstance(error, dict) and error.get("schema") == name


def _example_rules(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    data = doc.data
    validators: dict[str, Draft202012Validator] = {}
    checker = FormatChecker()
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, list):
            stack.extend((v, join_pointer(ptr, i)) for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        stack.extend((v, join_pointer(ptr, k)) for k, v in node.items())
        schema = node.get("schema")
        if not isinstance(schema, dict) or not ("example" in node or "examples" in node):
            continue
        if ptr.startswith("/components/schemas"):
            continue
        schema_ptr = join_pointer(ptr, "schema")
        cases: list[tuple[str, Any]] = []
        if "example" in node:
            cases.append((join_pointer(ptr, "example"), node["example"]))
        for name, example in (node.get("examples") or {}).items():
            example = _deref(data, example)
            if isinstance(example, dict) and "value" in example:
                cases.append((join_pointer(ptr, "examples", name, "value"), example["value"]))
        if not cases:
            continue
        if schema_ptr not in validators:
            root_schema = {
                k: v for k, v in data.items() if k in ("components", "paths", "webhooks")
            }
            validators[schema_ptr] = Draft202012Validator(
                {**root_schema, "$ref": "#" + schema_ptr}, format_checker=checker
            )
        validator = validators[schema_ptr]
        for case_ptr, value in cases:
            try:
                error = best_match(validator.iter_errors(value))
            except _REFERENCE_ERRORS:
                break  # a dangling $ref in the schema; ref-resolves reports it
            if error is not None:
                where = join_pointer(case_ptr, *error.absolute_path)
                out.append(
                    doc.diagnostic(
                        where,
                        f"example does not match its schema: {_short(error.message)}",
                        "example-valid",
                    )
                )
    return out


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _extension_rules(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    stack: list[tuple[Any, str]] = [(doc.data, "")]
    while stack:
        node, ptr = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                child = join_pointer(ptr, key)
                if key.startswith("x-baas-") and key not in KNOWN_EXTENSIONS:
                    out.append(
                        doc.diagnostic(
                            child,
                            f"unknown extension {key!r}: document it in specs/EXTENSIONS.md",
                            "extension-known",
                        )
                    )
                if not key.startswith("x-"):
                    stack.append((value, child))
        elif isinstance(node, list):
            stack.extend((v, join_pointer(ptr, i)) for i, v in enumerate(node))
    for ptr, _path, _method, op in operations(doc.data):
        paging = op.get("x-baas-pagination")
        if isinstance(paging, dict):
            item = resolve_pointer(doc.data, ptr.rsplit("/", 1)[0])
            declared = [*(item.get("parameters") or []), *(op.get("parameters") or [])]
            names = {
                p.get("name")
                for p in (_deref(doc.data, p) for p in declared)
                if isinstance(p, dict)
            }
            for key in ("page", "size", "offset"):
                if key in paging and paging[key] not in names:
                    out.append(
                        doc.diagnostic(
                            join_pointer(ptr, "x-baas-pagination", key),
                            f"pagination parameter {paging[key]!r} is not a parameter here",
                            "extension-known",
                        )
                    )
    return out
