"""Users: sign-up, lookups, the `filter[]` list syntax, updates and deletes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from generated.quickblox import models
from generated.quickblox.server import Credentials, Reply, Result, UsersHandlers

from .base import DIALOG, MESSAGE, PASSWORD_RESET, SESSION, SUBSCRIPTION, USER, Base
from .util import (
    NO_PERMISSION,
    NOT_FOUND,
    VendorError,
    check_password,
    fail,
    hash_password,
    parse_time,
    str_list,
    to_float,
    to_int,
)

Doc = dict[str, Any]

PUBLIC_FIELDS = (
    "id",
    "full_name",
    "email",
    "login",
    "phone",
    "website",
    "created_at",
    "updated_at",
    "last_request_at",
    "external_user_id",
    "facebook_id",
    "twitter_id",
    "twitter_digits_id",
    "blob_id",
    "custom_data",
    "user_tags",
    "age_over16",
    "allow_statistics_analysis",
    "allow_sales_activities",
    "parents_contacts",
)
TEXT_FIELDS = (
    "login",
    "email",
    "full_name",
    "phone",
    "website",
    "facebook_id",
    "twitter_id",
    "custom_data",
)
UNIQUE_FIELDS = ("login", "email", "external_user_id", "facebook_id", "twitter_id")
FILTER_FIELDS = frozenset(
    {
        "id",
        "full_name",
        "email",
        "login",
        "phone",
        "website",
        "created_at",
        "updated_at",
        "last_request_at",
        "external_user_id",
        "twitter_id",
        "facebook_id",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8


def render_user(doc: Doc, *, compact: bool = False) -> Doc:
    if compact:
        return {"id": doc.get("id"), "phone": doc.get("phone")}
    return {name: doc.get(name) for name in PUBLIC_FIELDS}


def wrap(doc: Doc) -> models.UserWrapper:
    return models.UserWrapper.model_validate({"user": render_user(doc)})


def find_user(store: Any, field: str, value: Any, *, fold: bool = False) -> Doc | None:
    if value is None or value == "":
        return None

    def same(doc: Doc) -> bool:
        stored = doc.get(field)
        if fold and isinstance(stored, str) and isinstance(value, str):
            return stored.lower() == value.lower()
        return stored == value and stored is not None

    found: Doc | None = store.first(USER, same)
    return found


def normalize_tags(text: str | None) -> str | None:
    tags = str_list(text)
    return ",".join(tags) if tags else None


def user_condition(expression: str) -> Callable[[Doc], bool] | None:
    """One `filter[]` value, `{type} {field} {operator} {value}`, as a predicate (None: bad)."""
    parts = expression.split(None, 3)
    if len(parts) != 4:
        return None
    kind, name, op, raw = parts
    readers: dict[str, Callable[[Any], Any]] = {
        "number": to_float,
        "string": lambda v: None if v is None else str(v),
        "date": parse_time,
    }
    if kind not in readers or name not in FILTER_FIELDS:
        return None
    read = readers[kind]
    if op in ("in", "between"):
        values = [read(v.strip()) for v in raw.split(",")]
        if None in values or (op == "between" and len(values) != 2):
            return None
    elif op in ("gt", "lt", "ge", "le", "eq", "ne"):
        values = [read(raw)]
        if values[0] is None:
            return None
    else:
        return None

    def test(doc: Doc) -> bool:
        stored = read(doc.get(name))
        if stored is None:
            return op == "ne"
        first = values[0]
        checks: dict[str, Callable[[], bool]] = {
            "gt": lambda: stored > first,
            "lt": lambda: stored < first,
            "ge": lambda: stored >= first,
            "le": lambda: stored <= first,
            "eq": lambda: stored == first,
            "ne": lambda: stored != first,
            "in": lambda: stored in values,
            "between": lambda: values[0] <= stored <= values[1],
        }
        return checks[op]()

    return test


def user_order(order: str | None) -> tuple[Callable[[Doc], Any], bool]:
    """`{asc|desc} {type} {field}` as a sort key and direction; by id ascending otherwise."""
    parts = (order or "").split()
    if len(parts) == 3 and parts[0] in ("asc", "desc") and parts[2] in FILTER_FIELDS:
        kind, name = parts[1], parts[2]
        read: Callable[[Any], Any] = {"number": to_float, "date": parse_time}.get(
            kind, lambda v: None if v is None else str(v)
        )

        def key(doc: Doc) -> Any:
            value = read(doc.get(name))
            return (value is not None, value if value is not None else 0, doc.get("id", 0))

        return key, parts[0] == "desc"
    return (lambda doc: doc.get("id", 0)), False


def insert_user(base: Base, fields: Doc) -> Doc:
    """Insert a checked user (inside the caller's transaction)."""
    password = str(fields.pop("password", ""))
    now = base.now_iso()
    user_id = base.store.next_id("qb_user_id", start=10000001)
    doc: Doc = {name: None for name in PUBLIC_FIELDS}
    doc.update(
        {
            "age_over16": False,
            "allow_statistics_analysis": False,
            "allow_sales_activities": False,
            "parents_contacts": "",
        }
    )
    doc.update({k: v for k, v in fields.items() if k in PUBLIC_FIELDS})
    doc.update({"id": user_id, "created_at": now, "updated_at": now, "last_request_at": None})
    doc["password"] = hash_password(password)
    base.store.put(USER, str(user_id), doc)
    return doc


class UsersOps(Base, UsersHandlers):
    # -- helpers ----------------------------------------------------------------------------
    def user_doc(self, user_id: int | None) -> Doc:
        doc = self.store.get(USER, str(user_id)) if user_id is not None else None
        if doc is None:
            fail("not_found", NOT_FOUND)
        return doc

    def clean_user_fields(self, data: Doc, current: Doc | None) -> Doc:
        """Trimmed, checked values of a user; 422 with every field error at once."""
        errors: dict[str, list[str]] = {}
        out: Doc = {}
        for name, value in data.items():
            if value is None:
                continue
            if name in TEXT_FIELDS and isinstance(value, str):
                value = value.rstrip()
            out[name] = value
        if "email" in out and out["email"] and not _EMAIL.match(out["email"]):
            errors.setdefault("email", []).append("is invalid")
        if "login" in out and out["login"] == "" and current is None:
            out.pop("login")
        if "external_user_id" in out:
            number = to_int(out["external_user_id"])
            if number is None or number <= 0:
                errors.setdefault("external_user_id", []).append("is not a number")
            else:
                out["external_user_id"] = number
        if "password" in out and len(str(out["password"])) < MIN_PASSWORD:
            errors.setdefault("password", []).append(
                f"is too short (minimum is {MIN_PASSWORD} characters)"
            )
        if "tag_list" in out:
            out["user_tags"] = normalize_tags(str(out.pop("tag_list")))
        merged = {**(current or {}), **out}
        if not merged.get("login") and not merged.get("email"):
            errors.setdefault("base", []).append("Login or email required")
        own_id = current.get("id") if current else None
        for name in UNIQUE_FIELDS:
            value = out.get(name)
            if value in (None, "") or name in errors:
                continue
            other = find_user(self.store, name, value, fold=name in ("login", "email"))
            if other is not None and other.get("id") != own_id:
                errors.setdefault(name, []).append("has already been taken")
        if errors:
            raise VendorError(422, {"errors": errors})
        return out

    def may_change_user(self, user_id: int) -> None:
        principal = self.who()
        if principal.admin:
            return
        if principal.user_id != user_id:
            fail("forbidden", NO_PERMISSION)

    def remove_user(self, doc: Doc) -> None:
        """Delete a user with their sessions and subscriptions, and take them out of every dialog
        (a group dialog left without occupants goes too)."""
        user_id = doc["id"]
        with self.store.transaction():
            self.store.delete(USER, str(user_id))
            for token, session in self.store.all(SESSION):
                if session.get("user_id") == user_id:
                    self.store.delete(SESSION, token)
            for key, sub in self.store.all(SUBSCRIPTION):
                if sub.get("user_id") == user_id:
                    self.store.delete(SUBSCRIPTION, key)
            for key, dialog in self.store.all(DIALOG):
                if user_id not in dialog.get("occupants_ids", []):
                    continue
                dialog["occupants_ids"] = [u for u in dialog["occupants_ids"] if u != user_id]
                dialog["admin_ids"] = [u for u in dialog.get("admin_ids", []) if u != user_id]
                if dialog.get("type") == 2 and not dialog["occupants_ids"]:
                    self.store.delete(DIALOG, key)
                    for msg_key, msg in self.store.all(MESSAGE):
                        if msg.get("chat_dialog_id") == key:
                            self.store.delete(MESSAGE, msg_key)
                else:
                    self.store.put(DIALOG, key, dialog)

    def page(self, docs: list[Doc], page: int | None, per_page: int | None) -> models.UserPage:
        number = page if page and page > 0 else 1
        size = per_page if per_page and per_page > 0 else 10
        size = min(size, 100)
        chunk = docs[(number - 1) * size : number * size]
        return models.UserPage.model_validate(
            {
                "current_page": number,
                "per_page": size,
                "total_entries": len(docs),
                "items": [{"user": render_user(d)} for d in chunk],
            }
        )

    def lookup(self, field: str, value: Any, *, fold: bool = False) -> models.UserWrapper:
        doc = find_user(self.store, field, value, fold=fold)
        if doc is None:
            fail("not_found", NOT_FOUND)
        return wrap(doc)

    # -- operations -------------------------------------------------------------------------
    async def create_user(
        self, *, auth: Credentials, body: models.CreateUserRequest
    ) -> Result[models.UserWrapper]:
        if self.config.options.get("signup", "on") == "off" and not self.who().admin:
            fail("forbidden", "Sign up is disabled for this application")
        data = body.user.model_dump(exclude_unset=True)
        with self.store.transaction():
            fields = self.clean_user_fields(data, None)
            doc = insert_user(self, fields)
        return Reply(201, wrap(doc))

    async def get_user(self, *, auth: Credentials, user_id: int) -> Result[models.UserWrapper]:
        return wrap(self.user_doc(user_id))

    async def update_user(
        self, *, auth: Credentials, user_id: int, body: models.UpdateUserRequest
    ) -> Result[models.UserWrapper]:
        self.may_change_user(user_id)
        data = body.user.model_dump(exclude_unset=True)
        old_password = data.pop("old_password", None)
        with self.store.transaction():
            current = self.user_doc(user_id)
            fields = self.clean_user_fields(data, current)
            if "password" in fields:
                if not self.who().admin:
                    if not old_password:
                        raise VendorError(422, {"errors": {"old_password": ["can't be blank"]}})
                    if not check_password(current.get("password"), str(old_password)):
                        raise VendorError(422, {"errors": {"old_password": ["is invalid"]}})
                current["password"] = hash_password(str(fields.pop("password")))
            current.update({k: v for k, v in fields.items() if k in PUBLIC_FIELDS})
            current["updated_at"] = self.now_iso()
            self.store.put(USER, str(user_id), current)
        return wrap(current)

    async def delete_user(self, *, auth: Credentials, user_id: int) -> Result[None]:
        doc = self.user_doc(user_id)
        self.may_change_user(user_id)
        self.remove_user(doc)
        return None

    async def list_users(
        self,
        *,
        auth: Credentials,
        page: int | None = None,
        per_page: int | None = None,
        filter: list[str] | None = None,
        order: str | None = None,
    ) -> Result[models.UserPage]:
        if self.config.options.get("users_list", "on") == "off" and not self.who().admin:
            fail("forbidden", "Forbidden. Retrieving the list of users is disabled")
        tests = [t for t in (user_condition(f) for f in filter or []) if t is not None]
        docs = [d for d in self.store.find(USER) if all(t(d) for t in tests)]
        key, descending = user_order(order)
        docs.sort(key=key, reverse=descending)
        return self.page(docs, page, per_page)

    async def get_user_by_login(
        self, *, auth: Credentials, login: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("login", login.strip(), fold=True)

    async def get_user_by_email(
        self, *, auth: Credentials, email: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("email", email.strip(), fold=True)

    async def get_user_by_facebook_id(
        self, *, auth: Credentials, facebook_id: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("facebook_id", facebook_id.strip())

    async def get_user_by_twitter_id(
        self, *, auth: Credentials, twitter_id: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("twitter_id", twitter_id.strip())

    async def get_user_by_twitter_digits_id(
        self, *, auth: Credentials, twitter_digits_id: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("twitter_digits_id", twitter_digits_id.strip())

    async def get_user_by_phone(
        self, *, auth: Credentials, phone: str
    ) -> Result[models.UserWrapper]:
        return self.lookup("phone", phone.strip())

    async def get_user_by_external_id(
        self, *, auth: Credentials, external_user_id: int
    ) -> Result[models.UserWrapper]:
        return self.lookup("external_user_id", external_user_id)

    async def delete_user_by_external_id(
        self, *, auth: Credentials, external_user_id: int
    ) -> Result[None]:
        doc = find_user(self.store, "external_user_id", external_user_id)
        if doc is None:
            fail("not_found", NOT_FOUND)
        self.may_change_user(int(doc["id"]))
        self.remove_user(doc)
        return None

    async def list_users_by_full_name(
        self,
        *,
        auth: Credentials,
        full_name: str,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Result[models.UserPage]:
        needle = full_name.strip().lower()
        docs = [d for d in self.store.find(USER) if needle in str(d.get("full_name") or "").lower()]
        return self.page(docs, page, per_page)

    async def list_users_by_tags(
        self,
        *,
        auth: Credentials,
        tags: str,
        page: int | None = None,
        per_page: int | None = None,
    ) -> Result[models.UserPage]:
        wanted = {t.lower() for t in str_list(tags)}

        def tagged(doc: Doc) -> bool:
            have = {t.lower() for t in str_list(doc.get("user_tags"))[:5]}
            return bool(have & wanted)

        return self.page(self.store.find(USER, tagged), page, per_page)

    async def reset_user_password(self, *, auth: Credentials, email: str) -> Result[None]:
        doc = find_user(self.store, "email", email.strip(), fold=True)
        if doc is None:
            fail("not_found", NOT_FOUND)
        self.store.insert(
            PASSWORD_RESET, {"user_id": doc["id"], "email": doc["email"], "at": self.now()}
        )
        return None
