"""The administrator's console API: users in any role, follow relations, collections, roles."""

from __future__ import annotations

import re
import uuid
from typing import Any

from generated.baasbox import models
from generated.baasbox.server import AdminHandlers, Credentials, Reply

from ..store import Doc
from .account import INTERNAL_USERS, sections_of
from .common import (
    ADMIN,
    BUILTIN_ROLES,
    FIRST_COLLECTION_CLUSTER,
    bad,
    doc_kind,
    not_found,
    ok,
)
from .friendship import Follows

COLLECTION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
ROLE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-.]*$")


class AdminOps(Follows, AdminHandlers):
    # -- users -------------------------------------------------------------------------------------
    def assignable(self, role: str) -> None:
        record = self.store.get("role", role)
        if record is None or not record.get("assignable", True):
            raise bad(f"Role {role} does not exist or cannot be assigned")

    async def admin_list_users(
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
        caller = self.admin(auth)
        views = [self.user_view(u, caller, admin_view=True) for _, u in self.store.all("user")]
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

    async def admin_get_user(self, *, auth: Credentials, username: str) -> Any:
        caller = self.admin(auth)
        user = self.user(username)
        if user is None:
            raise not_found(f"User {username} not found")
        return ok(self.user_view(user, caller, admin_view=True))

    async def admin_create_user(
        self, *, auth: Credentials, body: models.AdminCreateUserRequest
    ) -> Any:
        self.admin(auth)
        username = body.username.strip()
        if not username or username in INTERNAL_USERS:
            raise bad("The 'username' field is missing")
        if not body.password:
            raise bad("The 'password' field is missing")
        self.assignable(body.role)
        uid = body.id
        if uid is not None:
            try:
                uid = str(uuid.UUID(uid))
            except ValueError:
                raise bad(f"The id {body.id} is not a valid UUID") from None
        with self.store.transaction():
            if self.user(username) is not None:
                raise bad("Error signing up")
            if uid is not None and self.store.get("node", uid) is not None:
                raise bad(f"The id {uid} is already in use")
            self.create_user(username, body.password, body.role, sections_of(body), uid=uid)
        return Reply(201, ok("", 201))

    async def admin_update_user(
        self, *, auth: Credentials, username: str, body: models.AdminUpdateUserRequest
    ) -> Any:
        caller = self.admin(auth)
        if body.role is not None:
            if username == ADMIN and body.role != "administrator":
                raise bad("User 'admin' cannot change role")
            self.assignable(body.role)
        sent = sections_of(body)
        with self.store.transaction():
            user = self.user(username)
            if user is None:
                raise bad(f"User {username} not found")
            user.update(sent)
            if body.role is not None:
                user["role"] = body.role
            self.store.put("user", username, user)
        return ok(self.user_view(user, caller, admin_view=True))

    async def admin_delete_user(self, *, auth: Credentials, username: str) -> Any:
        self.admin(auth)
        with self.store.transaction():
            user = self.user(username)
            if user is None:
                raise not_found(f"User {username} not found")
            if username == ADMIN:
                raise bad("user is not deletable")
            self.drop_sessions(username)
            self.store.delete("user", username)
            self.store.delete("role", f"friends_of_{username}")
            self.unindex(user["id"])
            for name, other in self.store.all("user"):
                if username in other.get("following", []):
                    other["following"].remove(username)
                    self.store.put("user", name, other)
            for key, link in self.store.all("link"):
                if user["id"] in (link["out"], link["in"]):
                    self.store.delete("link", key)
                    self.unindex(key)
        return ok("")

    async def admin_set_user_password(
        self, *, auth: Credentials, username: str, body: models.SetUserPasswordRequest
    ) -> Any:
        self.admin(auth)
        if self.user(username) is None:
            raise not_found("Username not found")
        if not body.password:
            raise bad("The body payload doesn't contain password field")
        self.set_password(username, body.password)
        return ok("")

    def set_status(self, username: str, status: str) -> None:
        verb = "disable/suspend" if status == "SUSPENDED" else "enable/activate"
        if username == ADMIN or username in INTERNAL_USERS:
            raise bad(f"Cannot {verb} internal users")
        with self.store.transaction():
            user = self.user(username)
            if user is None:
                raise bad(f"User {username} does not exists")
            user["status"] = status
            self.store.put("user", username, user)
            if status == "SUSPENDED":
                self.drop_sessions(username)

    async def admin_suspend_user(self, *, auth: Credentials, username: str) -> Any:
        self.admin(auth)
        self.set_status(username, "SUSPENDED")
        return ok("")

    async def admin_activate_user(self, *, auth: Credentials, username: str) -> Any:
        self.admin(auth)
        self.set_status(username, "ACTIVE")
        return ok("")

    async def admin_list_following(self, *, auth: Credentials, username: str) -> Any:
        caller = self.admin(auth)
        return ok([self.user_view(u, caller) for u in self.following_of(username)])

    async def admin_create_follow(
        self, *, auth: Credentials, follower: str, the_followed: str
    ) -> Any:
        self.admin(auth)
        if ADMIN in (follower, the_followed) or {follower, the_followed} & set(INTERNAL_USERS):
            raise bad("Cannot create followship relationship with internal users")
        self.follow(follower, the_followed)
        return Reply(201, ok("", 201))

    async def admin_delete_follow(
        self, *, auth: Credentials, follower: str, the_followed: str
    ) -> Any:
        self.admin(auth)
        self.unfollow(follower, the_followed)
        return ok("")

    # -- collections -------------------------------------------------------------------------------
    def collection_stats(self, name: str) -> dict[str, Any]:
        docs = self.store.all(doc_kind(name))
        size = sum(len(str(record)) for _, record in docs)
        return {"name": name, "records": len(docs), "size": size}

    async def list_collections(
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
        self.admin(auth)
        stats = [self.collection_stats(name) for name, _ in self.store.all("collection")]
        result = self.run_query(
            stats,
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

    async def create_collection(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        if not COLLECTION_RE.fullmatch(name) or name.lower().startswith("_bb_"):
            raise bad(f"The collection name {name} is invalid")
        with self.store.transaction():
            if self.store.get("collection", name) is not None:
                raise bad(f"Collection {name} already exists")
            cluster = self.store.next_id("cluster", start=FIRST_COLLECTION_CLUSTER)
            self.store.put(
                "collection", name, {"name": name, "cluster": cluster, "created": self.stamp()}
            )
        return Reply(201, ok("", 201))

    async def delete_collection(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        with self.store.transaction():
            if self.store.get("collection", name) is None:
                raise not_found(f"The Collection {name} does not exist")
            for key, _ in self.store.all(doc_kind(name)):
                self.store.delete(doc_kind(name), key)
                self.unindex(key)
                for link_key, link in self.store.all("link"):
                    if key in (link["out"], link["in"]):
                        self.store.delete("link", link_key)
                        self.unindex(link_key)
            self.store.delete("collection", name)
        return ok("")

    # -- roles -------------------------------------------------------------------------------------
    @staticmethod
    def render_role(role: Doc) -> dict[str, Any]:
        return {
            "name": role["name"],
            "description": role.get("description") or "",
            "modifiable": bool(role.get("modifiable")),
            "internal": bool(role.get("internal")),
            "assignable": bool(role.get("assignable")),
            "isrole": True,
        }

    async def list_roles(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        return ok([self.render_role(r) for _, r in self.store.all("role")])

    async def list_roles_deprecated(self, *, auth: Credentials) -> Any:
        return await self.list_roles(auth=auth)

    async def get_role(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        role = self.store.get("role", name)
        if role is None:
            raise not_found(f"Role {name} not found")
        return ok(self.render_role(role))

    async def create_role(
        self, *, auth: Credentials, name: str, body: models.CreateRoleRequest | None = None
    ) -> Any:
        self.admin(auth)
        if not ROLE_RE.fullmatch(name) or name.startswith("friends_of_"):
            raise bad(f"The role name {name} is invalid")
        with self.store.transaction():
            if self.store.get("role", name) is not None:
                raise bad(f"Role {name} already exists")
            description = (body.description if body else None) or ""
            self.store.put("role", name, self.role_record(name, description, inherits="registered"))
        return Reply(201, ok("", 201))

    async def update_role(
        self, *, auth: Credentials, name: str, body: models.UpdateRoleRequest | None = None
    ) -> Any:
        self.admin(auth)
        with self.store.transaction():
            role = self.store.get("role", name)
            if role is None:
                raise not_found(f"Role {name} does not exists")
            if not role.get("modifiable") or name in BUILTIN_ROLES:
                raise bad(f"Role {name} is not modifiable")
            if body is not None and body.description is not None:
                role["description"] = body.description
            new = body.new_name if body is not None else None
            if new and new != name:
                if not ROLE_RE.fullmatch(new) or self.store.get("role", new) is not None:
                    raise bad(f"Role {new} already exists")
                self.rename_role(name, new)
                role["name"] = new
                self.store.delete("role", name)
                name = new
            self.store.put("role", name, role)
        return ok("")

    def rename_role(self, old: str, new: str) -> None:
        for username, user in self.store.all("user"):
            if user.get("role") == old:
                user["role"] = new
                self.store.put("user", username, user)
        for key, role in self.store.all("role"):
            if role.get("inherits") == old:
                role["inherits"] = new
                self.store.put("role", key, role)
        kinds = [doc_kind(c) for c, _ in self.store.all("collection")] + ["file"]
        for kind in kinds:
            for key, record in self.store.all(kind):
                changed = False
                for bucket in (record.get("acl") or {}).values():
                    if old in bucket.get("roles", []):
                        bucket["roles"] = [new if r == old else r for r in bucket["roles"]]
                        changed = True
                if changed:
                    self.store.put(kind, key, record)

    async def delete_role(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        with self.store.transaction():
            role = self.store.get("role", name)
            if role is None:
                raise not_found(f"Role {name} does not exist")
            if not role.get("modifiable") or name in BUILTIN_ROLES:
                raise bad(
                    f"Role {name} is not deletable. HINT: maybe you tried to delete an "
                    "internal role?"
                )
            for username, user in self.store.all("user"):
                if user.get("role") == name:
                    user["role"] = "registered"
                    self.store.put("user", username, user)
            self.store.delete("role", name)
        return ok("")
