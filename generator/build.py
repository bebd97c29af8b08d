"""Stage 3, build: turn the bundled document into the typed IR (`ir.Api`). Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from . import ir
from .diagnostics import Diagnostic, join_pointer, split_pointer
from .lint import HTTP_METHODS
from .load import Document, resolve_pointer
from .naming import parameter_name, pascal, snake

# names the generated methods use themselves: a parameter called so gets a suffix
_RESERVED = {"self", "body", "auth", "raw", "timeout", "headers", "request", "response"}
_RESERVED |= {"models", "httpx", "impl", "result"}
# members of the generated client and handler classes: an operation called so gets a suffix
_TAKEN_METHODS = {"close", "aclose", "set_credential", "last_response", "authorize"}
_JSON_MEDIA = ("application/json",)


def _is_json(media: str) -> bool:
    media = media.split(";")[0].strip().lower()
    return media in _JSON_MEDIA or media.endswith("+json")


def media_kind(media: str, schema: dict[str, Any] | None) -> str:
    media = media.split(";")[0].strip().lower()
    if _is_json(media):
        return "json"
    if media == "application/x-www-form-urlencoded":
        return "form"
    if media.startswith("multipart/"):
        return "multipart"
    if media.startswith("text/") and (schema or {}).get("format") != "binary":
        return "text"
    return "binary"


class Builder:
    """Builds the IR of one document. `class_of` maps a component schema name to its model class."""

    def __init__(
        self,
        doc: Document,
        class_of: Callable[[str], str],
        package: str,
        source: str,
        defined: frozenset[str] | None = None,
    ) -> None:
        self.doc = doc
        self.data = doc.data
        self.class_of = class_of
        self.package = package
        self.source = source
        # the classes models.py really defines; None: trust `class_of` (tests that skip models)
        self.defined = defined
        self.names: dict[str, str] = {}  # operation pointer -> Python name, unique in the API
        self.skipped: list[Diagnostic] = []  # operations left out, and why
        self._schema_of_class: dict[str, Any] | None = None

    # -- helpers ---------------------------------------------------------------------------------
    def deref(self, value: Any) -> Any:
        seen = 0
        while isinstance(value, dict) and isinstance(value.get("$ref"), str) and seen < 32:
            value = resolve_pointer(self.data, value["$ref"][1:])
            seen += 1
        return value

    def is_model(self, schema: dict[str, Any]) -> bool:
        """Whether a component schema becomes a class with fields (as opposed to an alias)."""
        return bool(schema.get("type") == "object" or "properties" in schema or "allOf" in schema)

    def annotation(self, schema: Any, depth: int = 0) -> str:
        """The Python type of a schema, as templates write it (`models.User`, `list[str]`)."""
        if not isinstance(schema, dict) or depth > 16:
            return "Any"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            tokens = split_pointer(ref[1:]) if ref.startswith("#") else []
            target = self.deref(schema)
            is_class = self.is_model(target) or "anyOf" in target or "oneOf" in target
            if tokens[:2] == ["components", "schemas"] and len(tokens) == 3 and is_class:
                cls = self.class_of(tokens[2])
                if self.defined is None or cls in self.defined:
                    return f"models.{cls}"
            return self.annotation(target, depth + 1)
        if "const" in schema:
            return f"Literal[{schema['const']!r}]"
        enum = schema.get("enum")
        values = [v for v in enum if v is not None] if isinstance(enum, list) else []
        if values and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            literal = f"Literal[{', '.join(repr(v) for v in dict.fromkeys(values))}]"
            return f"{literal} | None" if None in (enum or ()) else literal
        for key in ("anyOf", "oneOf"):
            if key in schema:
                parts_ = [self.annotation(s, depth + 1) for s in schema[key]]
                return _union(parts_)
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types] if types else []
        rendered = [self._simple(t, schema, depth) for t in type_list if t != "null"] or (
            ["Any"] if not type_list else []
        )
        if "null" in type_list:
            rendered.append("None")
        return _union(rendered) if rendered else "Any"

    def _is_object_model(self, annotation: str) -> bool:
        """Whether `models.X` is a model with fields (not a wrapper of a scalar or union)."""
        if not annotation.startswith("models."):
            return False
        if self._schema_of_class is None:  # once per document, not once per parameter
            schemas = (self.data.get("components") or {}).get("schemas") or {}
            self._schema_of_class = {self.class_of(key): value for key, value in schemas.items()}
        target = self.deref(self._schema_of_class.get(annotation.removeprefix("models.")))
        return isinstance(target, dict) and bool(target.get("properties"))

    def _simple(self, type_: str, schema: dict[str, Any], depth: int) -> str:
        if type_ == "string":
            if schema.get("format") == "binary" or (
                "contentMediaType" in schema
                and schema.get("contentEncoding") is None
                and schema.get("contentMediaType") != "application/json"
            ):
                return "bytes"
            return "str"
        if type_ == "integer":
            return "int"
        if type_ == "number":
            return "float"
        if type_ == "boolean":
            return "bool"
        if type_ == "array":
            return f"list[{self.annotation(schema.get('items', {}), depth + 1)}]"
        if type_ == "object":
            return "dict[str, Any]"
        return "Any"

    # -- pieces ----------------------------------------------------------------------------------
    def schemes(self) -> tuple[ir.SecurityScheme, ...]:
        out = []
        raw = (self.data.get("components") or {}).get("securitySchemes") or {}
        for name, scheme in raw.items():
            scheme = self.deref(scheme)
            sig = scheme.get("x-baas-signature")
            signature = None
            if isinstance(sig, dict):
                suffix = sig.get("suffix") or {}
                signature = ir.HeaderSignature(
                    algorithm=sig.get("algorithm", "md5"),
                    message=sig.get("message", "{timestamp}{secret}"),
                    value=sig.get("value", "{digest},{timestamp}"),
                    timestamp_unit=sig.get("timestamp", "seconds"),
                    suffix_when=snake(suffix.get("when", "")) if suffix.get("when") else "",
                    suffix_text=suffix.get("text", ""),
                )
            kind = scheme.get("type", "")
            http_scheme = scheme.get("scheme", "") if kind == "http" else ""
            out.append(
                ir.SecurityScheme(
                    name=name,
                    py_name=snake(name),
                    kind=kind,
                    location=scheme.get(
                        "in", "header" if kind in ("http", "oauth2", "openIdConnect") else ""
                    ),
                    wire_name=scheme.get("name", "Authorization" if kind != "mutualTLS" else ""),
                    http_scheme=http_scheme,
                    description=" ".join(str(scheme.get("description", "")).split()),
                    value_format=scheme.get("x-baas-value-format", "{key}"),
                    signature=signature,
                )
            )
        return tuple(out)

    def parameters(
        self, item: dict[str, Any], op: dict[str, Any], path: str
    ) -> tuple[ir.Parameter, ...]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*(item.get("parameters") or []), *(op.get("parameters") or [])]:
            p = self.deref(raw)
            merged[(p["name"], p["in"])] = p
        taken = set(_RESERVED)
        built = []
        for (name, location), p in merged.items():
            schema = p.get("schema")
            is_json = False
            if schema is None and isinstance(p.get("content"), dict) and p["content"]:
                media, media_obj = next(iter(p["content"].items()))
                schema = media_obj.get("schema", {})
                is_json = _is_json(media)
            schema = schema or {}
            resolved = self.deref(schema)
            is_array = isinstance(resolved, dict) and resolved.get("type") == "array"
            annotation = self.annotation(schema)
            base = [part for part in annotation.split(" | ") if part != "None"]
            is_object = (
                location == "query"
                and not is_json
                and any(
                    "dict[" in b or self._is_object_model(b.removeprefix("list[").rstrip("]"))
                    for b in base
                )
            )
            style = p.get("style", "form" if location in ("query", "cookie") else "simple")
            explode = p.get("explode", style == "form")
            built.append(
                ir.Parameter(
                    name=name,
                    py_name=parameter_name(name, taken),
                    location=location,
                    required=bool(p.get("required", location == "path")),
                    annotation=annotation,
                    description=" ".join(str(p.get("description", "")).split()),
                    is_array=is_array,
                    explode=bool(explode),
                    is_json=is_json,
                    default=resolved.get("default") if isinstance(resolved, dict) else None,
                    is_object=is_object,
                    constraints=_constraints(resolved) if not is_json else (),
                )
            )
        order = {seg: i for i, seg in enumerate(_path_params(path))}
        built.sort(key=lambda p: (p.location != "path", order.get(p.name, 0), not p.required))
        return tuple(built)

    def body(self, op: dict[str, Any], pointer: str = "") -> ir.Body | None:
        raw = op.get("requestBody")
        if raw is None:
            return None
        shared = isinstance(raw, dict) and "$ref" in raw
        base = raw["$ref"][1:] if shared else pointer + "/requestBody"
        body = self.deref(raw)
        content = body.get("content") or {}
        if not content:
            return None
        media, media_obj = next(iter(content.items()))
        schema = media_obj.get("schema", {})
        annotation = self.annotation(schema)
        kind = media_kind(media, self.deref(schema))
        if kind == "binary":
            annotation = "bytes"
        elif kind == "text":
            annotation = "str"
        return ir.Body(
            media_types=tuple(content),
            media_type=media,
            annotation=annotation,
            model=_model_of(annotation),
            required=bool(body.get("required", False)),
            kind=kind,
            json_schema=next(
                (
                    f"{base}/content/{m.replace('~', '~0').replace('/', '~1')}/schema"
                    for m in content
                    if _is_json(m)
                ),
                "",
            ),
        )

    def responses(self, op: dict[str, Any]) -> tuple[ir.Response, ...]:
        out = []
        for status, raw in (op.get("responses") or {}).items():
            response = self.deref(raw)
            content = response.get("content") or {}
            annotation = model = media = None
            kind = "empty"
            if content:
                media, media_obj = next(iter(content.items()))
                schema = media_obj.get("schema", {})
                kind = media_kind(media, self.deref(schema))
                annotation = {"binary": "bytes", "text": "str"}.get(kind) or self.annotation(schema)
                model = _model_of(annotation)
            headers = tuple(
                ir.ResponseHeader(
                    name=h_name,
                    annotation=self.annotation(self.deref(h).get("schema", {})),
                    required=bool(self.deref(h).get("required", False)),
                    description=" ".join(str(self.deref(h).get("description", "")).split()),
                )
                for h_name, h in (response.get("headers") or {}).items()
            )
            out.append(
                ir.Response(
                    status=status,
                    code=_status_code(status),
                    description=" ".join(str(response.get("description", "")).split()),
                    annotation=annotation,
                    model=model,
                    media_type=media,
                    kind=kind,
                    headers=headers,
                )
            )
        return tuple(out)

    def item_annotation(self, op: dict[str, Any], pointer: str) -> str:
        """The type of one element of the array at `pointer` in the success response body."""
        for status, raw in (op.get("responses") or {}).items():
            if not status.startswith("2"):
                continue
            content = self.deref(raw).get("content") or {}
            if not content:
                continue
            root = self.deref(next(iter(content.values())).get("schema", {}))
            # a union of envelopes: the first branch that has an array at the pointer
            for branch in [
                root,
                *[self.deref(b) for b in root.get("anyOf", root.get("oneOf", []))],
            ]:
                schema = branch
                for token in [t for t in pointer.split("/") if t]:
                    schema = self.deref((schema.get("properties") or {}).get(token, {}))
                if isinstance(schema, dict) and schema.get("type") == "array":
                    return self.annotation(schema.get("items", {}))
            return ""
        return ""

    def operation(
        self,
        pointer: str,
        path: str,
        method: str,
        item: dict[str, Any],
        op: dict[str, Any],
        webhook: bool,
    ) -> ir.Operation:
        security = op.get("security", self.data.get("security") or [])
        session = op.get("x-baas-session")
        paging = op.get("x-baas-pagination")
        sig = op.get("x-baas-signature")
        parameters = self.parameters(item, op, path)
        by_wire = {p.name: p.py_name for p in parameters}
        py_name = self.names[pointer]
        return ir.Operation(
            id=str(op.get("operationId") or py_name),
            py_name=py_name,
            method=method,
            path=path,
            pointer=pointer,
            tag=(op.get("tags") or ["default"])[0],
            summary=" ".join(str(op.get("summary", "")).split()),
            description=str(op.get("description", "")).strip(),
            deprecated=bool(op.get("deprecated", False)),
            parameters=parameters,
            body=self.body(op, pointer),
            responses=self.responses(op),
            security=tuple(tuple(req) for req in security),
            webhook=webhook,
            server_url=_server_url((op.get("servers") or item.get("servers") or [{}])[0])
            if (op.get("servers") or item.get("servers"))
            else "",
            session=ir.Session(
                scheme=session["scheme"],
                token=session.get("token", ""),
                action=session.get("action", "set"),
            )
            if isinstance(session, dict)
            else None,
            pagination=ir.Pagination(
                style=paging.get("style", "page"),
                page=paging.get("page", ""),
                size=paging.get("size", ""),
                offset=paging.get("offset", ""),
                items=paging.get("items", ""),
                total=paging.get("total", ""),
                page_py=by_wire.get(paging.get("page", ""), ""),
                size_py=by_wire.get(paging.get("size", ""), ""),
                offset_py=by_wire.get(paging.get("offset", ""), ""),
                item_annotation=self.item_annotation(op, paging.get("items", "")),
                start=int(paging.get("start", 1 if paging.get("style", "page") == "page" else 0)),
            )
            if isinstance(paging, dict)
            else None,
            signature=ir.BodySignature(
                algorithm=sig.get("algorithm", "hmac-sha1"),
                secret=snake(sig.get("secret", "secret")),
                field=sig.get("field", "signature"),
                nonce=sig.get("nonce", ""),
                timestamp=sig.get("timestamp", ""),
                exclude=tuple(sig.get("exclude", ())),
            )
            if isinstance(sig, dict)
            else None,
        )

    def _walk_operations(self) -> list[tuple[str, str, str, str, dict[str, Any], dict[str, Any]]]:
        """(section, pointer, path, method, path item, operation) in document order."""
        found = []
        for section in ("paths", "webhooks"):
            for path, item in (self.data.get(section) or {}).items():
                item = self.deref(item)
                if not isinstance(item, dict):
                    continue
                for method in HTTP_METHODS:
                    if isinstance(item.get(method), dict):
                        pointer = join_pointer("", section, path, method)
                        found.append((section, pointer, path, method, item, item[method]))
        # callbacks: requests the API makes to the caller, received like webhooks
        seen = {entry[1] for entry in found}
        for _section, pointer, _path, _method, _item, op in list(found):
            for name, raw in (op.get("callbacks") or {}).items():
                # where the callback is written: its own component when referenced
                ref = raw.get("$ref") if isinstance(raw, dict) else None
                where = (
                    ref[1:] if isinstance(ref, str) else join_pointer(pointer, "callbacks", name)
                )
                callback = self.deref(raw)
                for expression, cb_item in (callback if isinstance(callback, dict) else {}).items():
                    cb_item = self.deref(cb_item)
                    for method in HTTP_METHODS:
                        if isinstance(cb_item, dict) and isinstance(cb_item.get(method), dict):
                            cb_ptr = join_pointer(where, expression, method)
                            if cb_ptr in seen:
                                continue  # a shared callback component: received once
                            seen.add(cb_ptr)
                            found.append(
                                ("callbacks", cb_ptr, name, method, cb_item, cb_item[method])
                            )
        return found

    def _name_operations(self, found: list[tuple[str, str, str, str, Any, Any]]) -> None:
        """A Python name per operation: its operationId's, else one made of method and path.

        Names that meet (`getPet` and `get_pet`, or an operationId equal to a made-up name) keep
        the first in document order; the others add their method and path, never a counter.
        """
        receivers: set[str] = set()  # webhooks and callbacks share one handler class
        for section in ("paths", "webhooks", "callbacks"):
            taken: set[str] = set() if section == "paths" else receivers
            for sec, pointer, path, method, _item, op in found:
                if sec != section:
                    continue
                op_id = op.get("operationId")
                made = {
                    "paths": snake(f"{method} {path}"),
                    "webhooks": snake(path),
                    "callbacks": snake(f"{path} {method}"),
                }[section]
                name = snake(op_id) if isinstance(op_id, str) and op_id else made
                if name in _TAKEN_METHODS or name.startswith("iter_"):
                    name += "_"
                if name in taken:
                    parent = (
                        snake(pointer.split("/callbacks/")[0]) if section == "callbacks" else ""
                    )
                    name = (
                        f"{name}_{made}" if name != made else f"{made}_{parent or snake(section)}"
                    )
                while name in taken:  # only a document with duplicate operationIds gets here
                    name += "_"
                taken.add(name)
                self.names[pointer] = name

    def api(self, vendor: str) -> ir.Api:
        data = self.data
        ops: list[ir.Operation] = []
        hooks: list[ir.Operation] = []
        found = self._walk_operations()
        self._name_operations(found)
        for section, pointer, path, method, item, op in found:
            target = ops if section == "paths" else hooks
            if section == "callbacks":  # received at a path of the receiver app's choosing
                path = f"callbacks/{self.names[pointer]}"
            try:
                built = self.operation(pointer, path, method, item, op, section != "paths")
            except (KeyError, TypeError, ValueError, AttributeError, LookupError) as exc:
                # a shape the generator cannot express (or a broken one --lenient let through)
                reason = f"operation not generated: {type(exc).__name__}: {exc}"
                self.skipped.append(self.doc.diagnostic(pointer, reason, "skipped"))
                continue
            target.append(built)
        declared = [t for t in data.get("tags") or [] if isinstance(t, dict) and "name" in t]
        names = [str(t["name"]) for t in declared]
        names += sorted({o.tag for o in ops} - set(names))
        # one handler class per tag; tags whose names make the same class share it
        by_class: dict[str, list[str]] = {}
        for name in names:
            by_class.setdefault(_tag_class(name, bool(hooks)), []).append(name)
        tags = []
        for cls, members_of in by_class.items():
            members = tuple(o for o in ops if o.tag in members_of)
            if not members:
                continue
            description = next(
                (t.get("description", "") for t in declared if t["name"] == members_of[0]), ""
            )
            tags.append(
                ir.Tag(
                    members_of[0],
                    snake(members_of[0]),
                    cls,
                    " ".join(str(description).split()),
                    members,
                )
            )
        error = data.get("x-baas-error") or {}
        schemes = self.schemes()
        credentials = sorted(
            {o.signature.secret for o in ops if o.signature} - {s.py_name for s in schemes}
        )
        servers = data.get("servers") or [{"url": "/"}]
        info = data.get("info") or {}
        return ir.Api(
            vendor=vendor,
            package=self.package,
            source=self.source,
            title=str(info.get("title", vendor)),
            version=str(info.get("version", "")),
            description=str(info.get("description", "")).strip(),
            server_url=_server_url(servers[0]),
            tags=tuple(tags),
            operations=tuple(ops),
            webhooks=tuple(hooks),
            schemes=schemes,
            error=ir.ErrorEnvelope(
                schema=error.get("schema"),
                body=error.get("body", {"error": "{message}"}),
                situations=dict(error.get("situations") or {}),
            ),
            credentials=tuple(credentials),
            spec_sha256=hashlib.sha256(canonical_json(data).encode()).hexdigest(),
        )


_BOUNDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
)


def _constraints(schema: Any) -> tuple[tuple[str, Any], ...]:
    """The bounds (minimum, pattern, minItems, ...) a parameter's schema sets on its value."""
    if not isinstance(schema, dict):
        return ()
    found = {k: schema[k] for k in _BOUNDS if k in schema and not isinstance(schema[k], bool)}
    return tuple(sorted(found.items()))


