"""Stage 5b, docs: the browsable HTML reference of one API, from the IR and the bundled spec.

`render_docs` returns `{path under the package: text}` and touches no disk: one self-contained
page per API (`docs/index.html`, styles and script inlined, nothing fetched) with navigation by
tag, every operation, schema and example, and usage snippets. The Python here turns the spec into
view objects (`Page`, `OperationView`, `Node`, ...); the templates in `templates/docs/` only loop
and print.

`site()` writes the publishable folder: an index of every API plus each vendor's page, copied from
`generated/<vendor>/docs/`. `nox -s docs` runs it (`python -m generator.docs --out site`).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from . import ir
from .format import format_python
from .lint import HTTP_METHODS
from .load import resolve_pointer
from .models import schema_classes
from .naming import is_python_name
from .render import environment
from .vendors import GENERATED, TEMPLATES, VENDORS

PAGE = "docs/index.html"
# where a page copied into the site gets its link back to the site's index
SITE_LINK = "<!--site-link-->"
SITE_LINK_HTML = '<a class="up" href="../index.html">All APIs</a>'
_SCHEMA_REF = re.compile(r"^#/components/schemas/([^/]+)$")
_MAX_DEPTH = 12
_SNIPPET_UPLOAD = "upload.bin"  # the file a binary or multipart snippet sends
_NO_EXAMPLE = "# the spec gives no example of this body: its values are placeholders"


# -- view objects: what the templates print --------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A bit of a type: plain text, or the name of a schema linking to it."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class Node:
    """A line of a schema tree: a property (or an item, a map value, a variant), what is below."""

    name: str
    label: str  # "" for a property; "items", "any key", "option 2", "includes" otherwise
    type: tuple[Piece, ...]
    required: bool
    notes: tuple[str, ...]
    description: Markup
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Example:
    name: str
    summary: str
    text: str


@dataclass(frozen=True)
class Content:
    """The media types of a body that share one schema, its tree and their examples."""

    media_types: tuple[str, ...]
    tree: Node | None
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class ParamView:
    name: str
    location: str
    required: bool
    deprecated: bool
    type: tuple[Piece, ...]
    python: str
    notes: tuple[str, ...]
    description: Markup
    example: str


@dataclass(frozen=True)
class BodyView:
    required: bool
    description: Markup
    contents: tuple[Content, ...]


@dataclass(frozen=True)
class HeaderView:
    name: str
    type: tuple[Piece, ...]
    required: bool
    description: Markup


@dataclass(frozen=True)
class ResponseView:
    status: str
    reason: str
    kind: str  # success | redirect | error | other
    description: Markup
    headers: tuple[HeaderView, ...]
    contents: tuple[Content, ...]
    shared: Piece | None = None  # a response of `components/responses`, shown in full there


@dataclass(frozen=True)
class SharedResponse:
    name: str
    anchor: str
    response: ResponseView


@dataclass(frozen=True)
class Snippet:
    language: str  # python | shell
    label: str
    code: str


@dataclass(frozen=True)
class OperationView:
    op: ir.Operation
    anchor: str
    tag_anchor: str
    description: Markup
    server: str  # an override of the API's base URL, else ""
    auth: tuple[tuple[Piece, ...], ...]  # alternatives; () inside means "no credentials"
    params: tuple[ParamView, ...]
    body: BodyView | None
    responses: tuple[ResponseView, ...]
    snippets: tuple[Snippet, ...]
    search: str


@dataclass(frozen=True)
class TagView:
    name: str
    anchor: str
    description: Markup
    operations: tuple[OperationView, ...]


@dataclass(frozen=True)
class SchemaView:
    name: str
    anchor: str
    python: str  # the model class, "" when the schema is no class
    description: Markup
    tree: Node
    examples: tuple[Example, ...]
    used_by: tuple[Piece, ...]  # operations
    used_in: tuple[Piece, ...]  # other schemas
    search: str


@dataclass(frozen=True)
class SchemeView:
    scheme: ir.SecurityScheme
    anchor: str
    how: str
    env: tuple[str, ...]
    description: Markup


@dataclass(frozen=True)
class ServerView:
    url: str
    description: Markup
    variables: tuple[tuple[str, str, str], ...]  # name, default (and choices), description


@dataclass(frozen=True)
class Situation:
    name: str
    status: str
    code: str
    message: str


@dataclass(frozen=True)
class Page:
    api: ir.Api
    header: Markup
    summary: str
    description: Markup
    external_docs: tuple[str, str]  # url, text; ("", "") when none
    servers: tuple[ServerView, ...]
    schemes: tuple[SchemeView, ...]
    client_snippet: Snippet
    error_schema: Piece | None
    situations: tuple[Situation, ...]
    tags: tuple[TagView, ...]
    webhooks: tuple[OperationView, ...]
    schemas: tuple[SchemaView, ...]
    responses: tuple[SharedResponse, ...]


# -- text helpers (also Jinja filters) -------------------------------------------------------------
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# a Markdown link to a web page or an anchor, or a bare web address
_LINK = re.compile(
    r"\[(?P<label>[^\]]+)\]\((?P<href>(?:https?://|#)[^)\s]+)\)"
    r"|(?P<url>\bhttps?://[^\s<>`\"')\]]*[^\s<>`\"')\].,;:!?])"
)


def _inline(text: str, links: Mapping[str, str]) -> str:
    out = []
    for i, part in enumerate(_CODE_SPAN.split(text)):
        if i % 3 == 1:  # the backticks of a code span
            continue
        if i % 3 == 2:
            out.append(f"<code>{html.escape(part.strip(), quote=False)}</code>")
            continue

        def link(match: re.Match[str]) -> str:
            if match.group("url"):
                return f'<a href="{match.group("url")}">{match.group("url")}</a>'
            label, href = match.group("label"), match.group("href")
            if href.startswith("#"):
                target = links.get(href)
                return f'<a href="#{target}">{label}</a>' if target else label
            return f'<a href="{href}">{label}</a>'

        piece = _LINK.sub(link, html.escape(part, quote=False))
        out.append(_BOLD.sub(r"<strong>\1</strong>", piece))
    return "".join(out)


def markdown(text: Any, links: Mapping[str, str] | None = None) -> Markup:
    """The little Markdown the specs use: paragraphs, lists, code spans, bold, links. Escaped."""
    links = links or {}
    blocks = []
    for block in re.split(r"\n\s*\n", str(text or "").strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(re.match(r"[-*] ", line) for line in lines):
            items = "".join(f"<li>{_inline(line[2:], links)}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        elif all(re.match(r"\d+\. ", line) for line in lines):
            items = "".join(f"<li>{_inline(line.split(' ', 1)[1], links)}</li>" for line in lines)
            blocks.append(f"<ol>{items}</ol>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines), links)}</p>")
    return Markup("".join(blocks))


def plain_text(value: Any) -> Markup:
    """Escaped for an element's content; quotes stay as they are (examples are full of them)."""
    return Markup(html.escape(str(value), quote=False))


