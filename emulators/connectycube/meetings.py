"""Meetings (with their chat and recordings), whiteboards, call rejection and link previews.

There is no media server offline: turning a meeting's `record` on and then off stands in for a
recorded call and leaves a recording (and a `recordingDone` webhook in the outbox).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import (
    DIALOG,
    MEETING,
    NOT_FOUND,
    RECORDING,
    WHITEBOARD,
    Base,
    iso_ms,
    page_slice,
)
from .context import base_error, current, field_error, list_error

MEETING_FIELDS = (
    "name",
    "start_date",
    "end_date",
    "attendees",
    "record",
    "public",
    "scheduled",
    "notify",
    "notify_before",
    "timezone",
)
WHITEBOARD_DIALOG_TYPES = (2, 3, 5)
MAX_WHITEBOARDS = 3


class MeetingsMixin(Base):
    def meeting(self, meeting_id: str) -> Doc:
        doc = self.store.get(MEETING, meeting_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return doc

    def meeting_view(self, doc: Doc) -> dict[str, Any]:
        out = {k: doc.get(k) for k in MEETING_FIELDS}
        out.update(
            _id=doc["_id"],
            chat_dialog_id=doc.get("chat_dialog_id"),
            host_id=doc.get("host_id"),
            created_at=iso_ms(doc.get("created_at")),
            updated_at=iso_ms(doc.get("updated_at")),
        )
        return out

    def attends(self, doc: Doc, user_id: int) -> bool:
        if doc.get("host_id") == user_id:
            return True
        email = ((self.user_doc(user_id) or {}).get("email") or "").lower()
        for attendee in doc.get("attendees") or []:
            if attendee.get("id") == user_id or (
                email and (attendee.get("email") or "").lower() == email
            ):
                return True
        return False

    def _create_meeting(
        self, host: int, body: models.CreateMeetingRequest | models.AdminCreateMeetingRequest
    ) -> Doc:
        if body.end_date <= body.start_date:
            raise field_error("end_date", "must be later than start_date")
        now = self.now()
        fields = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        doc: Doc = {k: fields.get(k) for k in MEETING_FIELDS}
        doc.update(
            _id=self.oid(),
            host_id=host,
            chat_dialog_id=None,
            created_at=now,
            updated_at=now,
            record=bool(body.record),
            public=bool(body.public),
            scheduled=bool(body.scheduled),
            notify=bool(body.notify),
        )
        with self.store.transaction():
            if body.chat:
                occupants = [host] + [
                    a.id for a in body.attendees if a.id is not None and a.id != host
                ]
                dialog_id = self.oid()
                self.store.put(
                    DIALOG,
                    dialog_id,
                    {
                        "_id": dialog_id,
                        "type": 5,
                        "user_id": host,
                        "name": body.name,
                        "description": None,
                        "photo": None,
                        "occupants_ids": list(dict.fromkeys(occupants)),
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
                        "meeting_id": doc["_id"],
                    },
                )
                doc["chat_dialog_id"] = dialog_id
            if doc["record"]:
                doc["recording_since"] = now
            self.store.put(MEETING, doc["_id"], doc)
        if doc["notify"]:
            self.record_outbox(
                "meeting_email", {"meeting_id": doc["_id"], "attendees": doc.get("attendees")}
            )
        return doc

    async def create_meeting(self, *, auth: Credentials, body: models.CreateMeetingRequest) -> Any:
        return Reply(201, self.meeting_view(self._create_meeting(self.user_id(auth), body)))

    async def list_meetings(
        self,
        *,
        auth: Credentials,
        id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        scheduled: bool | None = None,
        **_filters: Any,
    ) -> Any:
        me = self.user_id(auth)
        ctx = current()
        conditions = query.parse_pairs(ctx.query if ctx else [], ("limit", "offset", "_id"))
        if id is not None:
            doc = self.store.get(MEETING, id)
            docs = [doc] if doc is not None and (doc.get("public") or self.attends(doc, me)) else []
        else:
            docs = [d for d in self.store.find(MEETING) if self.attends(d, me)]
        docs = query.apply(docs, conditions)
        items, _, _ = page_slice(docs, offset, limit)
        return [self.meeting_view(d) for d in items]

    def _finish_recording(self, doc: Doc) -> None:
        started = doc.pop("recording_since", None)
        if started is None:
            return
        now = self.now()
        participants = [doc["host_id"]] + [
            a["id"] for a in doc.get("attendees") or [] if a.get("id") is not None
        ]
        recording: Doc = {
            "_id": self.oid(),
            "room_id": doc["_id"],
            "participants_ids": list(dict.fromkeys(participants)),
            "participants_count": len(set(participants)),
            "duration": round(max(0.0, now - started), 3),
            "size": 0.0,
            "file_uid": self.oid(),
            "created_at": now,
            "updated_at": now,
        }
        self.store.put(RECORDING, recording["_id"], recording)
        self.record_outbox(
            "webhook_recording_done", {"meeting_id": doc["_id"], "recording_id": recording["_id"]}
        )

    async def update_meeting(
        self, *, auth: Credentials, meeting_id: str, body: models.UpdateMeetingRequest
    ) -> Any:
        me = self.user_id(auth)
        fields = body.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        with self.store.transaction():
            doc = self.meeting(meeting_id)
            if doc.get("host_id") != me:
                raise base_error(403, "Only the host can change the meeting")
            start = fields.get("start_date", doc.get("start_date"))
            end = fields.get("end_date", doc.get("end_date"))
            if start is not None and end is not None and end <= start:
                raise field_error("end_date", "must be later than start_date")
            was_recording = bool(doc.get("record"))
            for key in MEETING_FIELDS:
                if key in fields:
                    doc[key] = fields[key]
            if not was_recording and doc.get("record"):
                doc["recording_since"] = self.now()
            elif was_recording and not doc.get("record"):
                self._finish_recording(doc)
            doc["updated_at"] = self.now()
            self.store.put(MEETING, meeting_id, doc)
        return self.meeting_view(doc)

    async def delete_meeting(self, *, auth: Credentials, meeting_id: str) -> None:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.meeting(meeting_id)
            if doc.get("host_id") != me:
                raise base_error(403, "Only the host can delete the meeting")
            self.store.delete(MEETING, meeting_id)
        return None

    def recordings(self, meeting_id: str) -> list[dict[str, Any]]:
        base = self.base_url()
        out = []
        for rec in self.store.find(RECORDING, lambda r: r.get("room_id") == meeting_id):
            out.append(
                {
                    **{k: v for k, v in rec.items() if k not in ("created_at", "updated_at")},
                    "download_url": f"{base}/_recordings/{rec['_id']}",
                    "created_at": iso_ms(rec.get("created_at")),
                    "updated_at": iso_ms(rec.get("updated_at")),
                }
            )
        return out

    async def list_meeting_recordings(self, *, auth: Credentials, meeting_id: str) -> Any:
        me = self.user_id(auth)
        doc = self.meeting(meeting_id)
        if not self.attends(doc, me):
            raise base_error(403, "Only the host and attendees can see the recordings")
        return self.recordings(meeting_id)

    # -- whiteboards -------------------------------------------------------------------------
    def whiteboard_view(self, doc: Doc) -> dict[str, Any]:
        return {
            "_id": doc["_id"],
            "name": doc.get("name"),
            "chat_dialog_id": doc.get("chat_dialog_id"),
            "user_id": doc.get("user_id"),
            "created_at": iso_ms(doc.get("created_at")),
            "updated_at": iso_ms(doc.get("updated_at")),
        }

    def _whiteboard_dialog(self, dialog_id: str, me: int) -> Doc:
        dialog = self.store.get(DIALOG, dialog_id)
        if dialog is None:
            raise list_error(404, NOT_FOUND)
        if me not in (dialog.get("occupants_ids") or []):
            raise base_error(403, "You are not a member of this dialog")
        return dialog

    async def create_whiteboard(
        self, *, auth: Credentials, body: models.CreateWhiteboardRequest
    ) -> Any:
        me = self.user_id(auth)
        if not body.name.strip():
            raise field_error("name", "can't be blank")
        with self.store.transaction():
            dialog = self._whiteboard_dialog(body.chat_dialog_id, me)
            if dialog["type"] not in WHITEBOARD_DIALOG_TYPES:
                raise base_error(403, "Whiteboards belong to group, private or meeting dialogs")
            existing = self.store.find(
                WHITEBOARD, lambda w: w.get("chat_dialog_id") == body.chat_dialog_id
            )
            if len(existing) >= MAX_WHITEBOARDS:
                raise base_error(422, f"A dialog can have at most {MAX_WHITEBOARDS} whiteboards")
            now = self.now()
            doc: Doc = {
                "_id": self.oid(),
                "name": body.name,
                "chat_dialog_id": body.chat_dialog_id,
                "user_id": me,
                "created_at": now,
                "updated_at": now,
            }
            self.store.put(WHITEBOARD, doc["_id"], doc)
        return Reply(201, self.whiteboard_view(doc))

    async def list_whiteboards(self, *, auth: Credentials, chat_dialog_id: str) -> Any:
        me = self.user_id(auth)
        self._whiteboard_dialog(chat_dialog_id, me)
        return [
            self.whiteboard_view(w)
            for w in self.store.find(
                WHITEBOARD, lambda w: w.get("chat_dialog_id") == chat_dialog_id
            )
        ]

    def _own_whiteboard(self, auth: Credentials, whiteboard_id: str) -> Doc:
        me = self.user_id(auth)
        doc = self.store.get(WHITEBOARD, whiteboard_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        if doc.get("user_id") != me:
            raise base_error(403, "Only the creator can change the whiteboard")
        return doc

    async def update_whiteboard(
        self, *, auth: Credentials, whiteboard_id: str, body: models.UpdateWhiteboardRequest
    ) -> Any:
        if not body.name.strip():
            raise field_error("name", "can't be blank")
        with self.store.transaction():
            doc = self._own_whiteboard(auth, whiteboard_id)
            doc.update(name=body.name, updated_at=self.now())
            self.store.put(WHITEBOARD, whiteboard_id, doc)
        return self.whiteboard_view(doc)

    async def delete_whiteboard(self, *, auth: Credentials, whiteboard_id: str) -> None:
        with self.store.transaction():
            self._own_whiteboard(auth, whiteboard_id)
            self.store.delete(WHITEBOARD, whiteboard_id)
        return None

    # -- calls and link previews -------------------------------------------------------------
    async def reject_call(self, *, auth: Credentials, body: models.RejectCallRequest) -> Any:
        me = self.user_id(auth)
        if self.user_doc(body.recipientId) is None:
            raise field_error("recipientId", "is invalid")
        self.record_outbox(
            "call_reject",
            {
                "user_id": me,
                "recipient_id": body.recipientId,
                "session_id": body.sessionID,
                "platform": body.platform,
            },
        )
        return {}

    async def get_link_preview(self, *, auth: Credentials, body: models.LinkPreviewRequest) -> Any:
        """Offline there is no page to fetch: the link comes back without OpenGraph data."""
        url = str(body.url)
        if urlparse(url).scheme not in ("http", "https"):
            raise base_error(400, "url must be an http(s) link")
        return {"url": url, "images": []}