def _tag_class(tag: str, webhooks: bool) -> str:
    """The handler class stem of a tag; never one the skeleton itself defines."""
    cls = pascal(tag)
    return f"{cls}Tag" if webhooks and cls == "Webhooks" else cls


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _annotations(op: ir.Operation) -> list[str]:
    out = [r.annotation for r in op.responses if r.annotation]
    if op.body:
        out.append(op.body.annotation)
    out += [p.annotation for p in op.parameters]
    return out


_SINGLE_MODEL = re.compile(r"^models\.(\w+)$")
_NON_STRING_LITERAL = re.compile(r"Literal\[[^\]]*?(?<![\w'\"])(-?\d|True|False)[^\]]*\]")


def _model_of(annotation: str) -> str | None:
    """The model class when an annotation is exactly one model, else None."""
    match = _SINGLE_MODEL.match(annotation)
    return match.group(1) if match else None


def wire_annotation(annotation: str) -> str:
    """What a query, path or header value is parsed as before the real annotation checks it.

    Such values arrive as text; `Literal[0, 1]` would refuse `"1"`, so the wire type is `int` and
    the literal is checked afterwards.
    """

    def widen(match: re.Match[str]) -> str:
        body = match.group(0)
        return "float" if "." in body else "int" if "True" not in body else "bool"

    return _NON_STRING_LITERAL.sub(widen, annotation)


def _union(parts: list[str]) -> str:
    unique: list[str] = []
    for part in parts:
        for piece in part.split(" | "):
            if piece not in unique:
                unique.append(piece)
    if "Any" in unique:
        return "Any"
    if "None" in unique:  # last, as linters (and readers) expect `X | None`
        unique = [p for p in unique if p != "None"] + ["None"]
    return " | ".join(unique)


def _status_code(status: str) -> int:
    if status.isdigit():
        return int(status)
    if len(status) == 3 and status[0].isdigit():
        return int(status[0]) * 100
    return 0


def _path_params(path: str) -> list[str]:
    return re.findall(r"{([^}]+)}", path)


def _server_url(server: dict[str, Any]) -> str:
    url = str(server.get("url", "/"))
    for name, var in (server.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(var.get("default", "")))
    return url
