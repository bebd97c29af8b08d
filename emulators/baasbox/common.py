"""What every part of the BaasBox emulator shares: the store layout, callers and sessions, users'
profiles as each caller sees them, ACLs, settings, query criteria and the envelopes.

Store kinds (id in brackets):
  user [username]  session [token]  role [name]  collection [name]  doc:<collection> [uuid]
  file [uuid]  asset [name]  plugin [name]  link [uuid]  node [uuid: what the id names]
  rid [#c:p: what the record id names]  setting [key]  endpoint [group tag]  state [name]
  reset [token]  outbox [id]  push [id]  plugin_call [id]  log [id]  export [file name]
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import Response
from pydantic import EmailStr, TypeAdapter, ValidationError

from generated.baasbox.server import ApiProblem, Credentials

from ..config import Config
from ..store import Doc, Store
from . import query, settings
from .spec import ENDPOINT_GROUPS, OperationInfo

API_VERSION = "1.0.0-Final"
ADMIN = "admin"
BUILTIN_ROLES = {
    # name: (description, assignable, internal)
    "anonymous": ("Anonymous (not logged) users", False, True),
    "registered": ("Registered users", True, False),
    "administrator": ("Administrators: full access", True, False),
    "backoffice": ("Back-office users: read and write every record", True, False),
}
SECTIONS = (
    "visibleByTheUser",
    "visibleByFriends",
    "visibleByRegisteredUsers",
    "visibleByAnonymousUsers",
)
ACTIONS = ("read", "update", "delete", "all")
ACL_MEMBERS = {
    "_allowRead": "read",
    "_allowUpdate": "update",
    "_allowDelete": "delete",
    "_allow": "all",
}
RESERVED_FIELDS = {
    "@rid",
    "@version",
    "@class",
    "id",
    "_creation_date",
    "_author",
    "_allowRead",
    "_allowUpdate",
    "_allowDelete",
    "_allow",
    "@type",
    "@fieldTypes",
}
USERS_CLUSTER, FILES_CLUSTER, ASSETS_CLUSTER, SCRIPTS_CLUSTER, LINKS_CLUSTER = 5, 17, 18, 19, 21
FIRST_COLLECTION_CLUSTER = 25
FIXED_KINDS = (
    "user",
    "session",
    "role",
    "collection",
    "file",
    "asset",
    "plugin",
    "link",
    "node",
    "rid",
    "setting",
    "endpoint",
    "state",
    "reset",
    "outbox",
    "push",
    "plugin_call",
    "log",
    "export",
)
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def doc_kind(collection: str) -> str:
    return "doc:" + collection


def ok(data: Any, status: int = 200, **extra: Any) -> dict[str, Any]:
    """The success envelope."""
    body: dict[str, Any] = {"result": "ok", "http_code": status, "data": data}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def bad(message: str, code: str = "") -> ApiProblem:
    return ApiProblem("validation", message, status=400, code=code)


def unauthorized(message: str, code: str = "") -> ApiProblem:
    return ApiProblem("unauthorized", message, status=401, code=code)


def session_expired() -> ApiProblem:
    return ApiProblem("unauthorized", status=401, code="40101")


def forbidden(message: str = "Forbidden") -> ApiProblem:
    return ApiProblem("forbidden", message, status=403)


def not_found(message: str = "Resource not found") -> ApiProblem:
    return ApiProblem("not_found", message, status=404)


def server_error(message: str) -> ApiProblem:
    return ApiProblem("internal", message, status=500)


def unavailable(message: str, code: str = "") -> ApiProblem:
    return ApiProblem("internal", message, status=503, code=code)


def hash_password(password: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def valid_email(value: Any) -> bool:
    try:
        _EMAIL.validate_python(value)
    except ValidationError:
        return False
    return True


def empty_acl() -> dict[str, dict[str, list[str]]]:
    return {action: {"users": [], "roles": []} for action in ACTIONS}


@dataclass
class Caller:
    """Who is calling: a user (with their effective roles), the anonymous user, or root."""

    username: str | None
    user: Doc | None = None
    roles: frozenset[str] = frozenset({"anonymous"})
    token: str | None = None
    root: bool = False

    @property
    def is_admin(self) -> bool:
        return "administrator" in self.roles

    @property
    def bypasses_acl(self) -> bool:
        return self.is_admin or "backoffice" in self.roles

    @property
    def anonymous(self) -> bool:
        return self.username is None


class Base:
    """State lives in the store only; this class holds the configuration and the helpers."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.clock: Callable[[], float] = time.time  # tests may replace it to move time
        self.seed()

    # -- time -------------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def stamp(self, moment: float | None = None) -> str:
        return query.format_date(
            datetime.fromtimestamp(self.now() if moment is None else moment, UTC)
        )

    # -- initial content --------------------------------------------------------------------------
    def seed(self) -> None:
        """The roles, the `admin` user and the server record of an empty database (idempotent)."""
        with self.store.transaction():
            if self.store.get("state", "server") is None:
                self.store.put(
                    "state",
                    "server",
                    {"start_time": int(self.now() * 1000), "bb_id": str(uuid.uuid4())},
                )
            if self.store.get("state", "db") is not None:
                return
            for name, (description, assignable, internal) in BUILTIN_ROLES.items():
                self.store.put(
                    "role",
                    name,
                    self.role_record(
                        name,
                        description,
                        modifiable=False,
                        assignable=assignable,
                        internal=internal,
                    ),
                )
            self.create_user(ADMIN, self.config["admin_password"], "administrator", {})
            self.store.put("state", "db", {"created": self.stamp()})

    def role_record(
        self,
        name: str,
        description: str,
        *,
        modifiable: bool = True,
        assignable: bool = True,
        internal: bool = False,
        inherits: str | None = None,
    ) -> Doc:
        return {
            "name": name,
            "description": description,
            "modifiable": modifiable,
            "assignable": assignable,
            "internal": internal,
            "inherits": inherits,
            "created": self.stamp(),
        }

    def next_rid(self, cluster: int) -> str:
        return f"#{cluster}:{self.store.next_id(f'cluster:{cluster}', start=0)}"

    def index(self, uid: str, rid: str | None, kind: str, key: str) -> None:
        """Remember what a record id (UUID) and an OrientDB RID point to."""
        self.store.put("node", uid, {"kind": kind, "key": key, "rid": rid})
        if rid:
            self.store.put("rid", rid, {"kind": kind, "key": key, "id": uid})

    def unindex(self, uid: str) -> None:
        node = self.store.get("node", uid)
        if node is not None:
            if node.get("rid"):
                self.store.delete("rid", node["rid"])
            self.store.delete("node", uid)

    # -- users ------------------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        sections: dict[str, Any],
        *,
        uid: str | None = None,
        generated: bool = False,
    ) -> Doc:
        salt = secrets.token_hex(8)
        user: Doc = {
            "id": uid or str(uuid.uuid4()),
            "username": username,
            "salt": salt,
            "password": hash_password(password, salt),
            "role": role,
            "following": [],
            "status": "ACTIVE",
            "signUpDate": self.stamp(),
            "generated_username": generated,
            "login_info": [],
            "social": {},
            "rid": self.next_rid(USERS_CLUSTER),
        }
        for section in SECTIONS:
            value = sections.get(section)
            user[section] = dict(value) if isinstance(value, dict) else {}
        with self.store.transaction():
            self.store.put("user", username, user)
            self.store.put(
                "role",
                f"friends_of_{username}",
                self.role_record(
                    f"friends_of_{username}",
                    f"Followers of {username}",
                    modifiable=False,
                    assignable=False,
                    internal=True,
                ),
            )
            self.index(user["id"], user["rid"], "user", username)
        return user

    def user(self, username: str) -> Doc | None:
        return self.store.get("user", username)

    def check_password(self, user: Doc, password: str) -> bool:
        return secrets.compare_digest(user["password"], hash_password(password, user["salt"]))

    def set_password(self, username: str, password: str) -> None:
        def change(user: Doc) -> Doc:
            user["salt"] = secrets.token_hex(8)
            user["password"] = hash_password(password, user["salt"])
            return user

        with self.store.transaction():
            self.store.update("user", username, change)
            self.drop_sessions(username)

    def effective_roles(self, user: Doc) -> frozenset[str]:
        roles = {f"friends_of_{name}" for name in user.get("following", [])}
        name: str | None = user.get("role")
        seen = 0
        while name and seen < 10:  # custom roles inherit `registered`
            roles.add(name)
            record = self.store.get("role", name)
            name = record.get("inherits") if record else None
            seen += 1
        return frozenset(roles)

    def role_names(self, user: Doc) -> list[dict[str, str]]:
        names = [user["role"], *(f"friends_of_{u}" for u in user.get("following", []))]
        return [{"name": n} for n in names]

    def user_view(
        self,
        user: Doc,
        viewer: Caller | None,
        *,
        admin_view: bool = False,
        everything: bool = False,
    ) -> dict[str, Any]:
        """The profile as `viewer` may see it: owners and administrators see every section,
        followers `visibleByFriends`, logged users `visibleByRegisteredUsers`, everyone
        `visibleByAnonymousUsers`."""
        out: dict[str, Any] = {
            "user": {
                "name": user["username"],
                "status": user["status"],
                "roles": self.role_names(user),
            },
            "id": user["id"],
        }
        owner = viewer is not None and viewer.username == user["username"]
        sees_all = everything or admin_view or owner or (viewer is not None and viewer.is_admin)
        if sees_all:
            visible = list(SECTIONS)
        elif viewer is None or viewer.anonymous:
            visible = ["visibleByAnonymousUsers"]
        elif user["username"] in (viewer.user or {}).get("following", []):
            visible = ["visibleByFriends", "visibleByRegisteredUsers", "visibleByAnonymousUsers"]
        else:
            visible = ["visibleByRegisteredUsers", "visibleByAnonymousUsers"]
        for section in visible:
            value = dict(user.get(section) or {})
            if (
                section == "visibleByTheUser"
                and "email" in value
                and not valid_email(value["email"])
            ):
                value.pop("email")
            out[section] = value
        out["signUpDate"] = user["signUpDate"]
        out["generated_username"] = bool(user.get("generated_username"))
        if admin_view:
            out["system"] = {"login_info": list(user.get("login_info") or [])}
        return out

    def register_device(self, username: str, device: dict[str, Any]) -> None:
        """Attach a device (`os`, `pushToken` or `deviceId`) to one user only."""
        token = device.get("pushToken") or device.get("deviceId")
        with self.store.transaction():
            for name, other in self.store.all("user"):
                devices = other.get("login_info") or []
                kept = [
                    d
                    for d in devices
                    if not token or (d.get("pushToken") or d.get("deviceId")) != token
                ]
                if name == username:
                    kept.append(dict(device))
                if kept != devices:
                    other["login_info"] = kept
                    self.store.put("user", name, other)

    def forget_device(self, username: str, push_token: str) -> None:
        def change(user: Doc) -> Doc:
            user["login_info"] = [
                d
                for d in user.get("login_info") or []
                if (d.get("pushToken") or d.get("deviceId")) != push_token
            ]
            return user

        self.store.update("user", username, change)

    # -- sessions and callers ---------------------------------------------------------------------
    def session_ttl(self) -> float:
        """Idle lifetime of a session in seconds; 0 means never expires."""
        if self.config.session_ttl > 0:
            return float(self.config.session_ttl)
        try:
            minutes = float(self.setting("session_tokens.timeout"))
        except ValueError:
            minutes = 15.0
        return max(0.0, minutes * 60)

    def open_session(self, username: str) -> str:
        token = str(uuid.uuid4())
        now = self.now()
        self.store.put(
            "session",
            token,
            {"username": username, "appcode": self.config["appcode"], "created": now, "used": now},
        )
        return token

    def drop_sessions(self, username: str, keep: str | None = None) -> None:
        with self.store.transaction():
            for token, session in self.store.all("session"):
                if session.get("username") == username and token != keep:
                    self.store.delete("session", token)

    def session(self, token: str, touch: bool = False) -> Doc:
        session = self.store.get("session", token)
        if session is None:
            raise session_expired()
        ttl = self.session_ttl()
        now = self.now()
        if ttl and now - float(session.get("used", 0)) > ttl:
            self.store.delete("session", token)
            raise session_expired()
        if touch and now - float(session.get("used", 0)) >= 1:
            session["used"] = now
            self.store.put("session", token, session)
        return session

    def resolve(
        self, auth: Credentials, op: OperationInfo | None = None, touch: bool = False
    ) -> Caller:
        """The caller of a request whose credentials the skeleton found present; raises the
        vendor's 401 for wrong values."""
        appcode = auth.app_code if auth.app_code is not None else auth.app_code_query
        if appcode is not None and appcode != self.config["appcode"]:
            raise unauthorized(
                f"Authentication info not valid or not provided: {appcode} is an Invalid App Code"
            )
        if op is not None and op.root_only:
            name, password = auth.basic_auth or ("", "")
            if name == "root" and secrets.compare_digest(password, self.config["admin_password"]):
                return Caller("root", None, frozenset({"administrator"}), root=True)
            raise unauthorized(f"User {name} is not authorized to access")
        token = auth.bb_session or auth.bb_session_query
        if token:
            session = self.session(token, touch=touch)
            user = self.user(session["username"])
            if user is None:
                raise session_expired()
            if user["status"] != "ACTIVE":
                raise unauthorized(f"User {user['username']} is not authorized to access")
            return Caller(user["username"], user, self.effective_roles(user), token=token)
        if auth.basic_auth is not None:
            name, password = auth.basic_auth
            user = self.user(name)
            if (
                user is None
                or not self.check_password(user, password)
                or user["status"] != "ACTIVE"
            ):
                raise unauthorized(f"User {name} is not authorized to access")
            return Caller(name, user, self.effective_roles(user))
        return Caller(None)

    def who(self, auth: Credentials) -> Caller:
        return self.resolve(auth)

    def me(self, auth: Credentials) -> Caller:
        """A logged-in user (the skeleton and `authorize` let no one else reach these handlers)."""
        caller = self.resolve(auth)
        if caller.user is None:
            raise unauthorized("Missing both Session Token and Authorization info")
        return caller

    def admin(self, auth: Credentials) -> Caller:
        caller = self.me(auth)
        if not caller.is_admin:
            raise forbidden(f"User {caller.username} is not an administrator")
        return caller

    # -- settings and endpoint groups -------------------------------------------------------------
    def setting(self, key: str) -> str:
        stored = self.store.get("setting", key)
        if stored is not None:
            return str(stored.get("value", ""))
        row = settings.BY_KEY.get(key)
        return row[3] if row else ""

    def flag(self, key: str) -> bool:
        return self.setting(key).strip().lower() == "true"

    def group_enabled(self, tag: str) -> bool:
        record = self.store.get("endpoint", tag)
        return True if record is None else bool(record.get("enabled", True))

    def check_group(self, caller: Caller, tag: str | None) -> None:
        if tag in ENDPOINT_GROUPS and not caller.is_admin and not self.group_enabled(tag):
            raise forbidden("Endpoint has been disabled")

    # -- ACLs -------------------------------------------------------------------------------------
    def allowed(self, caller: Caller, owner: str | None, acl: dict[str, Any], action: str) -> bool:
        if caller.bypasses_acl or (caller.username is not None and caller.username == owner):
            return True
        for bucket in (action, "all"):
            entry = acl.get(bucket) or {}
            if caller.username is not None and caller.username in entry.get("users", []):
                return True
            if set(entry.get("roles", [])) & caller.roles:
                return True
        return False

    def check_grantee(self, name: str, is_role: bool, code: bool = True) -> None:
        if is_role and self.store.get("role", name) is None:
            raise bad(
                f"ACL fields are not valid: the role {name} does not exist", "40006" if code else ""
            )
        if not is_role and self.user(name) is None:
            raise bad(
                f"ACL fields are not valid: the user {name} does not exist", "40005" if code else ""
            )

    def acl_from_members(
        self, members: dict[str, Any], base: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The document ACL format (`_allowRead: [{name, isrole}]`...) to the stored form."""
        acl = base if base is not None else empty_acl()
        for member, action in ACL_MEMBERS.items():
            entries = members.get(member)
            if entries is None:
                continue
            if not isinstance(entries, list):
                raise bad(f"ACL fields are not valid: {member} must be an array", "40010")
            users: list[str] = []
            roles: list[str] = []
            for entry in entries:
                if hasattr(entry, "model_dump"):
                    entry = entry.model_dump(exclude_none=True)
                if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                    raise bad(
                        f"ACL fields are not valid: the entries of {member} need a name", "40002"
                    )
                is_role = bool(entry.get("isrole") or entry.get("isRole"))
                self.check_grantee(entry["name"], is_role)
                target = roles if is_role else users
                if entry["name"] not in target:
                    target.append(entry["name"])
            acl[action] = {"users": users, "roles": roles}
        return acl

    @staticmethod
    def acl_members(owner: str | None, acl: dict[str, Any]) -> dict[str, Any]:
        def entries(action: str) -> list[dict[str, Any]]:
            bucket = acl.get(action) or {}
            return [{"name": u, "isrole": False} for u in bucket.get("users", [])] + [
                {"name": r, "isrole": True} for r in bucket.get("roles", [])
            ]

        out = {member: entries(action) for member, action in ACL_MEMBERS.items() if action != "all"}
        out["_allow"] = ([{"name": owner, "isrole": False}] if owner else []) + entries("all")
        return out

    def grant(self, acl: dict[str, Any], action: str, name: str, is_role: bool, add: bool) -> None:
        bucket = acl.setdefault(action, {"users": [], "roles": []})
        names: list[str] = bucket.setdefault("roles" if is_role else "users", [])
        if add and name not in names:
            names.append(name)
        if not add and name in names:
            names.remove(name)

    # -- query criteria ---------------------------------------------------------------------------
    @staticmethod
    def criteria(**kwargs: Any) -> query.Criteria:
        known = {k: v for k, v in kwargs.items() if k in query.Criteria.__dataclass_fields__}
        return query.Criteria(**known)

    @staticmethod
    def run_query(records: Iterable[dict[str, Any]], criteria: query.Criteria) -> query.Result:
        try:
            return query.run(list(records), criteria)
        except query.CriteriaError as error:
            raise bad(str(error)) from None

    # -- logging (what the admin log streams show) ------------------------------------------------
    def may_read_logs(self, auth: Credentials) -> bool:
        """The log streams take an administrator's session token (header or query), nothing else."""
        try:
            caller = self.resolve(auth)
        except ApiProblem:
            return False
        return caller.token is not None and caller.is_admin

    def log_stream(self, auth: Credentials, channel: str | None) -> Response:
        """The log as a finite server-sent-event stream; a bare 403 text when not an admin."""
        if not self.may_read_logs(auth):
            return Response("Forbidden", status_code=403, media_type="text/plain")
        lines = [
            f"data: {r['time']} {r['message']}\n\n"
            for _, r in self.store.all("log")
            if channel is None or r.get("channel") == channel
        ]
        return Response("".join(lines[-500:]), media_type="text/event-stream")

    def log(self, channel: str, message: str) -> None:
        self.store.insert(
            "log",
            {"channel": channel, "time": self.stamp(), "message": message},
            id=f"{self.store.next_id('log'):012d}",
        )


def clean_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A document body without the server's decorations and ACL members."""
    return {k: v for k, v in data.items() if k not in RESERVED_FIELDS and not k.startswith("@")}


NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
