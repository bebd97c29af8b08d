"""Following, friends, friend requests and status inboxes.

A follow is two rows, as LeanCloud keeps them: `_Followee` (`user` follows `followee`) and
`_Follower` (`user` is followed by `follower`); friends have `friendStatus: true` both ways.
Inbox entries (kind `lc_inbox`) point at `_Status` objects with a per-inbox `messageId`.
"""

from __future__ import annotations

from typing import Any

from generated.leancloud import models
from generated.leancloud.server import Credentials

from .accounts import AccountsBase
from .base import ALIASES, RESERVED, Ctx, kind
from .common import (
    NOT_FOUND,
    Doc,
    JsonObject,
    bad,
    fail,
    iso,
    pointer,
    raw_body,
    raw_query_json,
    reply,
)

PROTECTED = RESERVED | {"user", "followee", "follower", "friendStatus", "ACL"}
FORBIDDEN_OTHER = (403, 403, "Forbidden: only the user itself (or the master key) may do this.")


def _ptr_id(value: Any) -> str | None:
    return value.get("objectId") if isinstance(value, dict) else None


class SocialMixin(AccountsBase):
    def _self_only(self, ctx: Ctx, user_id: str) -> None:
        if not ctx.master and ctx.user_id != user_id:
            raise fail(*FORBIDDEN_OTHER)

    def _existing_user(self, oid: str) -> Doc:
        user = self.load("_User", oid)
        if user is None:
            raise bad(211, "Could not find user.")
        return user

    def _row(self, class_name: str, user_id: str, other_field: str, other_id: str) -> Doc | None:
        for doc in self.store.find(kind(class_name)):
            if _ptr_id(doc.get("user")) == user_id and _ptr_id(doc.get(other_field)) == other_id:
                return doc
        return None

    def _link(self, user_id: str, target_id: str, attrs: Doc, friend: bool | None) -> None:
        """`user_id` follows `target_id` (both rows), with attributes and friend flag."""
        for class_name, owner, field, other in (
            ("_Followee", user_id, "followee", target_id),
            ("_Follower", target_id, "follower", user_id),
        ):
            row = self._row(class_name, owner, field, other)
            if row is None:
                row = self.new_doc(
                    {
                        "user": pointer("_User", owner),
                        field: pointer("_User", other),
                        "friendStatus": False,
                    }
                )
                self.apply_changes(class_name, row, attrs, creating=True)
                if friend is not None:
                    row["friendStatus"] = friend
                self.save_new(class_name, row)
            else:
                self.apply_changes(class_name, row, attrs, creating=False)
                if friend is not None:
                    row["friendStatus"] = friend
                row["updatedAt"] = iso(self.now())
                self.save(class_name, row)

    def _unlink(self, user_id: str, target_id: str) -> bool:
        """Remove `user_id` following `target_id`; whether they were friends."""
        friends = False
        for class_name, owner, field, other in (
            ("_Followee", user_id, "followee", target_id),
            ("_Follower", target_id, "follower", user_id),
        ):
            row = self._row(class_name, owner, field, other)
            if row is not None:
                friends = friends or bool(row.get("friendStatus"))
                self.store.delete(kind(class_name), row["objectId"])
        return friends

    @staticmethod
    def _attrs(data: Any) -> Doc:
        if not isinstance(data, dict):
            return {}
        attrs = {k: v for k, v in data.items() if k not in PROTECTED and k != "friendship"}
        if isinstance(data.get("friendship"), dict):
            attrs.update({k: v for k, v in data["friendship"].items() if k not in PROTECTED})
        return attrs

    async def follow_user(
        self,
        *,
        auth: Credentials,
        user_id: str,
        target_id: str,
        body: models.FollowAttributes | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        self._self_only(ctx, user_id)
        self._existing_user(user_id)
        self._existing_user(target_id)
        if user_id == target_id:
            raise bad(1, "A user cannot follow itself.")
        with self.store.transaction():
            self._link(user_id, target_id, self._attrs(raw_body(body)), None)
        return reply(models.EmptyObject, {})

    async def update_follow(
        self,
        *,
        auth: Credentials,
        user_id: str,
        target_id: str,
        body: models.FollowAttributes,
    ) -> Any:
        ctx = self.ctx(auth)
        self._self_only(ctx, user_id)
        with self.store.transaction():
            row = self._row("_Followee", user_id, "followee", target_id)
            if row is None:
                raise bad(221, "Friendship not found.")
            self.apply_changes("_Followee", row, self._attrs(raw_body(body)), creating=False)
            row["updatedAt"] = iso(self.now())
            self.save("_Followee", row)
        return reply(models.EmptyObject, {})

    async def unfollow_user(self, *, auth: Credentials, user_id: str, target_id: str) -> Any:
        ctx = self.ctx(auth)
        self._self_only(ctx, user_id)
        with self.store.transaction():
            if self._unlink(user_id, target_id):
                self._unlink(target_id, user_id)
        return reply(models.EmptyObject, {})

    def _rows(self, class_name: str, user_id: str) -> list[Doc]:
        return [d for d in self.store.find(kind(class_name)) if _ptr_id(d.get("user")) == user_id]

    def _follow_list(self, class_name: str, rows: list[Doc], ctx: Ctx, **query: Any) -> JsonObject:
        where = raw_query_json("where", query.pop("where", None))
        return self.find(class_name, ctx, docs=rows, where=where, **query)

    async def list_followers(
        self,
        *,
        auth: Credentials,
        user_id: str,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        body = self._follow_list(
            "_Follower", self._rows("_Follower", user_id), ctx, where=where, order=order,
            limit=limit, skip=skip, keys=keys, include=include, count=count, return_acl=return_acl,
        )  # fmt: skip
        return reply(models.FollowList, body)

    async def list_followees(
        self,
        *,
        auth: Credentials,
        user_id: str,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        body = self._follow_list(
            "_Followee", self._rows("_Followee", user_id), ctx, where=where, order=order,
            limit=limit, skip=skip, keys=keys, include=include, count=count, return_acl=return_acl,
        )  # fmt: skip
        return reply(models.FollowList, body)

    async def list_mutual_followees(
        self,
        *,
        auth: Credentials,
        user_id: str,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        mine = {
            _ptr_id(r.get("followee"))
            for r in (self._rows("_Followee", ctx.user_id) if ctx.user_id else [])
        }
        rows = [r for r in self._rows("_Followee", user_id) if _ptr_id(r.get("followee")) in mine]
        body = self._follow_list(
            "_Followee", rows, ctx, where=where, order=order, limit=limit, skip=skip, keys=keys,
            include=include, count=count, return_acl=return_acl,
        )  # fmt: skip
        return reply(models.FollowList, body)

    async def list_followers_and_followees(
        self,
        *,
        auth: Credentials,
        user_id: str,
        include: str | None = None,
        keys: str | None = None,
        count: int | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        includes = [p.strip() for p in (include or "").split(",") if p.strip()]
        followers = self.find(
            "_Follower", ctx, docs=self._rows("_Follower", user_id), keys=keys, count=count,
            include=",".join(p for p in includes if p.split(".")[0] != "followee"),
        )  # fmt: skip
        followees = self.find(
            "_Followee", ctx, docs=self._rows("_Followee", user_id), keys=keys, count=count,
            include=",".join(p for p in includes if p.split(".")[0] != "follower"),
        )  # fmt: skip
        body: JsonObject = {"followers": followers["results"], "followees": followees["results"]}
        if count:
            body["followers_count"] = followers["count"]
            body["followees_count"] = followees["count"]
        return reply(models.FollowersAndFollowees, body)

    # -- friend requests ------------------------------------------------------------------------
    async def create_friendship_request(
        self, *, auth: Credentials, body: models.FriendshipRequestCreate
    ) -> Any:
        ctx = self.ctx(auth)
        data = raw_body(body)
        user_id, friend_id = _ptr_id(data.get("user")), _ptr_id(data.get("friend"))
        if user_id is None or friend_id is None:
            raise bad(106, "Malformed pointer: user and friend must be Pointers to _User.")
        self._self_only(ctx, user_id)
        self._existing_user(user_id)
        self._existing_user(friend_id)
        if user_id == friend_id:
            raise bad(1, "A user cannot befriend itself.")
        with self.store.transaction():
            for request in self.store.find(kind("_FriendshipRequest")):
                if (
                    _ptr_id(request.get("user")) == user_id
                    and _ptr_id(request.get("friend")) == friend_id
                    and request.get("status") == "pending"
                ):
                    raise bad(137, "A pending friend request already exists.")
            doc = self.new_doc(
                {
                    "user": pointer("_User", user_id),
                    "friend": pointer("_User", friend_id),
                    "status": "pending",
                    "ACL": {
                        user_id: {"read": True, "write": True},
                        friend_id: {"read": True, "write": True},
                    },
                }
            )
            if isinstance(data.get("friendship"), dict):
                doc["friendship"] = data["friendship"]
            self.save_new("_FriendshipRequest", doc)
        return reply(
            models.CreatedObject, {"objectId": doc["objectId"], "createdAt": doc["createdAt"]}
        )

    def _answer_request(self, ctx: Ctx, request_id: str, status: str, attrs: Doc) -> Doc:
        with self.store.transaction():
            request = self.load("_FriendshipRequest", request_id)
            if request is None:
                raise fail(*NOT_FOUND)
            friend_id = _ptr_id(request.get("friend")) or ""
            user_id = _ptr_id(request.get("user")) or ""
            self._self_only(ctx, friend_id)
            if request.get("status") != "pending":
                raise bad(1, f"The friend request is already {request.get('status')}.")
            request["status"] = status
            request["updatedAt"] = iso(self.now())
            self.store.put(kind("_FriendshipRequest"), request_id, request)
            if status == "accepted":
                self._link(user_id, friend_id, self._attrs(request.get("friendship")), True)
                self._link(friend_id, user_id, attrs, True)
        return request

    async def accept_friendship_request(
        self,
        *,
        auth: Credentials,
        request_id: str,
        body: models.AcceptFriendshipRequest | None = None,
    ) -> Any:
        data = raw_body(body)
        attrs = self._attrs(data.get("friendship") if isinstance(data, dict) else None)
        request = self._answer_request(self.ctx(auth), request_id, "accepted", attrs)
        return reply(
            models.UpdatedObject, {"updatedAt": request["updatedAt"], "objectId": request_id}
        )

    async def decline_friendship_request(self, *, auth: Credentials, request_id: str) -> Any:
        request = self._answer_request(self.ctx(auth), request_id, "declined", {})
        return reply(
            models.UpdatedObject, {"updatedAt": request["updatedAt"], "objectId": request_id}
        )

    # -- statuses -------------------------------------------------------------------------------
    async def publish_status(self, *, auth: Credentials, body: models.PublishStatusRequest) -> Any:
        ctx = self.ctx(auth)
        user = self.require_user(ctx)
        data = raw_body(body)
        content = dict(data.get("data") or {})
        source = (
            data.get("source") or content.pop("source", None) or pointer("_User", user["objectId"])
        )
        inbox = data.get("inboxType") or "default"
        query = data.get("query") or {}
        class_name = ALIASES.get(str(query.get("className")), str(query.get("className")))
        if not self.class_exists(class_name):
            raise fail(*NOT_FOUND)
        targets = self.matcher(ctx).filter(
            [d for d in self.store.find(kind(class_name)) if self.can(ctx, d, "read")],
            query.get("where"),
        )
        owners: list[str] = []
        for doc in targets:
            owner = _ptr_id(doc.get(query["keys"])) if query.get("keys") else doc.get("objectId")
            if isinstance(owner, str) and owner not in owners:
                owners.append(owner)
        if inbox == "default" and _ptr_id(source) and _ptr_id(source) not in owners:
            owners.append(str(_ptr_id(source)))
        with self.store.transaction():
            status = self.new_doc({"source": source, "inboxType": inbox})
            self.apply_changes("_Status", status, content, creating=True)
            self.save_new("_Status", status)
            for owner in owners:
                number = self.store.next_id(f"lc_inbox:{owner}:{inbox}")
                self.store.put(
                    "lc_inbox",
                    f"{owner}:{inbox}:{number}",
                    {
                        "status": status["objectId"],
                        "owner": owner,
                        "inboxType": inbox,
                        "messageId": number,
                        "read": False,
                    },
                )
        return reply(
            models.CreatedObject, {"objectId": status["objectId"], "createdAt": status["createdAt"]}
        )

    async def delete_status(self, *, auth: Credentials, status_id: str) -> Any:
        ctx = self.ctx(auth)
        status = self.load("_Status", status_id)
        if status is None:
            raise fail(*NOT_FOUND)
        self._self_only(ctx, _ptr_id(status.get("source")) or "")
        with self.store.transaction():
            self.store.delete(kind("_Status"), status_id)
            for key, entry in self.store.all("lc_inbox"):
                if entry.get("status") == status_id:
                    self.store.delete("lc_inbox", key)
        return reply(models.EmptyObject, {})

    def _inbox(self, owner: str, inbox: str) -> list[tuple[str, Doc]]:
        return [
            (key, entry)
            for key, entry in self.store.all("lc_inbox")
            if entry.get("owner") == owner and entry.get("inboxType") == inbox
        ]

    async def list_inbox_statuses(
        self,
        *,
        auth: Credentials,
        owner: models.Pointer,
        inbox_type: str | None = None,
        where: models.WhereClause | None = None,
        since_id: int | None = None,
        max_id: int | None = None,
        limit: int | None = None,
        count: int | None = None,
        include: str | None = None,
        keys: str | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        self._self_only(ctx, owner.objectId)
        inbox = inbox_type or "default"
        docs: list[Doc] = []
        shown: list[str] = []
        for key, entry in self._inbox(owner.objectId, inbox):
            number = int(entry["messageId"])
            if (since_id is not None and number <= since_id) or (
                max_id is not None and number > max_id
            ):
                continue
            status = self.load("_Status", str(entry["status"]))
            if status is None:
                continue
            docs.append(
                {
                    **status,
                    "messageId": number,
                    "inboxType": inbox,
                    "owner": pointer("_User", owner.objectId),
                    "_entry": key,
                }
            )
        body = self.find(
            "_Status", ctx, docs=docs, where=raw_query_json("where", where), order="-messageId",
            limit=limit, keys=keys, include=include, count=count,
        )  # fmt: skip
        numbers = {r.get("messageId") for r in body["results"]}
        shown = [d["_entry"] for d in docs if d["messageId"] in numbers]
        with self.store.transaction():
            for key in shown:
                stored = self.store.get("lc_inbox", key)
                if stored is not None and not stored.get("read"):
                    stored["read"] = True
                    self.store.put("lc_inbox", key, stored)
        return reply(models.StatusList, body)

    async def count_inbox_statuses(
        self, *, auth: Credentials, owner: models.Pointer, inbox_type: str | None = None
    ) -> Any:
        ctx = self.ctx(auth)
        self._self_only(ctx, owner.objectId)
        entries = [e for _, e in self._inbox(owner.objectId, inbox_type or "default")]
        live = [e for e in entries if self.load("_Status", str(e["status"])) is not None]
        unread = sum(1 for e in live if not e.get("read"))
        return reply(models.StatusCount, {"total": len(live), "unread": unread})


__all__ = ["SocialMixin"]
