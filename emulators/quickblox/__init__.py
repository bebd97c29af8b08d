"""QuickBlox REST API emulator on the generated FastAPI skeleton.

`create_emulator(config, store)` returns the app. Credentials come from the config: sessions are
signed with `auth_secret` for `app_id`/`auth_key`; the `Authorization: ApiKey <key>` header accepts
`account_key` (the emulator has no separate API-key setting), which also answers
`GET /account_settings.json`. Options (`config.options`): `ai=off` disables the AI extensions (405),
`users_list=off` refuses `GET /users.json`, `signup=off` refuses sign-up with a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from emulators.config import Config
from emulators.store import Store
from generated.quickblox._server_runtime import fit_status
from generated.quickblox.server import DECLARED_STATUSES, create_app

from .content import STORAGE_PATH
from .context import RequestContext
from .emulator import QuickbloxEmulator
from .util import VendorError

__all__ = ["QuickbloxEmulator", "build_app", "create_emulator"]


def build_app(emulator: QuickbloxEmulator) -> FastAPI:
    """The app of an emulator instance (tests use it to pass their own clock)."""
    app = create_app(emulator)

    async def vendor_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VendorError)
        path = getattr(request.scope.get("route"), "path", None)
        declared = DECLARED_STATUSES.get((request.method, path)) if path else None
        return JSONResponse(exc.body, status_code=fit_status(exc.status, declared))

    app.add_exception_handler(VendorError, vendor_error)

    async def storage(
        uid: str, expires: str | None = None, signature: str | None = None
    ) -> Response:
        return emulator.storage_download(uid, expires, signature)

    app.add_api_route(STORAGE_PATH, storage, methods=["GET"], include_in_schema=False)
    app.add_middleware(RequestContext)
    return app


def create_emulator(config: Config, store: Store, clock: Callable[[], float] | None = None) -> Any:
    return build_app(QuickbloxEmulator(config, store, clock))
