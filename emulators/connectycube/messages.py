"""Chat messages: history with filters, read/delivered marks, unread counts, reactions, search.

A message remembers who read it and who it reached (`read_ids`, `delivered_ids`), who deleted it for
themselves, and reactions per user. Listing marks the returned messages read unless
`mark_as_read=0`. Custom keys sent with a message come back as extra properties.
"""

from __future__ import annotations

from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import (
    DIALOG,
    MESSAGE,
    NOT_FOUND,
    iso,
    parse_time,
    split_ids,
    to_int,
)
from .context import base_error, current, field_error, list_error
from .dialogs import BROADCAST, GROUP, MEETING, PRIVATE, PUBLIC, DialogsMixin

KNOWN_KEYS = frozenset(
    {"chat_dialog_id", "recipient_id", "message", "attachments", "send_to_chat", "markable"}
)
SYSTEM_KEYS = frozenset(
    {
        "_id",
        "sender_id",
        "date_sent",
        "created_at",
        "updated_at",
        "read_ids",
        "delivered_ids",
        "read",
        "views_count",
        "reactions",
        "edited_at",
        "deleted_for",
        "deleted_for_ids",
        "custom",
        "reactions_map",
    }
)
LIST_RESERVED = (
    "chat_dialog_id",
    "skip",
    "limit",
    "sort_asc",
    "sort_desc",
    "mark_as_read",
    "preview",
)
PREVIEW_SIZE = 20
SEARCH_SPAN = 92 * 86400.0  # start and end of a search at most about three months apart


