"""Administration API (`CB-Administration-API-Key`, which the emulator matches against the
application's `auth_secret`): every dialog and message, muting, meetings for a host, user removal,
and message/dialog statistics."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import DIALOG, MESSAGE, NOT_FOUND, RECORDING, page_slice
from .context import current, field_error, list_error
from .meetings import MeetingsMixin
from .messages import MessagesMixin
from .users import UsersMixin

ADMIN_RESERVED = ("limit", "skip", "sort_asc", "sort_desc")


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


class AdminMixin(MessagesMixin, MeetingsMixin, UsersMixin):
    def _admin_page(
        self,
        docs: list[dict[str, Any]],
        skip: int | None,
        limit: int | None,
        sort_asc: str | None,
        sort_desc: str | None,
    ) -> tuple[list[Any], list[Any], int, int]:
        ctx = current()
        conditions = query.parse_pairs(
            ctx.query if ctx else [], ADMIN_RESERVED, rename={"id": "_id"}
        )
        found = query.apply(docs, conditions)
        found = query.sort(found, sort_asc, sort_desc)
        items, start, size = page_slice(found, skip, limit)
        return found, items, start, size

    async def admin_list_dialogs(
        self,
        *,
        auth: Credentials,
        limit: int | None = None,
        skip: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        **_filters: Any,
    ) -> Any:
        dialogs = self.store.find(DIALOG)
        grouped = self.messages_by_dialog()
        for d in dialogs:
            msgs = grouped.get(d["_id"], [])
            d["_last_date_sent"] = msgs[-1].get("date_sent") if msgs else None
        found, items, start, size = self._admin_page(
            [self.filterable(d) for d in dialogs], skip, limit, sort_asc, sort_desc
        )
        return {
            "total_entries": len(found),
            "skip": start,
            "limit": size,
            "items": [
                self.dialog_view(d, None, grouped.get(d["_id"], []), admin=True) for d in items
            ],
        }

    async def admin_list_messages(
        self,
        *,
        auth: Credentials,
        limit: int | None = None,
        skip: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        **_filters: Any,
    ) -> Any:
        docs = [{**(m.get("custom") or {}), **m} for m in self.store.find(MESSAGE)]
        found, items, start, size = self._admin_page(docs, skip, limit, sort_asc, sort_desc)
        return {
            "total_entries": len(found),
            "skip": start,
            "limit": size,
            "items": [self.message_view(m, None, admin=True) for m in items],
        }

    async def admin_update_dialog(
        self, *, auth: Credentials, dialog_id: str, body: models.AdminUpdateDialogRequest
    ) -> Any:
        with self.store.transaction():
            doc = self.dialog(dialog_id)
            if body.is_muted is not None or body.user_id is not None:
                if body.user_id is None or body.is_muted is None:
                    raise field_error("user_id", "user_id and is_muted go together")
                if body.user_id not in (doc.get("occupants_ids") or []):
                    raise field_error("user_id", "is not an occupant of this dialog")
                self._change(doc, "muted_ids", [body.user_id], body.is_muted)
            self.apply_update(doc, body, None)
            self.save_dialog(doc)
        view = self.dialog_view(doc, None, admin=True)
        if body.user_id is not None:
            view["is_muted"] = body.user_id in (doc.get("muted_ids") or [])
        return view

    async def admin_create_meeting(
        self, *, auth: Credentials, body: models.AdminCreateMeetingRequest
    ) -> Any:
        if self.user_doc(body.user_id) is None:
            raise field_error("user_id", "is invalid")
        return Reply(201, self.meeting_view(self._create_meeting(body.user_id, body)))

    async def admin_list_meeting_recordings(self, *, auth: Credentials, meeting_id: str) -> Any:
        self.meeting(meeting_id)
        return self.recordings(meeting_id)

    async def admin_delete_meeting_recordings(self, *, auth: Credentials, meeting_id: str) -> Any:
        with self.store.transaction():
            self.meeting(meeting_id)
            for rec in self.store.find(RECORDING, lambda r: r.get("room_id") == meeting_id):
                self.store.delete(RECORDING, rec["_id"])
        return {}

    async def admin_delete_user(self, *, auth: Credentials, user_id: int) -> Any:
        if self.user_doc(user_id) is None:
            raise list_error(404, NOT_FOUND)
        self.remove_user(user_id)
        return {"success": True}

    # -- statistics --------------------------------------------------------------------------
    @staticmethod
    def _in_range(ts: float, start: int | None, end: int | None) -> bool:
        return (start is None or ts >= start) and (end is None or ts <= end)

    def _sent(self, start: int | None, end: int | None) -> list[float]:
        return [
            float(m.get("date_sent", 0))
            for m in self.store.find(MESSAGE)
            if self._in_range(float(m.get("date_sent", 0)), start, end)
        ]

    def _created(
        self,
        start: int | None,
        end: int | None,
        types: list[int] | None,
    ) -> list[float]:
        return [
            float(d["created_at"])
            for d in self.store.find(DIALOG)
            if self._in_range(float(d["created_at"]), start, end)
            and (not types or d["type"] in types)
        ]

    @staticmethod
    def _per_day(times: list[float], limit: int | None, offset: int | None) -> dict[str, int]:
        days = sorted(Counter(_day(t) for t in times).items())
        items, _, _ = page_slice(days, offset, limit)
        return dict(items)

    async def get_messages_sent_total(
        self, *, auth: Credentials, start_date: int | None = None, end_date: int | None = None
    ) -> Any:
        return {"total": len(self._sent(start_date, end_date))}

    async def get_messages_sent_per_day(
        self,
        *,
        auth: Credentials,
        start_date: int | None = None,
        end_date: int | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Any:
        return self._per_day(self._sent(start_date, end_date), limit, offset)

    async def get_dialogs_created_total(
        self,
        *,
        auth: Credentials,
        start_date: int | None = None,
        end_date: int | None = None,
        types: list[Any] | None = None,
    ) -> Any:
        return {"total": len(self._created(start_date, end_date, types))}

    async def get_dialogs_created_per_day(
        self,
        *,
        auth: Credentials,
        start_date: int | None = None,
        end_date: int | None = None,
        types: list[Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Any:
        return self._per_day(self._created(start_date, end_date, types), limit, offset)
