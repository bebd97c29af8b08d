"""Chat dialogs and their message history: occupants, read/delivered marks, unread counters."""

from __future__ import annotations

from typing import Any

from generated.quickblox import models
from generated.quickblox.server import (
    Credentials,
    DialogsHandlers,
    MessagesHandlers,
    Reply,
    Result,
)

from . import context, query
from .base import CLASS, DIALOG, MESSAGE, USER, Base
from .schema import cast
from .util import (
    NO_PERMISSION,
    NOT_FOUND,
    VendorError,
    fail,
    field_error,
    int_list,
    str_list,
    to_int,
)

Doc = dict[str, Any]
PUBLIC, GROUP, PRIVATE = 1, 2, 3
DIALOG_FIELDS = (
    "_id",
    "type",
    "user_id",
    "name",
    "photo",
    "occupants_ids",
    "admin_ids",
    "xmpp_room_jid",
    "last_message",
    "last_message_id",
    "last_message_user_id",
    "last_message_date_sent",
    "is_join_required",
    "data",
    "created_at",
    "updated_at",
)
HIDDEN = "__hidden_for"  # users who deleted the dialog or message for themselves
MUTED = "__muted_for"  # users who turned the dialog's push notifications off
MESSAGE_KNOWN = frozenset(
    {
        "chat_dialog_id",
        "recipient_id",
        "message",
        "attachments",
        "send_to_chat",
        "markable",
        "date_sent",
    }
)
MESSAGE_RESERVED = frozenset(
    {"_id", "sender_id", "read_ids", "delivered_ids", "read", "created_at", "updated_at", HIDDEN}
)
LIST_RESERVED = (
    "limit",
    "skip",
    "count",
    "sort_asc",
    "sort_desc",
    "mark_as_read",
    "token",
    "chat_dialog_id",
)
MAX_LIMIT = 100


def _flag(value: Any, name: str) -> int | None:
    """A 0/1 form or JSON value; 422 for anything else."""
    if value is None:
        return None
    number = to_int(value)
    if number not in (0, 1):
        field_error(name, "is invalid")
    return number


