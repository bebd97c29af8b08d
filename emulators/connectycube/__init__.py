"""ConnectyCube reference emulator: `create_emulator(config, store)` builds the FastAPI app.

Credentials (see `emulators.config`): `app_id`, `auth_key` and `auth_secret`. `auth_secret` keys the
session signature, and is also the key the Administration API accepts in
`CB-Administration-API-Key`. Options (`Config.options`): `require_signature=1` refuses unsigned
sessions; `create_user_on_session=0` denies "session creation without an existing user entity";
`list_users_v1=1` enables the deprecated `GET /users`; `dialog_extensions=a,b,c` names the dialog
custom fields the dashboard would allow; `custom_classes=A,B` limits custom-object classes.

Two routes outside the spec stand in for storage the vendor keeps elsewhere: `GET /_storage/{uid}`
(the bucket object URL that file downloads redirect to; uploads go to `POST /`, the spec's
`uploadBlobFile`) and `GET /_recordings/{id}` (meeting recording links).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from emulators.config import Config
from emulators.store import Store
from generated.connectycube.server import create_app

from . import contract
from .common import RECORDING
from .context import RequestContextMiddleware, declared_statuses, install_error_rendering
from .handlers import ConnectyCubeEmulator
from .storage import STORAGE_PATH

__all__ = ["ConnectyCubeEmulator", "create_emulator"]


def create_emulator(config: Config, store: Store) -> FastAPI:
    emulator = ConnectyCubeEmulator(config, store)
    app = create_app(emulator)
    app.state.emulator = emulator
    install_error_rendering(app, declared_statuses(contract.document()))

    @app.get(STORAGE_PATH + "/{uid}", include_in_schema=False)
    async def stored_file(
        uid: str, expires: str | None = None, signature: str | None = None
    ) -> Any:
        """The bucket's object URL that downloads redirect to (not part of the API)."""
        found = emulator.stored_content(uid, expires, signature)
        if found is None:
            return Response(
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied'
                b"</Code><Message>Access Denied</Message></Error>",
                status_code=403,
                media_type="application/xml",
            )
        content, media_type = found
        return Response(content, media_type=media_type)

    @app.get("/_recordings/{recording_id}", include_in_schema=False)
    async def recording_file(recording_id: str) -> Any:
        """Download link of an emulated recording: an empty video (no media server offline)."""
        if store.get(RECORDING, recording_id) is None:
            return Response(status_code=404)
        return Response(b"", media_type="video/webm")

    app.add_middleware(RequestContextMiddleware)
    return app
