"""Sign-up, login and sessions, the logged-in user's profile, password, username and suspension,
password recovery by e-mail (mails are recorded in the store, not sent), and the users' profiles."""

from __future__ import annotations

import base64
import html
import json
import secrets
from typing import Any

from fastapi.responses import HTMLResponse

from generated.baasbox import models
from generated.baasbox.server import AccountHandlers, Credentials, Reply, UsersHandlers

from ..store import Doc
from .common import (
    SECTIONS,
    Base,
    Caller,
    bad,
    doc_kind,
    forbidden,
    not_found,
    ok,
    unauthorized,
)

INTERNAL_USERS = ("baasbox", "internal_admin")


def sections_of(body: Any) -> dict[str, Any]:
    """The profile sections a request sent (with their extra members), as plain JSON."""
    out: dict[str, Any] = {}
    for section in SECTIONS:
        value = getattr(body, section, None)
        if value is not None:
            out[section] = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return out


class AccountOps(Base, AccountHandlers):
    def session_reply(self, user: Doc, token: str, status: int) -> Reply[Any]:
        view = self.user_view(user, None, everything=True)
        view["X-BB-SESSION"] = token
        return Reply(status, ok(view, status), headers={"X-BB-SESSION": token})

    async def sign_up(self, *, auth: Credentials, body: models.SignUpRequest) -> Any:
        username = body.username.strip()
        if not username:
            raise bad("The 'username' field is missing")
        if not body.password:
            raise bad("The password field cannot be empty")
        if username in INTERNAL_USERS:
            raise bad("Error signing up")
        with self.store.transaction():
            if self.user(username) is not None:
                raise bad("Error signing up")
            user = self.create_user(username, body.password, "registered", sections_of(body))
            token = self.open_session(username)
        return self.session_reply(user, token, 201)

    async def login(self, *, auth: Credentials, body: models.LoginRequest) -> Any:
        username = body.username
        if username.lower() in INTERNAL_USERS:
            raise forbidden(f"{username} cannot login")
        if body.appcode != self.config["appcode"]:
            raise bad(f"user {username} unauthorized")
        user = self.user(username)
        if (
            user is None
            or not self.check_password(user, body.password)
            or user["status"] != "ACTIVE"
        ):
            raise unauthorized(f"user {username} unauthorized")
        caller = Caller(username, user, self.effective_roles(user))
        self.check_group(caller, "baasbox.account")
        device: dict[str, Any] | None = None
        if body.login_data is not None:
            try:
                parsed = json.loads(body.login_data)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise bad("login_data field is not a valid json string")
            device = {k: v if isinstance(v, str) else json.dumps(v) for k, v in parsed.items()}
        with self.store.transaction():
            if device is not None:
                self.register_device(username, device)
                user = self.user(username) or user
            token = self.open_session(username)
        return self.session_reply(user, token, 200)

    async def logout(self, *, auth: Credentials) -> Any:
        caller = self.me(auth)
        if caller.token:
            self.store.delete("session", caller.token)
        return ok("user logged out")

    async def logout_device(self, *, auth: Credentials, push_token: str) -> Any:
        caller = self.me(auth)
        with self.store.transaction():
            if caller.token:
                self.forget_device(caller.username or "", push_token)
                self.store.delete("session", caller.token)
        return ok(f"pushToken: {push_token} logged out")

    async def get_current_user(self, *, auth: Credentials) -> Any:
        caller = self.me(auth)
        return ok(self.user_view(caller.user or {}, caller))

    async def get_current_user_deprecated(self, *, auth: Credentials) -> Any:
        return await self.get_current_user(auth=auth)

    async def update_current_user(
        self, *, auth: Credentials, body: models.UpdateProfileRequest
    ) -> Any:
        caller = self.me(auth)
        sent = sections_of(body)

        def change(user: Doc) -> Doc:
            user.update(sent)
            return user

        user = self.store.update("user", caller.username or "", change)
        return ok(self.user_view(user or {}, caller))

    async def update_current_user_deprecated(
        self, *, auth: Credentials, body: models.UpdateProfileRequest
    ) -> Any:
        return await self.update_current_user(auth=auth, body=body)

    async def suspend_current_user(self, *, auth: Credentials) -> Any:
        caller = self.me(auth)
        if caller.username == "admin":
            raise bad("Cannot disable/suspend internal users")
        with self.store.transaction():
            self.store.update("user", caller.username or "", lambda u: {**u, "status": "SUSPENDED"})
            self.drop_sessions(caller.username or "")
        return ok("")

    async def suspend_current_user_deprecated(self, *, auth: Credentials) -> Any:
        return await self.suspend_current_user(auth=auth)

    async def change_password(
        self, *, auth: Credentials, body: models.ChangePasswordRequest
    ) -> Any:
        caller = self.me(auth)
        if not self.check_password(caller.user or {}, body.old):
            raise bad("The old password does not match with the current one")
        if not body.new:
            raise bad("The 'new' field is missing")
        self.set_password(caller.username or "", body.new)
        return ok("")

    async def change_password_deprecated(
        self, *, auth: Credentials, body: models.ChangePasswordRequest
    ) -> Any:
        return await self.change_password(auth=auth, body=body)

    async def change_username(
        self, *, auth: Credentials, body: models.ChangeUsernameRequest
    ) -> Any:
        caller = self.me(auth)
        new = body.username.strip()
        if not new or new in INTERNAL_USERS:
            raise bad("'username' field must be a String")
        if caller.username == "admin":
            raise bad("The username of the 'admin' user cannot be changed")
        if new == caller.username:
            return ok("")
        with self.store.transaction():
            if self.user(new) is not None:
                raise bad(f"The username {new} already exists")
            self.rename_user(caller.username or "", new)
        return ok("")

    def rename_user(self, old: str, new: str) -> None:
        """Rewrite every reference to a username: profile, roles, follows, authors, grants."""
        with self.store.transaction():
            user = self.user(old)
            if user is None:
                raise not_found(f"User {old} does not exists")
            self.drop_sessions(old)
            user["username"] = new
            self.store.delete("user", old)
            self.store.put("user", new, user)
            role = self.store.get("role", f"friends_of_{old}")
            self.store.delete("role", f"friends_of_{old}")
            if role is not None:
                role.update(name=f"friends_of_{new}", description=f"Followers of {new}")
                self.store.put("role", f"friends_of_{new}", role)
            self.index(user["id"], user.get("rid"), "user", new)
            for name, other in self.store.all("user"):
                if old in other.get("following", []):
                    other["following"] = [new if f == old else f for f in other["following"]]
                    self.store.put("user", name, other)
            kinds = [doc_kind(c) for c, _ in self.store.all("collection")] + [
                "file",
                "link",
                "asset",
            ]
            for kind in kinds:
                for key, record in self.store.all(kind):
                    if rename_in_record(record, old, new):
                        self.store.put(kind, key, record)

    # -- password recovery -------------------------------------------------------------------------
    async def request_password_reset(self, *, auth: Credentials, username: str) -> Any:
        user = self.user(username)
        if user is None or username in INTERNAL_USERS:
            raise bad(f"Username {username} not found!")
        email = (user.get("visibleByTheUser") or {}).get("email")
        if not email:
            raise bad(
                'Cannot reset password, the "email" attribute is not defined into the '
                "user's private profile"
            )
        raw = f"{self.config['appcode']}%%%%{username}%%%%{secrets.token_hex(16)}"
        token = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        minutes = float(self.setting("email.expiration.time") or 15)
        link = f"/user/password/reset/{token}"
        text = (
            self.setting("email.template.text")
            .replace("$link$", link)
            .replace("$user_name$", username)
        )
        with self.store.transaction():
            self.store.put(
                "reset", token, {"username": username, "expires": self.now() + minutes * 60}
            )
            self.store.insert(
                "outbox",
                {
                    "to": email,
                    "from": self.setting("email.from"),
                    "subject": self.setting("email.subject"),
                    "text": text,
                    "link": link,
                    "token": token,
                    "time": self.stamp(),
                },
            )
        return ok("")

    def reset_token(self, raw: str) -> tuple[str, bool, Doc | None]:
        as_json = raw.endswith(".json")
        token = raw[: -len(".json")] if as_json else raw
        record = self.store.get("reset", token)
        if record is not None and float(record.get("expires", 0)) < self.now():
            record = None
        return token, as_json, record

    def reset_answer(self, status: int, as_json: bool, fields: dict[str, Any]) -> Any:
        fields = {"application_name": self.setting("application.name"), **fields}
        if as_json:
            return Reply(status, fields)
        lines = "".join(
            f"<p>{html.escape(str(k))}: {html.escape(str(v))}</p>" for k, v in fields.items()
        )
        form = ""
        if status == 200 and "link" in fields:
            form = (
                f"<form method='post' action='{html.escape(fields['link'])}'>"
                "<input name='password' type='password'>"
                "<input name='repeat-password' type='password'>"
                "<button type='submit'>Reset Password</button></form>"
            )
        page = f"<!DOCTYPE html><html><body>{lines}{form}</body></html>"
        return HTMLResponse(page, status_code=status)

    async def get_password_reset_form(self, *, auth: Credentials, base64: str) -> Any:
        token, as_json, record = self.reset_token(base64)
        if record is None:
            return self.reset_answer(
                400, as_json, {"status": "KO", "error": "The reset password code is invalid."}
            )
        link = f"/user/password/reset/{token}" + (".json" if as_json else "")
        return self.reset_answer(
            200, as_json, {"user_name": record["username"], "link": link, "token": token}
        )

    async def submit_password_reset(
        self, *, auth: Credentials, base64: str, body: models.SubmitPasswordResetRequest
    ) -> Any:
        token, as_json, record = self.reset_token(base64)
        if record is None:
            return self.reset_answer(400, as_json, {"error": "The reset password code is invalid."})
        username = record["username"]
        if body.password != body.repeat_password:
            return self.reset_answer(
                400, as_json, {"user_name": username, "error": "The passwords do not match"}
            )
        if not body.password:
            return self.reset_answer(
                400, as_json, {"user_name": username, "error": "The password cannot be empty"}
            )
        if self.user(username) is None:
            return self.reset_answer(400, as_json, {"error": "The reset password code is invalid."})
        with self.store.transaction():
            self.set_password(username, body.password)
            self.store.delete("reset", token)
        return self.reset_answer(
            200, as_json, {"user_name": username, "message": "Password changed"}
        )

    async def refresh_session(self, *, auth: Credentials) -> Any:
        self.me(auth)
        return ok("")


