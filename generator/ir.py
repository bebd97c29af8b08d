"""The typed intermediate model the templates render from: built by `build.py`, frozen, sorted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HeaderSignature:
    """`x-baas-signature` on an apiKey scheme: a header value the client computes per request."""

    algorithm: str
    message: str
    value: str
    timestamp_unit: str
    suffix_when: str
    suffix_text: str


@dataclass(frozen=True)
class BodySignature:
    """`x-baas-signature` on an operation: a MAC over the sorted body fields."""

    algorithm: str
    secret: str  # client credential, Python name
    field: str
    nonce: str
    timestamp: str
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    py_name: str
    kind: str  # apiKey | http | oauth2 | openIdConnect | mutualTLS
    location: str  # header | query | cookie ("" for http schemes)
    wire_name: str  # header, query or cookie name
    http_scheme: str  # basic | bearer | ...
    description: str
    value_format: str  # "{key}" unless x-baas-value-format says otherwise
    signature: HeaderSignature | None = None

    @property
    def is_basic(self) -> bool:
        return self.kind == "http" and self.http_scheme.lower() == "basic"


@dataclass(frozen=True)
class Parameter:
    name: str  # on the wire
    py_name: str
    location: str  # path | query | header | cookie
    required: bool
    annotation: str  # Python type, without `| None`
    description: str
    is_array: bool
    explode: bool
    is_json: bool  # content: application/json (sent JSON-encoded)
    default: Any = None
    # an object in the query string (`filter[status]=a`): read by prefix, not by one name
    is_object: bool = False
    # JSON Schema bounds the server enforces while parsing: (keyword, value), sorted
    constraints: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Body:
    media_types: tuple[str, ...]
    media_type: str  # what the client sends
    annotation: str
    model: str | None  # the model class when the body is one
    required: bool
    kind: str  # json | form | multipart | binary | text
    # JSON pointer, in the bundled spec, of the JSON media type's schema: JSON bodies are checked
    # against the schema itself (nulls, formats) before the model parses them
    json_schema: str = ""


@dataclass(frozen=True)
class ResponseHeader:
    name: str
    annotation: str
    required: bool
    description: str


@dataclass(frozen=True)
class Response:
    status: str  # "200", "4XX", "default"
    code: int  # 200; 400 for 4XX; 0 for default
    description: str
    annotation: str | None  # None: no body
    model: str | None
    media_type: str | None
    kind: str  # json | binary | text | empty
    headers: tuple[ResponseHeader, ...] = ()

    @property
    def is_success(self) -> bool:
        return 200 <= self.code < 300


@dataclass(frozen=True)
class Pagination:
    style: str  # page | offset
    page: str
    size: str
    offset: str
    items: str  # JSON pointer
    total: str
    page_py: str = ""
    size_py: str = ""
    offset_py: str = ""
    item_annotation: str = ""  # Python type of one item; "" when the pointer leads to no array
    start: int = 1  # first page number (page style) or first offset


@dataclass(frozen=True)
class Session:
    scheme: str  # Python name of the security scheme
    token: str  # JSON pointer, "" when clearing
    action: str  # set | clear


@dataclass(frozen=True)
class Operation:
    id: str
    py_name: str
    method: str
    path: str
    pointer: str
    tag: str
    summary: str
    description: str
    deprecated: bool
    parameters: tuple[Parameter, ...]
    body: Body | None
    responses: tuple[Response, ...]
    security: tuple[tuple[str, ...], ...]  # alternatives of scheme names; () = none needed
    webhook: bool = False
    server_url: str = ""  # an operation-level `servers` override, "" for the API's own
    session: Session | None = None
    pagination: Pagination | None = None
    signature: BodySignature | None = None

    @property
    def success(self) -> Response | None:
        return next((r for r in self.responses if r.is_success), None)

    @property
    def idempotent(self) -> bool:
        return self.method in ("get", "head", "put", "delete", "options")

    @property
    def path_params(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")


@dataclass(frozen=True)
class Tag:
    name: str
    py_name: str
    class_name: str
    description: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class ErrorEnvelope:
    schema: str | None
    body: Any
    situations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Api:
    vendor: str
    package: str
    source: str  # where the spec lives, relative: specs/qiscus
    title: str
    version: str
    description: str
    server_url: str
    tags: tuple[Tag, ...]
    operations: tuple[Operation, ...]  # spec order: route matching depends on it
    webhooks: tuple[Operation, ...]
    schemes: tuple[SecurityScheme, ...]
    error: ErrorEnvelope
    credentials: tuple[str, ...]  # extra client credentials (signature secrets), Python names
    spec_sha256: str
