"""The core every LeanCloud handler builds on: credentials, sessions, ACLs and the object store.

Store kinds: `lc:<Class>` holds the objects of a class by objectId (built-in classes too: `_User`,
`_Role`, `_File`, `_Installation`, `_Conversation`, ...), `lc_class` the classes created so far,
`lc_session` the session tokens. Top-level fields starting with `_` are private bookkeeping
(password hash, relation members, ...) and never leave the emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from generated.leancloud import models
from generated.leancloud.server import ERROR_ENVELOPE, ApiProblem, Credentials, Handlers

from ..config import Config
from ..store import Store
from .common import (
    ACL_WRITE,
    MASTER_ONLY,
    STALE_SESSION,
    UNAUTHORIZED,
    Doc,
    JsonObject,
    Operation,
    as_int,
    bad,
    declared_status,
    fail,
    iso,
    object_id,
    operations,
    parse_iso,
    session_token,
)
from .query import Matcher, norm, order_docs, project

log = logging.getLogger("emulators.leancloud")

BUILTIN = frozenset(
    {
        "_User", "_Role", "_Installation", "_File", "_Conversation", "_Followee", "_Follower",
        "_Status", "_FriendshipRequest",
    }
)  # fmt: skip
ALIASES = {"files": "_File"}
RESERVED = frozenset({"objectId", "createdAt", "updatedAt"})
CLASS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
KEY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
SIGN_WINDOW_MS = 15 * 60 * 1000
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
USER_HIDDEN = frozenset({"password", "sessionToken"})

READ_MODELS: dict[str, type[BaseModel]] = {
    "_User": models.User,
    "_Role": models.Role,
    "_Installation": models.Installation,
    "_File": models.LcFile,
    "_Conversation": models.Conversation,
    "_Followee": models.FollowRow,
    "_Follower": models.FollowRow,
    "_Status": models.Status,
}


def kind(class_name: str) -> str:
    return f"lc:{class_name}"


def clean_class(name: str) -> str:
    """The stored class behind a URL's class name; 103 for names LeanCloud refuses."""
    name = ALIASES.get(name, name)
    if not CLASS_NAME.match(name) or (name.startswith("_") and name not in BUILTIN):
        raise bad(103, f"Invalid class name '{name}'.")
    return name


def key_error(key: str) -> ApiProblem:
    return bad(
        105,
        "Invalid key name. Keys are case-sensitive and 'a-zA-Z0-9_' are the only valid "
        f"characters. The column is: '{key}'.",
    )


def hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 5000).hex()
    return f"pbkdf2${salt}${digest}"


def check_password(stored: Any, password: str) -> bool:
    if not isinstance(stored, str) or stored.count("$") != 2:
        return False
    salt = stored.split("$")[1]
    return hmac.compare_digest(stored, hash_password(password, salt))


@dataclass
class Ctx:
    """Who is calling: the master key, and the user of the session token, if any."""

    master: bool
    user: Doc | None = None
    roles: set[str] | None = field(default=None)

    @property
    def user_id(self) -> str | None:
        return None if self.user is None else str(self.user["objectId"])


