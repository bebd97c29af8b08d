"""The BaasBox emulator: every operation of the spec on the shared store.

`authorize` runs before each operation: it checks the app code, the session token (idle expiry) or
the Basic credentials, root credentials on `/root`, the administrator role on the console API and
whether an administrator switched the operation's endpoint group off.
"""

from __future__ import annotations

from generated.baasbox.server import Credentials, Handlers

from .account import AccountOps, UsersOps
from .admin import AdminOps
from .common import forbidden
from .console import SettingsOps
from .database import DatabaseOps
from .documents import DocumentOps, LinkOps
from .files import AssetOps, FileOps
from .friendship import FriendshipOps
from .plugins import PluginOps
from .social import PushOps, SocialOps
from .spec import operations

# These two answer a bare text 403 rather than the JSON envelope: their handlers check.
SELF_CHECKED = {"streamPluginLogs", "streamSystemLog"}


class BaasboxEmulator(
    AccountOps,
    UsersOps,
    SocialOps,
    PushOps,
    FriendshipOps,
    DocumentOps,
    LinkOps,
    FileOps,
    AssetOps,
    PluginOps,
    AdminOps,
    SettingsOps,
    DatabaseOps,
    Handlers,
):
    async def authorize(self, auth: Credentials, operation_id: str) -> None:
        op = operations().get(operation_id)
        if op is None or operation_id in SELF_CHECKED:
            return
        if op.public:
            return  # login, the password reset pages, the API version: no credential is read
        caller = self.resolve(auth, op, touch=True)
        if op.root_only:
            return
        if op.admin_only and not caller.is_admin:
            raise forbidden(f"User {caller.username} is not an administrator")
        self.check_group(caller, op.group)
