"""Users (`_User`) as every route sees them: sign-up, login, updates, and verification codes.

Codes sent "by SMS" are kept in the store (kind `lc_sms`, id `<purpose>:<number>`) and in an outbox
(`lc_outbox`), where tests and curious users can read them; `options["sms_code"]` fixes the code.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from generated.leancloud import models

from .base import Ctx, LeanCloudBase, check_password, kind
from .common import NO_USER, Doc, JsonObject, bad, base_url, fail, iso, random_id

LOCK_WINDOW = 15 * 60
LOCK_AFTER = 7
CODE_INTERVAL = 60
PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_EMAIL = TypeAdapter(EmailStr)
_AUTH_DATA = TypeAdapter(models.AuthData)
AUTH_ID_KEYS = ("uid", "openid", "id")
CANNOT_ALTER = (403, 206, "The user cannot be altered by a client without the session.")


def clean_phone(number: Any) -> str:
    text = re.sub(r"[\s-]", "", str(number or ""))
    if not PHONE.match(text):
        raise bad(127, "Invalid mobile phone number.")
    return text


def auth_identity(entry: Any) -> str | None:
    if isinstance(entry, dict):
        for key in AUTH_ID_KEYS:
            if isinstance(entry.get(key), str | int) and not isinstance(entry.get(key), bool):
                return str(entry[key])
    return None


class AccountsBase(LeanCloudBase):
    # -- lookups --------------------------------------------------------------------------------
    def users(self) -> list[Doc]:
        return self.store.find(kind("_User"))

    def user_by(self, field: str, value: Any, *, fold: bool = False) -> Doc | None:
        if value is None:
            return None
        wanted = str(value).lower() if fold else value
        for user in self.users():
            have = user.get(field)
            if have is not None and (str(have).lower() if fold else have) == wanted:
                return user
        return None

    def user_or_211(self, oid: str) -> Doc:
        user = self.load("_User", oid)
        if user is None:
            raise fail(*NO_USER)
        return user

    def session_view(self, user: Doc, token: str) -> JsonObject:
        view = self.present("_User", user, Ctx(master=False, user=user))
        view["sessionToken"] = token
        return view

    # -- checks on user fields ------------------------------------------------------------------
    def check_user_fields(self, data: Doc, user_id: str | None, ctx: Ctx) -> Doc:
        """Validated copy of a create/update body: unique and well-formed names, mail, number."""
        data = dict(data)
        if not ctx.master:
            data.pop("emailVerified", None)
            data.pop("mobilePhoneVerified", None)
        if "username" in data:
            name = data["username"]
            if not isinstance(name, str) or not name:
                raise bad(200, "Username is missing or empty.")
            if not name.strip():
                raise bad(217, "Invalid username, it must be a non-blank string.")
            other = self.user_by("username", name)
            if other is not None and other["objectId"] != user_id:
                raise bad(202, "Username has already been taken.")
        if data.get("email") is not None:
            try:
                _EMAIL.validate_python(data["email"])
            except ValidationError:
                raise bad(125, "The email address was invalid.") from None
            other = self.user_by("email", data["email"], fold=True)
            if other is not None and other["objectId"] != user_id:
                raise bad(203, "This email has already been taken.")
        if data.get("mobilePhoneNumber") is not None:
            data["mobilePhoneNumber"] = clean_phone(data["mobilePhoneNumber"])
            other = self.user_by("mobilePhoneNumber", data["mobilePhoneNumber"])
            if other is not None and other["objectId"] != user_id:
                raise bad(214, "Mobile phone number has already been taken.")
        if isinstance(data.get("authData"), dict):
            try:
                _AUTH_DATA.validate_python(data["authData"])
            except ValidationError:
                raise bad(1, "Invalid authData.") from None
            for platform, entry in data["authData"].items():
                other = self.user_by_auth(platform, auth_identity(entry))
                if other is not None and other["objectId"] != user_id:
                    raise bad(208, "The third-party account has already been linked to a user.")
        return data

    def user_by_auth(self, platform: str, identity: str | None) -> Doc | None:
        if identity is None:
            return None
        for user in self.users():
            linked = user.get("authData")
            if isinstance(linked, dict) and auth_identity(linked.get(platform)) == identity:
                return user
        return None

    # -- sign-up and login ----------------------------------------------------------------------
    def sign_up_core(
        self, data: Any, ctx: Ctx, *, fail_on_not_exist: bool = False
    ) -> tuple[Doc, str, bool]:
        """Create a user (or log in the one linked to `authData`): user, token, created."""
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        auth_data = data.get("authData")
        with self.store.transaction():
            if isinstance(auth_data, dict) and auth_data:
                try:
                    _AUTH_DATA.validate_python(auth_data)
                except ValidationError:
                    raise bad(1, "Invalid authData.") from None
                for platform, entry in auth_data.items():
                    if auth_identity(entry) is None:
                        raise bad(250, f"Linked id missing from request for '{platform}'.")
                    linked = self.user_by_auth(platform, auth_identity(entry))
                    if linked is not None:
                        linked.setdefault("authData", {}).update(auth_data)
                        linked["updatedAt"] = iso(self.now())
                        token = self.current_session(linked)
                        self.save("_User", linked)
                        return linked, token, False
                if fail_on_not_exist:
                    raise fail(*NO_USER)
                data = {"username": random_id(25).lower(), **data}
            else:
                if not isinstance(data.get("username"), str) or not data["username"]:
                    raise bad(200, "Username is missing or empty.")
                password = data.get("password")
                if not isinstance(password, str) or not password:
                    raise bad(201, "Password is missing or empty.")
                if not password.strip():
                    raise bad(218, "Invalid password, it must be a non-blank string.")
            data = self.check_user_fields(data, None, ctx)
            user = self.new_doc({"emailVerified": False, "mobilePhoneVerified": False})
            self.apply_changes("_User", user, data, creating=True)
            token = self.new_session(user)
            self.save_new("_User", user)
        return user, token, True

    def login_failures(self, user: Doc) -> list[float]:
        now = self.now()
        return [t for t in user.get("_loginFailures", []) if now - float(t) < LOCK_WINDOW]

    def password_login(self, user: Doc, password: str) -> str:
        with self.store.transaction():
            failures = self.login_failures(user)
            if len(failures) >= LOCK_AFTER:
                raise bad(219, "Too many failed login attempts. Please try again in 15 minutes.")
            matched = check_password(user.get("_pw"), password)
            if not matched:  # the failure is committed, then refused
                user["_loginFailures"] = [*failures, self.now()]
                self.store.put(kind("_User"), user["objectId"], user)
            else:
                user["_loginFailures"] = []
                token = self.current_session(user)
                self.store.put(kind("_User"), user["objectId"], user)
        if not matched:
            raise bad(210, "The username and password mismatch.")
        return token

    # -- updates --------------------------------------------------------------------------------
    def may_alter(self, ctx: Ctx, oid: str) -> None:
        if not ctx.master and ctx.user_id != oid:
            raise fail(*CANNOT_ALTER)

    def update_user_core(
        self, oid: str, data: Any, ctx: Ctx, *, where: Any = None
    ) -> tuple[Doc, list[str]]:
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        self.may_alter(ctx, oid)
        with self.store.transaction():
            user = self.user_or_211(oid)
            if where not in (None, {}) and not self.matcher(ctx).filter([user], where):
                raise bad(305, "No effect on updating/deleting a document.")
            data = self.check_user_fields(data, oid, ctx)
            if "mobilePhoneNumber" in data and data["mobilePhoneNumber"] != user.get(
                "mobilePhoneNumber"
            ):
                user["mobilePhoneVerified"] = False
            if "email" in data and data["email"] != user.get("email"):
                user["emailVerified"] = False
            changed = self.apply_changes("_User", user, data, creating=False)
            user["updatedAt"] = iso(self.now())
            self.save("_User", user)
        return user, changed

    def delete_user_core(self, oid: str, ctx: Ctx) -> None:
        self.may_alter(ctx, oid)
        with self.store.transaction():
            self.user_or_211(oid)
            self.store.delete(kind("_User"), oid)
            self.revoke_sessions(oid)

    def user_location(self, oid: str) -> dict[str, str]:
        return {"Location": f"{base_url()}/1.1/users/{oid}"}

    # -- verification codes ---------------------------------------------------------------------
    def new_code(self) -> str:
        fixed = self.config.options.get("sms_code")
        return fixed or "".join(secrets.choice(string.digits) for _ in range(6))

    def send_code(
        self, purpose: str, phone: str, *, ttl_minutes: Any = None, user_id: str | None = None
    ) -> str:
        key = f"{purpose}:{phone}"
        now = self.now()
        minutes = 10
        try:
            minutes = max(1, min(30, int(ttl_minutes))) if ttl_minutes is not None else 10
        except (TypeError, ValueError):
            raise bad(1, "Invalid ttl.") from None
        with self.store.transaction():
            previous = self.store.get("lc_sms", key)
            if previous is not None and now - float(previous["sentAt"]) < CODE_INTERVAL:
                raise bad(601, "Can't send sms code too frequently.")
            code = self.new_code()
            record = {
                "purpose": purpose,
                "mobilePhoneNumber": phone,
                "code": code,
                "sentAt": now,
                "expiresAt": now + minutes * 60,
                "user": user_id,
            }
            self.store.put("lc_sms", key, record)
            self.store.insert("lc_outbox", {"channel": "sms", "sentAt": iso(now), **record})
        return code

    def take_code(self, purposes: tuple[str, ...], phone: str | None, code: str) -> Doc:
        """The unexpired code record matching; used up. 603 otherwise."""
        now = self.now()
        with self.store.transaction():
            for key, record in self.store.all("lc_sms"):
                if (
                    record.get("purpose") in purposes
                    and (phone is None or record.get("mobilePhoneNumber") == phone)
                    and record.get("code") == code
                    and now < float(record.get("expiresAt", 0))
                ):
                    self.store.delete("lc_sms", key)
                    return record
        raise bad(603, "Invalid SMS code.")

    def send_mail(self, kind_: str, email: str, user: Doc) -> None:
        self.store.insert(
            "lc_outbox",
            {
                "channel": "email",
                "kind": kind_,
                "email": email,
                "user": user["objectId"],
                "token": secrets.token_urlsafe(16),
                "sentAt": iso(self.now()),
            },
        )


__all__ = ["AccountsBase", "auth_identity", "clean_phone"]
