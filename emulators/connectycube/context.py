"""What a handler needs from the raw request, and the vendor's error bodies.

The generated skeleton hands handlers typed, declared parameters only. ConnectyCube filters on
any field (`extensions[location]=x`, custom-object class fields, `field[op]=v`), and chat messages
keep any extra body key, so a small ASGI middleware keeps the raw query pairs and body of the
current request in a context variable. It also adds the `CB-Token-ExpirationDate` header the
real server sends, and serves `/x.json` as `/x` (the SDKs append `.json` to every path).
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from generated.connectycube._server_runtime import describe
from generated.connectycube.server import ERROR_ENVELOPE, ApiProblem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class RequestContext:
    """The raw parts of the request being served (one per request, never shared)."""

    method: str = "GET"
    path: str = "/"
    base_url: str = "http://localhost"
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    cache: dict[str, Any] = field(default_factory=dict)  # per-request memo (the session)

    def json_body(self) -> Any:
        """The request body parsed as JSON or a form (nested `a[b]` keys), or None."""
        raw = bytes(self.body)
        if not raw:
            return None
        if self.content_type.startswith("application/x-www-form-urlencoded"):
            return nest_pairs(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "connectycube_request", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def nest_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`user[login]=a&ids[]=1&ids[]=2` -> `{"user": {"login": "a"}, "ids": ["1", "2"]}`."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        tokens = [head] + ([t for t in rest.rstrip("]").split("][")] if rest else [])
        node: Any = out
        for i, token in enumerate(tokens):
            last = i == len(tokens) - 1
            if not isinstance(node, dict):
                break
            if last:
                node[token] = value
            elif tokens[i + 1] == "":
                existing = node.get(token)
                node[token] = [*existing, value] if isinstance(existing, list) else [value]
                break
            else:
                child = node.get(token)
                if not isinstance(child, dict):
                    child = {}
                    node[token] = child
                node = child
    return out


def without_json_suffix(scope: Scope) -> Scope:
    """`/users.json` is `/users`: both SDK generations append `.json` to every REST path."""
    path = scope.get("path", "/")
    if not path.endswith(".json") or len(path) <= len("/.json") or path == "/openapi.json":
        return scope  # the served spec keeps its name
    raw = scope.get("raw_path")
    trimmed = {**scope, "path": path[: -len(".json")]}
    if isinstance(raw, bytes) and raw.endswith(b".json"):
        trimmed["raw_path"] = raw[: -len(b".json")]
    return trimmed


class RequestContextMiddleware:
    """Pure ASGI middleware: keeps the raw request in a context variable, adds response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        scope = without_json_suffix(scope)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host") or "localhost"
        query = parse_qsl(
            scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True
        )
        ctx = RequestContext(
            method=scope.get("method", "GET"),
            path=scope.get("path", "/"),
            base_url=f"{scope.get('scheme', 'http')}://{host}",
            query=query,
            content_type=headers.get("content-type", "").lower(),
        )
        # read the whole body up front (some operations, e.g. a DELETE with form criteria, never
        # read it themselves), then replay it to the app
        disconnected = False
        more = True
        while more:
            message = await receive()
            if message.get("type") != "http.request":
                disconnected = True
                break
            ctx.body.extend(message.get("body", b""))
            more = bool(message.get("more_body", False))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed and not disconnected:
                replayed = True
                return {"type": "http.request", "body": bytes(ctx.body), "more_body": False}
            return await receive()

        token = _current.set(ctx)

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start" and ctx.headers:
                raw = list(message.get("headers", []))
                raw.extend(
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in ctx.headers.items()
                )
                message["headers"] = raw
            await send(message)

        try:
            await self.app(scope, replay, send_with_headers)
        finally:
            _current.reset(token)


class CubeError(ApiProblem):
    """An error answered with an exact vendor body, e.g. `{"errors": ["Unauthorized"]}`."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__("error", str(body), status=status)
        self.body = body


def base_error(status: int, message: str) -> CubeError:
    """`{"errors": {"base": [message]}}`, the form the docs and current servers use."""
    return CubeError(status, {"errors": {"base": [message]}})


def list_error(status: int, message: str) -> CubeError:
    """`{"errors": [message]}`, the older form still sent by session and lookup endpoints."""
    return CubeError(status, {"errors": [message]})


def field_error(name: str, message: str, status: int = 422) -> CubeError:
    return CubeError(status, {"errors": {name: [message]}})


# Declared statuses per (method, path template), to keep every answer inside the contract.
_FALLBACK_ORDER = (422, 400, 403, 404, 401)


def declared_statuses(document: dict[str, Any]) -> dict[tuple[str, str], set[int]]:
    out: dict[tuple[str, str], set[int]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                codes = {int(c) for c in operation["responses"] if c.isdigit()}
                out[(method.upper(), path)] = codes
    return out


def install_error_rendering(app: FastAPI, declared: dict[tuple[str, str], set[int]]) -> None:
    def fit(request: Request, status: int) -> int:
        route = request.scope.get("route")
        template = getattr(route, "path", None)
        codes = declared.get((request.method, template or ""))
        if not codes or status in codes:
            return status
        return next((c for c in _FALLBACK_ORDER if c in codes), status)

    async def on_cube_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CubeError)
        return JSONResponse(exc.body, status_code=fit(request, exc.status or 422))

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        if exc.message == "missing credentials":
            if request.url.path.startswith("/admin/"):
                body: Any = {"errors": {"base": ["Unauthorized"]}}
            else:
                body = {"errors": ["Token is required"]}
            return JSONResponse(body, status_code=401)
        status = fit(request, exc.status or ERROR_ENVELOPE.status_of(exc.situation))
        return ERROR_ENVELOPE.response(
            exc.situation,
            exc.message,
            method=request.method,
            path=request.url.path,
            status=status,
            code=exc.code,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        allow = _shadowed(request.method, request.url.path)
        if allow:  # e.g. PUT /users/by_email, caught by PUT /users/{user_id}
            return ERROR_ENVELOPE.response(
                "method_not_allowed",
                f"{request.method} is not allowed here",
                method=request.method,
                path=request.url.path,
                status=405,
                headers={"Allow": allow},
            )
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        message = describe(errors) or "invalid request"
        if request.method == "POST" and request.url.path == "/":  # the storage bucket's form
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
                f"<Message>{escape(message)}</Message></Error>"
            )
            return Response(xml.encode(), status_code=400, media_type="application/xml")
        return ERROR_ENVELOPE.response(
            "validation",
            message,
            method=request.method,
            path=request.url.path,
            status=fit(request, 422),
        )

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(CubeError, on_cube_error)
    app.add_exception_handler(ApiProblem, on_problem)


def _shadowed(method: str, path: str) -> str:
    """The methods of the most literal spec path matching `path`, when `method` is not one."""
    from .contract import index

    matching = [op for op in index().values() if op.pattern.match(path)]
    if not matching:
        return ""
    fewest = min(op.path.count("{") for op in matching)
    methods = {op.method for op in matching if op.path.count("{") == fewest}
    return "" if method in methods else ", ".join(sorted(methods))
