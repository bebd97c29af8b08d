"""Sessions: application/user/guest tokens, the signed-session check, login and logout.

A token lives two hours and every request with it extends it by two more (guest sessions: one day,
not extended); `config.session_ttl` overrides both. An unknown or expired token answers 401
`{"errors":{"base":["Required session does not exist"]}}`; an application session on a user-only
operation answers 403 `{"errors":{"base":["Forbidden. Need user."]}}`, as the vendor does.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import UTC, datetime
from hashlib import sha1, sha256
from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import ApiProblem, Credentials, Reply

from .common import (
    NEED_USER,
    NONCE,
    REQUIRED_SESSION,
    SESSION,
    USER,
    Base,
    iso,
    same,
    to_int,
    truthy,
    utf8,
)
from .context import base_error, current, list_error
from .contract import request_errors

NO_AUTH = frozenset({"createSession", "createWebSession", "uploadBlobFile"})
ADMIN = frozenset(
    {
        "adminListDialogs",
        "adminListMessages",
        "adminUpdateDialog",
        "adminCreateMeeting",
        "adminListMeetingRecordings",
        "adminDeleteMeetingRecordings",
        "adminDeleteUser",
        "getDialogsCreatedPerDay",
        "getDialogsCreatedTotal",
        "getMessagesSentPerDay",
        "getMessagesSentTotal",
    }
)
TOKEN_OPTIONAL = frozenset({"getBlob", "downloadBlob"})
# Operations an application session may call (read-only application data, login, sign-up).
APP_SESSION_OK = frozenset(
    {
        "getSession",
        "destroySession",
        "loginUser",
        "createUser",
        "listUsers",
        "searchUsers",
        "getUser",
        "getUserByEmail",
        "getUserByFacebookId",
        "listUsersByFullName",
        "getUserByLogin",
        "listUsersByTags",
        "getUserByTwitterId",
        "getUserByExternalId",
        "getUserByPhone",
        "listOnlineUsers",
        "resetPassword",
        "resetPasswordByQuery",
        "getBlob",
        "getBlobObject",
        "downloadBlob",
        "listCustomObjects",
        "getCustomObjects",
        "getLinkPreview",
    }
)

SIGNATURE_WINDOW = 3600.0  # a signed request's timestamp must be within an hour of the server's


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """`{"user": {"login": "a"}}` -> `[("user[login]", "a")]`, the names the signature covers."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, dict):
            out.extend(flatten(value, name))
        elif isinstance(value, list):
            list_name = name if name.endswith("[]") or not prefix else name + "[]"
            for item in value:
                if isinstance(item, dict):
                    out.extend(flatten(item, list_name))
                else:
                    out.append((list_name, _scalar(item)))
        else:
            out.append((name, _scalar(value)))
    return out


def signature_of(pairs: list[tuple[str, str]], secret: str, algorithm: str = "sha1") -> str:
    message = "&".join(sorted(f"{k}={v}" for k, v in pairs if k != "signature"))
    digest = sha256 if algorithm == "sha256" else sha1
    return hmac.new(utf8(secret), utf8(message), digest).hexdigest()