class MessagesMixin(DialogsMixin):
    def message_view(self, doc: Doc, viewer: int | None, *, admin: bool = False) -> dict[str, Any]:
        reactions = {k: v for k, v in (doc.get("reactions_map") or {}).items() if v}
        out: dict[str, Any] = dict(doc.get("custom") or {})
        out.update(
            {
                "_id": doc["_id"],
                "chat_dialog_id": doc["chat_dialog_id"],
                "message": doc.get("message"),
                "sender_id": doc.get("sender_id"),
                "recipient_id": doc.get("recipient_id", 0),
                "date_sent": doc.get("date_sent"),
                "created_at": iso(doc.get("created_at")),
                "updated_at": iso(doc.get("updated_at")),
                "read_ids": list(doc.get("read_ids") or []),
                "delivered_ids": list(doc.get("delivered_ids") or []),
                "read": 0,
                "views_count": doc.get("views_count", 0),
                "attachments": list(doc.get("attachments") or []),
                "reactions": {
                    "own": [k for k, users in reactions.items() if viewer in users],
                    "total": {k: len(users) for k, users in reactions.items()},
                }
                if reactions
                else None,
            }
        )
        if admin:
            out["deleted_for_ids"] = list(doc.get("deleted_for") or [])
            out["edited_at"] = doc.get("edited_at")
        elif doc.get("edited_at") is not None:
            out["edited_at"] = doc["edited_at"]
        return out

    def can_post(self, dialog: Doc, user: int) -> bool:
        if dialog["type"] == BROADCAST:
            return self.is_admin(dialog, user)
        return self.is_member(dialog, user)

    def message(self, message_id: str) -> Doc:
        doc = self.store.get(MESSAGE, message_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return doc

    # -- create ------------------------------------------------------------------------------
    async def create_message(
        self,
        *,
        auth: Credentials,
        body: models.CreateMessageRequest,
    ) -> Any:
        me = self.user_id(auth)
        fields = body.root
        ctx = current()
        raw = ctx.json_body() if ctx is not None else None
        raw = raw if isinstance(raw, dict) else {}
        with self.store.transaction():
            if fields.chat_dialog_id:
                dialog = self.dialog(fields.chat_dialog_id)
            else:
                dialog = self._private_with(me, fields.recipient_id)
            if not self.can_post(dialog, me):
                raise base_error(403, "You are not allowed to send messages to this dialog")
            recipient = to_int(fields.recipient_id) if fields.recipient_id is not None else None
            if recipient is None:
                others = [u for u in dialog.get("occupants_ids") or [] if u != me]
                recipient = others[0] if dialog["type"] == PRIVATE and others else 0
            now = self.now()
            attachments = self._attachments(fields.attachments)
            custom = {k: v for k, v in raw.items() if k not in KNOWN_KEYS and k not in SYSTEM_KEYS}
            doc: Doc = {
                "_id": self.oid(),
                "chat_dialog_id": dialog["_id"],
                "message": fields.message,
                "sender_id": me,
                "recipient_id": recipient,
                "date_sent": int(now),
                "created_at": now,
                "updated_at": now,
                "read_ids": [me],
                "delivered_ids": [me],
                "views_count": 0,
                "attachments": attachments,
                "reactions_map": {},
                "custom": custom,
                "deleted_for": [],
                "markable": str(fields.markable) == "1",
            }
            self.store.put(MESSAGE, doc["_id"], doc)
            dialog["updated_at"] = now
            if dialog["type"] == PRIVATE:
                dialog["deleted_ids"] = []  # a private chat comes back with a new message
            self.save_dialog(dialog)
        if str(fields.send_to_chat) == "1":
            self.record_outbox(
                "xmpp_message",
                {"dialog_id": dialog["_id"], "message_id": doc["_id"], "sender_id": me},
            )
        return Reply(201, self.message_view(doc, me))

    def _private_with(self, me: int, recipient: Any) -> Doc:
        other = to_int(recipient)
        if other is None or other == me:
            raise field_error("recipient_id", "is invalid")
        if self.user_doc(other) is None:
            raise list_error(404, NOT_FOUND)
        pair = {me, other}
        found = self.store.first(
            DIALOG, lambda d: d["type"] == PRIVATE and set(d.get("occupants_ids") or []) == pair
        )
        if found is not None:
            return found
        now = self.now()
        doc: Doc = {
            "_id": self.oid(),
            "type": PRIVATE,
            "user_id": me,
            "name": None,
            "description": None,
            "photo": None,
            "occupants_ids": [me, other],
            "admins_ids": [],
            "pinned_messages_ids": [],
            "extensions": None,
            "permissions": None,
            "created_at": now,
            "updated_at": now,
            "deleted_ids": [],
            "silent_ids": [],
            "muted_ids": [],
            "blocked_ids": [],
            "is_e2ee": False,
        }
        self.save_dialog(doc)
        return doc

    @staticmethod
    def _attachments(value: Any) -> list[dict[str, Any]]:
        if value is None:
            return []
        if isinstance(value, dict):
            keys = sorted(value, key=lambda k: (to_int(k) is None, to_int(k) or 0, k))
            items = [value[k] for k in keys]
        else:
            items = list(value)
        return [
            i.model_dump(exclude_none=True) if hasattr(i, "model_dump") else dict(i) for i in items
        ]

    # -- list --------------------------------------------------------------------------------
    async def list_messages(
        self,
        *,
        auth: Credentials,
        chat_dialog_id: str | None = None,
        skip: int | None = None,
        limit: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        mark_as_read: int | None = None,
        preview: int | None = None,
        **_filters: Any,
    ) -> Any:
        me = self.user_id(auth)
        if not chat_dialog_id:
            raise list_error(404, NOT_FOUND)
        dialog = self.dialog(chat_dialog_id)
        previewing = False
        if not self.is_member(dialog, me):
            allowed = bool((dialog.get("permissions") or {}).get("allow_preview"))
            if not (preview and allowed):
                raise base_error(403, "You are not a member of this dialog")
            previewing = True
        ctx = current()
        conditions = query.parse_pairs(
            ctx.query if ctx else [], LIST_RESERVED, rename={"id": "_id"}
        )
        docs = [
            m
            for m in self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") == chat_dialog_id)
            if me not in (m.get("deleted_for") or [])
        ]
        docs = query.apply([{**(m.get("custom") or {}), **m} for m in docs], conditions)

        def default(m: Doc) -> Any:
            return (m.get("date_sent", 0), m["_id"])

        if previewing:
            docs = sorted(docs, key=default)[-PREVIEW_SIZE:]
            start, size = 0, PREVIEW_SIZE
        else:
            docs = query.sort(docs, sort_asc, sort_desc, default=default)
            start = max(0, skip or 0)
            size = 100 if limit is None or limit <= 0 else min(limit, 100)
            docs = docs[start : start + size]
        if mark_as_read != 0 and not previewing:
            docs = self._mark(docs, me, read=True)
        return {"skip": start, "limit": size, "items": [self.message_view(m, me) for m in docs]}

    def _mark(self, docs: list[Doc], me: int, *, read: bool) -> list[Doc]:
        """Mark messages read (and delivered) or delivered by `me`; returns them updated."""
        out = []
        with self.store.transaction():
            for doc in docs:
                stored = self.store.get(MESSAGE, doc["_id"])
                if stored is None:
                    continue
                changed = False
                if me not in stored.get("delivered_ids", []):
                    stored.setdefault("delivered_ids", []).append(me)
                    changed = True
                if read and me not in stored.get("read_ids", []):
                    stored.setdefault("read_ids", []).append(me)
                    if me != stored.get("sender_id"):
                        stored["views_count"] = stored.get("views_count", 0) + 1
                    changed = True
                if changed:
                    stored["updated_at"] = self.now()
                    self.store.put(MESSAGE, stored["_id"], stored)
                out.append(stored)
        return out

    # -- update ------------------------------------------------------------------------------
    async def update_messages(
        self, *, auth: Credentials, message_id: str, body: models.UpdateMessageRequest
    ) -> None:
        me = self.user_id(auth)
        ids = split_ids(message_id)
        if not ids:
            raise list_error(404, NOT_FOUND)
        docs = [self.message(i) for i in ids]
        for doc in docs:
            if body.chat_dialog_id and doc["chat_dialog_id"] != body.chat_dialog_id:
                raise list_error(404, NOT_FOUND)
            if not self.is_member(self.dialog(doc["chat_dialog_id"]), me):
                raise base_error(403, "You are not a member of this dialog")
        if body.message is not None:
            if len(docs) != 1:
                raise base_error(422, "Only one message can be edited at a time")
            if docs[0].get("sender_id") != me:
                raise base_error(403, "Only the sender can edit a message")
            with self.store.transaction():
                doc = self.message(docs[0]["_id"])
                doc["message"] = body.message
                doc["edited_at"] = int(self.now())
                doc["updated_at"] = self.now()
                self.store.put(MESSAGE, doc["_id"], doc)
        if str(body.read) == "1" or str(body.delivered) == "1":
            self._mark(docs, me, read=str(body.read) == "1")
        elif body.message is None and body.read is None and body.delivered is None:
            raise base_error(422, "Nothing to update: give message, read or delivered")
        return None

    async def update_dialog_messages(
        self, *, auth: Credentials, body: models.UpdateMessageRequest
    ) -> None:
        me = self.user_id(auth)
        if not body.chat_dialog_id:
            raise field_error("chat_dialog_id", "can't be blank")
        if body.message is not None:
            raise base_error(422, "Give message ids to edit a message")
        if str(body.read) != "1" and str(body.delivered) != "1":
            raise base_error(422, "Nothing to update: give read or delivered")
        dialog = self.dialog(body.chat_dialog_id)
        if not self.is_member(dialog, me):
            raise base_error(403, "You are not a member of this dialog")
        docs = self.store.find(
            MESSAGE,
            lambda m: (
                m.get("chat_dialog_id") == dialog["_id"] and me not in (m.get("deleted_for") or [])
            ),
        )
        self._mark(docs, me, read=str(body.read) == "1")
        return None

    # -- delete ------------------------------------------------------------------------------
    async def delete_messages(
        self, *, auth: Credentials, message_id: str, force: int | None = None
    ) -> Any:
        me = self.user_id(auth)
        done: list[str] = []
        missing: list[str] = []
        refused: list[str] = []
        forced: list[Doc] = []
        with self.store.transaction():
            for one in split_ids(message_id):
                doc = self.store.get(MESSAGE, one)
                dialog = self.store.get(DIALOG, doc["chat_dialog_id"]) if doc else None
                if (
                    doc is None
                    or dialog is None
                    or me in (doc.get("deleted_for") or [])
                    or not self.is_member(dialog, me)
                ):
                    missing.append(one)
                    continue
                own = doc.get("sender_id") == me
                moderator = dialog["type"] != PRIVATE and self.is_admin(dialog, me)
                if dialog["type"] == BROADCAST and not moderator:
                    refused.append(one)
                elif force:
                    if own or moderator:
                        self.store.delete(MESSAGE, one)
                        forced.append(doc)
                        done.append(one)
                    else:
                        refused.append(one)
                else:
                    doc.setdefault("deleted_for", []).append(me)
                    self.store.put(MESSAGE, one, doc)
                    done.append(one)
        for doc in forced:
            self.record_outbox(
                "xmpp_remove_message",
                {"dialog_id": doc["chat_dialog_id"], "message_id": doc["_id"]},
            )
        return {
            "SuccessfullyDeleted": {"ids": done},
            "NotFound": {"ids": missing},
            "WrongPermissions": {"ids": refused},
        }

    # -- unread ------------------------------------------------------------------------------
    async def get_unread_messages_count(
        self, *, auth: Credentials, chat_dialog_ids: str | None = None
    ) -> Any:
        me = self.user_id(auth)
        dialogs = [
            d
            for d in self.store.find(DIALOG)
            if d["type"] in (GROUP, PRIVATE, MEETING) and self.visible(d, me)
        ]
        grouped = self.messages_by_dialog({d["_id"] for d in dialogs})
        counts = {d["_id"]: self.unread(grouped.get(d["_id"], []), me) for d in dialogs}
        out: dict[str, int] = {"total": sum(counts.values())}
        for one in split_ids(chat_dialog_ids or ""):
            if one in counts:
                out[one] = counts[one]
        return out

    # -- system messages ---------------------------------------------------------------------
    async def send_system_message(
        self, *, auth: Credentials, body: models.SendSystemMessageRequest
    ) -> Any:
        me = self.user_id(auth)
        if self.user_doc(body.recipientId) is None:
            raise field_error("recipientId", "is invalid")
        extra = {
            k: (v if isinstance(v, (dict, str)) else _text(v))
            for k, v in (body.model_extra or {}).items()
        }
        message_id = self.oid()
        self.record_outbox(
            "xmpp_system_message",
            {
                "message_id": message_id,
                "sender_id": me,
                "recipient_id": body.recipientId,
                "extension": extra,
            },
        )
        return {"messageId": message_id, "recipientId": body.recipientId, "extensionParams": extra}

    # -- reactions ---------------------------------------------------------------------------
    async def list_message_reactions(self, *, auth: Credentials, message_id: str) -> Any:
        me = self.user_id(auth)
        doc = self.message(message_id)
        if not self.is_member(self.dialog(doc["chat_dialog_id"]), me):
            raise base_error(403, "You are not a member of this dialog")
        return {k: list(v) for k, v in (doc.get("reactions_map") or {}).items() if v}

    async def update_message_reactions(
        self, *, auth: Credentials, message_id: str, body: models.UpdateMessageReactionsRequest
    ) -> None:
        me = self.user_id(auth)
        if not body.add and not body.remove:
            raise base_error(422, "add or remove is required")
        with self.store.transaction():
            doc = self.message(message_id)
            if not self.is_member(self.dialog(doc["chat_dialog_id"]), me):
                raise base_error(403, "You are not a member of this dialog")
            reactions: dict[str, list[int]] = doc.setdefault("reactions_map", {})
            if body.remove and me in reactions.get(body.remove, []):
                reactions[body.remove].remove(me)
                if not reactions[body.remove]:
                    del reactions[body.remove]
            if body.add and me not in reactions.setdefault(body.add, []):
                reactions[body.add].append(me)
            self.store.put(MESSAGE, message_id, doc)
        self.record_outbox(
            "xmpp_reactions",
            {"message_id": message_id, "user_id": me, "add": body.add, "remove": body.remove},
        )
        return None

    # -- search ------------------------------------------------------------------------------
    async def search_chat(
        self,
        *,
        auth: Credentials,
        search_text: str,
        chat_dialog_ids: str | None = None,
        start_date: str | int | None = None,
        end_date: str | int | None = None,
        limit: int | None = None,
    ) -> Any:
        me = self.user_id(auth)
        if len(search_text) <= 4:
            raise field_error("search_text", "should be longer than 4 symbols")
        only = split_ids(chat_dialog_ids or "")
        if len(only) > 10:
            raise field_error("chat_dialog_ids", "can include at most 10 dialogs")
        start = parse_time(start_date) if start_date is not None else None
        end = parse_time(end_date) if end_date is not None else None
        if start_date is not None and start is None:
            raise field_error("start_date", "is invalid")
        if end_date is not None and end is None:
            raise field_error("end_date", "is invalid")
        if start is not None and end is None:
            raise field_error("end_date", "is required with start_date")
        if start is not None and end is not None and abs(start - end) > SEARCH_SPAN:
            raise field_error("end_date", "shouldn't differ by more than 3 months from start_date")
        size = 100 if limit is None or limit <= 0 else min(limit, 100)
        dialogs = [
            d
            for d in self.store.find(DIALOG)
            if self.visible(d, me) and (not only or d["_id"] in only)
        ]
        grouped = self.messages_by_dialog({d["_id"] for d in dialogs})
        found_dialogs = [d for d in dialogs if search_text in (d.get("name") or "")][:size]
        found_messages: list[Doc] = []
        for d in dialogs:
            for m in grouped.get(d["_id"], []):
                if me in (m.get("deleted_for") or []) or search_text not in (
                    m.get("message") or ""
                ):
                    continue
                sent = float(m.get("date_sent", 0))
                if (start is not None and sent > start) or (end is not None and sent < end):
                    continue
                found_messages.append(m)
        found_messages.sort(key=lambda m: (m.get("date_sent", 0), m["_id"]), reverse=True)
        found_messages = found_messages[:size]
        user_ids = sorted({int(m["sender_id"]) for m in found_messages if m.get("sender_id")})
        users = [u for u in (self.user_doc(i) for i in user_ids) if u]
        return {
            "results": {
                "dialogs": [
                    self.dialog_view(d, me, grouped.get(d["_id"], [])) for d in found_dialogs
                ],
                "messages": [self.message_view(m, me) for m in found_messages],
                "users": [self.user_view(u) for u in users],
            }
        }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


__all__ = ["PUBLIC", "MessagesMixin"]
