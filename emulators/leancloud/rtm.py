"""Instant messaging server API: conversations, chat rooms, service conversations, messages.

Conversations are `_Conversation` objects (so `/1.1/classes/_Conversation` sees them too):
chat rooms have `tr: true`, service conversations `sys: true`. Messages are kept in kind
`rtm_msg` (id: msg-id) with a durable sequence for ordering; broadcasts in `rtm_broadcast`,
member roles in `rtm_member_info`, client-level block lists in `rtm_client`. No client is ever
connected, so online lists are empty and every stored message a member did not send is unread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from generated.leancloud import models
from generated.leancloud.server import Credentials

from .accounts import AccountsBase
from .base import Ctx, kind, page_size
from .common import (
    NO_USER,
    Doc,
    JsonObject,
    bad,
    date_value,
    fail,
    iso,
    message_id,
    object_id,
    parse_iso,
    raw_body,
    raw_query_json,
    reply,
)

Family = Literal["conv", "room", "sys"]
Role = Literal["Owner", "Manager", "Member"]
CONV = "_Conversation"
MAX_MESSAGE = 5 * 1024
RECALLED = json.dumps({"_lctype": -127, "_lctext": "", "_lcattrs": {}}, separators=(",", ":"))
CONTROLLED = frozenset({"m", "tr", "sys", "mu", "uniqueId", "lm", "unique"})
NO_MESSAGE = (400, 4404, "Message not found.")


def family_of(doc: Doc) -> Family:
    if doc.get("tr"):
        return "room"
    if doc.get("sys"):
        return "sys"
    return "conv"


def public(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


class RtmMixin(AccountsBase):
    def ms(self) -> int:
        return int(self.now() * 1000)

    # -- conversations --------------------------------------------------------------------------
    def conv(self, conv_id: str, family: Family | None) -> Doc:
        doc = self.load(CONV, conv_id)
        if doc is None or (family is not None and family_of(doc) != family):
            raise fail(404, 101, f"Conversation {conv_id} not found.")
        return doc

    def save_conv(self, doc: Doc) -> None:
        doc["updatedAt"] = iso(self.now())
        self.store.put(kind(CONV), doc["objectId"], doc)

    def create_conv(self, body: Any, family: Family) -> Any:
        data = raw_body(body)
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        members = data.get("m") if family == "conv" else None
        if members is not None and (
            not isinstance(members, list) or not all(isinstance(c, str) for c in members)
        ):
            raise bad(1, "m must be an array of client ids.")
        members = list(dict.fromkeys(members or []))
        unique = bool(data.get("unique")) and family == "conv"
        extra = {k: v for k, v in data.items() if k not in CONTROLLED}
        with self.store.transaction():
            if unique:
                unique_id = hashlib.md5(",".join(sorted(members)).encode()).hexdigest()
                for doc in self.store.find(kind(CONV)):
                    if doc.get("uniqueId") == unique_id and family_of(doc) == "conv":
                        return reply(models.Conversation, public(doc))
            now = self.ms()
            doc = self.new_doc({"m": members, "mu": []})
            if family == "room":
                doc["tr"] = True
            elif family == "sys":
                doc["sys"] = True
            else:
                doc["unique"] = unique
                if unique:
                    doc["uniqueId"] = unique_id
            self.apply_changes(CONV, doc, extra, creating=True)
            doc["_joined"] = {client: now for client in members}
            self.save_new(CONV, doc)
        return reply(models.Conversation, public(doc))

    def query_convs(self, families: tuple[Family, ...], where: Any, skip: Any, limit: Any) -> Any:
        docs = [d for d in self.store.find(kind(CONV)) if family_of(d) in families]
        body = self.find(
            CONV, Ctx(master=True), docs=docs, where=raw_query_json("where", where),
            skip=skip, limit=limit,
        )  # fmt: skip
        return reply(models.ConversationList, body)

    def update_conv(self, conv_id: str, family: Family, body: Any) -> Any:
        data = raw_body(body)
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        if "m" in data:
            raise bad(1, "Members are changed through the members endpoints.")
        with self.store.transaction():
            doc = self.conv(conv_id, family)
            self.apply_changes(
                CONV, doc, {k: v for k, v in data.items() if k not in CONTROLLED}, creating=False
            )
            self.check_readable_shape(CONV, doc)
            self.save_conv(doc)
        return reply(models.UpdatedObject, {"updatedAt": doc["updatedAt"], "objectId": conv_id})

    def delete_conv(self, conv_id: str, family: Family) -> Any:
        with self.store.transaction():
            self.conv(conv_id, family)
            self.store.delete(kind(CONV), conv_id)
            for key, msg in self.store.all("rtm_msg"):
                if msg.get("conv-id") == conv_id:
                    self.store.delete("rtm_msg", key)
            for key, info in self.store.all("rtm_member_info"):
                if info.get("cid") == conv_id:
                    self.store.delete("rtm_member_info", key)
        return reply(models.EmptyObject, {})

    # -- client id lists ------------------------------------------------------------------------
    def blocked_by_client(self, client_id: str) -> list[str]:
        record = self.store.get("rtm_client", client_id) or {}
        return list(record.get("blocked", []))

    def change_members(self, conv_id: str, family: Family, clients: list[str], add: bool) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, family)
            members = list(doc.get("m", []))
            joined = dict(doc.get("_joined", {}))
            if add:
                for client in clients:
                    if client in doc.get("_blacklist", []) or conv_id in self.blocked_by_client(
                        client
                    ):
                        continue
                    if client not in members:
                        members.append(client)
                        joined[client] = self.ms()
            else:
                members = [c for c in members if c not in clients]
                for client in clients:
                    joined.pop(client, None)
            doc["m"], doc["_joined"] = members, joined
            self.save_conv(doc)
        return reply(models.UpdatedObject, {"updatedAt": doc["updatedAt"], "objectId": conv_id})

    def change_mutes(self, conv_id: str, clients: list[str], add: bool) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, "conv")
            muted = list(doc.get("mu", []))
            if add:
                muted += [c for c in clients if c not in muted]
            else:
                muted = [c for c in muted if c not in clients]
            doc["mu"] = muted
            self.save_conv(doc)
        return reply(models.UpdatedObject, {"updatedAt": doc["updatedAt"], "objectId": conv_id})

    @staticmethod
    def page(
        ids: list[str], limit: Any, cursor: str | None, field: str = "client_ids"
    ) -> JsonObject:
        size = page_size(limit, 50, 1000) or 50
        try:
            start = int(cursor) if cursor else 0
        except ValueError:
            raise bad(1, "Invalid 'next' cursor.") from None
        start = max(0, start)
        body: JsonObject = {field: ids[start : start + size]}
        if start + size < len(ids):
            body["next"] = str(start + size)
        return body

    def change_list(
        self, conv_id: str, family: Family, field: str, clients: list[str], add: bool
    ) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, family)
            current = list(doc.get(field, []))
            if add:
                current += [c for c in clients if c not in current]
                if field == "_blacklist":
                    doc["m"] = [c for c in doc.get("m", []) if c not in clients]
                    subscribers = doc.get("_subscribers", {})
                    doc["_subscribers"] = {c: t for c, t in subscribers.items() if c not in clients}
            else:
                current = [c for c in current if c not in clients]
            doc[field] = current
            self.save_conv(doc)
        return reply(models.EmptyObject, {})

    def list_ids(self, conv_id: str, family: Family, field: str, limit: Any, cursor: Any) -> Any:
        doc = self.conv(conv_id, family)
        return reply(models.ClientIdPage, self.page(list(doc.get(field, [])), limit, cursor))

    def temporary(self, conv_id: str, family: Family, client: str, ttl: int | None) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, family)
            silenced = {
                c: until for c, until in doc.get("_tempSilenced", {}).items() if until > self.now()
            }
            if ttl is None:
                silenced.pop(client, None)
            else:
                if ttl <= 0:
                    raise bad(1, "ttl must be a positive number of seconds.")
                silenced[client] = self.now() + ttl
            doc["_tempSilenced"] = silenced
            self.save_conv(doc)
        return reply(models.EmptyObject, {})

    def list_temporary(self, conv_id: str, family: Family, limit: Any, cursor: Any) -> Any:
        doc = self.conv(conv_id, family)
        ids = [c for c, until in doc.get("_tempSilenced", {}).items() if until > self.now()]
        return reply(models.ClientIdPage, self.page(ids, limit, cursor))

    # -- member roles ---------------------------------------------------------------------------
    def member_infos(
        self, conv_id: str, family: Family, skip: Any, limit: Any, role: str | None
    ) -> Any:
        self.conv(conv_id, family)
        infos = [
            public(i)
            for i in self.store.find("rtm_member_info")
            if i.get("cid") == conv_id and (role is None or i.get("role") == role)
        ]
        start = max(0, skip or 0)
        size = page_size(limit)
        return reply(models.MemberInfoList, {"results": infos[start : start + size]})

    def set_member_info(
        self, conv_id: str, family: Family, info_id: str | None, body: models.MemberInfoRequest
    ) -> Any:
        with self.store.transaction():
            self.conv(conv_id, family)
            stamp = iso(self.now())
            existing = None
            if info_id is not None:
                existing = self.store.get("rtm_member_info", info_id)
                if existing is None or existing.get("cid") != conv_id:
                    raise fail(404, 101, f"Member info {info_id} not found.")
            else:
                existing = next(
                    (
                        i
                        for i in self.store.find("rtm_member_info")
                        if i.get("cid") == conv_id and i.get("clientId") == body.clientId
                    ),
                    None,
                )
            info = existing or {
                "objectId": object_id(self.now()),
                "cid": conv_id,
                "createdAt": stamp,
            }
            info.update({"clientId": body.clientId, "role": body.role, "updatedAt": stamp})
            self.store.put("rtm_member_info", info["objectId"], info)
        return reply(models.UpdatedObject, {"objectId": info["objectId"], "updatedAt": stamp})

    def delete_member_info(self, conv_id: str, family: Family, info_id: str) -> Any:
        with self.store.transaction():
            self.conv(conv_id, family)
            info = self.store.get("rtm_member_info", info_id)
            if info is None or info.get("cid") != conv_id:
                raise fail(404, 101, f"Member info {info_id} not found.")
            self.store.delete("rtm_member_info", info_id)
        return reply(models.EmptyObject, {})

    # -- messages -------------------------------------------------------------------------------
    def store_message(
        self,
        doc: Doc,
        sender: str,
        text: str,
        *,
        transient: bool = False,
        to: list[str] | None = None,
        mention_all: bool | None = None,
        mentions: list[str] | None = None,
        kind_: str = "message",
    ) -> JsonObject:
        if len(text.encode()) > MAX_MESSAGE:
            raise bad(4315, "Message is too large: at most 5 KB.")
        family = family_of(doc)
        stamp = self.ms()
        msg: Doc = {
            "msg-id": message_id(),
            "conv-id": doc["objectId"],
            "from": sender,
            "data": text,
            "timestamp": stamp,
            "is-conv": family != "room",
            "is-room": family == "room",
            "to": doc["objectId"],
            "bin": False,
            "from-ip": "127.0.0.1",
        }
        if mention_all:
            msg["mention-all"] = True
        if mentions:
            msg["mention-pids"] = list(mentions)
        if not transient:
            with self.store.transaction():
                msg["_seq"] = self.store.next_id("rtm_msg")
                msg["_family"] = family
                msg["_kind"] = kind_
                if to is not None:
                    msg["_to"] = list(to)
                self.store.put("rtm_msg", msg["msg-id"], msg)
                fresh = self.load(CONV, doc["objectId"])
                if fresh is not None:
                    fresh["lm"] = date_value(stamp / 1000)
                    self.store.put(kind(CONV), doc["objectId"], fresh)
        return {"msg-id": msg["msg-id"], "timestamp": stamp}

    def send(self, conv_id: str, family: Family | None, body: models.SendMessageRequest) -> Any:
        doc = self.conv(conv_id, family)
        sent = self.store_message(
            doc, body.from_client, body.message, transient=bool(body.transient),
            mention_all=body.mention_all, mentions=body.mention_client_ids,
        )  # fmt: skip
        return reply(models.MessageSent, sent)

    def message(self, conv_id: str, message_id_: str, sender: str, timestamp: int | None) -> Doc:
        msg = self.store.get("rtm_msg", message_id_)
        if (
            msg is None
            or msg.get("conv-id") != conv_id
            or msg.get("from") != sender
            or (timestamp is not None and msg.get("timestamp") != timestamp)
        ):
            raise fail(*NO_MESSAGE)
        return msg

    def edit(
        self,
        conv_id: str,
        family: Family,
        message_id_: str,
        sender: str,
        timestamp: int | None,
        text: str | None,
    ) -> Any:
        with self.store.transaction():
            self.conv(conv_id, family)
            msg = self.message(conv_id, message_id_, sender, timestamp)
            if text is None:
                msg["data"] = RECALLED
                msg["recall"] = True
            else:
                if len(text.encode()) > MAX_MESSAGE:
                    raise bad(4315, "Message is too large: at most 5 KB.")
                msg["data"] = text
            msg["patch-timestamp"] = self.ms()
            self.store.put("rtm_msg", message_id_, msg)
        return reply(models.EmptyObject, {})

    def drop(
        self, conv_id: str, family: Family, message_id_: str, sender: str, timestamp: int
    ) -> Any:
        with self.store.transaction():
            self.conv(conv_id, family)
            self.message(conv_id, message_id_, sender, timestamp)
            self.store.delete("rtm_msg", message_id_)
        return reply(models.EmptyObject, {})

    def history(self, messages: list[Doc], **window: Any) -> Any:
        ordered = sorted(messages, key=lambda m: (m.get("timestamp", 0), m.get("_seq", 0)))
        seq = {m["msg-id"]: m.get("_seq", 0) for m in ordered}

        def compare(msg: Doc, stamp: int, mid: str | None) -> int:
            left = msg.get("timestamp", 0)
            if left != stamp:
                return -1 if left < stamp else 1
            if mid is None or mid not in seq:
                return 0
            have, want = msg.get("_seq", 0), seq[mid]
            return 0 if have == want else (-1 if have < want else 1)

        newest_first = not window.get("reversed")
        if newest_first:
            ordered.reverse()
        start, stop = window.get("timestamp"), window.get("till_timestamp")
        picked = []
        for msg in ordered:
            if start is not None:
                side = compare(msg, start, window.get("msgid"))
                inside = side < 0 if newest_first else side > 0
                if not (inside or (side == 0 and window.get("include_start"))):
                    continue
            if stop is not None:
                side = compare(msg, stop, window.get("till_msgid"))
                inside = side > 0 if newest_first else side < 0
                if not (inside or (side == 0 and window.get("include_stop"))):
                    continue
            picked.append(public(msg))
        size = page_size(window.get("limit"), 100, 1000)
        return reply(list[models.RtmMessage], picked[:size])

    def conv_messages(self, conv_id: str) -> list[Doc]:
        return [m for m in self.store.find("rtm_msg") if m.get("conv-id") == conv_id]

    # -- conversations: endpoints ---------------------------------------------------------------
    async def query_conversations(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Any:
        return self.query_convs(("conv",), where, skip, limit)

    async def create_conversation(
        self, *, auth: Credentials, body: models.CreateConversationRequest
    ) -> Any:
        return self.create_conv(body, "conv")

    async def update_conversation(
        self, *, auth: Credentials, conv_id: str, body: models.ConversationAttributes
    ) -> Any:
        return self.update_conv(conv_id, "conv", body)

    async def delete_conversation(self, *, auth: Credentials, conv_id: str) -> Any:
        return self.delete_conv(conv_id, "conv")

    async def list_conversation_members(self, *, auth: Credentials, conv_id: str) -> Any:
        return reply(
            models.ClientIdResult, {"result": list(self.conv(conv_id, "conv").get("m", []))}
        )

    async def add_conversation_members(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_members(conv_id, "conv", body.client_ids, True)

    async def remove_conversation_members(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_members(conv_id, "conv", body.client_ids, False)

    async def list_conversation_mutes(self, *, auth: Credentials, conv_id: str) -> Any:
        return reply(
            models.ClientIdResult, {"result": list(self.conv(conv_id, "conv").get("mu", []))}
        )

    async def add_conversation_mutes(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_mutes(conv_id, body.client_ids, True)

    async def remove_conversation_mutes(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_mutes(conv_id, body.client_ids, False)

    async def list_conversation_temporary_silences(
        self, *, auth: Credentials, conv_id: str, limit: int | None = None, next: str | None = None
    ) -> Any:
        return self.list_temporary(conv_id, "conv", limit, next)

    async def add_conversation_temporary_silence(
        self, *, auth: Credentials, conv_id: str, body: models.TemporarySilenceRequest
    ) -> Any:
        return self.temporary(conv_id, "conv", body.client_id, body.ttl)

    async def remove_conversation_temporary_silence(
        self, *, auth: Credentials, conv_id: str, client_id: str
    ) -> Any:
        return self.temporary(conv_id, "conv", client_id, None)

    async def list_conversation_permanent_silences(
        self, *, auth: Credentials, conv_id: str, limit: int | None = None, next: str | None = None
    ) -> Any:
        return self.list_ids(conv_id, "conv", "_permSilenced", limit, next)

    async def add_conversation_permanent_silences(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "conv", "_permSilenced", body.client_ids, True)

    async def remove_conversation_permanent_silences(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "conv", "_permSilenced", body.client_ids, False)

    async def list_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, limit: int | None = None, next: str | None = None
    ) -> Any:
        return self.list_ids(conv_id, "conv", "_blacklist", limit, next)

    async def add_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "conv", "_blacklist", body.client_ids, True)

    async def remove_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "conv", "_blacklist", body.client_ids, False)

    async def list_conversation_member_infos(
        self,
        *,
        auth: Credentials,
        conv_id: str,
        skip: int | None = None,
        limit: int | None = None,
        role: Role | None = None,
    ) -> Any:
        return self.member_infos(conv_id, "conv", skip, limit, role)

    async def add_conversation_member_info(
        self, *, auth: Credentials, conv_id: str, body: models.MemberInfoRequest
    ) -> Any:
        return self.set_member_info(conv_id, "conv", None, body)

    async def update_conversation_member_info(
        self, *, auth: Credentials, conv_id: str, info_id: str, body: models.MemberInfoRequest
    ) -> Any:
        return self.set_member_info(conv_id, "conv", info_id, body)

    async def delete_conversation_member_info(
        self, *, auth: Credentials, conv_id: str, info_id: str
    ) -> Any:
        return self.delete_member_info(conv_id, "conv", info_id)

    async def list_conversation_messages(
        self,
        *,
        auth: Credentials,
        conv_id: str,
        msgid: str | None = None,
        timestamp: int | None = None,
        till_msgid: str | None = None,
        till_timestamp: int | None = None,
        include_start: bool | None = None,
        include_stop: bool | None = None,
        reversed: bool | None = None,
        limit: int | None = None,
        client_id: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        self.conv(conv_id, "conv")
        return self.history(
            self.conv_messages(conv_id), msgid=msgid, timestamp=timestamp, till_msgid=till_msgid,
            till_timestamp=till_timestamp, include_start=include_start, include_stop=include_stop,
            reversed=reversed, limit=limit,
        )  # fmt: skip

    async def send_conversation_message(
        self, *, auth: Credentials, conv_id: str, body: models.SendMessageRequest
    ) -> Any:
        return self.send(conv_id, "conv", body)

    async def update_conversation_message(
        self, *, auth: Credentials, conv_id: str, message_id: str, body: models.EditMessageRequest
    ) -> Any:
        return self.edit(
            conv_id, "conv", message_id, body.from_client, body.timestamp, body.message
        )

    async def delete_conversation_message(
        self, *, auth: Credentials, conv_id: str, message_id: str, from_client: str, timestamp: int
    ) -> Any:
        return self.drop(conv_id, "conv", message_id, from_client, timestamp)

    async def recall_conversation_message(
        self, *, auth: Credentials, conv_id: str, message_id: str, body: models.RecallMessageRequest
    ) -> Any:
        return self.edit(conv_id, "conv", message_id, body.from_client, body.timestamp, None)

    # -- chat rooms -----------------------------------------------------------------------------
    async def query_chatrooms(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Any:
        return self.query_convs(("room",), where, skip, limit)

    async def create_chatroom(
        self, *, auth: Credentials, body: models.CreateConversationRequest
    ) -> Any:
        return self.create_conv(body, "room")

    async def update_chatroom(
        self, *, auth: Credentials, chatroom_id: str, body: models.ConversationAttributes
    ) -> Any:
        return self.update_conv(chatroom_id, "room", body)

    async def delete_chatroom(self, *, auth: Credentials, chatroom_id: str) -> Any:
        return self.delete_conv(chatroom_id, "room")

    async def list_chatroom_online_members(
        self, *, auth: Credentials, chatroom_id: str, limit: int | None = None
    ) -> Any:
        self.conv(chatroom_id, "room")
        return reply(models.ClientIdResult, {"result": []})

    async def count_chatroom_online_members(self, *, auth: Credentials, chatroom_id: str) -> Any:
        self.conv(chatroom_id, "room")
        return reply(models.OnlineCount, {"result": 0})

    async def list_chatroom_messages(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        msgid: str | None = None,
        timestamp: int | None = None,
        till_msgid: str | None = None,
        till_timestamp: int | None = None,
        include_start: bool | None = None,
        include_stop: bool | None = None,
        reversed: bool | None = None,
        limit: int | None = None,
        client_id: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        self.conv(chatroom_id, "room")
        return self.history(
            self.conv_messages(chatroom_id), msgid=msgid, timestamp=timestamp,
            till_msgid=till_msgid, till_timestamp=till_timestamp, include_start=include_start,
            include_stop=include_stop, reversed=reversed, limit=limit,
        )  # fmt: skip

    async def send_chatroom_message(
        self, *, auth: Credentials, chatroom_id: str, body: models.SendMessageRequest
    ) -> Any:
        return self.send(chatroom_id, "room", body)

    async def update_chatroom_message(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        message_id: str,
        body: models.EditMessageRequest,
    ) -> Any:
        return self.edit(
            chatroom_id, "room", message_id, body.from_client, body.timestamp, body.message
        )

    async def delete_chatroom_message(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        message_id: str,
        from_client: str,
        timestamp: int,
    ) -> Any:
        return self.drop(chatroom_id, "room", message_id, from_client, timestamp)

    async def recall_chatroom_message(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        message_id: str,
        body: models.RecallMessageRequest,
    ) -> Any:
        return self.edit(chatroom_id, "room", message_id, body.from_client, body.timestamp, None)

    async def list_chatroom_temporary_silences(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        limit: int | None = None,
        next: str | None = None,
    ) -> Any:
        return self.list_temporary(chatroom_id, "room", limit, next)

    async def add_chatroom_temporary_silence(
        self, *, auth: Credentials, chatroom_id: str, body: models.TemporarySilenceRequest
    ) -> Any:
        return self.temporary(chatroom_id, "room", body.client_id, body.ttl)

    async def remove_chatroom_temporary_silence(
        self, *, auth: Credentials, chatroom_id: str, client_id: str
    ) -> Any:
        return self.temporary(chatroom_id, "room", client_id, None)

    async def list_chatroom_permanent_silences(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        limit: int | None = None,
        next: str | None = None,
    ) -> Any:
        return self.list_ids(chatroom_id, "room", "_permSilenced", limit, next)

    async def add_chatroom_permanent_silences(
        self, *, auth: Credentials, chatroom_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(chatroom_id, "room", "_permSilenced", body.client_ids, True)

    async def remove_chatroom_permanent_silences(
        self, *, auth: Credentials, chatroom_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(chatroom_id, "room", "_permSilenced", body.client_ids, False)

    async def list_chatroom_blacklist(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        limit: int | None = None,
        next: str | None = None,
    ) -> Any:
        return self.list_ids(chatroom_id, "room", "_blacklist", limit, next)

    async def add_chatroom_blacklist(
        self, *, auth: Credentials, chatroom_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(chatroom_id, "room", "_blacklist", body.client_ids, True)

    async def remove_chatroom_blacklist(
        self, *, auth: Credentials, chatroom_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(chatroom_id, "room", "_blacklist", body.client_ids, False)

    async def list_chatroom_member_infos(
        self,
        *,
        auth: Credentials,
        chatroom_id: str,
        skip: int | None = None,
        limit: int | None = None,
        role: Role | None = None,
    ) -> Any:
        return self.member_infos(chatroom_id, "room", skip, limit, role)

    async def add_chatroom_member_info(
        self, *, auth: Credentials, chatroom_id: str, body: models.MemberInfoRequest
    ) -> Any:
        return self.set_member_info(chatroom_id, "room", None, body)

    async def update_chatroom_member_info(
        self, *, auth: Credentials, chatroom_id: str, info_id: str, body: models.MemberInfoRequest
    ) -> Any:
        return self.set_member_info(chatroom_id, "room", info_id, body)

    async def delete_chatroom_member_info(
        self, *, auth: Credentials, chatroom_id: str, info_id: str
    ) -> Any:
        return self.delete_member_info(chatroom_id, "room", info_id)

    # -- service conversations ------------------------------------------------------------------
    async def query_service_conversations(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Any:
        return self.query_convs(("sys",), where, skip, limit)

    async def create_service_conversation(
        self, *, auth: Credentials, body: models.CreateConversationRequest
    ) -> Any:
        return self.create_conv(body, "sys")

    async def update_service_conversation(
        self, *, auth: Credentials, conv_id: str, body: models.ConversationAttributes
    ) -> Any:
        return self.update_conv(conv_id, "sys", body)

    async def delete_service_conversation(self, *, auth: Credentials, conv_id: str) -> Any:
        return self.delete_conv(conv_id, "sys")

    def subscriptions(self, doc: Doc) -> list[JsonObject]:
        return [
            {"timestamp": stamp, "subscriber": client, "conv_id": doc["objectId"]}
            for client, stamp in sorted(doc.get("_subscribers", {}).items())
        ]

    async def list_service_conversation_subscribers(
        self,
        *,
        auth: Credentials,
        conv_id: str,
        limit: int | None = None,
        client_id: str | None = None,
    ) -> Any:
        rows = self.subscriptions(self.conv(conv_id, "sys"))
        if client_id:
            rows = [r for r in rows if r["subscriber"] > client_id]
        return reply(list[models.Subscription], rows[: page_size(limit, 50, 50) or 50])

    async def subscribe_service_conversation(
        self, *, auth: Credentials, conv_id: str, body: models.SubscribeRequest
    ) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, "sys")
            if body.client_id in doc.get("_blacklist", []):
                raise fail(403, 4321, "The client is blocked from this conversation.")
            subscribers = dict(doc.get("_subscribers", {}))
            subscribers.setdefault(body.client_id, self.ms())
            doc["_subscribers"] = subscribers
            self.save_conv(doc)
        return reply(models.EmptyObject, {})

    async def count_service_conversation_subscribers(
        self, *, auth: Credentials, conv_id: str
    ) -> Any:
        doc = self.conv(conv_id, "sys")
        return reply(models.CountResult, {"count": len(doc.get("_subscribers", {}))})

    async def unsubscribe_service_conversation(
        self, *, auth: Credentials, conv_id: str, client_id: str
    ) -> Any:
        with self.store.transaction():
            doc = self.conv(conv_id, "sys")
            subscribers = dict(doc.get("_subscribers", {}))
            subscribers.pop(client_id, None)
            doc["_subscribers"] = subscribers
            self.save_conv(doc)
        return reply(models.EmptyObject, {})

    def seen_by(self, conv_id: str, client: str) -> list[Doc]:
        return [
            m
            for m in self.conv_messages(conv_id)
            if m.get("_to") is None or client in m.get("_to", [])
        ]

    async def list_service_conversation_subscriber_messages(
        self,
        *,
        auth: Credentials,
        conv_id: str,
        client_id: str,
        msgid: str | None = None,
        timestamp: int | None = None,
        till_msgid: str | None = None,
        till_timestamp: int | None = None,
        include_start: bool | None = None,
        include_stop: bool | None = None,
        reversed: bool | None = None,
        limit: int | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
        client_id_2: str | None = None,
    ) -> Any:
        self.conv(conv_id, "sys")
        return self.history(
            self.seen_by(conv_id, client_id), msgid=msgid, timestamp=timestamp,
            till_msgid=till_msgid, till_timestamp=till_timestamp, include_start=include_start,
            include_stop=include_stop, reversed=reversed, limit=limit,
        )  # fmt: skip

    async def delete_service_conversation_subscriber_message(
        self,
        *,
        auth: Credentials,
        conv_id: str,
        client_id: str,
        message_id: str,
        from_client: str,
        timestamp: int,
    ) -> Any:
        with self.store.transaction():
            self.conv(conv_id, "sys")
            msg = self.message(conv_id, message_id, from_client, timestamp)
            targets = msg.get("_to")
            if targets is not None and client_id not in targets:
                raise fail(*NO_MESSAGE)
            if targets and len(targets) > 1:
                msg["_to"] = [c for c in targets if c != client_id]
                self.store.put("rtm_msg", message_id, msg)
            else:
                self.store.delete("rtm_msg", message_id)
        return reply(models.EmptyObject, {})

    async def broadcast_service_conversation_message(
        self, *, auth: Credentials, conv_id: str, body: models.BroadcastToSubscribersRequest
    ) -> Any:
        doc = self.conv(conv_id, "sys")
        return reply(models.MessageSent, self.store_message(doc, body.from_client, body.message))

    async def send_service_conversation_message(
        self, *, auth: Credentials, conv_id: str, body: models.SendServiceMessageRequest
    ) -> Any:
        doc = self.conv(conv_id, "sys")
        sent = self.store_message(
            doc, body.from_client, body.message, transient=bool(body.transient), to=body.to_clients
        )
        return reply(models.MessageSent, sent)

    async def update_service_conversation_message(
        self, *, auth: Credentials, conv_id: str, message_id: str, body: models.EditMessageRequest
    ) -> Any:
        return self.edit(conv_id, "sys", message_id, body.from_client, body.timestamp, body.message)

    async def recall_service_conversation_message(
        self, *, auth: Credentials, conv_id: str, message_id: str, body: models.RecallMessageRequest
    ) -> Any:
        return self.edit(conv_id, "sys", message_id, body.from_client, body.timestamp, None)

    async def list_service_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, limit: int | None = None, next: str | None = None
    ) -> Any:
        return self.list_ids(conv_id, "sys", "_blacklist", limit, next)

    async def add_service_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "sys", "_blacklist", body.client_ids, True)

    async def remove_service_conversation_blacklist(
        self, *, auth: Credentials, conv_id: str, body: models.ClientIdsRequest
    ) -> Any:
        return self.change_list(conv_id, "sys", "_blacklist", body.client_ids, False)

    # -- clients --------------------------------------------------------------------------------
    async def check_clients_online(
        self, *, auth: Credentials, body: models.ClientIdsRequest
    ) -> Any:
        return reply(models.CheckOnlineResult, {"results": []})

    async def get_client_login_signature(self, *, auth: Credentials, session_token: str) -> Any:
        user = self.session_user(session_token)
        if user is None:
            raise fail(*NO_USER)
        client_id = str(user["objectId"])
        nonce = secrets.token_hex(8)
        stamp = self.ms()
        message = f"{self.config['app_id']}:{client_id}::{stamp}:{nonce}"
        signature = hmac.new(
            self.config["master_key"].encode(), message.encode(), hashlib.sha1
        ).hexdigest()
        answer = {
            "signature": signature,
            "nonce": nonce,
            "client_id": client_id,
            "timestamp": stamp,
        }
        return reply(models.ClientSignature, answer)

    async def get_client_unread_count(
        self, *, auth: Credentials, client_id: str, conv_id: str | None = None
    ) -> Any:
        convs = {
            d["objectId"]: d
            for d in self.store.find(kind(CONV))
            if (conv_id is None or d["objectId"] == conv_id)
            and family_of(d) == "conv"
            and client_id in d.get("m", [])
        }
        unread = sum(
            1
            for m in self.store.find("rtm_msg")
            if m.get("conv-id") in convs
            and m.get("from") != client_id
            and m.get("_kind") == "message"
            and m.get("timestamp", 0) >= convs[m["conv-id"]].get("_joined", {}).get(client_id, 0)
        )
        return reply(models.CountResult, {"count": unread})

    async def kick_client(
        self, *, auth: Credentials, client_id: str, body: models.KickRequest | None = None
    ) -> Any:
        self.store.insert(
            "rtm_kick",
            {"client_id": client_id, "reason": body.reason if body else None, "at": self.ms()},
        )
        return reply(models.EmptyObject, {})

    async def list_client_service_conversations(
        self,
        *,
        auth: Credentials,
        client_id: str,
        conv_id: str | None = None,
        timestamp: int | None = None,
        limit: int | None = None,
        direction: Literal["old", "new"] | None = None,
    ) -> Any:
        rows = [
            row
            for doc in self.store.find(kind(CONV))
            if family_of(doc) == "sys"
            for row in self.subscriptions(doc)
            if row["subscriber"] == client_id
        ]
        newer = direction == "new"
        rows.sort(key=lambda r: (r["timestamp"], r["conv_id"]), reverse=not newer)
        if timestamp is not None:
            mark = (timestamp, conv_id or "")
            rows = [
                r
                for r in rows
                if (
                    (r["timestamp"], r["conv_id"]) > mark
                    if newer
                    else (r["timestamp"], r["conv_id"]) < mark
                )
            ]
        return reply(list[models.Subscription], rows[: page_size(limit, 50, 100) or 50])

    async def list_client_messages(
        self,
        *,
        auth: Credentials,
        client_id: str,
        msgid: str | None = None,
        timestamp: int | None = None,
        till_msgid: str | None = None,
        till_timestamp: int | None = None,
        include_start: bool | None = None,
        include_stop: bool | None = None,
        reversed: bool | None = None,
        limit: int | None = None,
        client_id_2: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        mine = [
            m
            for m in self.store.find("rtm_msg")
            if m.get("from") == client_id and m.get("_family") in ("conv", "room")
        ]
        return self.history(
            mine, msgid=msgid, timestamp=timestamp, till_msgid=till_msgid,
            till_timestamp=till_timestamp, include_start=include_start,
            include_stop=include_stop, reversed=reversed, limit=limit,
        )  # fmt: skip

    async def list_client_blacklist(
        self,
        *,
        auth: Credentials,
        client_id: str,
        limit: int | None = None,
        next: str | None = None,
    ) -> Any:
        page = self.page(self.blocked_by_client(client_id), limit, next, "conv_ids")
        return reply(models.ClientBlacklistPage, page)

    async def add_client_blacklist(
        self, *, auth: Credentials, client_id: str, body: models.ClientBlacklistRequest
    ) -> Any:
        with self.store.transaction():
            doc = self.conv(body.conv_id, None)
            blocked = self.blocked_by_client(client_id)
            if body.conv_id not in blocked:
                blocked.append(body.conv_id)
            self.store.put("rtm_client", client_id, {"blocked": blocked})
            if client_id in doc.get("m", []):
                doc["m"] = [c for c in doc["m"] if c != client_id]
                self.save_conv(doc)
        return reply(models.EmptyObject, {})

    async def remove_client_blacklist(
        self, *, auth: Credentials, client_id: str, body: models.ClientBlacklistRequest
    ) -> Any:
        with self.store.transaction():
            blocked = [c for c in self.blocked_by_client(client_id) if c != body.conv_id]
            self.store.put("rtm_client", client_id, {"blocked": blocked})
        return reply(models.EmptyObject, {})

    async def get_rtm_stats(self, *, auth: Credentials) -> Any:
        today = datetime.now(UTC).date()
        senders = {
            m.get("from")
            for m in self.store.find("rtm_msg")
            if datetime.fromtimestamp(m.get("timestamp", 0) / 1000, UTC).date() == today
        }
        return reply(
            models.RtmStats, {"result": {"online_user_count": 0, "user_count_today": len(senders)}}
        )

    async def query_all_conversations(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Any:
        return self.query_convs(("conv", "room", "sys"), where, skip, limit)

    # -- broadcasts -----------------------------------------------------------------------------
    def broadcast(
        self, sender: str, conv_id: str, text: str, valid_till: Any, push: Any, transient: bool
    ) -> JsonObject:
        self.conv(conv_id, "sys")
        if len(text.encode()) > MAX_MESSAGE:
            raise bad(4315, "Message is too large: at most 5 KB.")
        stamp = self.ms()
        month = stamp + 30 * 24 * 3600 * 1000
        try:
            till = min(int(valid_till), month) if valid_till is not None else month
        except (TypeError, ValueError):
            raise bad(1, "valid_till must be a Unix time in milliseconds.") from None
        record: Doc = {
            "msg-id": message_id(),
            "conv-id": conv_id,
            "from": sender,
            "data": text,
            "timestamp": stamp,
            "valid-till": till,
            "transient": transient,
        }
        if push is not None:
            record["push"] = push
        self.store.put("rtm_broadcast", record["msg-id"], record)
        return {"msg-id": record["msg-id"], "timestamp": stamp}

    async def list_broadcasts(
        self, *, auth: Credentials, conv_id: str, limit: int | None = None, skip: int | None = None
    ) -> Any:
        now = self.ms()
        rows = [
            b
            for b in self.store.find("rtm_broadcast")
            if b.get("conv-id") == conv_id and b.get("valid-till", 0) > now
        ]
        rows.sort(key=lambda b: -b["timestamp"])
        start = max(0, skip or 0)
        return reply(list[models.AnyObject], rows[start : start + page_size(limit)])

    async def create_broadcast(
        self, *, auth: Credentials, body: models.CreateBroadcastRequest
    ) -> Any:
        data = raw_body(body)
        sent = self.broadcast(
            body.from_client, body.conv_id, body.message, body.valid_till, data.get("push"),
            bool(body.transient),
        )  # fmt: skip
        return reply(models.MessageSent, sent)

    async def delete_broadcast(self, *, auth: Credentials, message_id: str) -> Any:
        if not self.store.delete("rtm_broadcast", message_id):
            raise fail(404, 101, f"Broadcast {message_id} not found.")
        return reply(models.EmptyObject, {})

    async def list_all_messages(
        self,
        *,
        auth: Credentials,
        msgid: str | None = None,
        timestamp: int | None = None,
        till_msgid: str | None = None,
        till_timestamp: int | None = None,
        include_start: bool | None = None,
        include_stop: bool | None = None,
        reversed: bool | None = None,
        limit: int | None = None,
        client_id: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        return self.history(
            self.store.find("rtm_msg"), msgid=msgid, timestamp=timestamp, till_msgid=till_msgid,
            till_timestamp=till_timestamp, include_start=include_start, include_stop=include_stop,
            reversed=reversed, limit=limit,
        )  # fmt: skip

    # -- legacy v1.1 ----------------------------------------------------------------------------
    def legacy_history(
        self,
        convid: str | None,
        sender: str | None,
        max_ts: int | None,
        msgid: str | None,
        timestamp: int | None,
        limit: int | None,
        reversed: bool | None,
    ) -> Any:
        messages = [
            m
            for m in self.store.find("rtm_msg")
            if (convid is None or m.get("conv-id") == convid)
            and (sender is None or m.get("from") == sender)
        ]
        return self.history(
            messages, msgid=msgid, timestamp=max_ts if max_ts is not None else timestamp,
            limit=limit, reversed=reversed,
        )  # fmt: skip

    async def list_legacy_message_logs(
        self,
        *,
        auth: Credentials,
        convid: str | None = None,
        from_: str | None = None,
        max_ts: int | None = None,
        msgid: str | None = None,
        timestamp: int | None = None,
        limit: int | None = None,
        reversed: bool | None = None,
        peerid: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        return self.legacy_history(convid, from_, max_ts, msgid, timestamp, limit, reversed)

    async def list_legacy_message_history(
        self,
        *,
        auth: Credentials,
        convid: str | None = None,
        from_: str | None = None,
        max_ts: int | None = None,
        msgid: str | None = None,
        timestamp: int | None = None,
        limit: int | None = None,
        reversed: bool | None = None,
        peerid: str | None = None,
        nonce: str | None = None,
        signature_ts: int | None = None,
        signature: str | None = None,
    ) -> Any:
        return self.legacy_history(convid, from_, max_ts, msgid, timestamp, limit, reversed)

    async def send_legacy_message(
        self, *, auth: Credentials, body: models.LegacySendMessageRequest
    ) -> Any:
        doc = self.conv(body.conv_id, None)
        sent = self.store_message(
            doc, body.from_peer, body.message, transient=bool(body.transient), to=body.to_peers
        )
        return reply(models.AnyObject, sent)

    async def send_legacy_broadcast(
        self, *, auth: Credentials, body: models.LegacyBroadcastRequest
    ) -> Any:
        data = raw_body(body)
        push = data.get("push", data.get("push_data"))
        valid = body.valid_till
        if isinstance(valid, str) and not valid.isdigit():
            moment = parse_iso(valid)
            valid = int(moment.timestamp() * 1000) if moment else None
        sent = self.broadcast(body.from_peer, body.conv_id, body.message, valid, push, False)
        return reply(models.AnyObject, sent)

    async def patch_legacy_message(
        self, *, auth: Credentials, body: models.LegacyPatchMessageRequest
    ) -> Any:
        if not (body.conv_id and body.msg_id and body.from_peer):
            raise bad(1, "conv_id, msg_id and from_peer are required.")
        data = raw_body(body)
        recall = bool(data.get("recall")) or body.message is None
        conv = self.conv(body.conv_id, None)
        self.edit(
            body.conv_id, family_of(conv), body.msg_id, body.from_peer, body.timestamp,
            None if recall else body.message,
        )  # fmt: skip
        return reply(models.AnyObject, {})

    async def send_legacy_subscriber_broadcast(
        self, *, auth: Credentials, body: models.LegacySubscriberBroadcastRequest
    ) -> Any:
        doc = self.conv(body.conv_id, "sys")
        return reply(models.AnyObject, self.store_message(doc, body.from_peer, body.message))

    async def count_legacy_transient_group_onlines(self, *, auth: Credentials, gid: str) -> Any:
        return reply(models.OnlineCount, {"result": 0})


__all__ = ["RtmMixin"]