def _jwt_claims(token: str) -> dict[str, Any]:
    """The unverified claims of a JWT (Firebase ID tokens), or {} when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class SessionsMixin(Base):
    # -- credentials of every request --------------------------------------------------------
    async def authorize(self, auth: Credentials, operation_id: str) -> None:
        """Credentials first (the vendor's 401/403), then the request against the spec."""
        self.check_credentials(auth, operation_id)
        ctx = current()
        if ctx is None:
            return
        kind = ctx.content_type.split(";")[0].strip()
        is_json = kind in ("application/json", "") or kind.endswith("+json")
        errors = request_errors(
            operation_id, ctx.query, ctx.json_body() if is_json else None, is_json
        )
        if errors:
            raise ApiProblem("validation", "; ".join(errors[:5]))

    def check_credentials(self, auth: Credentials, operation_id: str) -> None:
        if operation_id in NO_AUTH:
            return
        if operation_id in ADMIN:
            if not auth.admin_api_key or not same(auth.admin_api_key, self.config["auth_secret"]):
                raise base_error(401, "Unauthorized")
            return
        if operation_id == "createUser" and not auth.cb_token:
            if not auth.cb_auth_key or not same(auth.cb_auth_key, self.config["auth_key"]):
                raise list_error(401, "Unauthorized")
            return
        if operation_id in TOKEN_OPTIONAL and not auth.cb_token:
            return
        session = self.touch(auth.cb_token or "")
        if not session.get("user_id") and operation_id not in APP_SESSION_OK:
            raise base_error(403, NEED_USER)

    def touch(self, token: str) -> Doc:
        """Check a token and extend its life (and the user's `last_request_at`)."""
        now = self.now()
        with self.store.transaction():
            session = self.store.get(SESSION, token) if token else None
            if session is None:
                raise base_error(401, REQUIRED_SESSION)
            if session.get("expires_at", 0) <= now:
                self.store.delete(SESSION, token)
                raise base_error(401, REQUIRED_SESSION)
            if not session.get("guest"):
                session["expires_at"] = now + self.ttl()
                self.store.put(SESSION, token, session)
            if session.get("user_id"):
                user = self.store.get(USER, str(session["user_id"]))
                if user is None:  # the user was deleted: the session died with it
                    self.store.delete(SESSION, token)
                    raise base_error(401, REQUIRED_SESSION)
                user["last_request_at"] = now
                self.store.put(USER, str(user["id"]), user)
        ctx = current()
        if ctx is not None:
            ctx.cache.update(token=token, session=session)
            expires = datetime.fromtimestamp(session["expires_at"], UTC)
            ctx.headers["CB-Token-ExpirationDate"] = expires.strftime("%Y-%m-%d %H:%M:%S UTC")
        return session

    # -- views -------------------------------------------------------------------------------
    def session_view(self, session: Doc) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": session["id"],
            "application_id": session["application_id"],
            "user_id": session.get("user_id") or 0,
            "token": session["token"],
            "ts": session.get("ts"),
            "created_at": iso(session["created_at"]),
            "updated_at": iso(session["updated_at"]),
        }
        if session.get("nonce") is not None:
            out["nonce"] = session["nonce"]
        if session.get("user_id"):
            user = self.user_doc(int(session["user_id"]))
            if user is not None:
                out["user"] = self.user_view(user)
        return out

    # -- session creation --------------------------------------------------------------------
    def _raw_session_pairs(self, body: Any) -> list[tuple[str, str]]:
        ctx = current()
        raw = ctx.json_body() if ctx is not None else None
        if ctx is not None and ctx.content_type.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl

            return parse_qsl(bytes(ctx.body).decode("utf-8", "replace"), keep_blank_values=True)
        if isinstance(raw, dict):
            return flatten(raw)
        return flatten(body.model_dump(mode="json", by_alias=True, exclude_unset=True))

    def check_application(
        self,
        body: models.CreateSessionRequest | models.CreateWebSessionRequest,
    ) -> None:
        if str(body.application_id).strip() != str(self.config["app_id"]) or not same(
            body.auth_key, self.config["auth_key"]
        ):
            raise list_error(401, "Unauthorized")
        if body.signature is None:
            if truthy(self.option("require_signature", "0")):
                raise list_error(422, "Unexpected signature")
            return
        pairs = self._raw_session_pairs(body)
        algorithm = "sha256" if len(body.signature) == 64 else "sha1"
        expected = signature_of(pairs, self.config["auth_secret"], algorithm)
        if not same(expected, body.signature.lower()):
            raise list_error(422, "Unexpected signature")
        stamp = to_int(body.timestamp)
        if stamp is None or abs(self.now() - stamp) > SIGNATURE_WINDOW:
            raise list_error(422, "Unexpected timestamp")
        if body.nonce is not None:
            key = f"{stamp}:{body.nonce}"
            with self.store.transaction():
                if self.store.get(NONCE, key) is not None:
                    raise list_error(422, "Unexpected nonce")
                self.store.put(NONCE, key, {"at": self.now()})
                for old, seen in self.store.all(NONCE):  # older pairs fall out of the window
                    if seen.get("at", 0) < self.now() - 2 * SIGNATURE_WINDOW:
                        self.store.delete(NONCE, old)

    def _find_user(self, match: Any) -> Doc | None:
        return self.store.first(USER, match)

    def resolve_credentials(
        self,
        body: models.CreateSessionRequest | models.LoginRequest,
    ) -> tuple[Doc | None, bool]:
        """The user the credentials name (None for an application session), and whether a guest."""
        user_fields = getattr(body, "user", None)
        login = getattr(body, "login", None) or (user_fields.login if user_fields else None)
        email = getattr(body, "email", None) or (user_fields.email if user_fields else None)
        password = getattr(body, "password", None) or (
            user_fields.password if user_fields else None
        )
        if user_fields is not None and user_fields.guest is not None:
            token = secrets.token_hex(18).upper()
            guest = self._new_user(
                {
                    "_id": self.oid(),
                    "login": f"guest_login_{token}",
                    "is_guest": True,
                    "full_name": user_fields.full_name,
                    "phone": "",
                    "guest_expires_at": self.now() + self.ttl(guest=True),
                }
            )
            return guest, True
        if body.provider is not None:
            return self._provider_user(body), False
        if login is None and email is None:
            if user_fields is not None or isinstance(body, models.LoginRequest):
                raise list_error(422, "Login or email required")
            return None, False
        if not password:
            raise list_error(401, "Unauthorized")
        if login is not None:
            wanted = login.lower()
            user = self._find_user(lambda d: (d.get("login") or "").lower() == wanted)
        else:
            wanted = (email or "").lower()
            user = self._find_user(lambda d: (d.get("email") or "").lower() == wanted)
        if user is None:
            # "Session creation without an existing user entity": allowed unless denied
            if isinstance(body, models.CreateSessionRequest) and truthy(
                self.option("create_user_on_session", "1")
            ):
                return self._new_user(
                    {"login": login, "email": email, "password": _hash(password)}
                ), False
            raise list_error(401, "Unauthorized")
        if user.get("is_guest") or not _check(password, user.get("password")):
            raise list_error(401, "Unauthorized")
        return user, False

    def _provider_user(self, body: models.CreateSessionRequest | models.LoginRequest) -> Doc:
        """Offline stand-in for social and Firebase login: the token names the identity.

        Facebook/Twitter: `keys.token` is taken as the provider's user id. Firebase: the ID token's
        claims (read, not verified) give the phone number or email; other tokens are ids.
        """
        provider = body.provider
        if provider in ("facebook", "twitter"):
            if body.keys is None:
                raise list_error(422, "keys[token] is required")
            field = f"{provider}_id"
            identity: str = body.keys.token
            user = self._find_user(lambda d: str(d.get(field) or "") == identity)
            return user or self._new_user({field: identity})
        creds = body.firebase_phone if provider == "firebase_phone" else body.firebase_email
        if creds is None:
            raise list_error(422, f"{provider}[access_token] is required")
        claims = _jwt_claims(creds.access_token)
        if provider == "firebase_phone":
            phone = str(claims.get("phone_number") or claims.get("sub") or creds.access_token)
            user = self._find_user(lambda d: d.get("phone") == phone)
            return user or self._new_user({"phone": phone})
        email = str(claims.get("email") or claims.get("sub") or creds.access_token)
        user = self._find_user(lambda d: (d.get("email") or "").lower() == email.lower())
        return user or self._new_user({"email": email})

    def _open_session(self, user: Doc | None, guest: bool, ts: Any, nonce: Any) -> Doc:
        now = self.now()
        token = secrets.token_hex(18).upper() if guest else self.token()
        session: Doc = {
            "id": self.store.next_id("cc.session"),
            "application_id": self.app_id,
            "user_id": user["id"] if user else 0,
            "token": token,
            "ts": to_int(ts) if ts is not None else int(now),
            "nonce": to_int(nonce) if nonce is not None else None,
            "created_at": now,
            "updated_at": now,
            "expires_at": now + self.ttl(guest),
            "guest": guest,
        }
        self.store.put(SESSION, token, session)
        if user is not None:
            user["last_request_at"] = now
            self.store.put(USER, str(user["id"]), user)
        return session

    async def create_session(
        self,
        *,
        auth: Credentials,
        body: models.CreateSessionRequest,
    ) -> models.SessionEnvelope | Reply[Any]:
        self.check_application(body)
        with self.store.transaction():
            self.purge_guests()
            user, guest = self.resolve_credentials(body)
            session = self._open_session(user, guest, body.timestamp, body.nonce)
        return Reply(201, {"session": self.session_view(session)})

    async def get_session(self, *, auth: Credentials) -> Any:
        return {"session": self.session_view(self.session(auth))}

    async def destroy_session(self, *, auth: Credentials) -> None:
        with self.store.transaction():
            if not self.store.delete(SESSION, auth.cb_token or ""):
                raise list_error(404, "The resource wasn't found")
        return None

    async def login_user(self, *, auth: Credentials, body: models.LoginRequest) -> Any:
        with self.store.transaction():
            user, _ = self.resolve_credentials(body)
            if user is None:
                raise list_error(401, "Unauthorized")
            session = self.session(auth)
            session["user_id"] = user["id"]
            session["updated_at"] = self.now()
            self.store.put(SESSION, session["token"], session)
            user["last_request_at"] = self.now()
            self.store.put(USER, str(user["id"]), user)
        return Reply(202, {"user": self.user_view(user)})

    async def logout_user(self, *, auth: Credentials) -> None:
        with self.store.transaction():
            session = self.session(auth)
            session["user_id"] = 0
            session["updated_at"] = self.now()
            self.store.put(SESSION, session["token"], session)
        return None

    async def create_web_session(
        self, *, auth: Credentials, body: models.CreateWebSessionRequest
    ) -> Any:
        self.check_application(body)
        with self.store.transaction():
            session = self._open_session(None, False, body.timestamp, body.nonce)
            session["web"] = True
            session["long"] = truthy(body.long) if body.long is not None else False
            self.store.put(SESSION, session["token"], session)
        # the QR code carries the web session's token for a logged-in device to hand over
        return Reply(201, {"qr_code": session["token"], "session": self.session_view(session)})

    async def upgrade_web_session(
        self, *, auth: Credentials, body: models.UpgradeWebSessionRequest
    ) -> None:
        user_id = self.user_id(auth)
        with self.store.transaction():
            web = self.store.get(SESSION, body.web_token)
            if web is None or not web.get("web") or web.get("expires_at", 0) <= self.now():
                raise list_error(404, "The resource wasn't found")
            web["user_id"] = user_id
            web["updated_at"] = self.now()
            self.store.put(SESSION, body.web_token, web)
        return None


def _hash(password: str) -> str:
    salt = secrets.token_hex(8)
    return f"{salt}${sha256(utf8(salt + password)).hexdigest()}"


def _check(password: str, stored: Any) -> bool:
    if not isinstance(stored, str) or "$" not in stored:
        return False
    salt, digest = stored.split("$", 1)
    return same(sha256(utf8(salt + password)).hexdigest(), digest)


hash_password = _hash
check_password = _check
