"""The ConnectyCube emulator: every operation of the generated `Handlers`, on the shared store."""

from __future__ import annotations

from .admin import AdminMixin
from .data import DataMixin
from .push import PushMixin
from .sessions import SessionsMixin
from .storage import StorageMixin


class ConnectyCubeEmulator(SessionsMixin, AdminMixin, DataMixin, StorageMixin, PushMixin):
    """Sessions, users, chat, custom objects, files, push, address book, meetings, whiteboards,
    calls, link previews and the Admin API: state in `self.store` only."""


__all__ = ["ConnectyCubeEmulator"]
