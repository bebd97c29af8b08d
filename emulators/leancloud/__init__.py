"""LeanCloud REST API 1.1 (storage, users, push, leaderboards...) and IM server API 1.2 emulator."""

from __future__ import annotations

from typing import Any

from generated.leancloud.server import create_app

from ..config import Config
from ..store import Store
from .common import CaptureRequest
from .handlers import LeanCloudEmulator


def create_emulator(config: Config, store: Store, **options: Any) -> Any:
    """The FastAPI app; `options` (`clock`, `strict`) go to `LeanCloudEmulator`."""
    app = create_app(LeanCloudEmulator(config, store, **options))
    app.add_middleware(CaptureRequest)
    return app


__all__ = ["LeanCloudEmulator", "create_emulator"]
