"""What every handler shares: config, store, clock, who is calling and with what rights."""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulators.config import Config
from emulators.store import Store
from generated.quickblox.server import Credentials, spec

from . import context
from .util import NEED_USER, NO_SESSION, expiry_text, fail, iso, to_int

DEFAULT_TTL = 7200.0  # two hours after the last request

# Operations answered without credentials, and POST/DELETE operations that change nothing an
# application session may not change (sign-up is the one write an application session may do).
NO_AUTH = frozenset({"createSession", "uploadBlobFile"})
NOT_WRITES = frozenset(
    {
        "createSession",
        "deleteSession",
        "logIn",
        "createUser",
        "uploadBlobFile",
        "aiAnswerAssist",
        "aiGateway",
        "aiSummarize",
        "aiTranslate",
    }
)

# Kinds of documents in the store.
SESSION, NONCE, USER = "qb_session", "qb_nonce", "qb_user"
DIALOG, MESSAGE = "qb_dialog", "qb_message"
BLOB, BLOB_DATA = "qb_blob", "qb_blob_data"
CLASS, RECORD_FILE = "qb_class", "qb_record_file"
SUBSCRIPTION, EVENT, DELIVERY = "qb_subscription", "qb_event", "qb_push_delivery"
ADDRESS_BOOK, PASSWORD_RESET, AI_REQUEST = "qb_address_book", "qb_password_reset", "qb_ai_request"


def record_kind(class_name: str) -> str:
    return f"qb_record:{class_name}"


@dataclass(frozen=True)
class Operation:
    method: str
    security: tuple[tuple[str, ...], ...]
    needs_user: bool
    statuses: frozenset[int]


@functools.cache
def operations() -> dict[str, Operation]:
    """Facts of every operation, read once from the bundled spec."""
    document = spec()
    default = document.get("security", [])
    out: dict[str, Operation] = {}
    for item in document["paths"].values():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            security = op.get("security", default)
            out[op["operationId"]] = Operation(
                method.upper(),
                tuple(tuple(sorted(alt)) for alt in security),
                "Needs a user session" in op.get("description", ""),
                frozenset(int(s) for s in op["responses"] if s.isdigit()),
            )
    return out


@dataclass
class Principal:
    """Who a request acts for: a user (id), the application (no user), or the API key (admin)."""

    user_id: int | None = None
    admin: bool = False
    token: str | None = None
    anonymous: bool = False
    session: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def is_app(self) -> bool:
        return self.user_id is None and not self.admin


