"""Chat dialogs: types, roles, occupants and admins, per-user deletion, notifications, blocks.

Types as the server docs number them: 1 broadcast, 2 group, 3 private, 4 public, 5 meeting. The
owner is the "super admin"; up to five admins; the role table of the chat docs decides who may
change what.
Per-user state (who deleted the dialog, who muted its pushes) lives on the dialog document; the
last message and unread counts are computed from the messages for the user asking.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import (
    DIALOG,
    MESSAGE,
    NOT_FOUND,
    Base,
    id_list,
    iso,
    page_slice,
    split_ids,
    to_int,
)
from .context import base_error, current, field_error, list_error

BROADCAST, GROUP, PRIVATE, PUBLIC, MEETING = 1, 2, 3, 4, 5
MAX_ADMINS = 5
LIST_RESERVED = ("skip", "limit", "count", "sort_asc", "sort_desc")


class DialogsMixin(Base):
    # -- reading -----------------------------------------------------------------------------
    def dialog(self, dialog_id: str) -> Doc:
        doc = self.store.get(DIALOG, dialog_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return doc

    @staticmethod
    def is_member(doc: Doc, user_id: int) -> bool:
        """May read the dialog: an occupant/subscriber, or anyone for broadcasts."""
        if user_id in (doc.get("blocked_ids") or []):
            return False
        return doc["type"] == BROADCAST or user_id in (doc.get("occupants_ids") or [])

    @staticmethod
    def is_admin(doc: Doc, user_id: int) -> bool:
        return user_id == doc.get("user_id") or user_id in (doc.get("admins_ids") or [])

    def visible(self, doc: Doc, user_id: int) -> bool:
        return self.is_member(doc, user_id) and user_id not in (doc.get("deleted_ids") or [])

    def messages_by_dialog(self, dialog_ids: set[str] | None = None) -> dict[str, list[Doc]]:
        grouped: dict[str, list[Doc]] = defaultdict(list)
        for message in self.store.find(
            MESSAGE, lambda m: dialog_ids is None or m.get("chat_dialog_id") in dialog_ids
        ):
            grouped[message["chat_dialog_id"]].append(message)
        for items in grouped.values():
            items.sort(key=lambda m: (m.get("date_sent", 0), m["_id"]))
        return grouped

    @staticmethod
    def unread(messages: list[Doc], user_id: int) -> int:
        return sum(
            1
            for m in messages
            if m.get("sender_id") != user_id
            and user_id not in (m.get("read_ids") or [])
            and user_id not in (m.get("deleted_for") or [])
        )

    def dialog_view(
        self,
        doc: Doc,
        viewer: int | None,
        messages: list[Doc] | None = None,
        *,
        admin: bool = False,
    ) -> dict[str, Any]:
        if messages is None:
            messages = self.messages_by_dialog({doc["_id"]}).get(doc["_id"], [])
        seen = [m for m in messages if viewer is None or viewer not in (m.get("deleted_for") or [])]
        last = seen[-1] if seen else None
        status = None
        if last is not None and viewer is not None and last.get("sender_id") == viewer:
            others_read = [u for u in last.get("read_ids") or [] if u != viewer]
            others_got = [u for u in last.get("delivered_ids") or [] if u != viewer]
            status = "read" if others_read else "delivered" if others_got else "sent"
        kind = doc["type"]
        occupants = list(doc.get("occupants_ids") or [])
        out: dict[str, Any] = {
            "_id": doc["_id"],
            "type": kind,
            "user_id": doc.get("user_id"),
            "name": doc.get("name"),
            "description": doc.get("description"),
            "photo": doc.get("photo"),
            "xmpp_room_jid": None
            if kind == PRIVATE
            else f"{self.app_id}_{doc['_id']}@muc.chat.connectycube.com",
            "occupants_ids": [] if kind in (PUBLIC, BROADCAST) else occupants,
            "admins_ids": list(doc.get("admins_ids") or []),
            "pinned_messages_ids": list(doc.get("pinned_messages_ids") or []),
            "last_message": last.get("message") if last else None,
            "last_message_id": last["_id"] if last else None,
            "last_message_user_id": last.get("sender_id") if last else None,
            "last_message_date_sent": last.get("date_sent") if last else None,
            "last_message_status": status,
            "unread_messages_count": self.unread(seen, viewer) if viewer is not None else 0,
            "extensions": doc.get("extensions"),
            "permissions": doc.get("permissions"),
            "created_at": iso(doc.get("created_at")),
            "updated_at": iso(doc.get("updated_at")),
        }
        if kind == PUBLIC:
            out["occupants_count"] = len(occupants)
        if admin:
            out.update(
                is_e2ee=bool(doc.get("is_e2ee")),
                silent_ids=list(doc.get("silent_ids") or []),
                deleted_ids=list(doc.get("deleted_ids") or []),
            )
        return out

    @staticmethod
    def filterable(doc: Doc) -> dict[str, Any]:
        """A dialog as filters see it (times in unix seconds, extensions as given)."""
        return {**doc, "last_message_date_sent": doc.get("_last_date_sent")}

    # -- writing helpers ---------------------------------------------------------------------
    def extensions(self, raw: Any) -> dict[str, str] | None:
        """Only dashboard-allowed keys (option `dialog_extensions`, any when unset), at most 3."""
        if raw is None:
            return None
        data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
        allowed = [k.strip() for k in self.option("dialog_extensions").split(",") if k.strip()]
        out: dict[str, str] = {}
        for key, value in data.items():
            if allowed and key not in allowed:
                continue
            if len(out) == 3:
                break
            out[key] = "" if value is None else str(value)
        return out

    def save_dialog(self, doc: Doc) -> None:
        self.store.put(DIALOG, doc["_id"], doc)

    # -- list and create ---------------------------------------------------------------------
    async def list_dialogs(
        self,
        *,
        auth: Credentials,
        skip: int | None = None,
        limit: int | None = None,
        count: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        **_filters: Any,
    ) -> Any:
        me = self.user_id(auth)
        ctx = current()
        conditions = query.parse_pairs(
            ctx.query if ctx else [], LIST_RESERVED, rename={"id": "_id"}
        )
        dialogs = [d for d in self.store.find(DIALOG) if self.visible(d, me)]
        by_dialog = self.messages_by_dialog({d["_id"] for d in dialogs})
        for d in dialogs:
            msgs = by_dialog.get(d["_id"], [])
            mine = [m for m in msgs if me not in (m.get("deleted_for") or [])]
            d["_last_date_sent"] = mine[-1].get("date_sent") if mine else None
        found = query.apply([self.filterable(d) for d in dialogs], conditions)
        if count:
            return {"total_entries": len(found), "skip": 0, "limit": 0, "items": []}

        def default(d: Doc) -> Any:  # newest activity first, as the SDKs show them
            return (d.get("_last_date_sent") or d.get("created_at") or 0, d["_id"])

        found = query.sort(found, sort_asc, sort_desc, default=default, default_desc=True)
        items, start, size = page_slice(found, skip, limit)
        return {
            "total_entries": len(found),
            "skip": start,
            "limit": size,
            "items": [self.dialog_view(d, me, by_dialog.get(d["_id"], [])) for d in items],
        }

    async def create_dialog(self, *, auth: Credentials, body: models.CreateDialogRequest) -> Any:
        me = self.user_id(auth)
        kind = body.type
        occupants = id_list(body.occupants_ids)
        admins = id_list(body.admins_ids)
        if occupants is None:
            raise field_error("occupants_ids", "is invalid")
        if admins is None:
            raise field_error("admins_ids", "is invalid")
        others = [u for u in occupants if u != me]
        if kind in (GROUP, PRIVATE) and not others:
            raise field_error("occupants_ids", "can't be blank")
        if kind in (BROADCAST, GROUP, PUBLIC) and not (body.name or "").strip():
            raise field_error("name", "can't be blank")
        if kind == PRIVATE and len(others) != 1:
            raise base_error(422, "Private chat can have only two occupants")
        if len(admins) > MAX_ADMINS:
            raise field_error("admins_ids", f"is too long (maximum is {MAX_ADMINS} admins)")
        with self.store.transaction():
            if kind == PRIVATE:
                pair = {me, others[0]}
                existing = self.store.first(
                    DIALOG,
                    lambda d: d["type"] == PRIVATE and set(d.get("occupants_ids") or []) == pair,
                )
                if existing is not None:
                    if me in (existing.get("deleted_ids") or []):
                        existing["deleted_ids"].remove(me)
                        self.save_dialog(existing)
                    return Reply(201, self.dialog_view(existing, me))
            now = self.now()
            doc: Doc = {
                "_id": self.oid(),
                "type": kind,
                "user_id": me,
                "name": None if kind == PRIVATE else body.name,
                "description": body.description,
                "photo": None if kind == PRIVATE else body.photo,
                "occupants_ids": [me, *others],
                "admins_ids": [] if kind == PRIVATE else [a for a in admins if a != me],
                "pinned_messages_ids": [],
                "extensions": self.extensions(body.extensions),
                "permissions": body.permissions.model_dump(exclude_unset=True)
                if body.permissions is not None
                else None,
                "created_at": now,
                "updated_at": now,
                "deleted_ids": [],
                "silent_ids": [],
                "muted_ids": [],
                "blocked_ids": [],
                "is_e2ee": False,
            }
            self.save_dialog(doc)
        return Reply(201, self.dialog_view(doc, me, []))

    # -- changes -----------------------------------------------------------------------------
    def apply_update(
        self,
        doc: Doc,
        body: models.UpdateDialogRequest | models.AdminUpdateDialogRequest,
        me: int | None,
    ) -> None:
        """Apply an update under the role rules (`me` None: the Admin API, no rules)."""
        kind = doc["type"]
        fields = body.model_dump(exclude_unset=True)
        admin = me is None or self.is_admin(doc, me)
        owner = me is None or me == doc.get("user_id")
        if me is not None and not self.is_member(doc, me):
            raise base_error(403, "You are not a member of this dialog")
        profile = {
            k for k in ("name", "photo", "description", "extensions", "permissions") if k in fields
        }
        if profile:
            if me is not None and kind == PRIVATE:
                raise base_error(403, "Private dialog can't be changed")
            if me is not None and kind in (PUBLIC, BROADCAST) and not admin:
                raise base_error(403, "Only admins can change this dialog")
            for key in ("name", "photo", "description"):
                if key in fields:
                    doc[key] = fields[key]
            if "extensions" in fields:
                doc["extensions"] = self.extensions(body.extensions)
            if "permissions" in fields:
                doc["permissions"] = fields["permissions"]
        for action in ("push_all", "pull_all"):
            change = getattr(body, action)
            if change is None:
                continue
            adding = action == "push_all"
            if change.occupants_ids is not None:
                ids = id_list(change.occupants_ids)
                if ids is None:
                    raise field_error("occupants_ids", "is invalid")
                only_self = not adding and ids == [me]
                if me is not None and not only_self:
                    if kind != GROUP and kind != MEETING:
                        raise base_error(403, "Occupants can be changed in group dialogs only")
                    if not adding and not admin:
                        raise base_error(403, "Only admins can remove occupants")
                self._change(doc, "occupants_ids", ids, adding)
                if not adding:
                    self._change(doc, "admins_ids", ids, False)
            if change.admins_ids is not None:
                ids = id_list(change.admins_ids)
                if ids is None:
                    raise field_error("admins_ids", "is invalid")
                if me is not None and (not owner or kind == PRIVATE):
                    raise base_error(403, "Only the owner can change admins")
                self._change(doc, "admins_ids", [i for i in ids if i != doc.get("user_id")], adding)
                if len(doc["admins_ids"]) > MAX_ADMINS:
                    raise field_error("admins_ids", f"is too long (maximum is {MAX_ADMINS} admins)")
            if change.pinned_messages_ids is not None:
                if me is not None and kind != PRIVATE and not admin:
                    raise base_error(403, "Only admins can pin messages")
                self._change(doc, "pinned_messages_ids", list(change.pinned_messages_ids), adding)
        doc["updated_at"] = self.now()

    @staticmethod
    def _change(doc: Doc, key: str, ids: list[Any], adding: bool) -> None:
        current_ids = list(doc.get(key) or [])
        if adding:
            current_ids.extend(i for i in ids if i not in current_ids)
        else:
            current_ids = [i for i in current_ids if i not in ids]
        doc[key] = current_ids

    async def update_dialog(
        self, *, auth: Credentials, dialog_id: str, body: models.UpdateDialogRequest
    ) -> Any:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            self.apply_update(doc, body, me)
            self.save_dialog(doc)
        return self.dialog_view(doc, me)

    async def update_dialog_admins(
        self, *, auth: Credentials, dialog_id: str, body: models.UpdateDialogAdminsRequest
    ) -> Any:
        me = self.user_id(auth)
        if body.push_all is None and body.pull_all is None:
            raise base_error(422, "push_all or pull_all is required")
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if doc["type"] == PRIVATE or me != doc.get("user_id"):
                raise base_error(403, "Only the owner can change admins")
            change = models.UpdateDialogRequest.model_validate(
                {
                    k: {"admins_ids": v.admins_ids}
                    for k, v in (("push_all", body.push_all), ("pull_all", body.pull_all))
                    if v is not None
                }
            )
            self.apply_update(doc, change, me)
            self.save_dialog(doc)
        return self.dialog_view(doc, me)

    def delete_outcome(self, doc: Doc | None, me: int, force: bool) -> str:
        """Delete one dialog for `me` (or everyone with force): "ok", "not_found" or "forbidden"."""
        if doc is None or not self.visible(doc, me):
            return "not_found"  # the vendor does not reveal dialogs one is not part of
        if force:
            allowed = me == doc.get("user_id") or (
                doc["type"] == PRIVATE and self.is_admin(doc, me)
            )
            if not allowed:
                return "forbidden"
            self.store.delete(DIALOG, doc["_id"])
            for message in self.store.find(
                MESSAGE, lambda m: m.get("chat_dialog_id") == doc["_id"]
            ):
                self.store.delete(MESSAGE, message["_id"])
            return "ok"
        doc.setdefault("deleted_ids", []).append(me)
        if doc["type"] == PUBLIC:
            doc["occupants_ids"] = [u for u in doc.get("occupants_ids") or [] if u != me]
        self.save_dialog(doc)
        return "ok"

    async def delete_dialogs(
        self, *, auth: Credentials, dialog_id: str, force: int | None = None
    ) -> Any:
        me = self.user_id(auth)
        ids = split_ids(dialog_id)
        outcome: dict[str, list[str]] = {"ok": [], "not_found": [], "forbidden": []}
        with self.store.transaction():
            for one in ids:
                result = self.delete_outcome(self.store.get(DIALOG, one), me, bool(force))
                outcome[result].append(one)
        if len(ids) == 1:
            if outcome["not_found"]:
                raise list_error(404, NOT_FOUND)
            if outcome["forbidden"]:
                raise base_error(403, "Only the owner can delete the dialog for everyone")
            return Reply(200, headers={"Content-Type": "text/plain"})  # one id: an empty body
        return {
            "SuccessfullyDeleted": {"ids": outcome["ok"]},
            "NotFound": {"ids": outcome["not_found"]},
            "WrongPermissions": {"ids": outcome["forbidden"]},
        }

    async def clear_dialog_history(
        self, *, auth: Credentials, dialog_id: str, force: int | None = None
    ) -> None:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if not self.is_member(doc, me):
                raise base_error(403, "You are not a member of this dialog")
            if force and not (
                me == doc.get("user_id") or (doc["type"] == PRIVATE and self.is_admin(doc, me))
            ):
                raise base_error(403, "Only the owner can clear the history for everyone")
            for message in self.store.find(MESSAGE, lambda m: m.get("chat_dialog_id") == dialog_id):
                if force:
                    self.store.delete(MESSAGE, message["_id"])
                elif me not in (message.get("deleted_for") or []):
                    message.setdefault("deleted_for", []).append(me)
                    self.store.put(MESSAGE, message["_id"], message)
        return None

    # -- public dialogs ----------------------------------------------------------------------
    async def subscribe_to_dialog(self, *, auth: Credentials, dialog_id: str) -> Any:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if doc["type"] != PUBLIC:
                raise base_error(403, "Only public dialogs can be subscribed to")
            if me in (doc.get("blocked_ids") or []):
                raise base_error(403, "You are blocked in this dialog")
            if me not in doc["occupants_ids"]:
                doc["occupants_ids"].append(me)
            doc["deleted_ids"] = [u for u in doc.get("deleted_ids") or [] if u != me]
            self.save_dialog(doc)
        return self.dialog_view(doc, me)

    async def unsubscribe_from_dialog(self, *, auth: Credentials, dialog_id: str) -> None:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if doc["type"] != PUBLIC:
                raise base_error(403, "Only public dialogs can be unsubscribed from")
            if me not in doc["occupants_ids"]:
                raise list_error(404, NOT_FOUND)
            doc["occupants_ids"].remove(me)
            doc["admins_ids"] = [u for u in doc.get("admins_ids") or [] if u != me]
            self.save_dialog(doc)
        return None

    async def list_dialog_occupants(
        self,
        *,
        auth: Credentials,
        dialog_id: str,
        limit: int | None = None,
        skip: int | None = None,
    ) -> Any:
        self.user_id(auth)
        doc = self.dialog(dialog_id)
        users = [u for u in (self.user_doc(i) for i in doc.get("occupants_ids") or []) if u]
        items, _, _ = page_slice(users, skip, limit)
        return {"items": [self.user_view(u) for u in items]}

    def _moderated(self, auth: Credentials, dialog_id: str) -> tuple[Doc, int]:
        me = self.user_id(auth)
        doc = self.dialog(dialog_id)
        if doc["type"] not in (PUBLIC, BROADCAST) or not self.is_admin(doc, me):
            raise base_error(403, "Only admins of public and broadcast dialogs can block users")
        return doc, me

    async def list_blocked_dialog_users(self, *, auth: Credentials, dialog_id: str) -> Any:
        doc, _ = self._moderated(auth, dialog_id)
        return {"blocked_ids": list(doc.get("blocked_ids") or [])}

    async def block_dialog_user(
        self, *, auth: Credentials, dialog_id: str, body: models.DialogBlockRequest
    ) -> None:
        user = to_int(body.user_id)
        with self.store.transaction():
            doc, _ = self._moderated(auth, dialog_id)
            if user is None or self.user_doc(user) is None:
                raise list_error(404, NOT_FOUND)
            if user == doc.get("user_id"):
                raise base_error(403, "The owner can't be blocked")
            self._change(doc, "blocked_ids", [user], True)
            self._change(doc, "occupants_ids", [user], False)
            self._change(doc, "admins_ids", [user], False)
            self.save_dialog(doc)
        return None

    async def unblock_dialog_user(
        self, *, auth: Credentials, dialog_id: str, body: models.DialogBlockRequest
    ) -> None:
        user = to_int(body.user_id)
        with self.store.transaction():
            doc, _ = self._moderated(auth, dialog_id)
            if user is None or user not in (doc.get("blocked_ids") or []):
                raise list_error(404, NOT_FOUND)
            self._change(doc, "blocked_ids", [user], False)
            self.save_dialog(doc)
        return None

    # -- notifications -----------------------------------------------------------------------
    async def get_dialog_notifications(self, *, auth: Credentials, dialog_id: str) -> Any:
        me = self.user_id(auth)
        doc = self.dialog(dialog_id)
        if not self.is_member(doc, me):
            raise base_error(403, "You are not a member of this dialog")
        return {"notifications": {"enabled": 0 if me in (doc.get("silent_ids") or []) else 1}}

    async def update_dialog_notifications(
        self, *, auth: Credentials, dialog_id: str, body: models.DialogNotificationsRequest
    ) -> Any:
        me = self.user_id(auth)
        enabled = int(body.enabled)
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if not self.is_member(doc, me):
                raise base_error(403, "You are not a member of this dialog")
            self._change(doc, "silent_ids", [me], not enabled)
            self.save_dialog(doc)
        return {"notifications": {"enabled": enabled}}
