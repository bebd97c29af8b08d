"""What the emulator reads from the hand-written spec: per operation its declared statuses, who may
call it (administrators, root, anonymous callers) and the endpoint group that can switch it off.

Read once per process from the bundled `generated/baasbox/openapi.json`: configuration, not state.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from generated.baasbox.server import spec

USER_SCHEMES = frozenset({"basicAuth", "bbSession", "bbSessionQuery"})

# Operations whose description names no group: the deprecated aliases belong to their originals'.
EXTRA_GROUPS = {
    "getCurrentUserDeprecated": "baasbox.account",
    "updateCurrentUserDeprecated": "baasbox.account",
    "suspendCurrentUserDeprecated": "baasbox.account",
    "changePasswordDeprecated": "baasbox.account",
}

# The REST API access control groups of `/admin/endpoints`, with the console's descriptions.
ENDPOINT_GROUPS = {
    "baasbox.assets": "Access to the assets",
    "baasbox.account": "Login, logout, profile, password and username of the logged user",
    "baasbox.account.create": "Sign up of new users",
    "baasbox.social": "Login and sign up through social networks",
    "baasbox.account.lost_password": "Password recovery by e-mail",
    "baasbox.users": "Profiles of the other users",
    "baasbox.friendship": "Lists of followers and followed users",
    "baasbox.friendship.create": "Follow and unfollow users",
    "baasbox.notifications.send": "Send push notifications",
    "baasbox.notifications.receive": "Enable and disable push notifications on a device",
    "baasbox.data.write": "Create and delete documents and links",
    "baasbox.data.read": "Read documents and links",
    "baasbox.data.update": "Update documents",
    "baasbox.data.grants": "Grant and revoke permissions on documents",
    "baasbox.file.read": "Download files and read their metadata",
    "baasbox.file.write": "Upload and delete files",
    "baasbox.file.grants": "Grant and revoke permissions on files",
    "baasbox.scripts.invoke": "Invoke plugins (server side scripts)",
}


@dataclass(frozen=True)
class OperationInfo:
    operation_id: str
    method: str
    path: str
    statuses: frozenset[int]
    group: str | None
    admin_only: bool
    root_only: bool
    anonymous: bool  # an alternative needs no user credential (app code only, or nothing)
    public: bool  # no security requirement at all: no credential is read


@functools.cache
def operations() -> dict[str, OperationInfo]:
    document = spec()
    found: dict[str, OperationInfo] = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            oid = op["operationId"]
            desc = op.get("description", "")
            group = re.search(r"Endpoint group `([^`]+)`", desc)
            security = op.get("security", document.get("security", []))
            found[oid] = OperationInfo(
                operation_id=oid,
                method=method.upper(),
                path=path,
                statuses=frozenset(int(s) for s in op["responses"] if s.isdigit()),
                group=group.group(1) if group else EXTRA_GROUPS.get(oid),
                admin_only="Needs the administrator role" in desc
                or "needs the administrator role" in desc,
                root_only="Root endpoint" in desc,
                anonymous=not security or any(not (set(alt) & USER_SCHEMES) for alt in security),
                public=not security,
            )
    return found
