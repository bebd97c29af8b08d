"""Shared plumbing of the ConnectyCube emulator: clock, ids, times, sessions, users, paging."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from emulators.config import Config
from emulators.store import Doc, Store
from generated.connectycube.server import Credentials, Handlers

from .context import CubeError, base_error, current, list_error

# Store kinds (prefixed: a store may be shared with other vendors).
SESSION = "cc.session"
USER = "cc.user"
DIALOG = "cc.dialog"
MESSAGE = "cc.message"
CLASS = "cc.class"
BLOB = "cc.blob"
BLOB_CONTENT = "cc.blob_content"
SUBSCRIPTION = "cc.subscription"
EVENT = "cc.event"
ADDRESS_BOOK = "cc.address_book"
MEETING = "cc.meeting"
RECORDING = "cc.recording"
WHITEBOARD = "cc.whiteboard"
OUTBOX = "cc.outbox"  # what would have left the building: emails, XMPP signals, pushes
NONCE = "cc.nonce"


def data_kind(class_name: str) -> str:
    return f"cc.data.{class_name}"


SESSION_TTL = 2 * 3600.0  # two hours, extended by every request
GUEST_TTL = 24 * 3600.0  # guest sessions: one day

NOT_FOUND = "The resource wasn't found"
NEED_USER = "Forbidden. Need user."
REQUIRED_SESSION = "Required session does not exist"


def iso(ts: float | None) -> str | None:
    """`2018-12-06T09:16:26Z`: users, dialogs, messages, blobs, sessions."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: float | None) -> str | None:
    """`2024-02-05T10:00:00.000Z`: meetings and whiteboards."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> float | None:
    """Unix seconds from a unix number or an ISO-8601 / `yyyy-mm-dd` string; None if neither."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    if re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", text):
        text = text.replace(".", "-")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def id_list(value: Any) -> list[int] | None:
    """`[1, "2"]` or `"1, 2"` -> `[1, 2]`; None when an element is not a number."""
    if value is None:
        return []
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    out: list[int] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        number = to_int(item)
        if number is None:
            return None
        if number not in out:
            out.append(number)
    return out


