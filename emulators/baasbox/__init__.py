"""BaasBox 1.0 emulator: users and sessions, friendship, documents with ACLs and a SQL-like query
language, links, files, assets, plugins (stored, not run), settings, the admin and root APIs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from generated.baasbox.server import Credentials, create_app

from ..config import Config
from ..store import Store
from .handlers import BaasboxEmulator

# The log streams check the session themselves and refuse with a bare text 403, even when the
# session token is missing altogether (where the skeleton would answer its JSON 401).
LOG_STREAMS = {"/admin/log", "/admin/plugin/logs"}


def create_emulator(config: Config, store: Store) -> Any:
    emulator = BaasboxEmulator(config, store)
    app = create_app(emulator)
    app.state.emulator = emulator  # tests move its clock

    @app.middleware("http")
    async def log_streams(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method == "GET" and request.url.path in LOG_STREAMS:
            token = request.headers.get("X-BB-SESSION") or request.query_params.get("X-BB-SESSION")
            if not emulator.may_read_logs(Credentials({"bbSession": token} if token else {})):
                return Response("Forbidden", status_code=403, media_type="text/plain")
        return await call_next(request)

    return app


__all__ = ["BaasboxEmulator", "create_emulator"]
