"""An app factory for uvicorn workers: `uvicorn emulators.asgi:app --factory`, set by the env."""

from __future__ import annotations

import json
import os
from typing import Any

from . import create_app, load


def app() -> Any:
    vendor = os.environ["BAAS_EMULATOR_VENDOR"]
    settings = json.loads(os.environ.get("BAAS_EMULATOR_SETTINGS", "{}"))
    config = load(
        vendor,
        settings.get("credentials"),
        db=settings.get("db", ":memory:"),
        session_ttl=float(settings.get("session_ttl", 0)),
    )
    return create_app(vendor, config)