def rename_in_record(record: Doc, old: str, new: str) -> bool:
    """Replace `old` by `new` as author and as ACL grantee of a stored record."""
    changed = False
    meta: Doc = record["meta"] if isinstance(record.get("meta"), dict) else record
    for key in ("author", "_author"):
        if meta.get(key) == old:
            meta[key] = new
            changed = True
    for bucket in (record.get("acl") or {}).values():
        users = bucket.get("users", [])
        if old in users:
            bucket["users"] = [new if u == old else u for u in users]
            changed = True
    return changed


class UsersOps(Base, UsersHandlers):
    async def list_users(
        self,
        *,
        auth: Credentials,
        where: str | None = None,
        params: list[str] | None = None,
        order_by: str | None = None,
        group_by: str | None = None,
        page: int | None = None,
        records_per_page: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        fields: str | None = None,
        depth: int | None = None,
    ) -> Any:
        caller = self.me(auth)
        views = [
            self.user_view(u, caller)
            for _, u in self.store.all("user")
            if u["username"] not in INTERNAL_USERS
        ]
        result = self.run_query(
            views,
            self.criteria(
                where=where,
                params=params,
                order_by=order_by,
                group_by=group_by,
                page=page,
                records_per_page=records_per_page,
                skip=skip,
            ),
        )
        return ok(result.records, more=result.more)

    async def get_user(self, *, auth: Credentials, username: str) -> Any:
        caller = self.me(auth)
        user = self.user(username)
        if user is None or username in INTERNAL_USERS:
            raise not_found(f"{username} not found")
        return ok(self.user_view(user, caller))

    async def check_user_exists(self, *, auth: Credentials, username: str) -> Any:
        # BaasBox 1.0 routes this but answers 501; the emulator must not answer a 5xx to a valid
        # request, so it refuses with the declared 400 and says why.
        raise bad(
            "GET /user/{username}/exists is not implemented by BaasBox (it answers 501): "
            "use GET /user/{username}, which answers 404 for an unknown user"
        )