class LeanCloudBase(Handlers):
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Callable[[], float] | None = None,
        strict: bool = False,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock or time.time
        self.strict = strict
        for op in operations().values():
            method = getattr(self, op.method_name, None)
            if method is not None:
                setattr(self, op.method_name, self._guard(op, method))

    # -- every answer is one the operation declares -------------------------------------------
    def _guard(self, op: Operation, method: Callable[..., Awaitable[Any]]) -> Any:
        async def guarded(**kwargs: Any) -> Any:
            try:
                return await method(**kwargs)
            except ApiProblem as problem:
                status = problem.status or ERROR_ENVELOPE.status_of(problem.situation)
                problem.status = declared_status(op.operation_id, status)
                raise
            except Exception as error:
                if self.strict:
                    raise
                log.exception("%s failed", op.operation_id)
                raise fail(
                    declared_status(op.operation_id, 400), 1, f"Internal server error: {error}"
                ) from None

        guarded.__name__ = op.method_name
        return guarded

    def now(self) -> float:
        return self.clock()

    # -- credentials ----------------------------------------------------------------------------
    async def authorize(self, auth: Credentials, operation_id: str) -> None:
        try:
            self._authorize(auth, operation_id)
        except ApiProblem as problem:
            problem.status = declared_status(operation_id, problem.status or 401)
            raise

    def _authorize(self, auth: Credentials, operation_id: str) -> None:
        if auth.lc_id != self.config["app_id"]:
            raise fail(*UNAUTHORIZED)
        master, keyed = False, False
        if auth.lc_master_key is not None:
            if not hmac.compare_digest(auth.lc_master_key, self.config["master_key"]):
                raise fail(*UNAUTHORIZED)
            master = keyed = True
        if auth.lc_key is not None:
            if not hmac.compare_digest(auth.lc_key, self.config["app_key"]):
                raise fail(*UNAUTHORIZED)
            keyed = True
        if auth.lc_sign is not None:
            signed_master = self._verify_sign(auth.lc_sign)
            if signed_master is None:
                raise fail(*UNAUTHORIZED)
            master = master or signed_master
            keyed = True
        if not keyed:
            raise fail(*UNAUTHORIZED)
        op = operations().get(operation_id)
        if op is not None and op.master_only and not master:
            raise fail(*MASTER_ONLY)
        if (
            auth.lc_session is not None
            and operation_id != "getCurrentUser"
            and self.session_user(auth.lc_session) is None
        ):
            raise fail(*STALE_SESSION)

    def _verify_sign(self, value: str) -> bool | None:
        """True for a master-key signature, False for an App Key one, None when it is wrong."""
        parts = value.split(",")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != "master"):
            return None
        digest, stamp = parts[0], parts[1]
        if not stamp.isdigit() or abs(time.time() * 1000 - int(stamp)) > SIGN_WINDOW_MS:
            return None
        master = len(parts) == 3
        secret = self.config["master_key"] if master else self.config["app_key"]
        expected = hashlib.md5((stamp + secret).encode()).hexdigest()
        return master if hmac.compare_digest(digest, expected) else None

    def is_master(self, auth: Credentials) -> bool:
        return auth.lc_master_key is not None or (
            auth.lc_sign is not None and auth.lc_sign.endswith(",master")
        )

    def ctx(self, auth: Credentials) -> Ctx:
        user = self.session_user(auth.lc_session) if auth.lc_session else None
        if auth.lc_session and user is None:
            raise fail(*STALE_SESSION)
        return Ctx(master=self.is_master(auth), user=user)

    def require_user(self, ctx: Ctx) -> Doc:
        if ctx.user is None:
            raise fail(403, 403, "A logged-in user is required: send X-LC-Session.")
        return ctx.user

    # -- sessions -------------------------------------------------------------------------------
    def session_user(self, token: str | None) -> Doc | None:
        if not token:
            return None
        session = self.store.get("lc_session", token)
        if session is None:
            return None
        expires = session.get("expiresAt")
        if expires is not None and self.now() >= float(expires):
            return None
        return self.store.get(kind("_User"), str(session["user"]))

    def new_session(self, user: Doc) -> str:
        """A fresh token for `user` (saved into `user`, which the caller stores)."""
        token = session_token()
        ttl = self.config.session_ttl
        now = self.now()
        self.store.put(
            "lc_session",
            token,
            {"user": user["objectId"], "createdAt": now, "expiresAt": now + ttl if ttl else None},
        )
        user["_sessionToken"] = token
        return token

    def current_session(self, user: Doc) -> str:
        """The user's token, as LeanCloud hands the same one to every login until it changes."""
        token = user.get("_sessionToken")
        if isinstance(token, str):
            session = self.store.get("lc_session", token)
            expires = None if session is None else session.get("expiresAt")
            if session is not None and (expires is None or self.now() < float(expires)):
                return token
            self.store.delete("lc_session", token)
        return self.new_session(user)

    def revoke_sessions(self, user_id: str) -> None:
        for token, session in self.store.all("lc_session"):
            if session.get("user") == user_id:
                self.store.delete("lc_session", token)

    def files_host(self) -> str:
        slug = re.sub(r"[^a-z0-9]", "", self.config["app_id"].lower())[:8] or "app"
        return f"lc-{slug}.lcfile.com"

    # -- ACLs and roles -------------------------------------------------------------------------
    def roles_of(self, ctx: Ctx) -> set[str]:
        if ctx.roles is not None:
            return ctx.roles
        names: set[str] = set()
        if ctx.user is not None:
            roles = self.store.find(kind("_Role"))
            have = {r["objectId"] for r in roles if ctx.user_id in _members(r, "users")}
            changed = True
            while changed:
                changed = False
                for role in roles:
                    if role["objectId"] not in have and have & set(_members(role, "roles")):
                        have.add(role["objectId"])
                        changed = True
            names = {str(r.get("name")) for r in roles if r["objectId"] in have}
        ctx.roles = names
        return names

    def can(self, ctx: Ctx, doc: Doc, permission: str) -> bool:
        if ctx.master:
            return True
        acl = doc.get("ACL")
        if not isinstance(acl, dict):
            return True
        if _grants(acl.get("*"), permission):
            return True
        if ctx.user_id is not None and _grants(acl.get(ctx.user_id), permission):
            return True
        return any(
            _grants(entry, permission)
            for key, entry in acl.items()
            if key.startswith("role:") and key[5:] in self.roles_of(ctx)
        )

    # -- objects --------------------------------------------------------------------------------
    def class_exists(self, class_name: str) -> bool:
        return class_name in BUILTIN or self.store.get("lc_class", class_name) is not None

    def register_class(self, class_name: str) -> None:
        if class_name not in BUILTIN and self.store.get("lc_class", class_name) is None:
            self.store.put("lc_class", class_name, {"createdAt": iso(self.now())})

    def load(self, class_name: str, oid: str) -> Doc | None:
        return self.store.get(kind(class_name), oid)

    def missing_object(self, class_name: str, oid: str) -> ApiProblem:
        return fail(404, 1, f"Could not find object by id '{oid}' for class '{class_name}'.")

    def matcher(self, ctx: Ctx) -> Matcher:
        def resolve(class_name: str, where: Any) -> list[Doc]:
            name = ALIASES.get(class_name, class_name)
            docs = [d for d in self.store.find(kind(name)) if self.can(ctx, d, "read")]
            return sub.filter(docs, where)

        def related(owner: Any, key: str) -> set[str]:
            if not isinstance(owner, dict):
                return set()
            doc = self.load(str(owner.get("className")), str(owner.get("objectId")))
            return set(_members(doc, key)) if doc is not None else set()

        sub = Matcher(resolve, related)
        return sub

    def new_doc(self, extra: Doc | None = None) -> Doc:
        now = self.now()
        stamp = iso(now)
        return {"objectId": object_id(now), "createdAt": stamp, "updatedAt": stamp, **(extra or {})}

    def apply_changes(self, class_name: str, doc: Doc, data: Any, *, creating: bool) -> list[str]:
        """Write a create or update body into `doc`: plain and typed values and `__op`s."""
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        changed: list[str] = []
        for key, value in data.items():
            if key in RESERVED or (class_name == "_User" and key in USER_HIDDEN - {"password"}):
                continue
            if key == "ACL":
                if value is None:
                    doc.pop("ACL", None)
                else:
                    doc["ACL"] = check_acl(value)
                changed.append(key)
                continue
            if class_name == "_User" and key == "password":
                if not isinstance(value, str) or not value.strip():
                    raise bad(218, "Invalid password, it must be a non-blank string.")
                doc["_pw"] = hash_password(value)
                continue
            parts = key.split(".")
            if not all(KEY_NAME.match(p) for p in parts) or (creating and len(parts) > 1):
                raise key_error(key)
            container = doc
            for part in parts[:-1]:
                child = container.get(part)
                if not isinstance(child, dict):
                    child = {}
                    container[part] = child
                container = child
            last = parts[-1]
            if isinstance(value, dict) and "__op" in value:
                self._apply_op(doc, container, last, key, value)
            else:
                container[last] = normalize(value)
            changed.append(parts[0])
        return changed

    def _apply_op(self, doc: Doc, container: Doc, last: str, key: str, op: Doc) -> None:
        name = op.get("__op")
        current = container.get(last)
        if name in ("Increment", "Decrement"):
            amount = op.get("amount", 1)
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise bad(111, f"Invalid value type for field '{key}': amount must be a number.")
            if current is not None and (
                isinstance(current, bool) or not isinstance(current, int | float)
            ):
                raise bad(111, f"Invalid value type for field '{key}': it is not a number.")
            if isinstance(amount, float) and amount.is_integer():
                amount = int(amount)  # typed clients send `1.0` for 1
            base = current or 0
            container[last] = base + amount if name == "Increment" else base - amount
        elif name in ("BitAnd", "BitOr", "BitXor"):
            operand = op.get("value")
            if isinstance(operand, bool) or not isinstance(operand, int):
                raise bad(111, f"Invalid value type for field '{key}': value must be an integer.")
            if current is not None and (isinstance(current, bool) or not isinstance(current, int)):
                raise bad(111, f"Invalid value type for field '{key}': it is not an integer.")
            base = current or 0
            container[last] = (
                base & operand
                if name == "BitAnd"
                else base | operand
                if name == "BitOr"
                else base ^ operand
            )
        elif name in ("Add", "AddUnique", "Remove"):
            objects = op.get("objects")
            if not isinstance(objects, list):
                raise bad(107, f"'{name}' needs an array of objects.")
            if current is not None and not isinstance(current, list):
                raise bad(111, f"Invalid value type for field '{key}': it is not an array.")
            items = list(current or [])
            objects = [normalize(o) for o in objects]
            if name == "Add":
                items.extend(objects)
            elif name == "AddUnique":
                for item in objects:
                    if all(norm(item) != norm(have) for have in items):
                        items.append(item)
            else:
                gone = {norm(o) for o in objects}
                items = [item for item in items if norm(item) not in gone]
            container[last] = items
        elif name == "Delete":
            container.pop(last, None)
            doc.get("_rel", {}).pop(key, None)
        elif name in ("AddRelation", "RemoveRelation"):
            objects = op.get("objects")
            if not isinstance(objects, list) or not all(_is_pointer(o) for o in objects):
                raise bad(106, "Malformed pointer: relation objects must be Pointers.")
            targets = {o["className"] for o in objects}
            existing = current.get("className") if isinstance(current, dict) else None
            if len(targets | ({existing} if existing else set())) > 1:
                raise bad(111, f"Invalid value type for field '{key}': mixed relation classes.")
            members = list(doc.setdefault("_rel", {}).get(key, []))
            for target in objects:
                if name == "AddRelation" and target["objectId"] not in members:
                    members.append(target["objectId"])
                elif name == "RemoveRelation" and target["objectId"] in members:
                    members.remove(target["objectId"])
            doc["_rel"][key] = members
            class_of = existing or (next(iter(targets)) if targets else None)
            if class_of:
                container[last] = {"__type": "Relation", "className": class_of}
        else:
            raise bad(1, f"Unknown operation '{name}' on field '{key}'.")

    def check_readable_shape(self, class_name: str, doc: Doc) -> None:
        """Refuse a write that would leave an object its class's model cannot describe."""
        schema = READ_MODELS.get(class_name)
        if schema is None:
            return
        try:
            schema.model_validate(public_fields(doc))
        except ValidationError as error:
            where = ".".join(str(p) for p in error.errors()[0].get("loc", ()))
            raise bad(111, f"Invalid value type for field '{where}'.") from None

    def save_new(self, class_name: str, doc: Doc) -> None:
        self.check_readable_shape(class_name, doc)
        with self.store.transaction():
            self.register_class(class_name)
            self.store.insert(kind(class_name), doc, id=doc["objectId"])

    def save(self, class_name: str, doc: Doc) -> None:
        self.check_readable_shape(class_name, doc)
        self.store.put(kind(class_name), doc["objectId"], doc)

    def create(self, class_name: str, data: Any, ctx: Ctx, *, extra: Doc | None = None) -> Doc:
        doc = self.new_doc()
        self.apply_changes(class_name, doc, data, creating=True)
        doc.update(extra or {})
        self.save_new(class_name, doc)
        return doc

    def update(
        self, class_name: str, oid: str, data: Any, ctx: Ctx, *, where: Any = None
    ) -> tuple[Doc, list[str]]:
        with self.store.transaction():
            doc = self.load(class_name, oid)
            if doc is None:
                raise self.missing_object(class_name, oid)
            if not self.can(ctx, doc, "write"):
                raise fail(*ACL_WRITE)
            if where not in (None, {}) and not self.matcher(ctx).filter([doc], where):
                raise bad(305, "No effect on updating/deleting a document.")
            changed = self.apply_changes(class_name, doc, data, creating=False)
            doc["updatedAt"] = iso(self.now())
            self.save(class_name, doc)
        return doc, changed

    def remove(self, class_name: str, oid: str, ctx: Ctx, *, where: Any = None) -> None:
        with self.store.transaction():
            doc = self.load(class_name, oid)
            if doc is None:
                return
            if not self.can(ctx, doc, "write"):
                raise fail(*ACL_WRITE)
            if where not in (None, {}) and not self.matcher(ctx).filter([doc], where):
                raise bad(305, "No effect on updating/deleting a document.")
            self.store.delete(kind(class_name), oid)

    def present(
        self,
        class_name: str,
        doc: Doc,
        ctx: Ctx,
        *,
        keys: str | None = None,
        include: str | None = None,
        return_acl: bool | None = None,
        depth: int = 0,
    ) -> Doc:
        out = public_fields(doc)
        if not return_acl:
            out.pop("ACL", None)
        if class_name == "_User":
            for hidden in USER_HIDDEN:
                out.pop(hidden, None)
            if not ctx.master and ctx.user_id != doc.get("objectId"):
                out.pop("authData", None)
        paths = [p.strip() for p in (include or "").split(",") if p.strip()]
        if paths and depth < 5:
            self._include(out, paths, ctx, depth)
        return project(out, keys)

    def _include(self, out: Doc, paths: list[str], ctx: Ctx, depth: int) -> None:
        groups: dict[str, list[str]] = {}
        for path in paths:
            head, _, rest = path.partition(".")
            groups.setdefault(head, [])
            if rest:
                groups[head].append(rest)
        for head, rests in groups.items():
            value = out.get(head)
            if isinstance(value, list):
                out[head] = [self._expand(v, rests, ctx, depth) for v in value]
            elif value is not None:
                out[head] = self._expand(value, rests, ctx, depth)

    def _expand(self, value: Any, rests: list[str], ctx: Ctx, depth: int) -> Any:
        if not _is_pointer(value):
            return value
        name = ALIASES.get(value["className"], value["className"])
        target = self.load(name, value["objectId"])
        if target is None or not self.can(ctx, target, "read"):
            return value
        body = self.present(name, target, ctx, include=",".join(rests), depth=depth + 1)
        return {"__type": "Pointer", "className": value["className"], **body}

    def find(
        self,
        class_name: str,
        ctx: Ctx,
        *,
        where: Any = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
        docs: list[Doc] | None = None,
    ) -> JsonObject:
        """The standard query answer: `{"results": [...], "count"?}`."""
        pool = docs if docs is not None else self.store.find(kind(class_name))
        readable = [d for d in pool if self.can(ctx, d, "read")]
        matched = self.matcher(ctx).filter(readable, where)
        ordered = order_docs(matched, order, where)
        size = page_size(limit)
        start = max(0, skip or 0)
        page = ordered[start : start + size] if size > 0 else []
        body: JsonObject = {
            "results": [
                self.present(class_name, d, ctx, keys=keys, include=include, return_acl=return_acl)
                for d in page
            ]
        }
        if count:
            body["count"] = len(matched)
        return body


