"""Qiscus Chat SDK server API v2 emulator: users by email, rooms, comments, exports and imports."""

from __future__ import annotations

from typing import Any

from generated.qiscus.server import create_app

from ..config import Config
from ..store import Store
from .handlers import QiscusEmulator


def create_emulator(config: Config, store: Store) -> Any:
    return create_app(QiscusEmulator(config, store))


__all__ = ["QiscusEmulator", "create_emulator"]
