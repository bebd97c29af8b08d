"""The QuickBlox emulator: every operation of the generated interface, on the shared store."""

from __future__ import annotations

from collections.abc import Callable

from emulators.config import Config
from emulators.store import Store
from generated.quickblox.server import Handlers

from .addressbook import AddressBookOps
from .ai import AiOps
from .auth import AuthOps
from .chat import ChatOps
from .content import ContentOps
from .custom import CustomOps
from .push import PushOps
from .users import UsersOps


class QuickbloxEmulator(
    AuthOps, UsersOps, ChatOps, ContentOps, PushOps, CustomOps, AddressBookOps, AiOps, Handlers
):
    """Sessions (signed, sliding two-hour expiry), users, chat, blobs, push, custom objects,
    address book and AI extensions, with QuickBlox's ids, timestamps, filters and errors."""

    def __init__(
        self, config: Config, store: Store, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__(config, store, clock)
