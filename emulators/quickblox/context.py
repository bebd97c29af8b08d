"""Per-request context: the raw request (for the open filter syntax) and the token expiry header.

The generated skeleton hands each handler typed parameters only, but QuickBlox accepts any
`field[op]=value` in the query string. A small ASGI middleware keeps the request's scope in a
context variable so handlers can read every query pair, the emulator's own base URL (for upload
tickets and redirects), and so it can add `QB-Token-ExpirationDate` to every answer of a
token-authenticated request. It also serves a classic path without its `.json` (`/blobs/{uid}`,
which the JS SDK's `content.privateUrl` builds) as the `.json` one, as the server does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EXPIRY_HEADER = "QB-Token-ExpirationDate"

_current: ContextVar[dict[str, Any] | None] = ContextVar("quickblox_request", default=None)


def holder() -> dict[str, Any]:
    """The mutable per-request state (an empty throwaway dict outside a request)."""
    state = _current.get()
    return state if state is not None else {}


def query_pairs() -> list[tuple[str, str]]:
    """Every `name=value` pair of the query string, decoded, in order."""
    scope = holder().get("scope") or {}
    raw = scope.get("query_string", b"")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_qsl(text, keep_blank_values=True)


def base_url() -> str:
    """`scheme://host[:port]` the client used to reach the emulator."""
    scope = holder().get("scope") or {}
    headers = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
    }
    scheme = headers.get("x-forwarded-proto") or scope.get("scheme") or "http"
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


def set_expiry(value: str) -> None:
    holder()["expires"] = value


@functools.cache
def _path_patterns() -> tuple[re.Pattern[str], ...]:
    from generated.quickblox.server import spec

    def compile_template(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", template)
        body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{body}$")

    return tuple(compile_template(path) for path in spec()["paths"])


def with_json_suffix(scope: Scope) -> Scope:
    """`/users` as `/users.json`: the server answers classic paths without the extension too."""
    path = scope.get("path", "/")
    if path.endswith((".json", "/")) or any(p.match(path) for p in _path_patterns()):
        return scope
    if not any(p.match(path + ".json") for p in _path_patterns()):
        return scope
    suffixed = {**scope, "path": path + ".json"}
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        suffixed["raw_path"] = raw + b".json"
    return suffixed


class RequestContext:
    """Pure ASGI middleware: request state in a context variable, expiry header on the way out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        scope = with_json_suffix(scope)
        state: dict[str, Any] = {"scope": scope}
        token = _current.set(state)

        async def send_with_expiry(message: Message) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers", []))
                if state.get("expires"):
                    headers.append((EXPIRY_HEADER.lower().encode(), str(state["expires"]).encode()))
                if message.get("status") == 401 and not any(
                    k.lower() == b"www-authenticate" for k, _ in headers
                ):  # QuickBlox adds it to 401 answers since 3.16.09.2 (value inferred)
                    headers.append((b"www-authenticate", b'QB-Token realm="QuickBlox"'))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_expiry)
        finally:
            _current.reset(token)