def split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def utf8(text: str) -> bytes:
    """Text as UTF-8 bytes, whatever it holds (lone surrogates from JSON included)."""
    return text.encode("utf-8", "surrogatepass")


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two texts (any characters)."""
    return hmac.compare_digest(utf8(a), utf8(b))


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes")


class Base(Handlers):
    """State lives in the store only; the instance holds configuration and a clock."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.clock: Callable[[], float] = time.time
        # Mongo-like ObjectIds: time, a 5-byte part fixed per application, a counter shared by
        # every worker (so ids sort by creation time, as the vendor's do)
        self._oid_middle = hashlib.sha1(utf8(str(config["app_id"]))).hexdigest()[:10]

    # -- configuration -----------------------------------------------------------------------
    @property
    def app_id(self) -> int:
        return to_int(self.config["app_id"]) or 0

    def option(self, name: str, default: str = "") -> str:
        return str(self.config.options.get(name, default))

    def ttl(self, guest: bool = False) -> float:
        if self.config.session_ttl > 0:
            return float(self.config.session_ttl)
        return GUEST_TTL if guest else SESSION_TTL

    @staticmethod
    def base_url() -> str:
        """Scheme and host the current request came to (links to the emulator itself)."""
        ctx = current()
        return ctx.base_url if ctx is not None else "http://localhost"

    # -- ids and time ------------------------------------------------------------------------
    def now(self) -> float:
        return float(self.clock())

    def oid(self) -> str:
        counter = self.store.next_id("cc.oid") % (1 << 24)
        return f"{int(self.now()) & 0xFFFFFFFF:08x}{self._oid_middle}{counter:06x}"

    def token(self) -> str:
        return secrets.token_hex(20)

    # -- the current session -----------------------------------------------------------------
    def session(self, auth: Credentials) -> Doc:
        """The session of `auth.cb_token` (already checked by `authorize`)."""
        ctx = current()
        if ctx is not None and ctx.cache.get("token") == auth.cb_token and "session" in ctx.cache:
            return dict(ctx.cache["session"])
        doc = self.store.get(SESSION, auth.cb_token) if auth.cb_token else None
        if doc is None or doc.get("expires_at", 0) <= self.now():
            raise base_error(401, REQUIRED_SESSION)
        return doc

    def maybe_session(self, auth: Credentials) -> Doc | None:
        if not auth.cb_token:
            return None
        return self.session(auth)

    def user_id(self, auth: Credentials) -> int:
        """The user of a user session (`authorize` refused application sessions already)."""
        uid = int(self.session(auth).get("user_id") or 0)
        if not uid:
            raise base_error(403, NEED_USER)
        return uid

    def user_doc(self, user_id: int) -> Doc | None:
        return self.store.get(USER, str(user_id))

    def require_user(self, user_id: int) -> Doc:
        doc = self.user_doc(user_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return doc

    def user_view(self, doc: Doc) -> dict[str, Any]:
        """A user as the API shows it (no password, ISO times)."""
        out = {
            "id": doc["id"],
            "login": doc.get("login"),
            "email": doc.get("email"),
            "full_name": doc.get("full_name"),
            "phone": doc.get("phone"),
            "website": doc.get("website"),
            "created_at": iso(doc.get("created_at")),
            "updated_at": iso(doc.get("updated_at")),
            "last_request_at": iso(doc.get("last_request_at")),
            "external_user_id": doc.get("external_user_id"),
            "external_id": doc.get("external_id"),
            "facebook_id": doc.get("facebook_id"),
            "twitter_id": doc.get("twitter_id"),
            "custom_data": doc.get("custom_data"),
            "blob_id": doc.get("blob_id"),
            "avatar": doc.get("avatar"),
            "user_tags": ",".join(doc.get("tags") or []) or None,
            "timezone": doc.get("timezone"),
        }
        if doc.get("is_guest"):
            out["_id"] = doc.get("_id")
            out["is_guest"] = True
        return out

    def _new_user(self, fields: dict[str, Any]) -> Doc:
        now = self.now()
        user_id = self.store.next_id("cc.user")
        doc: Doc = {
            "id": user_id,
            "login": None,
            "email": None,
            "full_name": None,
            "phone": None,
            "website": None,
            "created_at": now,
            "updated_at": now,
            "last_request_at": None,
            "external_user_id": None,
            "external_id": None,
            "facebook_id": None,
            "twitter_id": None,
            "custom_data": None,
            "blob_id": None,
            "avatar": None,
            "tags": [],
            "timezone": None,
            "password": None,
        }
        doc.update(fields)
        self.store.put(USER, str(user_id), doc)
        return doc

    def purge_guests(self) -> None:
        """Guest users live one day, then the vendor deletes them."""
        now = self.now()
        for doc in self.store.find(USER, lambda d: bool(d.get("is_guest"))):
            if doc.get("guest_expires_at", now + 1) <= now:
                self.store.delete(USER, str(doc["id"]))

    # -- outbound effects we cannot perform offline ------------------------------------------
    def record_outbox(self, kind: str, payload: dict[str, Any]) -> None:
        """Keep what would have been emailed, pushed or signalled, so tests can look."""
        with self.store.transaction():
            self.store.insert(OUTBOX, {"kind": kind, "at": self.now(), **payload})

    def outbox(self, kind: str | None = None) -> list[Doc]:
        return self.store.find(OUTBOX, lambda d: kind is None or d.get("kind") == kind)


def page_slice(
    items: list[Any], skip: int | None, limit: int | None, *, default: int = 100, maximum: int = 100
) -> tuple[list[Any], int, int]:
    """Skip/limit paging with the vendor's defaults (limit 100, at most 100)."""
    start = max(0, skip or 0)
    size = default if limit is None or limit <= 0 else min(limit, maximum)
    return items[start : start + size], start, size


def page_numbers(
    items: list[Any], page: int | None, per_page: int | None, *, default: int = 10
) -> tuple[list[Any], int, int]:
    """Page/per_page paging (legacy lists: 10 per page by default, at most 100)."""
    number = page if page and page > 0 else 1
    size = per_page if per_page and per_page > 0 else default
    size = min(size, 100)
    start = (number - 1) * size
    return items[start : start + size], number, size


def ensure(condition: bool, error: CubeError) -> None:
    if not condition:
        raise error