def first_paragraph(text: Any) -> str:
    return re.split(r"\n\s*\n", str(text or "").strip())[0].replace("\n", " ")


def slug(text: str) -> str:
    """An HTML id fragment: letters, digits, `_`, `.` and `-`; never empty."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def short_json(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Anchors:
    """Unique ids for the page, given out in a fixed order so the page is deterministic."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._ids: dict[tuple[str, str], str] = {}

    def add(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self._ids:
            base = f"{kind}-{slug(name)}"
            candidate, n = base, 2
            while candidate in self._taken:
                candidate, n = f"{base}-{n}", n + 1
            self._taken.add(candidate)
            self._ids[key] = candidate
        return self._ids[key]

    def get(self, kind: str, name: str) -> str:
        return self._ids.get((kind, name), "")


# -- the page --------------------------------------------------------------------------------------
class DocsBuilder:
    """Builds the `Page` of one API from its IR and bundled spec."""

    def __init__(self, api: ir.Api, data: dict[str, Any]) -> None:
        self.api = api
        self.data = data
        components = data.get("components") or {}
        self.schemas: dict[str, Any] = components.get("schemas") or {}
        # the same class names models.py has, colliding names told apart the same way
        self.classes = schema_classes(self.schemas)
        self.class_to_schema = {cls: n for n, cls in self.classes.items()}
        self.anchors = Anchors()
        for tag in api.tags:
            self.anchors.add("tag", tag.name)
        for scheme in api.schemes:
            self.anchors.add("auth", scheme.name)
        for op in (*api.operations, *api.webhooks):
            self.anchors.add("op", op.id)
        for name in self.schema_names():
            self.anchors.add("schema", name)
        self.shared_responses: dict[str, Any] = components.get("responses") or {}
        for name in self.shared_responses:
            self.anchors.add("response", name)
        self.links = {
            f"#/components/schemas/{n}": self.anchors.get("schema", n) for n in self.schemas
        }
        self.env_prefix = slug(api.vendor).replace("-", "_").replace(".", "_").upper()

    def schema_names(self) -> list[str]:
        return sorted(self.schemas, key=lambda n: (n.lower(), n))

    # -- spec access -------------------------------------------------------------------------------
    def deref(self, value: Any) -> Any:
        seen = 0
        while isinstance(value, dict) and isinstance(value.get("$ref"), str) and seen < 32:
            ref = value["$ref"]
            if not ref.startswith("#"):
                return {}
            try:
                value = resolve_pointer(self.data, ref[1:])
            except LookupError:
                return {}
            seen += 1
        return value

    def raw_operation(self, op: ir.Operation) -> tuple[dict[str, Any], dict[str, Any]]:
        item_pointer = op.pointer.rsplit("/", 1)[0]
        item = self.deref(resolve_pointer(self.data, item_pointer))
        return item, item[op.method]

    def raw_parameters(
        self, item: dict[str, Any], raw: dict[str, Any]
    ) -> dict[tuple[str, str], Any]:
        merged: dict[tuple[str, str], Any] = {}
        for p in [*(item.get("parameters") or []), *(raw.get("parameters") or [])]:
            p = self.deref(p)
            if isinstance(p, dict) and "name" in p:
                merged[(p["name"], p.get("in", ""))] = p
        return merged

    def md(self, text: Any) -> Markup:
        return markdown(text, self.links)

    # -- schema trees ------------------------------------------------------------------------------
    def schema_ref(self, schema: Any) -> str | None:
        """The component schema a `$ref` names, or None."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            match = _SCHEMA_REF.match(schema["$ref"])
            if match and match.group(1) in self.schemas:
                return match.group(1)
        return None

    def pieces(self, schema: Any, depth: int = 0) -> tuple[Piece, ...]:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return (Piece("any"),)
        name = self.schema_ref(schema)
        if name is not None:
            return (Piece(name, "#" + self.anchors.get("schema", name)),)
        if "$ref" in schema:
            return self.pieces(self.deref(schema), depth + 1)
        if "const" in schema:
            return (Piece(f"const {short_json(schema['const'], 40)}"),)
        out: list[Piece] = []
        for key, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")):
            branches = [b for b in schema.get(key) or [] if isinstance(b, dict)]
            for i, branch in enumerate(branches):
                if i:
                    out.append(Piece(joiner))
                structured = self.schema_ref(branch) is None and self.has_children(branch)
                out.extend((Piece(f"option {i + 1}"),) if structured and key != "allOf" else ())
                if not (structured and key != "allOf"):
                    out.extend(self.pieces(branch, depth + 1))
            if branches:
                break
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types] if types else []
        for i, type_ in enumerate(type_list):
            if out or i:
                out.append(Piece(" | "))
            if type_ == "array":
                items = schema.get("items")
                if isinstance(items, dict) and items:
                    out.extend(_wrapped("array of ", self.pieces(items, depth + 1)))
                else:
                    out.append(Piece("array"))
            elif type_ == "object":
                extra = schema.get("additionalProperties")
                if isinstance(extra, dict) and extra and not schema.get("properties"):
                    out.extend(_wrapped("map of ", self.pieces(extra, depth + 1)))
                else:
                    out.append(Piece("object"))
            elif type_ == "string":
                fmt = schema.get("format") or schema.get("contentMediaType")
                out.append(Piece(f"string ({fmt})" if fmt else "string"))
            elif type_ in ("integer", "number") and schema.get("format"):
                out.append(Piece(f"{type_} ({schema['format']})"))
            else:
                out.append(Piece(str(type_)))
        if not out:
            out.append(Piece("enum" if "enum" in schema else "any"))
        if schema.get("nullable") is True:
            out.append(Piece(" | null"))
        return _merge(out)

    def notes(self, schema: Any) -> tuple[str, ...]:
        if not isinstance(schema, dict):
            return ()
        out: list[str] = []
        if isinstance(schema.get("enum"), list):
            values = schema["enum"]
            shown = ", ".join(short_json(v, 40) for v in values[:24])
            more = f", … {len(values) - 24} more" if len(values) > 24 else ""
            out.append(f"one of: {shown}{more}")
        bounds = (
            ("minimum", "≥ {}"),
            ("exclusiveMinimum", "> {}"),
            ("maximum", "≤ {}"),
            ("exclusiveMaximum", "< {}"),
            ("multipleOf", "multiple of {}"),
            ("minLength", "length ≥ {}"),
            ("maxLength", "length ≤ {}"),
            ("pattern", "pattern {}"),
            ("minItems", "items ≥ {}"),
            ("maxItems", "items ≤ {}"),
            ("minProperties", "keys ≥ {}"),
            ("maxProperties", "keys ≤ {}"),
            ("contentEncoding", "encoding {}"),
        )
        for key, text in bounds:
            value = schema.get(key)
            if isinstance(value, bool) and key.startswith("exclusive"):
                continue  # OpenAPI 3.0 flags; the bound itself is printed
            if value is not None:
                out.append(text.format(value))
        if schema.get("uniqueItems") is True:
            out.append("unique items")
        names = schema.get("propertyNames")
        if isinstance(names, dict) and names.get("pattern"):
            out.append(f"keys match {names['pattern']}")
        if "default" in schema:
            out.append(f"default {short_json(schema['default'], 40)}")
        for flag, text in (("readOnly", "read-only"), ("writeOnly", "write-only")):
            if schema.get(flag) is True:
                out.append(text)
        if schema.get("deprecated") is True:
            out.append("deprecated")
        example = _example_of(schema)
        if example is not _NONE and "const" not in schema:
            out.append(f"e.g. {short_json(example, 60)}")
        return tuple(out)

    def has_children(self, schema: Any) -> bool:
        return bool(self.children(schema, _MAX_DEPTH))

    def children(self, schema: Any, depth: int) -> tuple[Node, ...]:
        """What lies below a schema: properties, inline items and variants; refs are links only."""
        if not isinstance(schema, dict) or depth > _MAX_DEPTH or "$ref" in schema:
            return ()
        out: list[Node] = []
        required = set(schema.get("required") or [])
        for name, prop in (schema.get("properties") or {}).items():
            out.append(self.node(str(name), "", prop, name in required, depth + 1))
        for branch in schema.get("allOf") or []:
            if self.schema_ref(branch) or "$ref" in (branch or {}):
                out.append(self.node("", "includes", branch, False, depth + 1))
            else:
                out.extend(self.children(branch, depth))
        for key in ("anyOf", "oneOf"):
            for i, branch in enumerate(schema.get(key) or []):
                if (
                    self.schema_ref(branch) is None
                    and isinstance(branch, dict)
                    and self.children(branch, depth + 1)
                ):
                    out.append(self.node("", f"option {i + 1}", branch, False, depth + 1))
        items = schema.get("items")
        if isinstance(items, dict) and self.schema_ref(items) is None:
            out.extend(self.children(items, depth))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and self.schema_ref(extra) is None:
            below = self.children(extra, depth + 1)
            if below or schema.get("properties"):
                out.append(self.node("", "any key", extra, False, depth + 1))
        return tuple(out)

    def node(self, name: str, label: str, schema: Any, required: bool, depth: int) -> Node:
        schema = schema if isinstance(schema, dict) else {}
        return Node(
            name=name,
            label=label,
            type=self.pieces(schema),
            required=required,
            notes=self.notes(schema),
            description=self.md(schema.get("description", "")) if label != "includes" else Markup(),
            children=self.children(schema, depth),
        )

    def tree(self, schema: Any, *, expand: bool) -> Node:
        """The tree of a body: a schema it names is expanded one level when `expand`."""
        schema = schema if isinstance(schema, dict) else {}
        target = self.deref(schema) if expand and "$ref" in schema else schema
        return Node(
            name="",
            label="",
            type=self.pieces(schema),
            required=False,
            notes=self.notes(schema) if "$ref" in schema else self.notes(target),
            description=Markup(),
            children=self.children(target, 0) if expand or "$ref" not in schema else (),
        )

    # -- bodies and examples -----------------------------------------------------------------------
    def examples(self, holder: dict[str, Any]) -> tuple[Example, ...]:
        out = []
        examples = holder.get("examples")
        if isinstance(examples, dict):
            for name, example in examples.items():
                example = self.deref(example)
                if not isinstance(example, dict):
                    continue
                summary = str(example.get("summary") or "")
                if "value" in example:
                    out.append(Example(str(name), summary, _example_text(example["value"])))
                elif example.get("externalValue"):
                    out.append(Example(str(name), summary, f"(see {example['externalValue']})"))
        elif "example" in holder:
            out.append(Example("example", "", _example_text(holder["example"])))
        return tuple(out)

    def contents(self, content: Any, *, expand: bool) -> tuple[Content, ...]:
        groups: list[tuple[list[str], Any, list[Example]]] = []
        for media, media_obj in (content or {}).items():
            media_obj = media_obj if isinstance(media_obj, dict) else {}
            schema = media_obj.get("schema")
            for group in groups:
                if group[1] == schema:
                    group[0].append(str(media))
                    group[2].extend(self.examples(media_obj))
                    break
            else:
                groups.append(([str(media)], schema, list(self.examples(media_obj))))
        return tuple(
            Content(
                tuple(media),
                self.tree(schema, expand=expand) if isinstance(schema, dict) else None,
                tuple(examples),
            )
            for media, schema, examples in groups
        )

    # -- operations --------------------------------------------------------------------------------
    def parameter(self, p: ir.Parameter, raw: dict[str, Any]) -> ParamView:
        schema = raw.get("schema")
        notes: list[str] = []
        if schema is None and isinstance(raw.get("content"), dict) and raw["content"]:
            media, media_obj = next(iter(raw["content"].items()))
            schema = (media_obj or {}).get("schema")
            notes.append(f"sent as {media}")
        schema = schema if isinstance(schema, dict) else {}
        style = raw.get("style")
        if style and style not in ("form", "simple"):
            notes.append(f"style {style}")
        if p.is_array:
            notes.append("repeated" if p.explode else "comma-separated")
        notes.extend(self.notes(schema))
        example = self.parameter_example(raw)
        return ParamView(
            name=p.name,
            location=p.location,
            required=p.required,
            deprecated=bool(raw.get("deprecated")),
            type=self.pieces(schema),
            python=p.annotation,
            notes=tuple(n for n in notes if not n.startswith("e.g. ")),
            description=self.md(raw.get("description", "")),
            example=short_json(example, 120) if example is not _NONE else "",
        )

    def parameter_example(self, raw: dict[str, Any]) -> Any:
        if "example" in raw:
            return raw["example"]
        examples = raw.get("examples")
        if isinstance(examples, dict):
            for example in examples.values():
                example = self.deref(example)
                if isinstance(example, dict) and "value" in example:
                    return example["value"]
        schema = raw.get("schema")
        if schema is None and isinstance(raw.get("content"), dict) and raw["content"]:
            schema = (next(iter(raw["content"].values())) or {}).get("schema")
        return _example_of(self.deref(schema))

    def auth(self, op: ir.Operation) -> tuple[tuple[Piece, ...], ...]:
        return tuple(
            tuple(Piece(name, "#" + self.anchors.get("auth", name)) for name in alternative)
            for alternative in op.security
        )

    def response(self, status: str, raw: Any) -> ResponseView:
        match = re.match(r"^#/components/responses/([^/]+)$", str((raw or {}).get("$ref", "")))
        shared = None
        if match and match.group(1) in self.shared_responses:
            name = match.group(1)
            shared = Piece(name, "#" + self.anchors.get("response", name))
        raw = self.deref(raw)
        raw = raw if isinstance(raw, dict) else {}
        code = status if status.isdigit() else ""
        reason = ""
        if code:
            try:
                reason = HTTPStatus(int(code)).phrase
            except ValueError:
                reason = ""
        elif status.upper().endswith("XX"):
            reason = "any " + status.upper()
        else:
            reason = "any other status"
        first = status[:1]
        kind = {"2": "success", "3": "redirect", "4": "error", "5": "error"}.get(first, "other")
        headers = self.headers(raw)
        contents = self.contents(raw.get("content"), expand=kind == "success" and not shared)
        if shared is not None:  # examples and headers once, in the shared response
            contents = tuple(Content(c.media_types, c.tree, ()) for c in contents)
            headers = ()
        return ResponseView(
            status=status,
            reason=reason,
            kind=kind,
            description=self.md(raw.get("description", "")),
            headers=tuple(headers),
            contents=contents,
            shared=shared,
        )

    def headers(self, raw: dict[str, Any]) -> tuple[HeaderView, ...]:
        out = []
        for name, header in (raw.get("headers") or {}).items():
            header = self.deref(header)
            header = header if isinstance(header, dict) else {}
            out.append(
                HeaderView(
                    name=str(name),
                    type=self.pieces(header.get("schema", {})),
                    required=bool(header.get("required")),
                    description=self.md(header.get("description", "")),
                )
            )
        return tuple(out)

    def shared_response(self, name: str) -> SharedResponse:
        raw = self.deref(self.shared_responses[name])
        raw = raw if isinstance(raw, dict) else {}
        view = ResponseView(
            status="",
            reason="",
            kind="shared",
            description=self.md(raw.get("description", "")),
            headers=self.headers(raw),
            contents=self.contents(raw.get("content"), expand=True),
        )
        return SharedResponse(name, self.anchors.get("response", name), view)

    def operation(self, op: ir.Operation) -> OperationView:
        item, raw = self.raw_operation(op)
        raw_params = self.raw_parameters(item, raw)
        params = tuple(
            self.parameter(p, raw_params.get((p.name, p.location), {})) for p in op.parameters
        )
        body = None
        raw_body = self.deref(raw.get("requestBody"))
        if isinstance(raw_body, dict) and raw_body.get("content"):
            body = BodyView(
                required=bool(raw_body.get("required")),
                description=self.md(raw_body.get("description", "")),
                contents=self.contents(raw_body["content"], expand=True),
            )
        responses = tuple(
            self.response(str(status), response)
            for status, response in (raw.get("responses") or {}).items()
        )
        snippets = SnippetBuilder(self, op, raw, raw_body, raw_params).snippets()
        search = " ".join(
            [op.method, op.path, op.summary, op.id, op.tag, "webhook" if op.webhook else ""]
        )
        return OperationView(
            op=op,
            anchor=self.anchors.get("op", op.id),
            tag_anchor=self.anchors.get("tag", op.tag),
            description=self.md(op.description),
            server=op.server_url,
            auth=self.auth(op),
            params=params,
            body=body,
            responses=responses,
            snippets=snippets,
            search=search.lower(),
        )

    # -- schemas -----------------------------------------------------------------------------------
    def schema_uses(
        self, operations: tuple[OperationView, ...]
    ) -> tuple[dict[str, list[Piece]], dict[str, list[Piece]]]:
        """Which operations and which other schemas name each schema directly."""
        by_ops: dict[str, list[Piece]] = {n: [] for n in self.schemas}
        by_schemas: dict[str, list[Piece]] = {n: [] for n in self.schemas}
        for view in operations:
            _, raw = self.raw_operation(view.op)
            item, _ = self.raw_operation(view.op)
            found = self.refs_in([raw, *(item.get("parameters") or [])], follow=True)
            for name in sorted(found):
                by_ops[name].append(Piece(view.op.id, "#" + view.anchor))
        for owner in self.schema_names():
            for name in sorted(self.refs_in(self.schemas[owner], follow=False) - {owner}):
                by_schemas[name].append(Piece(owner, "#" + self.anchors.get("schema", owner)))
        return by_ops, by_schemas

    def refs_in(self, value: Any, *, follow: bool) -> set[str]:
        """Component schemas named in `value`; `follow` walks into other components too."""
        found: set[str] = set()
        stack, seen = [value], set()
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    name = self.schema_ref(node)
                    if name is not None:
                        found.add(name)
                    elif follow and ref not in seen and ref.startswith("#/components/"):
                        seen.add(ref)
                        stack.append(self.deref(node))
                stack.extend(v for k, v in node.items() if k not in ("examples", "example"))
        return found

    def schema(self, name: str, used_by: list[Piece], used_in: list[Piece]) -> SchemaView:
        schema = self.schemas[name]
        schema = schema if isinstance(schema, dict) else {}
        cls = self.classes[name]
        is_class = bool(
            schema.get("type") == "object"
            or any(k in schema for k in ("properties", "allOf", "anyOf", "oneOf"))
        )
        examples: list[Example] = []
        if isinstance(schema.get("examples"), list):
            examples = [
                Example(f"example {i + 1}", "", _example_text(v))
                for i, v in enumerate(schema["examples"])
            ]
        elif "example" in schema:
            examples = [Example("example", "", _example_text(schema["example"]))]
        return SchemaView(
            name=name,
            anchor=self.anchors.get("schema", name),
            python=f"models.{cls}" if is_class else "",
            description=self.md(schema.get("description", "")),
            tree=Node(
                name="",
                label="",
                type=self.pieces(schema),
                required=False,
                notes=self.notes(schema),
                description=Markup(),
                children=self.children(schema, 0),
            ),
            examples=tuple(examples),
            used_by=tuple(used_by),
            used_in=tuple(used_in),
            search=" ".join([name, str(schema.get("title") or ""), "schema"]).lower(),
        )

    # -- the rest of the page ----------------------------------------------------------------------
    def scheme(self, s: ir.SecurityScheme) -> SchemeView:
        if s.is_basic:
            how = "HTTP basic authentication (Authorization: Basic …)"
        elif s.kind == "http":
            how = f"HTTP {s.http_scheme} (Authorization: {s.http_scheme.capitalize()} …)"
        elif s.kind == "apiKey":
            value = s.value_format.replace("{key}", "<credential>")
            how = f"{s.location} {s.wire_name}" + (f": {value}" if value != "<credential>" else "")
            if s.signature is not None:
                how += f" (computed: {s.signature.algorithm} of {s.signature.message})"
        else:
            how = s.kind
        return SchemeView(
            scheme=s,
            anchor=self.anchors.get("auth", s.name),
            how=how,
            env=tuple(self.env_names(s)),
            description=self.md(s.description),
        )

    def env_names(self, s: ir.SecurityScheme) -> list[str]:
        base = f"{self.env_prefix}_{s.py_name.upper()}"
        return [f"{base}_USER", f"{base}_PASSWORD"] if s.is_basic else [base]

    def servers(self) -> tuple[ServerView, ...]:
        out = []
        for server in self.data.get("servers") or [{"url": "/"}]:
            if not isinstance(server, dict):
                continue
            variables = []
            for name, var in (server.get("variables") or {}).items():
                var = var if isinstance(var, dict) else {}
                default = str(var.get("default", ""))
                if isinstance(var.get("enum"), list):
                    default += " (one of " + ", ".join(str(v) for v in var["enum"]) + ")"
                variables.append((str(name), default, str(var.get("description", ""))))
            out.append(
                ServerView(
                    url=str(server.get("url", "/")),
                    description=self.md(server.get("description", "")),
                    variables=tuple(variables),
                )
            )
        return tuple(out)

    def page(self, header: str) -> Page:
        api = self.api
        tags = []
        views: list[OperationView] = []
        for tag in api.tags:
            ops = tuple(self.operation(op) for op in tag.operations)
            views.extend(ops)
            tags.append(
                TagView(tag.name, self.anchors.get("tag", tag.name), self.md(tag.description), ops)
            )
        webhooks = tuple(self.operation(op) for op in api.webhooks)
        by_ops, by_schemas = self.schema_uses((*views, *webhooks))
        schemas = tuple(self.schema(n, by_ops[n], by_schemas[n]) for n in self.schema_names())
        info = self.data.get("info") or {}
        external = self.data.get("externalDocs") or {}
        error_schema = None
        if api.error.schema and api.error.schema in self.schemas:
            anchor = self.anchors.get("schema", api.error.schema)
            error_schema = Piece(api.error.schema, "#" + anchor)
        situations = tuple(
            Situation(
                name=str(name),
                status=str(s.get("status", "")),
                code=str(s.get("code", "")),
                message=str(s.get("message", "")),
            )
            for name, s in api.error.situations.items()
            if isinstance(s, dict)
        )
        return Page(
            api=api,
            header=Markup(f"<!-- {escape(header)} -->"),
            summary=str(info.get("summary") or ""),
            description=self.md(api.description),
            external_docs=(
                (str(external["url"]), str(external.get("description") or external["url"]))
                if isinstance(external, dict) and external.get("url")
                else ("", "")
            ),
            servers=self.servers(),
            schemes=tuple(self.scheme(s) for s in api.schemes),
            client_snippet=SnippetBuilder.client_snippet(self),
            error_schema=error_schema,
            situations=situations,
            tags=tuple(tags),
            webhooks=webhooks,
            schemas=schemas,
            responses=tuple(self.shared_response(n) for n in self.shared_responses),
        )


def _wrapped(prefix: str, inner: tuple[Piece, ...]) -> list[Piece]:
    """`array of X`, with parentheses when X is a union: `array of (integer | string)`."""
    if any(" | " in p.text or " & " in p.text for p in inner):
        return [Piece(prefix + "("), *inner, Piece(")")]
    return [Piece(prefix), *inner]


def _merge(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Adjacent plain-text pieces joined, so the template prints fewer spans."""
    out: list[Piece] = []
    for piece in pieces:
        if out and not out[-1].href and not piece.href:
            out[-1] = Piece(out[-1].text + piece.text)
        else:
            out.append(piece)
    return tuple(out)


class _Missing:
    def __repr__(self) -> str:
        return "<none>"


_NONE: Any = _Missing()


def _example_of(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return _NONE
    if "example" in schema:
        return schema["example"]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    return _NONE


def _example_text(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)


# -- usage snippets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Var:
    """An environment variable inside a shell word."""

    name: str


def _shell_word(*parts: str | _Var) -> str:
    """One shell word: single-quoted when literal, double-quoted when it expands a variable."""
    if not any(isinstance(p, _Var) for p in parts):
        text = "".join(str(p) for p in parts)
        if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
            return text
        return "'" + text.replace("'", "'\\''") + "'"
    out = []
    for p in parts:
        if isinstance(p, _Var):
            out.append("${" + p.name + "}")
        else:
            out.append(re.sub(r'([\\"$`])', r"\\\1", p))
    return '"' + "".join(out) + '"'


def form_pairs(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """The client's form flattening (`flatten_form` in the runtime): `user[login]`, `ids[]`."""
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            yield from form_pairs(value, name)
        elif isinstance(value, list):
            list_name = name if name.endswith("[]") or not prefix else name + "[]"
            for item in value:
                if isinstance(item, Mapping):
                    yield from form_pairs(item, list_name)
                else:
                    yield list_name, item
        else:
            yield name, value


def _is_text_media(media: str) -> bool:
    media = media.split(";")[0].strip().lower()
    return media.startswith("text/") or media.endswith(("xml", "json"))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


class SnippetBuilder:
    """Python (the generated client) and curl for one operation, from its first examples."""

    def __init__(
        self,
        docs: DocsBuilder,
        op: ir.Operation,
        raw: dict[str, Any],
        raw_body: Any,
        raw_params: dict[tuple[str, str], Any],
    ) -> None:
        self.docs = docs
        self.op = op
        self.raw = raw
        self.raw_body = raw_body if isinstance(raw_body, dict) else {}
        self.raw_params = raw_params
        self.schemes = {s.name: s for s in docs.api.schemes}

    # -- values ------------------------------------------------------------------------------------
    def sample(self, schema: Any, depth: int = 0) -> Any:
        """A value for a schema without example: its default or first choice, else made up."""
        schema = self.docs.deref(schema)
        if not isinstance(schema, dict) or depth > 6:
            return "string"
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for key in ("oneOf", "anyOf"):
            branches = [
                b for b in schema.get(key) or [] if self.docs.deref(b).get("type") != "null"
            ]
            if branches:
                return self.sample(branches[0], depth + 1)
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for branch in schema["allOf"]:
                value = self.sample(branch, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        types = schema.get("type")
        type_ = (
            next((t for t in types if t != "null"), "null") if isinstance(types, list) else types
        )
        if type_ == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            return {
                k: self.sample(v, depth + 1)
                for k, v in props.items()
                if k in set(schema.get("required") or [])
            }
        if type_ == "array":
            return [self.sample(schema.get("items", {}), depth + 1)]
        if type_ == "integer":
            return int(schema.get("minimum", 1))
        if type_ == "number":
            return float(schema.get("minimum", 1))
        if type_ == "boolean":
            return True
        if type_ == "null":
            return None
        return {
            "email": "user@example.com",
            "date-time": "2024-01-01T00:00:00Z",
            "date": "2024-01-01",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "uuid": "00000000-0000-0000-0000-000000000000",
        }.get(str(schema.get("format", "")), "string")

    def param_value(self, p: ir.Parameter) -> Any:
        raw = self.raw_params.get((p.name, p.location), {})
        value = self.docs.parameter_example(raw)
        if value is _NONE:
            schema = raw.get("schema")
            if schema is None and isinstance(raw.get("content"), dict) and raw["content"]:
                schema = (next(iter(raw["content"].values())) or {}).get("schema")
            value = self.sample(schema or {})
        return value

    def body_value(self) -> tuple[Any, bool]:
        """The first example of the media type the client sends (else a sample); whether real."""
        body = self.op.body
        content = self.raw_body.get("content") or {}
        media_obj = content.get(body.media_type) if body else None
        media_obj = media_obj if isinstance(media_obj, dict) else {}
        examples = media_obj.get("examples")
        for example in examples.values() if isinstance(examples, dict) else ():
            example = self.docs.deref(example)
            if isinstance(example, dict) and "value" in example:
                return example["value"], True
        if "example" in media_obj:
            return media_obj["example"], True
        value = _example_of(self.docs.deref(media_obj.get("schema")))
        if value is not _NONE:
            return value, True
        return self.sample(media_obj.get("schema", {})), False

    def binary_fields(self) -> set[str]:
        body = self.op.body
        schema = self.docs.deref(
            ((self.raw_body.get("content") or {}).get(body.media_type) or {}).get("schema")
            if body
            else None
        )
        out = set()
        for name, prop in ((schema or {}).get("properties") or {}).items():
            prop = self.docs.deref(prop)
            if isinstance(prop, dict) and (
                prop.get("format") == "binary"
                or (
                    ("contentMediaType" in prop and "contentEncoding" not in prop)
                    and prop.get("contentMediaType") != "application/json"
                )
            ):
                out.add(str(name))
        return out

    # -- Python ------------------------------------------------------------------------------------
    def model_for(self, annotation: str, value: Any) -> str | None:
        """The model class of `annotation` that `value` fits best (unions: by required keys)."""
        names = re.findall(r"models\.(\w+)", annotation)
        if not names or not isinstance(value, dict):
            return None
        if len(names) == 1:
            return names[0]
        best, best_score = names[0], -1
        for name in names:
            schema = self.docs.deref(self.docs.schemas.get(self.docs.class_to_schema.get(name, "")))
            if not isinstance(schema, dict):
                continue
            props = schema.get("properties") or {}
            required = set(schema.get("required") or [])
            if not required <= set(value):
                continue
            consts_ok = all(
                value.get(k) == self.docs.deref(v).get("const")
                for k, v in props.items()
                if isinstance(self.docs.deref(v), dict)
                and "const" in self.docs.deref(v)
                and k in value
            )
            if not consts_ok:
                continue
            score = len(set(value) & set(props))
            if score > best_score:
                best, best_score = name, score
        return best

    def py_value(self, annotation: str, value: Any, binary: AbstractSet[str] = frozenset()) -> str:
        inner = re.fullmatch(r"list\[(models\.\w+)\]", annotation)
        if inner and isinstance(value, list):
            return "[" + ", ".join(self.py_value(inner.group(1), v) for v in value) + "]"
        if annotation == "bytes":
            if isinstance(value, str) and _is_text_media(
                self.op.body.media_type if self.op.body else ""
            ):
                return repr(value.encode())
            return f"Path({_SNIPPET_UPLOAD!r}).read_bytes()"
        model = self.model_for(annotation, value)
        if model is None:
            return repr(value)
        fields = {
            k: f"Path({_SNIPPET_UPLOAD!r}).read_bytes()" if k in binary else repr(v)
            for k, v in value.items()
        }
        if all(is_python_name(k) and not k.startswith("_") for k in fields):
            return f"models.{model}(" + ", ".join(f"{k}={v}" for k, v in fields.items()) + ")"
        items = ", ".join(f"{k!r}: {v}" for k, v in fields.items())
        return f"models.{model}.model_validate({{{items}}})"

    def credentials(
        self, alternative: tuple[str, ...]
    ) -> list[tuple[ir.SecurityScheme, list[str]]]:
        out = []
        for name in alternative:
            scheme = self.schemes.get(name)
            if scheme is not None:
                out.append((scheme, self.docs.env_names(scheme)))
        return out

    def python(self) -> str:
        op, pkg = self.op, self.docs.api.package
        lines = [
            "import os",
            "from pathlib import Path",
            "",
            f"from {pkg} import models",
            f"from {pkg}.client import Client",
            "",
        ]
        kwargs = [repr(self.docs.api.server_url)]
        for scheme, env in self.credentials(op.security[0] if op.security else ()):
            if scheme.is_basic:
                kwargs.append(f"{scheme.py_name}=(os.environ[{env[0]!r}], os.environ[{env[1]!r}])")
            else:
                kwargs.append(f"{scheme.py_name}=os.environ[{env[0]!r}]")
        if op.signature is not None and op.signature.secret not in {
            s.py_name for s in self.schemes.values()
        }:
            env_name = f"{self.docs.env_prefix}_{op.signature.secret.upper()}"
            kwargs.append(f"{op.signature.secret}=os.environ[{env_name!r}]")
        args = [self.py_value(p.annotation, self.param_value(p)) for p in op.path_params]
        if op.body:
            value, real = self.body_value()
            if not real:
                lines.insert(0, _NO_EXAMPLE)
            if op.signature is not None and isinstance(value, dict):
                # left empty, the client fills a fresh nonce and timestamp and signs the body
                sig = op.signature
                value = {
                    k: ("" if isinstance(v, str) else 0)
                    if k in (sig.field, sig.nonce, sig.timestamp)
                    else v
                    for k, v in value.items()
                }
            args.append(self.py_value(op.body.annotation, value, self.binary_fields()))
        for p in op.parameters:
            if p.location != "path" and p.required:
                args.append(f"{p.py_name}={self.py_value(p.annotation, self.param_value(p))}")
        call = f"client.{op.py_name}({', '.join(args)})"
        returns = any(r.is_success and r.annotation for r in op.responses)
        lines.append(f"with Client({', '.join(kwargs)}) as client:")
        if returns:
            lines += [f"    result = {call}", "    print(result)"]
        else:
            lines.append(f"    {call}")
        if op.pagination is not None:
            lines.append(f"    # client.iter_{op.py_name}(...) walks every page")
        return "\n".join(lines) + "\n"

    def python_webhook(self) -> str:
        op, pkg = self.op, self.docs.api.package
        arg = f", *, body: {op.body.annotation}" if op.body else ""
        if op.body and not op.body.required:
            arg += " | None = None"
        return "\n".join(
            [
                f"from {pkg} import models",
                f"from {pkg}.server import WebhooksHandlers, create_webhook_app",
                "",
                "",
                "class MyWebhooks(WebhooksHandlers):",
                f"    async def {op.py_name}(self{arg}) -> None:",
                "        print(body)" if op.body else "        print('called')",
                "",
                "",
                f"app = create_webhook_app(MyWebhooks())  # receives POST /webhooks/{op.path}",
                "",
            ]
        )

    # -- curl --------------------------------------------------------------------------------------
    def curl(self) -> str:
        op = self.op
        if op.webhook:
            url: list[str | _Var] = [f"http://localhost:8000/webhooks/{op.path}"]
        else:
            path = op.path
            for p in op.path_params:
                path = path.replace(
                    "{" + p.name + "}", quote(_scalar(self.param_value(p)), safe="")
                )
            url = [(op.server_url or self.docs.api.server_url).rstrip("/") + path]
        query: list[tuple[str, str]] = []
        words: list[str] = []
        for p in op.parameters:
            if p.location == "path" or not p.required:
                continue
            value = self.param_value(p)
            if p.location == "query":
                if isinstance(value, list) and not p.is_json:
                    query.extend((p.name, _scalar(v)) for v in value)
                else:
                    query.append((p.name, _scalar(value)))
            elif p.location == "header":
                words.append(f"-H {_shell_word(f'{p.name}: {_scalar(value)}')}")
            elif p.location == "cookie":
                words.append(f"-b {_shell_word(f'{p.name}={_scalar(value)}')}")
        auth_query: list[str | _Var] = []
        alternative = op.security[0] if op.security and not op.webhook else ()
        for scheme, env in self.credentials(alternative):
            if scheme.is_basic:
                words.append(f"-u {_shell_word(_Var(env[0]), ':', _Var(env[1]))}")
            elif scheme.kind in ("http", "oauth2", "openIdConnect"):
                words.append(f"-H {_shell_word('Authorization: Bearer ', _Var(env[0]))}")
            else:
                before, _, after = scheme.value_format.partition("{key}")
                if scheme.location == "query":
                    sep = "&" if query or auth_query else "?"
                    auth_query += [f"{sep}{quote(scheme.wire_name)}=", _Var(env[0])]
                elif scheme.location == "cookie":
                    words.append(f"-b {_shell_word(f'{scheme.wire_name}=', _Var(env[0]))}")
                else:
                    words.append(
                        f"-H {_shell_word(f'{scheme.wire_name}: {before}', _Var(env[0]), after)}"
                    )
        if query:
            url.append("?" + urlencode(query, quote_via=quote))
            if auth_query:
                auth_query[0] = "&" + str(auth_query[0])[1:]
        words.extend(self.curl_body())
        head = ["curl"]
        if op.method == "head":
            head.append("--head")
        elif op.method != "get" or op.body:
            head.append(f"-X {op.method.upper()}")
        head.append(_shell_word(*url, *auth_query))
        comment = _NO_EXAMPLE + "\n" if op.body and not self.body_value()[1] else ""
        if op.signature is not None:
            sig = op.signature
            comment += (
                f"# {sig.field}: {sig.algorithm} of the other fields as sorted key=value pairs "
                f"joined by &, keyed with the {sig.secret} "
                f"(fresh {sig.nonce} and {sig.timestamp})\n"
            )
        return comment + " \\\n  ".join([" ".join(head), *words]) + "\n"

    def curl_body(self) -> list[str]:
        body = self.op.body
        if body is None:
            return []
        value, _ = self.body_value()
        media = body.media_type
        if body.kind == "json":
            text = json.dumps(value, ensure_ascii=False)
            if len(text) > 60:
                text = json_text(value)
            return [
                f"-H {_shell_word('Content-Type: ' + media)}",
                f"--data-raw {_shell_word(text)}",
            ]
        if body.kind == "form" and isinstance(value, dict):
            return [
                f"--data-urlencode {_shell_word(f'{k}={_scalar(v)}')}" for k, v in form_pairs(value)
            ] or [f"-H {_shell_word('Content-Type: ' + media)}", "-d ''"]
        if body.kind == "multipart" and isinstance(value, dict):
            binary = self.binary_fields()
            out = []
            for k, v in form_pairs(value):
                if k in binary:
                    out.append(f"-F {_shell_word(f'{k}=@{_SNIPPET_UPLOAD}')}")
                else:
                    out.append(f"--form-string {_shell_word(f'{k}={_scalar(v)}')}")
            return out
        head = f"-H {_shell_word('Content-Type: ' + media)}"
        if isinstance(value, str) and (body.kind == "text" or _is_text_media(media)):
            return [head, f"--data-raw {_shell_word(value)}"]
        return [head, f"--data-binary @{_SNIPPET_UPLOAD}"]

    def snippets(self) -> tuple[Snippet, ...]:
        if self.op.webhook:
            python = Snippet("python", "Python (server)", self.python_webhook())
        else:
            python = Snippet("python", "Python", self.python())
        return (python, Snippet("shell", "curl", self.curl()))

    @staticmethod
    def client_snippet(docs: DocsBuilder) -> Snippet:
        pkg = docs.api.package
        kwargs = [repr(docs.api.server_url)]
        for scheme in docs.api.schemes:
            env = docs.env_names(scheme)
            if scheme.is_basic:
                kwargs.append(f"{scheme.py_name}=(os.environ[{env[0]!r}], os.environ[{env[1]!r}])")
            else:
                kwargs.append(f"{scheme.py_name}=os.environ[{env[0]!r}]")
        code = "\n".join(
            [
                "import os",
                "",
                f"from {pkg}.client import Client",
                "",
                "# give the credentials you have: each operation lists the ones it needs",
                f"client = Client({', '.join(kwargs)})",
                "",
            ]
        )
        return Snippet("python", "Python", code)


def _format_snippets(page: Page) -> Page:
    """Every Python snippet through the pinned ruff (imports pruned and sorted, lines wrapped)."""
    views = [*(v for t in page.tags for v in t.operations), *page.webhooks]
    files = {
        f"s{i}.py": s.code
        for i, v in enumerate(views)
        for s in v.snippets
        if s.language == "python"
    }
    files["client.py"] = page.client_snippet.code
    done = format_python(files)

    def fixed(i: int, view: OperationView) -> OperationView:
        snippets = tuple(
            Snippet(s.language, s.label, done[f"s{i}.py"]) if s.language == "python" else s
            for s in view.snippets
        )
        return replace(view, snippets=snippets)

    counter = iter(range(len(views)))
    tags = tuple(
        replace(t, operations=tuple(fixed(next(counter), v) for v in t.operations))
        for t in page.tags
    )
    webhooks = tuple(fixed(next(counter), v) for v in page.webhooks)
    client = Snippet("python", "Python", done["client.py"])
    return replace(page, tags=tags, webhooks=webhooks, client_snippet=client)


# -- entry points ----------------------------------------------------------------------------------
def build_page(api: ir.Api, data: dict[str, Any], header: str) -> Page:
    return _format_snippets(DocsBuilder(api, data).page(header))


def _environment(templates: Path) -> Any:
    env = environment(templates, html=True)
    env.filters.update(markdown=markdown, first_paragraph=first_paragraph, text=plain_text)
    return env


def render_docs(api: ir.Api, data: dict[str, Any], templates: Path, header: str) -> dict[str, str]:
    """The files of `generated/<vendor>/docs/`: one self-contained page."""
    page = build_page(api, data, header)
    html = _environment(templates).get_template("docs/index.html.jinja").render(page=page)
    return {PAGE: html}


@dataclass(frozen=True)
class SiteEntry:
    vendor: str
    href: str
    title: str
    version: str
    summary: str
    description: Markup
    operations: int
    webhooks: int
    schemas: int
    tags: int
    server: str


def _site_entry(vendor: str, data: dict[str, Any]) -> SiteEntry:
    info = data.get("info") or {}

    def count(section: str) -> int:
        return sum(
            1
            for item in (data.get(section) or {}).values()
            if isinstance(item, dict)
            for method in HTTP_METHODS
            if isinstance(item.get(method), dict)
        )

    servers = data.get("servers") or [{"url": "/"}]
    return SiteEntry(
        vendor=vendor,
        href=f"{vendor}/index.html",
        title=str(info.get("title", vendor)),
        version=str(info.get("version", "")),
        summary=str(info.get("summary") or ""),
        description=markdown(first_paragraph(info.get("description", ""))),
        operations=count("paths"),
        webhooks=count("webhooks"),
        schemas=len((data.get("components") or {}).get("schemas") or {}),
        tags=len(data.get("tags") or []),
        server=str(servers[0].get("url", "/")) if isinstance(servers[0], dict) else "/",
    )


def site(
    out_dir: Path,
    *,
    generated: Path = GENERATED,
    vendors: list[str] | None = None,
    templates: Path = TEMPLATES,
) -> list[Path]:
    """Write the publishable site into `out_dir`: `index.html` and `<vendor>/index.html` per API.

    Each vendor's pages are copied from `generated/<vendor>/docs/` (run `generate` first); only
    those paths are replaced, anything else in `out_dir` is left alone. Returns the files written.
    """
    if vendors:
        missing = [v for v in vendors if not (generated / v / PAGE).is_file()]
        if missing:
            raise FileNotFoundError(
                f"no {generated.name}/<vendor>/{PAGE} for {', '.join(missing)}: "
                "run `python -m generator generate` first"
            )
    names = [v for v in vendors or VENDORS if (generated / v / PAGE).is_file()]
    if not names:
        raise FileNotFoundError(
            f"no generated docs under {generated}: run `python -m generator generate`"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    entries = []
    for vendor in names:
        data = json.loads((generated / vendor / "openapi.json").read_text(encoding="utf-8"))
        entries.append(_site_entry(vendor, data))
        target = out_dir / vendor
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(generated / vendor / "docs", target)
        page_file = target / "index.html"
        page_file.write_text(
            page_file.read_text(encoding="utf-8").replace(SITE_LINK, SITE_LINK_HTML, 1),
            encoding="utf-8",
        )
        written += sorted(p for p in target.rglob("*") if p.is_file())
    header = "Generated by baas-openapi from specs/. Do not edit."
    page = (
        _environment(templates)
        .get_template("docs/site.html.jinja")
        .render(entries=entries, header=Markup(f"<!-- {header} -->"))
    )
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return [index, *written]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.docs",
        description="Build the static docs site (an index and every API's page) into a folder.",
    )
    parser.add_argument("--out", default="site", help="output folder (default: site)")
    parser.add_argument("vendors", nargs="*", help="vendors (default: every generated one)")
    args = parser.parse_args(argv)
    try:
        files = site(Path(args.out), vendors=args.vendors or None)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"docs: {len(files)} files in {args.out}/ (open {Path(args.out) / 'index.html'})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
