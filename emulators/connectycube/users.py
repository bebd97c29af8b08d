"""Users: sign-up, profile changes, lookups, search (v1 filter strings and v2 operators)."""

from __future__ import annotations

import re
from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import (
    ADDRESS_BOOK,
    NOT_FOUND,
    SESSION,
    SUBSCRIPTION,
    USER,
    Base,
    page_numbers,
    page_slice,
    parse_time,
)
from .context import base_error, current, field_error, list_error
from .sessions import check_password, hash_password

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
STANDALONE = (
    "id",
    "login",
    "email",
    "full_name",
    "phone",
    "external_id",
    "facebook_id",
    "twitter_id",
    "user_tags",
)
ADDITIONAL = ("last_request_at", "created_at", "updated_at")
PRIMARY = ("eq", "in", "start_with")
COMPARE = ("gt", "lt", "gte", "lte")
PROFILE_FIELDS = (
    "login",
    "email",
    "full_name",
    "phone",
    "website",
    "external_user_id",
    "external_id",
    "facebook_id",
    "twitter_id",
    "custom_data",
    "timezone",
    "avatar",
    "blob_id",
)


def tag_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    out: list[str] = []
    for item in items:
        tag = str(item).strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def searchable(doc: Doc) -> dict[str, Any]:
    """A user as filters see it: `user_tags` a list, times as unix seconds."""
    view = {k: v for k, v in doc.items() if k != "password"}
    view["user_tags"] = list(doc.get("tags") or [])
    return view