def page_size(limit: Any, default: int = DEFAULT_LIMIT, ceiling: int = MAX_LIMIT) -> int:
    if limit is None:
        return default
    value = as_int(limit, default)
    if value < 0:
        return default
    return min(value, ceiling)


def public_fields(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _members(doc: Doc | None, key: str) -> list[str]:
    if doc is None:
        return []
    members = doc.get("_rel", {}).get(key, [])
    return [str(m) for m in members] if isinstance(members, list) else []


def _grants(entry: Any, permission: str) -> bool:
    return isinstance(entry, dict) and entry.get(permission) is True


def _is_pointer(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("__type") in ("Pointer", "Object")
        and isinstance(value.get("className"), str)
        and isinstance(value.get("objectId"), str)
    )


_ACL = TypeAdapter(models.ACL)


def check_acl(value: Any) -> Doc:
    try:
        _ACL.validate_python(value)
    except ValidationError:
        raise bad(123, "Invalid ACL.") from None
    result: Doc = value
    return result


def normalize(value: Any) -> Any:
    """Typed values as LeanCloud stores them: Dates to millisecond UTC, the rest as given."""
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind_ = value.get("__type")
    if kind_ == "Date":
        moment = parse_iso(value.get("iso"))
        if moment is None:
            raise bad(107, "Invalid Date: 'iso' must be an ISO 8601 time.")
        return {"__type": "Date", "iso": iso(moment.timestamp())}
    if kind_ == "Pointer" and not _is_pointer(value):
        raise bad(106, "Malformed pointer. Pointers must be objects with className and objectId.")
    if kind_ == "GeoPoint":
        lat, lng = value.get("latitude"), value.get("longitude")
        numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (lat, lng))
        if not numbers or not (-90 <= float(lat or 0) <= 90 and -180 <= float(lng or 0) <= 180):
            raise bad(302, "Invalid GeoPoint.")
    return {k: normalize(v) for k, v in value.items()}
