"""Sessions: signed creation, sliding expiry, login/logout on a session, API-key tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

from generated.quickblox import models
from generated.quickblox.server import (
    AuthHandlers,
    Credentials,
    Reply,
    Result,
    SettingsHandlers,
)

from . import context
from .base import NONCE, SESSION, USER, Base
from .users import find_user, insert_user, wrap
from .util import (
    NO_SESSION,
    NOT_FOUND,
    check_password,
    expiry_text,
    fail,
    iso,
    plain_error,
    to_int,
)

Doc = dict[str, Any]
TIMESTAMP_WINDOW = 3600  # seconds a session request's timestamp may differ from the server clock


def flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """`{"user": {"login": "a"}}` -> `user[login]=a`: the pairs the signature covers."""
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            yield from flatten(value, name)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from flatten(item, name + "[]")
                else:
                    yield name + "[]", _text(item)
        else:
            yield name, _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def signature(fields: Mapping[str, Any], secret: str) -> str:
    """Hex HMAC-SHA1 of the sorted `key=value` pairs joined with `&`."""
    message = "&".join(sorted(f"{k}={v}" for k, v in flatten(fields)))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest()


def render_session(doc: Doc) -> models.SessionWrapper:
    fields = (
        "_id",
        "id",
        "application_id",
        "user_id",
        "nonce",
        "token",
        "ts",
        "created_at",
        "updated_at",
    )
    return models.SessionWrapper.model_validate({"session": {k: doc.get(k) for k in fields}})


def _firebase_phone(access_token: str) -> str | None:
    """The `phone_number` claim of a Firebase ID token, read without verifying it."""
    parts = access_token.split(".")
    if len(parts) < 2:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    phone = payload.get("phone_number") if isinstance(payload, dict) else None
    return phone if isinstance(phone, str) else None


class AuthOps(Base, SettingsHandlers, AuthHandlers):
    # -- credentials of a user --------------------------------------------------------------
    def password_user(self, login: str | None, email: str | None, password: str | None) -> Doc:
        doc = None
        if login:
            doc = find_user(self.store, "login", login.strip(), fold=True)
        elif email:
            doc = find_user(self.store, "email", email.strip(), fold=True)
        if doc is None or not password or not check_password(doc.get("password"), password):
            plain_error(401, "Unauthorized")
        return doc

    def social_user(
        self,
        provider: str,
        keys: models.SocialProviderKeys | None,
        firebase: models.FirebasePhoneCredentials | None,
    ) -> Doc:
        """The user of a social or phone login, created on first use. Offline, the provider's token
        cannot be verified: it is trusted, and identifies the account by its hash (Facebook,
        Twitter) or by the `phone_number` claim of the Firebase ID token."""
        if provider == "firebase_phone":
            if firebase is None or not firebase.access_token or not firebase.project_id:
                fail("validation", "firebase_phone[project_id] and [access_token] are required")
            phone = _firebase_phone(firebase.access_token)
            digest = hashlib.sha1(firebase.access_token.encode()).hexdigest()
            field, value = ("phone", phone) if phone else ("firebase_id", digest[:20])
        else:
            if keys is None or not keys.token:
                fail("validation", "keys[token] is required")
            digest = hashlib.sha1(f"{provider}:{keys.token}".encode()).hexdigest()
            field = "twitter_digits_id" if provider == "twitter_digits" else f"{provider}_id"
            value = str(int(digest[:13], 16))
        with self.store.transaction():
            doc = find_user(self.store, field, value)
            if doc is None:
                doc = insert_user(self, {field: value, "full_name": f"{provider} user"})
                doc[field] = value
                self.store.put(USER, str(doc["id"]), doc)
        return doc

    def login_user(
        self,
        login: str | None,
        email: str | None,
        password: str | None,
        provider: str | None,
        keys: models.SocialProviderKeys | None,
        firebase: models.FirebasePhoneCredentials | None,
    ) -> Doc:
        if provider:
            return self.social_user(provider, keys, firebase)
        if not login and not email:
            fail("validation", "login or email required")
        return self.password_user(login, email, password)

    # -- operations -------------------------------------------------------------------------
    async def create_session(
        self, *, auth: Credentials, body: models.CreateSessionRequest
    ) -> Result[models.SessionWrapper]:
        fields = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        given = str(fields.pop("signature", ""))
        if str(fields.get("application_id", "")).strip() != str(self.config["app_id"]):
            fail("validation", "Unknown application")
        if not hmac.compare_digest(str(fields.get("auth_key", "")), self.config["auth_key"]):
            fail("validation", "Unexpected auth_key")
        ts, nonce = to_int(fields.get("timestamp")), to_int(fields.get("nonce"))
        if ts is None or abs(self.now() - ts) > TIMESTAMP_WINDOW:
            fail("validation", "Bad timestamp")
        if nonce is None:
            fail("validation", "Bad nonce")
        expected = signature(fields, self.config["auth_secret"])
        if not hmac.compare_digest(expected, given.strip().lower()):
            fail("validation", "Unexpected signature")
        user_id = 0
        if body.user is not None or body.provider is not None:
            credentials = body.user or models.SessionUserCredentials()
            user = self.login_user(
                credentials.login,
                credentials.email,
                credentials.password,
                body.provider,
                body.keys,
                body.firebase_phone,
            )
            user_id = int(user["id"])
        with self.store.transaction():
            pair = f"{ts}:{nonce}"
            if self.store.get(NONCE, pair) is not None:
                fail("validation", "Timestamp and nonce pair has already been used")
            self.store.put(NONCE, pair, {"at": self.now()})
            doc = self.new_session(user_id, nonce, ts)
            if user_id:
                self.store.update(
                    USER, str(user_id), lambda u: {**u, "last_request_at": iso(self.now())}
                )
        context.set_expiry(expiry_text(doc["expires"]))
        return Reply(201, render_session(doc))

    async def get_session(self, *, auth: Credentials) -> Result[models.SessionWrapper]:
        session = self.who().session
        if session is None:
            fail("unauthorized", NO_SESSION)
        return render_session(session)

    async def delete_session(self, *, auth: Credentials) -> Result[None]:
        token = self.who().token
        if token:
            self.store.delete(SESSION, token)
        return None

    async def log_in(
        self, *, auth: Credentials, body: models.LoginRequest
    ) -> Result[models.UserWrapper]:
        token = self.who().token
        if token is None:
            fail("unauthorized", NO_SESSION)
        user = self.login_user(
            body.login, body.email, body.password, body.provider, body.keys, body.firebase_phone
        )

        def upgrade(session: Doc) -> Doc:
            return {**session, "user_id": int(user["id"]), "updated_at": self.now_iso()}

        self.store.update(SESSION, token, upgrade)
        return wrap(user)

    async def log_out(self, *, auth: Credentials) -> Result[None]:
        token = self.who().token
        if token is None:
            fail("unauthorized", NO_SESSION)
        self.store.update(
            SESSION, token, lambda s: {**s, "user_id": 0, "updated_at": self.now_iso()}
        )
        return None

    async def create_user_token(
        self, *, auth: Credentials, user_id: int
    ) -> Result[models.UserToken]:
        if self.store.get(USER, str(user_id)) is None:
            fail("not_found", NOT_FOUND)
        doc = self.new_session(user_id)
        return Reply(
            201,
            models.UserToken.model_validate(
                {"token": doc["token"], "expires_at": iso(doc["expires"])}
            ),
        )

    async def get_account_settings(self, *, auth: Credentials) -> Result[models.AccountSettings]:
        return models.AccountSettings(
            api_endpoint=context.base_url(),
            chat_endpoint="chat.quickblox.com",
            turnserver_endpoint="turn.quickblox.com",
        )