class UsersMixin(Base):
    def live_users(self) -> list[Doc]:
        now = self.now()
        return [
            d
            for d in self.store.find(USER)
            if not (d.get("is_guest") and d.get("guest_expires_at", now + 1) <= now)
        ]

    def _validate_profile(self, fields: dict[str, Any], own_id: int | None) -> None:
        login = fields.get("login")
        if login is not None:
            if not 3 <= len(login) <= 70:
                raise field_error(
                    "login",
                    "is too short (minimum is 3 characters)"
                    if len(login) < 3
                    else "is too long (maximum is 70 characters)",
                )
            wanted = login.lower()
            if self.store.first(
                USER, lambda d: d["id"] != own_id and (d.get("login") or "").lower() == wanted
            ):
                raise field_error("login", "has already been taken")
        email = fields.get("email")
        if email is not None:
            if not EMAIL.match(email):
                raise field_error("email", "is invalid")
            wanted_email = email.lower()
            if self.store.first(
                USER, lambda d: d["id"] != own_id and (d.get("email") or "").lower() == wanted_email
            ):
                raise field_error("email", "has already been taken")
        password = fields.get("password")
        if password is not None and len(password) < 8:
            raise field_error("password", "is too short (minimum is 8 characters)")

    # -- sign-up and profile -----------------------------------------------------------------
    async def create_user(self, *, auth: Credentials, body: models.CreateUserRequest) -> Any:
        fields = body.user.root.model_dump(exclude_unset=True)
        if not fields.get("login") and not fields.get("email"):
            raise field_error("base", "login or email required")
        with self.store.transaction():
            self._validate_profile(fields, None)
            doc = {k: fields.get(k) for k in PROFILE_FIELDS}
            doc["tags"] = tag_list(fields.get("tag_list"))
            doc["password"] = hash_password(fields["password"])
            user = self._new_user(doc)
        return Reply(201, {"user": self.user_view(user)})

    async def update_user(
        self, *, auth: Credentials, user_id: int, body: models.UpdateUserRequest
    ) -> Any:
        me = self.user_id(auth)
        if user_id != me:
            raise base_error(403, "You can update only your own profile")
        fields = body.user.model_dump(exclude_unset=True)
        with self.store.transaction():
            doc = self.require_user(me)
            if "password" in fields:
                old = fields.get("old_password")
                if not old:
                    raise field_error("old_password", "can't be blank")
                if not check_password(old, doc.get("password")):
                    raise field_error("old_password", "is incorrect")
            self._validate_profile(fields, me)
            for key in PROFILE_FIELDS:
                if key in fields:
                    doc[key] = fields[key]
            if "tag_list" in fields:
                doc["tags"] = tag_list(fields["tag_list"])
            if fields.get("password"):
                doc["password"] = hash_password(fields["password"])
            doc["updated_at"] = self.now()
            self.store.put(USER, str(me), doc)
        return {"user": self.user_view(doc)}

    def remove_user(self, user_id: int) -> None:
        """Delete a user with the sessions, subscriptions and address books that are theirs."""
        with self.store.transaction():
            self.store.delete(USER, str(user_id))
            for token, session in self.store.all(SESSION):
                if session.get("user_id") == user_id:
                    self.store.delete(SESSION, token)
            for key, sub in self.store.all(SUBSCRIPTION):
                if sub.get("user_id") == user_id:
                    self.store.delete(SUBSCRIPTION, key)
            for key, book in self.store.all(ADDRESS_BOOK):
                if book.get("user_id") == user_id:
                    self.store.delete(ADDRESS_BOOK, key)

    async def delete_user(self, *, auth: Credentials, user_id: int) -> None:
        me = self.user_id(auth)
        if user_id != me:
            if self.user_doc(user_id) is None:
                raise list_error(404, NOT_FOUND)
            raise base_error(403, "You can delete only your own account")
        self.remove_user(me)
        return None

    async def delete_user_by_external_id(
        self, *, auth: Credentials, external_user_id: int | str
    ) -> None:
        me = self.user_id(auth)
        owner = self._by_external(external_user_id)
        if owner is None:
            raise list_error(404, NOT_FOUND)
        if owner["id"] != me:
            raise base_error(403, "You can delete only your own account")
        self.remove_user(me)
        return None

    # -- lookups -----------------------------------------------------------------------------
    def _one(self, match: Any) -> Any:
        doc = next((d for d in self.live_users() if match(d)), None)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return {"user": self.user_view(doc)}

    def _by_external(self, value: int | str) -> Doc | None:
        wanted = str(value)
        return next(
            (
                d
                for d in self.live_users()
                if str(d.get("external_user_id")) == wanted or str(d.get("external_id")) == wanted
            ),
            None,
        )

    async def get_user(self, *, auth: Credentials, user_id: int) -> Any:
        return self._one(lambda d: d["id"] == user_id)

    async def get_user_by_login(self, *, auth: Credentials, login: str) -> Any:
        return self._one(lambda d: (d.get("login") or "").lower() == login.lower())

    async def get_user_by_email(self, *, auth: Credentials, email: str) -> Any:
        return self._one(lambda d: (d.get("email") or "").lower() == email.lower())

    async def get_user_by_facebook_id(self, *, auth: Credentials, facebook_id: str) -> Any:
        return self._one(
            lambda d: str(d.get("facebook_id")) == facebook_id and d.get("facebook_id") is not None
        )

    async def get_user_by_twitter_id(self, *, auth: Credentials, twitter_id: str) -> Any:
        return self._one(
            lambda d: str(d.get("twitter_id")) == twitter_id and d.get("twitter_id") is not None
        )

    async def get_user_by_external_id(
        self, *, auth: Credentials, external_user_id: int | str
    ) -> Any:
        doc = self._by_external(external_user_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return {"user": self.user_view(doc)}

    async def get_user_by_phone(self, *, auth: Credentials, phone: str) -> Any:
        found = [d for d in self.live_users() if d.get("phone") and d.get("phone") == phone]
        if not found:
            raise list_error(404, NOT_FOUND)
        return self._user_page(found, None, None)

    def _user_page(self, docs: list[Doc], page: int | None, per_page: int | None) -> Any:
        items, number, size = page_numbers(docs, page, per_page)
        return {
            "current_page": number,
            "per_page": size,
            "total_entries": len(docs),
            "items": [{"user": self.user_view(d)} for d in items],
        }

    async def list_users_by_full_name(
        self,
        *,
        auth: Credentials,
        full_name: str,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Any:
        wanted = full_name.lower()
        found = [d for d in self.live_users() if wanted in (d.get("full_name") or "").lower()]
        return self._user_page(found, page, per_page)

    async def list_users_by_tags(
        self, *, auth: Credentials, tags: str, page: int | None = None, per_page: int | None = None
    ) -> Any:
        wanted = set(tag_list(tags))
        found = [d for d in self.live_users() if wanted & set(d.get("tags") or [])]
        return self._user_page(found, page, per_page)

    async def list_online_users(
        self,
        *,
        auth: Credentials,
        limit: int | None = None,
        offset: int | None = None,
        count: bool | None = None,
    ) -> Any:
        """Online: holding a live user session (the emulator has no XMPP presence)."""
        now = self.now()
        online = {
            int(s["user_id"])
            for s in self.store.find(SESSION)
            if s.get("user_id") and s.get("expires_at", 0) > now
        }
        users = [d for d in self.live_users() if d["id"] in online]
        if count:
            return {"count": len(users)}
        items, _, _ = page_slice(users, offset, limit)
        return {"users": [self.user_view(d) for d in items]}

    # -- password reset ----------------------------------------------------------------------
    def _reset(self, email: str) -> None:
        if not EMAIL.match(email):
            raise field_error("email", "is invalid")
        user = next(
            (d for d in self.live_users() if (d.get("email") or "").lower() == email.lower()), None
        )
        if user is None:
            raise list_error(404, NOT_FOUND)
        self.record_outbox("reset_password_email", {"user_id": user["id"], "email": email})

    async def reset_password_by_query(self, *, auth: Credentials, email: str) -> None:
        self._reset(email)
        return None

    async def reset_password(self, *, auth: Credentials, body: models.ResetPasswordRequest) -> None:
        self._reset(str(body.email))
        return None

    # -- lists -------------------------------------------------------------------------------
    async def list_users(
        self,
        *,
        auth: Credentials,
        page: int | None = None,
        per_page: int | None = None,
        filter: list[str] | None = None,
        order: str | None = None,
    ) -> Any:
        from .common import truthy

        if not truthy(self.option("list_users_v1", "0")):
            raise base_error(
                403,
                "Users retrieving forbidden in admin panel, application "
                "settings. Setup it here https://admin.connectycube.com/apps/"
                f"{self.app_id}/service/users/settings",
            )
        docs = [searchable(d) for d in self.live_users()]
        for text in filter or []:
            docs = [d for d in docs if _v1_match(d, text)]
        if order:
            parts = order.replace("+", " ").split()
            if len(parts) == 3 and parts[0] in ("asc", "desc"):
                field = "user_tags" if parts[2] == "user_tags" else parts[2]
                docs = query.sort(
                    docs,
                    field if parts[0] == "asc" else None,
                    field if parts[0] == "desc" else None,
                )
        return self._user_page([self.require_user(d["id"]) for d in docs], page, per_page)

    async def search_users(
        self,
        *,
        auth: Credentials,
        offset: int | None = None,
        limit: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        **_filters: Any,
    ) -> Any:
        ctx = current()
        pairs = ctx.query if ctx is not None else []
        conditions = query.parse_pairs(pairs, reserved=("offset", "limit", "sort_asc", "sort_desc"))
        if not any(c.field in STANDALONE and c.op in PRIMARY for c in conditions):
            raise base_error(
                422,
                "Query must contain at least one stand-alone field with a "
                "primary operator (eq, in, start_with)",
            )
        size = limit
        for c in conditions:
            if c.field in STANDALONE and c.op in COMPARE:
                raise base_error(422, f"Field {c.field} can't be used with operator {c.op}")
            if c.op == "start_with":
                if len(str(c.value)) < 4:
                    raise base_error(422, "start_with argument must be at least 4 characters")
                size = 5
            if c.field in ADDITIONAL and c.op in COMPARE and parse_time(c.value) is None:
                raise base_error(422, f"{c.field} must be a date")
        docs = query.apply([searchable(d) for d in self.live_users()], conditions)
        docs = query.sort(docs, sort_asc, sort_desc)
        items, start, size = page_slice(docs, offset, size)
        return {
            "limit": size,
            "skip": start,
            "total_entries": len(docs),
            "items": [self.user_view(self.require_user(d["id"])) for d in items],
        }


def _v1_match(doc: dict[str, Any], text: str) -> bool:
    """One legacy filter: `{number|string|date} {field} {op} {value}`."""
    parts = text.replace("+", " ").split(" ", 3)
    if len(parts) != 4:
        return True
    kind, field, op, raw = parts
    stored = doc.get(field)

    def read(value: str) -> Any:
        if kind == "number":
            try:
                return float(value)
            except ValueError:
                return None
        if kind == "date":
            return parse_time(value.replace(".", "-"))
        return value

    values = [read(v) for v in raw.split(",")] if op in ("in", "between") else [read(raw)]
    if stored is None or any(v is None for v in values):
        return op == "ne"
    left: Any = float(stored) if kind == "number" and not isinstance(stored, list) else stored
    if kind == "string":
        left = ",".join(stored) if isinstance(stored, list) else str(stored)
    try:
        if op == "eq":
            return bool(left == values[0])
        if op == "ne":
            return bool(left != values[0])
        if op == "gt":
            return bool(left > values[0])
        if op == "lt":
            return bool(left < values[0])
        if op == "ge":
            return bool(left >= values[0])
        if op == "le":
            return bool(left <= values[0])
        if op == "in":
            return left in values
        if op == "between" and len(values) == 2:
            return bool(values[0] <= left <= values[1])
    except TypeError:
        return False
    return True
