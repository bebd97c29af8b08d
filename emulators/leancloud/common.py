"""Shared pieces of the LeanCloud emulator: ids, times, errors, the raw request and replies.

Replies are rendered here rather than by the skeleton: they are validated against the operation's
declared model first (a mismatch is a bug, reported as such), then sent as the exact JSON built,
so `createdAt` keeps LeanCloud's `YYYY-MM-DDTHH:MM:SS.mmmZ` form instead of pydantic's microseconds.
"""

from __future__ import annotations

import contextvars
import functools
import json
import re
import secrets
import string
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter

from generated.leancloud.server import ApiProblem

Doc = dict[str, Any]
JsonObject = dict[str, Any]

# -- ids and times -------------------------------------------------------------------------------
_ALNUM = string.ascii_lowercase + string.digits
_MIXED = string.ascii_letters + string.digits


def object_id(now: float) -> str:
    """A MongoDB-style objectId: 4 bytes of seconds, then 8 random bytes (24 hex digits)."""
    return f"{int(now) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def session_token() -> str:
    """25 lower-case letters and digits, like `qmdj8pdidnmyzp0c7yqil91oc`."""
    return "".join(secrets.choice(_ALNUM) for _ in range(25))


def random_id(length: int = 16) -> str:
    return "".join(secrets.choice(_MIXED) for _ in range(length))


def message_id() -> str:
    """22 url-safe base64 characters, like `vdkGm4dtRNmhQ5gqUTFBiA`."""
    return secrets.token_urlsafe(16)[:22]


def iso(ts: float) -> str:
    """`2015-06-29T01:39:35.931Z`: UTC with milliseconds."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def date_value(ts: float) -> JsonObject:
    return {"__type": "Date", "iso": iso(ts)}


def pointer(class_name: str, oid: str) -> JsonObject:
    return {"__type": "Pointer", "className": class_name, "objectId": oid}


# -- errors --------------------------------------------------------------------------------------
_SITUATIONS = {400: "validation", 401: "unauthorized", 403: "forbidden", 404: "not_found"}


def fail(status: int, code: int, message: str) -> ApiProblem:
    """The vendor's `{"code", "error"}` answer with this HTTP status."""
    return ApiProblem(_SITUATIONS.get(status, "validation"), message, status=status, code=code)


def bad(code: int, message: str) -> ApiProblem:
    return fail(400, code, message)


def problem_body(problem: ApiProblem) -> JsonObject:
    return {"code": problem.code if isinstance(problem.code, int) else 1, "error": problem.message}


UNAUTHORIZED = (401, 401, "Unauthorized.")
MASTER_ONLY = (403, 119, "The operation isn't allowed for clients.")
NO_USER = (400, 211, "Could not find user.")
STALE_SESSION = (403, 211, "Could not find user.")
ACL_WRITE = (403, 403, "Forbidden writing by object's ACL.")
ACL_READ = (403, 403, "Forbidden reading by object's ACL.")
NOT_FOUND = (404, 101, "Class or object doesn't exists.")


# -- the operations as the spec declares them ----------------------------------------------------
@dataclass(frozen=True)
class Operation:
    operation_id: str
    method_name: str
    statuses: frozenset[int]
    master_only: bool


@functools.cache
def operations() -> dict[str, Operation]:
    """Every operation of the spec: its declared statuses, and whether it needs the master key."""
    text = resources.files("generated.leancloud").joinpath("openapi.json").read_text("utf-8")
    document = json.loads(text)
    root = document.get("security", [])
    found: dict[str, Operation] = {}
    for item in document["paths"].values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            security = op.get("security", root)
            keyed = any("lcKey" in requirement for requirement in security)
            statuses = frozenset(int(s) for s in op.get("responses", {}) if s.isdigit())
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", op["operationId"]).lower()
            found[op["operationId"]] = Operation(op["operationId"], name, statuses, not keyed)
    return found


def declared_status(operation_id: str, status: int) -> int:
    """`status` when the operation declares it, else the closest declared error status."""
    op = operations().get(operation_id)
    if op is None or status in op.statuses:
        return status
    for fallback in (400, 403, 404, 401):
        if fallback in op.statuses:
            return fallback
    return 400


# -- the raw request -----------------------------------------------------------------------------
@dataclass
class RawRequest:
    scope: Mapping[str, Any]
    chunks: list[bytes] = field(default_factory=list)

    def json(self) -> Any:
        data = b"".join(self.chunks)
        if not data:
            return None
        try:
            return loads(data)
        except (ValueError, UnicodeDecodeError):
            raise bad(107, "Malformed json object. A json dictionary is expected.") from None

    def query(self, name: str) -> str | None:
        raw = self.scope.get("query_string", b"")
        values = urllib.parse.parse_qs(raw.decode("latin-1"), keep_blank_values=True).get(name)
        return values[-1] if values else None

    def base_url(self) -> str:
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]
        }
        host = headers.get("host", "localhost")
        return f"{self.scope.get('scheme', 'http')}://{host}"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return number


def loads(data: str | bytes) -> Any:
    """JSON as LeanCloud accepts it: no NaN, no infinities."""
    return json.loads(data, parse_constant=_no_constant, parse_float=_finite)


CURRENT: contextvars.ContextVar[RawRequest | None] = contextvars.ContextVar(
    "leancloud_request", default=None
)

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
App = Callable[[Mapping[str, Any], Receive, Send], Awaitable[None]]


class CaptureRequest:
    """ASGI middleware keeping the request's bytes so handlers can see values exactly as sent."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        raw = RawRequest(scope)
        token = CURRENT.set(raw)

        async def keep() -> Mapping[str, Any]:
            message = await receive()
            if message.get("type") == "http.request":
                raw.chunks.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, keep, send)
        finally:
            CURRENT.reset(token)


def raw_body(body: Any) -> Any:
    """The JSON body as sent; without a captured request, the parsed model dumped back."""
    raw = CURRENT.get()
    if raw is not None:
        data = raw.json()
        if data is not None:
            return data
    return dump(body)


def raw_query_json(name: str, parsed: Any) -> Any:
    """A JSON query parameter (`where`) as sent, else the parsed model dumped back."""
    raw = CURRENT.get()
    if raw is not None:
        text = raw.query(name)
        if text is not None:
            try:
                return loads(text)
            except ValueError:
                raise bad(107, f"Invalid JSON in the '{name}' parameter.") from None
    return dump(parsed)


def dump(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [dump(v) for v in value]
    return value


def base_url() -> str:
    raw = CURRENT.get()
    return raw.base_url() if raw is not None else "http://localhost"


# -- replies -------------------------------------------------------------------------------------
@functools.cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def reply(
    annotation: Any, body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`body` checked against the declared model, then sent exactly as built."""
    _adapter(annotation).validate_python(body)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