class ChatOps(Base, DialogsHandlers, MessagesHandlers):
    # -- dialogs: helpers -------------------------------------------------------------------
    def dialog_doc(self, dialog_id: str) -> Doc:
        doc = self.store.get(DIALOG, dialog_id)
        if doc is None:
            fail("not_found", NOT_FOUND)
        return doc

    @staticmethod
    def is_member(dialog: Doc, user_id: int) -> bool:
        return user_id in dialog.get("occupants_ids", [])

    def can_read(self, dialog: Doc, user_id: int) -> bool:
        return dialog.get("type") == PUBLIC or self.is_member(dialog, user_id)

    def readable_dialog(self, dialog_id: str, user_id: int) -> Doc:
        dialog = self.dialog_doc(dialog_id)
        if not self.can_read(dialog, user_id):
            fail("forbidden", NO_PERMISSION)
        return dialog

    def unread_counts(self, user_id: int, dialogs: list[Doc]) -> dict[str, int]:
        tracked = {
            d["_id"] for d in dialogs if d.get("type") != PUBLIC and self.is_member(d, user_id)
        }
        counts = dict.fromkeys(tracked, 0)
        if not tracked:
            return counts
        for msg in self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") in tracked):
            if (
                msg.get("sender_id") != user_id
                and user_id not in msg.get("read_ids", [])
                and user_id not in msg.get(HIDDEN, [])
            ):
                counts[msg["chat_dialog_id"]] += 1
        return counts

    def user_name(self, user_id: int) -> str | None:
        user = self.store.get(USER, str(user_id))
        if user is None:
            return None
        return user.get("full_name") or user.get("login") or user.get("email")

    def render_dialog(self, dialog: Doc, viewer: int, unread: dict[str, int] | None = None) -> Doc:
        out = {name: dialog.get(name) for name in DIALOG_FIELDS}
        if unread is None:
            unread = self.unread_counts(viewer, [dialog])
        out["unread_messages_count"] = unread.get(dialog["_id"], 0)
        if dialog.get("type") == PRIVATE:
            other = next((o for o in dialog.get("occupants_ids", []) if o != viewer), None)
            if other is not None:
                out["name"] = self.user_name(other)
        return out

    def dialog_model(self, dialog: Doc, viewer: int) -> models.Dialog:
        return models.Dialog.model_validate(self.render_dialog(dialog, viewer))

    def check_users(self, ids: list[int], field: str = "occupants_ids") -> None:
        missing = [i for i in ids if self.store.get(USER, str(i)) is None]
        if missing:
            field_error(field, f"contain unknown users: {', '.join(map(str, missing))}")

    def custom_data(self, data: models.DialogCustomData | None) -> Doc | None:
        """Custom parameters, checked and cast against the custom-object class they name."""
        if data is None:
            return None
        values = data.model_dump(exclude_unset=True)
        class_name = values.pop("class_name", None)
        if not class_name:
            field_error("data", "class_name is required")
        klass = self.store.get(CLASS, str(class_name))
        if klass is None:
            field_error("data", f"class {class_name} does not exist")
        types = {
            f["name"]: f["type"] + ("_a" if f.get("is_array") == "1" else "")
            for f in klass.get("custom_fields", [])
        }
        out: Doc = {"class_name": class_name}
        errors: dict[str, list[str]] = {}
        for name, value in values.items():
            if name not in types:
                errors.setdefault(f"data.{name}", []).append("is not a field of the class")
                continue
            try:
                out[name] = cast(value, types[name])
            except ValueError as problem:
                errors.setdefault(f"data.{name}", []).append(str(problem))
        if errors:
            raise VendorError(422, {"errors": errors})
        return out

    def drop_dialog(self, dialog_id: str) -> None:
        with self.store.transaction():
            self.store.delete(DIALOG, dialog_id)
            for msg in self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") == dialog_id):
                self.store.delete(MESSAGE, msg["_id"])

    def private_between(self, me: int, other: int) -> Doc | None:
        pair = sorted((me, other))
        found: Doc | None = self.store.first(
            DIALOG,
            lambda d: d.get("type") == PRIVATE and sorted(d.get("occupants_ids", [])) == pair,
        )
        return found

    def new_dialog(
        self, kind: int, owner: int, occupants: list[int], name: str | None, **extra: Any
    ) -> Doc:
        now = self.now_iso()
        dialog_id = self.object_id()
        doc: Doc = {name_: None for name_ in DIALOG_FIELDS}
        doc.update(
            {
                "_id": dialog_id,
                "type": kind,
                "user_id": owner,
                "name": name,
                "occupants_ids": occupants,
                "admin_ids": [],
                "xmpp_room_jid": None
                if kind == PRIVATE
                else f"{self.app_id}_{dialog_id}@muc.chat.quickblox.com",
                "created_at": now,
                "updated_at": now,
                HIDDEN: [],
                MUTED: [],
            }
        )
        doc.update(extra)
        self.store.put(DIALOG, dialog_id, doc)
        return doc

    # -- dialogs: operations ----------------------------------------------------------------
    async def create_dialog(
        self, *, auth: Credentials, body: models.CreateDialogRequest
    ) -> Result[models.Dialog]:
        me = self.me()
        ids = int_list(body.occupants_ids)
        if ids is None:
            field_error("occupants_ids", "is invalid")
        others = list(dict.fromkeys(i for i in ids if i != me))
        name = body.name.strip() if body.name else None
        if body.type in (PUBLIC, GROUP) and not name:
            field_error("name", "can't be blank")
        if body.type in (GROUP, PRIVATE) and body.occupants_ids is None:
            field_error("occupants_ids", "can't be blank")
        if body.type == PRIVATE and len(others) != 1:
            field_error("occupants_ids", "a private dialog has exactly one other occupant")
        self.check_users(others)
        data = self.custom_data(body.data)
        with self.store.transaction():
            if body.type == PRIVATE:
                existing = self.private_between(me, others[0])
                if existing is not None:
                    existing[HIDDEN] = [u for u in existing.get(HIDDEN, []) if u != me]
                    self.store.put(DIALOG, existing["_id"], existing)
                    return Reply(201, self.dialog_model(existing, me))
            doc = self.new_dialog(
                body.type,
                me,
                [me, *others],
                None if body.type == PRIVATE else name,
                photo=body.photo,
                data=data,
                is_join_required=body.is_join_required,
            )
        return Reply(201, self.dialog_model(doc, me))

    async def get_dialog(self, *, auth: Credentials, dialog_id: str) -> Result[models.Dialog]:
        me = self.me()
        return self.dialog_model(self.readable_dialog(dialog_id, me), me)

    async def update_dialog(
        self, *, auth: Credentials, dialog_id: str, body: models.UpdateDialogRequest
    ) -> Result[models.Dialog]:
        me = self.me()
        changes = body.model_dump(exclude_unset=True)
        with self.store.transaction():
            dialog = self.readable_dialog(dialog_id, me)
            kind, owner = dialog.get("type"), dialog.get("user_id")
            admin = me == owner or me in dialog.get("admin_ids", [])
            if kind == PUBLIC and me != owner:
                fail("forbidden", NO_PERMISSION)
            if kind != PUBLIC and not self.is_member(dialog, me):
                fail("forbidden", NO_PERMISSION)
            push = body.push_all or models.DialogArrayChange()
            pull = body.pull_all or models.DialogArrayChange()
            if kind == PRIVATE and (push.occupants_ids or pull.occupants_ids):
                fail("forbidden", "Occupants of a private dialog cannot be changed")
            if (push.admin_ids or pull.admin_ids) and me != owner:
                fail("forbidden", NO_PERMISSION)
            removed_others = [u for u in pull.occupants_ids or [] if u != me]
            if removed_others and not admin:
                fail("forbidden", NO_PERMISSION)
            if "name" in changes:
                if kind == PRIVATE:
                    field_error("name", "cannot be set for a private dialog")
                if not (body.name or "").strip():
                    field_error("name", "can't be blank")
                dialog["name"] = (body.name or "").strip()
            if "photo" in changes:
                dialog["photo"] = body.photo
            if body.data is not None:
                dialog["data"] = self.custom_data(body.data)
            if push.occupants_ids:
                self.check_users(push.occupants_ids)
                occupants = dialog.get("occupants_ids", [])
                dialog["occupants_ids"] = occupants + [
                    u for u in dict.fromkeys(push.occupants_ids) if u not in occupants
                ]
            if pull.occupants_ids:
                gone = set(pull.occupants_ids)
                dialog["occupants_ids"] = [u for u in dialog["occupants_ids"] if u not in gone]
                dialog["admin_ids"] = [u for u in dialog.get("admin_ids", []) if u not in gone]
            if push.admin_ids:
                strangers = [u for u in push.admin_ids if u not in dialog.get("occupants_ids", [])]
                if strangers:
                    field_error("admin_ids", "must be occupants of the dialog")
                admins = dialog.get("admin_ids", [])
                dialog["admin_ids"] = admins + [
                    u for u in dict.fromkeys(push.admin_ids) if u not in admins
                ]
            if pull.admin_ids:
                dialog["admin_ids"] = [
                    u for u in dialog.get("admin_ids", []) if u not in set(pull.admin_ids)
                ]
            dialog["updated_at"] = self.now_iso()
            if kind == GROUP and not dialog["occupants_ids"]:
                self.drop_dialog(dialog_id)
            else:
                self.store.put(DIALOG, dialog_id, dialog)
        return self.dialog_model(dialog, me)

    async def delete_dialogs(
        self,
        *,
        auth: Credentials,
        dialog_id: str,
        force: int | None = None,
        body: models.ForceDeleteRequest | None = None,
    ) -> Result[models.DeleteResult]:
        me = self.me()
        hard = (force if force is not None else (body.force if body else None)) == 1
        ids = str_list(dialog_id)
        done: list[str] = []
        refused: list[str] = []
        missing: list[str] = []
        with self.store.transaction():
            for one in ids:
                dialog = self.store.get(DIALOG, one)
                if dialog is None or (not hard and me in dialog.get(HIDDEN, [])):
                    missing.append(one)
                    continue
                kind, owner = dialog.get("type"), dialog.get("user_id")
                if hard:
                    if owner != me:
                        refused.append(one)
                        continue
                    self.drop_dialog(one)
                elif kind == GROUP and self.is_member(dialog, me):
                    dialog["occupants_ids"] = [u for u in dialog["occupants_ids"] if u != me]
                    dialog["admin_ids"] = [u for u in dialog.get("admin_ids", []) if u != me]
                    if dialog["occupants_ids"]:
                        self.store.put(DIALOG, one, dialog)
                    else:
                        self.drop_dialog(one)
                elif (kind == PRIVATE and self.is_member(dialog, me)) or (
                    kind == PUBLIC and owner == me
                ):
                    dialog[HIDDEN] = sorted({*dialog.get(HIDDEN, []), me})
                    self.store.put(DIALOG, one, dialog)
                    every = self.store.find(MESSAGE)
                    for msg in [m for m in every if m.get("chat_dialog_id") == one]:
                        msg[HIDDEN] = sorted({*msg.get(HIDDEN, []), me})
                        self.store.put(MESSAGE, msg["_id"], msg)
                else:
                    refused.append(one)
                    continue
                done.append(one)
        if len(ids) <= 1:
            if missing or not ids:
                fail("not_found", NOT_FOUND)
            if refused:
                fail("forbidden", NO_PERMISSION)
            return Reply(200, headers={"Content-Type": "text/plain"})  # one id: an empty body
        return models.DeleteResult.model_validate(
            {
                "SuccessfullyDeleted": {"ids": done},
                "WrongPermissions": {"ids": refused},
                "NotFound": {"ids": missing},
            }
        )

    async def list_dialogs(self, *, auth: Credentials, **params: Any) -> Result[models.DialogPage]:
        me = self.me()
        dialogs = [
            d
            for d in self.store.find(DIALOG)
            if (self.is_member(d, me) or d.get("type") == PUBLIC) and me not in d.get(HIDDEN, [])
        ]
        unread = self.unread_counts(me, dialogs)
        rendered = [self.render_dialog(d, me, unread) for d in dialogs]
        conditions = query.from_pairs(context.query_pairs(), LIST_RESERVED)
        rendered = query.select(rendered, conditions)
        sort_asc, sort_desc = params.get("sort_asc"), params.get("sort_desc")
        if sort_asc or sort_desc:
            rendered = query.ordered(rendered, sort_asc or sort_desc or "", descending=not sort_asc)
        else:
            rendered = query.ordered(
                query.ordered(rendered, "_id", descending=True),
                "last_message_date_sent",
                descending=True,
                tiebreak="updated_at",
            )
        total = len(rendered)
        if params.get("count") == 1:
            return models.DialogPage(total_entries=total, skip=0, limit=0, items=[])
        chunk, skip, limit = query.window(
            rendered, params.get("skip"), params.get("limit"), MAX_LIMIT, MAX_LIMIT
        )
        return models.DialogPage.model_validate(
            {"total_entries": total, "skip": skip, "limit": limit, "items": chunk}
        )

    async def get_dialog_notifications(
        self, *, auth: Credentials, dialog_id: str
    ) -> Result[models.DialogNotificationsWrapper]:
        me = self.me()
        dialog = self.readable_dialog(dialog_id, me)
        enabled = 0 if me in dialog.get(MUTED, []) else 1
        return models.DialogNotificationsWrapper.model_validate(
            {"notifications": {"enabled": enabled}}
        )

    async def update_dialog_notifications(
        self, *, auth: Credentials, dialog_id: str, body: models.UpdateDialogNotificationsRequest
    ) -> Result[models.DialogNotificationsWrapper]:
        me = self.me()
        with self.store.transaction():
            dialog = self.readable_dialog(dialog_id, me)
            muted = set(dialog.get(MUTED, []))
            if body.enabled:
                muted.discard(me)
            else:
                muted.add(me)
            dialog[MUTED] = sorted(muted)
            self.store.put(DIALOG, dialog_id, dialog)
        return models.DialogNotificationsWrapper.model_validate(
            {"notifications": {"enabled": body.enabled}}
        )

    def bulk_occupants(
        self, body: models.BulkOccupantsRequest, add: bool
    ) -> models.BulkOccupantsResult:
        me = self.me()
        users = list(dict.fromkeys(body.users_ids))
        known = [u for u in users if self.store.get(USER, str(u)) is not None]
        unknown = [u for u in users if u not in known]
        done: list[str] = []
        refused: list[str] = []
        missing: list[str] = []
        with self.store.transaction():
            for one in dict.fromkeys(body.dialogs_ids):
                dialog = self.store.get(DIALOG, one)
                if dialog is None:
                    missing.append(one)
                    continue
                admin = me == dialog.get("user_id") or me in dialog.get("admin_ids", [])
                allowed = dialog.get("type") == GROUP and self.is_member(dialog, me)
                if not add and any(u != me for u in known) and not admin:
                    allowed = False
                if not allowed:
                    refused.append(one)
                    continue
                occupants = dialog.get("occupants_ids", [])
                if add:
                    dialog["occupants_ids"] = occupants + [u for u in known if u not in occupants]
                else:
                    dialog["occupants_ids"] = [u for u in occupants if u not in known]
                    dialog["admin_ids"] = [u for u in dialog.get("admin_ids", []) if u not in known]
                dialog["updated_at"] = self.now_iso()
                if dialog["occupants_ids"]:
                    self.store.put(DIALOG, one, dialog)
                else:
                    self.drop_dialog(one)
                done.append(one)
        return models.BulkOccupantsResult.model_validate(
            {
                "users": {"SuccessfullyUpdated": known, "NotFound": unknown},
                "dialogs": {
                    "SuccessfullyUpdated": done,
                    "WrongPermissions": refused,
                    "NotFound": missing,
                },
            }
        )

    async def add_dialogs_occupants(
        self, *, auth: Credentials, body: models.BulkOccupantsRequest
    ) -> Result[models.BulkOccupantsResult]:
        return self.bulk_occupants(body, add=True)

    async def remove_dialogs_occupants(
        self, *, auth: Credentials, body: models.BulkOccupantsRequest
    ) -> Result[models.BulkOccupantsResult]:
        return self.bulk_occupants(body, add=False)

    # -- messages: helpers ------------------------------------------------------------------
    def render_message(self, msg: Doc) -> Doc:
        out = {k: v for k, v in msg.items() if not k.startswith("__")}
        read = 0
        if msg.get("recipient_id"):
            read = 1 if msg["recipient_id"] in msg.get("read_ids", []) else 0
        out["read"] = read
        return out

    def message_doc(self, message_id: str, me: int) -> Doc:
        msg = self.store.get(MESSAGE, message_id)
        if msg is None or me in msg.get(HIDDEN, []):
            fail("not_found", NOT_FOUND)
        return msg

    def refresh_last_message(self, dialog: Doc) -> None:
        """Point the dialog's `last_message*` at its newest remaining message."""
        msgs = self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") == dialog["_id"])
        latest = max(msgs, key=lambda m: (m.get("date_sent") or 0, m["_id"]), default=None)
        dialog["last_message"] = latest.get("message") if latest else None
        dialog["last_message_id"] = latest["_id"] if latest else None
        dialog["last_message_user_id"] = latest.get("sender_id") if latest else None
        dialog["last_message_date_sent"] = latest.get("date_sent") if latest else None
        self.store.put(DIALOG, dialog["_id"], dialog)

    @staticmethod
    def attachments(value: Any) -> list[Doc]:
        if value is None:
            return []
        if isinstance(value, models.IndexedAttachments):
            items = sorted(
                value.root.items(),
                key=lambda kv: (to_int(kv[0]) is None, to_int(kv[0]) or 0, kv[0]),
            )
            return [a.model_dump(exclude_none=True) for _, a in items]
        return [a.model_dump(exclude_none=True) for a in value]

    # -- messages: operations ---------------------------------------------------------------
    async def create_message(
        self, *, auth: Credentials, body: models.CreateMessageRequest
    ) -> Result[models.Message]:
        me = self.me()
        extras = dict(body.model_extra or {})
        with self.store.transaction():
            if body.chat_dialog_id:
                dialog = self.dialog_doc(body.chat_dialog_id)
            elif body.recipient_id is not None:
                other = to_int(body.recipient_id)
                if other is None or other == me:
                    field_error("recipient_id", "is invalid")
                if self.store.get(USER, str(other)) is None:
                    fail("not_found", NOT_FOUND)
                found = self.private_between(me, other)
                dialog = found or self.new_dialog(PRIVATE, me, [me, other], None)
            else:
                fail("validation", "chat_dialog_id or recipient_id is required")
            if not self.can_read(dialog, me):
                fail("forbidden", NO_PERMISSION)
            sent = to_int(extras.pop("date_sent", None))
            sent = sent if sent is not None and sent > 0 else int(self.now())
            kind = dialog.get("type")
            recipient = 0
            if kind == PRIVATE:
                recipient = next((o for o in dialog["occupants_ids"] if o != me), 0)
            now = self.now_iso()
            msg: Doc = {
                "_id": self.object_id(),
                "chat_dialog_id": dialog["_id"],
                "message": body.message,
                "sender_id": me,
                "recipient_id": recipient,
                "date_sent": sent,
                "created_at": now,
                "updated_at": now,
                "read_ids": [] if kind == PUBLIC else [me],
                "delivered_ids": [] if kind == PUBLIC else [me],
                "attachments": self.attachments(body.attachments),
                HIDDEN: [],
            }
            if body.markable is not None:
                msg["markable"] = body.markable
            for key, value in extras.items():
                if key not in MESSAGE_RESERVED and not key.startswith("__"):
                    msg[key] = value
            self.store.put(MESSAGE, msg["_id"], msg)
            dialog.update(
                {
                    "last_message": body.message,
                    "last_message_id": msg["_id"],
                    "last_message_user_id": me,
                    "last_message_date_sent": sent,
                    "updated_at": now,
                    HIDDEN: [],
                }
            )
            self.store.put(DIALOG, dialog["_id"], dialog)
        answer = self.render_message(msg)
        answer.update({"created_at": None, "updated_at": None})  # as the vendor's create answer
        return Reply(201, models.Message.model_validate(answer))

    async def list_messages(
        self, *, auth: Credentials, chat_dialog_id: str, **params: Any
    ) -> Result[models.MessageList]:
        me = self.me()
        dialog = self.readable_dialog(chat_dialog_id, me)
        msgs = self.store.find(
            MESSAGE,
            lambda m: m.get("chat_dialog_id") == chat_dialog_id and me not in m.get(HIDDEN, []),
        )
        rendered = {m["_id"]: self.render_message(m) for m in msgs}
        conditions = query.from_pairs(context.query_pairs(), LIST_RESERVED)
        chosen = query.select(list(rendered.values()), conditions)
        sort_asc, sort_desc = params.get("sort_asc"), params.get("sort_desc")
        field = sort_asc or sort_desc or "date_sent"
        chosen = query.ordered(chosen, field, descending=bool(sort_desc and not sort_asc))
        if params.get("count") == 1:
            return models.MessageList(skip=0, limit=0, items=[])
        chunk, skip, limit = query.window(
            chosen, params.get("skip"), params.get("limit"), MAX_LIMIT, MAX_LIMIT
        )
        if params.get("mark_as_read") != 0 and dialog.get("type") != PUBLIC:
            ids = {m["_id"] for m in chunk if m.get("sender_id") != me}
            with self.store.transaction():
                for one in ids:
                    stored = self.store.get(MESSAGE, one)
                    if stored is None:
                        continue
                    changed = False
                    for key in ("read_ids", "delivered_ids"):
                        if me not in stored.get(key, []):
                            stored[key] = [*stored.get(key, []), me]
                            changed = True
                    if changed:
                        self.store.put(MESSAGE, one, stored)
                        rendered_one = self.render_message(stored)
                        for item in chunk:
                            if item["_id"] == one:
                                item.update(rendered_one)
        return models.MessageList.model_validate({"skip": skip, "limit": limit, "items": chunk})

    async def get_message(self, *, auth: Credentials, message_id: str) -> Result[models.Message]:
        me = self.me()
        msg = self.message_doc(message_id, me)
        self.readable_dialog(str(msg.get("chat_dialog_id")), me)
        return models.Message.model_validate(self.render_message(msg))

    async def update_message(
        self, *, auth: Credentials, message_id: str, body: models.UpdateMessageRequest
    ) -> Result[None]:
        me = self.me()
        read = _flag(body.read, "read")
        delivered = _flag(body.delivered, "delivered")
        ids = str_list(message_id)
        with self.store.transaction():
            dialog = self.readable_dialog(body.chat_dialog_id, me)
            found = [
                m
                for m in (self.store.get(MESSAGE, one) for one in ids)
                if m is not None
                and m.get("chat_dialog_id") == dialog["_id"]
                and me not in m.get(HIDDEN, [])
            ]
            if not found:
                fail("not_found", NOT_FOUND)
            if body.message is not None and any(m.get("sender_id") != me for m in found):
                fail("forbidden", NO_PERMISSION)
            tracked = dialog.get("type") != PUBLIC
            for msg in found:
                if body.message is not None:
                    msg["message"] = body.message
                    msg["updated_at"] = self.now_iso()
                    if dialog.get("last_message_id") == msg["_id"]:
                        dialog["last_message"] = body.message
                        self.store.put(DIALOG, dialog["_id"], dialog)
                if tracked and read == 1:
                    for key in ("read_ids", "delivered_ids"):
                        if me not in msg.get(key, []):
                            msg[key] = [*msg.get(key, []), me]
                if tracked and read == 0 and msg.get("sender_id") != me:
                    msg["read_ids"] = [u for u in msg.get("read_ids", []) if u != me]
                if tracked and delivered == 1 and me not in msg.get("delivered_ids", []):
                    msg["delivered_ids"] = [*msg.get("delivered_ids", []), me]
                self.store.put(MESSAGE, msg["_id"], msg)
        return None

    async def delete_messages(
        self,
        *,
        auth: Credentials,
        message_id: str,
        force: int | None = None,
        body: models.ForceDeleteRequest | None = None,
    ) -> Result[models.DeleteResult]:
        me = self.me()
        hard = (force if force is not None else (body.force if body else None)) == 1
        done: list[str] = []
        refused: list[str] = []
        missing: list[str] = []
        touched: set[str] = set()
        with self.store.transaction():
            for one in str_list(message_id):
                msg = self.store.get(MESSAGE, one)
                if msg is None or me in msg.get(HIDDEN, []):
                    missing.append(one)
                    continue
                dialog = self.store.get(DIALOG, str(msg.get("chat_dialog_id")))
                if (
                    dialog is None
                    or not self.can_read(dialog, me)
                    or (hard and msg.get("sender_id") != me)
                ):
                    refused.append(one)
                    continue
                if hard:
                    self.store.delete(MESSAGE, one)
                    touched.add(dialog["_id"])
                else:
                    msg[HIDDEN] = sorted({*msg.get(HIDDEN, []), me})
                    self.store.put(MESSAGE, one, msg)
                done.append(one)
            for dialog_id in touched:
                dialog = self.store.get(DIALOG, dialog_id)
                if dialog is not None:
                    self.refresh_last_message(dialog)
        return models.DeleteResult.model_validate(
            {
                "SuccessfullyDeleted": {"ids": done},
                "WrongPermissions": {"ids": refused},
                "NotFound": {"ids": missing},
            }
        )

    async def get_unread_messages_count(
        self, *, auth: Credentials, chat_dialog_ids: str | None = None
    ) -> Result[models.UnreadMessagesCount]:
        me = self.me()
        mine = [
            d
            for d in self.store.find(DIALOG)
            if self.is_member(d, me) and me not in d.get(HIDDEN, [])
        ]
        counts = self.unread_counts(me, mine)
        answer: Doc = {"total": sum(counts.values())}
        for one in str_list(chat_dialog_ids):
            if one != "total":
                answer[one] = counts.get(one, 0)
        return models.UnreadMessagesCount.model_validate(answer)