class Base:
    """The emulator's state: the config, the shared store and the clock. No data lives here."""

    def __init__(
        self, config: Config, store: Store, clock: Callable[[], float] | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or time.time

    # -- basics -----------------------------------------------------------------------------
    def now(self) -> float:
        return float(self.clock())

    def now_iso(self) -> str:
        return iso(self.now()) or ""

    @property
    def app_id(self) -> int:
        return to_int(self.config["app_id"]) or 0

    @property
    def ttl(self) -> float:
        return self.config.session_ttl if self.config.session_ttl > 0 else DEFAULT_TTL

    def object_id(self) -> str:
        """A 24-hex id the way MongoDB makes them: creation second first, so ids sort by age."""
        counter = self.store.next_id("qb_object_id")
        machine = (self.app_id * 2654435761) & 0xFFFFFF
        return f"{int(self.now()) & 0xFFFFFFFF:08x}{machine:06x}{counter & 0xFFFFFFFFFF:010x}"

    # -- sessions ---------------------------------------------------------------------------
    def new_session(
        self, user_id: int, nonce: int | None = None, ts: int | None = None
    ) -> dict[str, Any]:
        now = self.now()
        number = self.store.next_id("qb_session_id", start=100000001)
        doc: dict[str, Any] = {
            "_id": str(number),
            "id": number,
            "application_id": self.app_id,
            "user_id": user_id,
            "nonce": nonce if nonce is not None else secrets.randbelow(2**31),
            "token": secrets.token_hex(20),
            "ts": ts if ts is not None else int(now),
            "created_at": iso(now),
            "updated_at": iso(now),
            "expires": now + self.ttl,
        }
        self.store.put(SESSION, doc["token"], doc)
        return doc

    def live_session(self, token: str, *, slide: bool = True) -> dict[str, Any]:
        """The session of a token, its expiry moved ahead; 401 when unknown or expired."""
        with self.store.transaction():
            doc = self.store.get(SESSION, token)
            now = self.now()
            if doc is None:
                fail("unauthorized", NO_SESSION)
            if float(doc.get("expires", 0)) <= now:
                self.store.delete(SESSION, token)
                fail("unauthorized", NO_SESSION)
            if slide:
                doc["expires"] = now + self.ttl
                self.store.put(SESSION, token, doc)
                user_id = int(doc.get("user_id") or 0)
                if user_id:
                    self.store.update(
                        USER, str(user_id), lambda u: {**u, "last_request_at": iso(now)}
                    )
        context.set_expiry(expiry_text(doc["expires"]))
        return doc

    # -- credentials ------------------------------------------------------------------------
    def check_api_key(self, key: str) -> None:
        if not hmac.compare_digest(key.encode(), self.config["account_key"].encode()):
            fail("unauthorized", "Invalid API key")

    def resolve(self, auth: Credentials, operation_id: str) -> Principal:
        op = operations().get(operation_id)
        alternatives = op.security if op else (("qbToken",),)
        token_allowed = ("qbToken",) in alternatives
        key_allowed = any("apiKey" in alt for alt in alternatives)
        if auth.qb_token and token_allowed:
            session = self.live_session(auth.qb_token)
            user_id = int(session.get("user_id") or 0)
            return Principal(user_id or None, token=auth.qb_token, session=session)
        if auth.api_key and key_allowed:
            self.check_api_key(auth.api_key)
            if auth.on_behalf_of is None:
                return Principal(None, admin=True)
            acting = to_int(auth.on_behalf_of)
            if acting is None or self.store.get(USER, str(acting)) is None:
                fail("unauthorized", "On-Behalf-Of user not found")
            return Principal(acting)
        if () in alternatives:
            return Principal(anonymous=True)
        fail("unauthorized", NO_SESSION)

    async def authorize(self, auth: Credentials, operation_id: str) -> None:
        """Check the credential values, then the rights of the session kind."""
        if operation_id in NO_AUTH:
            return
        if operation_id == "getAccountSettings":
            key = auth.account_key or ""
            if not hmac.compare_digest(key.encode(), self.config["account_key"].encode()):
                fail("unauthorized", "Unauthorized")
            return
        principal = self.resolve(auth, operation_id)
        context.holder()["principal"] = principal
        op = operations().get(operation_id)
        if op is None or principal.admin or principal.anonymous:
            return
        if op.needs_user and principal.user_id is None:
            fail("forbidden", NEED_USER)
        writes = op.method in ("POST", "PUT", "DELETE", "PATCH") and operation_id not in NOT_WRITES
        if writes and principal.user_id is None:
            fail("forbidden", NEED_USER)

    def who(self) -> Principal:
        principal = context.holder().get("principal")
        return principal if isinstance(principal, Principal) else Principal(anonymous=True)

    def me(self) -> int:
        """The acting user's id; 403 for an application session or the bare API key."""
        user_id = self.who().user_id
        if user_id is None:
            fail("forbidden", NEED_USER)
        return user_id

    def token_principal(self, token: str | None) -> Principal:
        """The caller of an operation open to anonymous requests, reading the legacy `token`."""
        principal = self.who()
        if principal.anonymous and token:
            session = self.live_session(token)
            user_id = int(session.get("user_id") or 0)
            principal = Principal(user_id or None, token=token, session=session)
            context.holder()["principal"] = principal
        return principal
