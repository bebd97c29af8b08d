"""The Qiscus emulator: every v2 operation on top of the shared store.

Store kinds: `user` (id: email), `room` (id: room id), `comment` (id: comment id), `export` and
`import` (id: unique id). Numeric ids come from durable sequences, as Qiscus hands out integers.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from generated.qiscus import models
from generated.qiscus.server import ApiProblem, Credentials, Handlers

from ..config import Config
from ..store import Doc, Store

PAGE = 20  # rooms, comments and histories per page
NO_COMMENT_TIME = "0001-01-01T00:00:00Z"
SYSTEM_EVENT_TEXT = {
    "create_room": "{subject} created room '{room}'",
    "add_member": "{subject} added {objects}",
    "join_room": "{subject} joined room",
    "remove_member": "{subject} removed {objects}",
    "left_room": "{subject} left room",
    "change_room_name": "{subject} changed room name to '{room}'",
    "change_room_avatar": "{subject} changed room avatar",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ok(results: Any) -> dict[str, Any]:
    return {"status": 200, "results": results}


def _page(items: list[Any], page: int | None, size: int = PAGE) -> list[Any]:
    number = max(1, page or 1)
    return items[(number - 1) * size : number * size]


class QiscusEmulator(Handlers):
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    # -- auth ------------------------------------------------------------------------------------
    async def authorize(self, auth: Credentials, operation_id: str) -> None:
        if auth.sdk_secret != self.config["secret"]:
            raise ApiProblem("unauthorized", "Unauthorized: wrong QISCUS_SDK_SECRET")
        if auth.app_id is not None and auth.app_id != self.config["app_id"]:
            raise ApiProblem("unauthorized", "Unauthorized: wrong QISCUS_SDK_APP_ID")

    # -- lookups ---------------------------------------------------------------------------------
    def _user(self, email: str) -> Doc:
        user = self.store.get("user", email.lower())
        if user is None:
            raise ApiProblem("not_found", f"user {email} not found")
        return user

    def _room(self, room_id: int | str) -> Doc:
        room = self.store.get("room", str(room_id))
        if room is None:
            raise ApiProblem("not_found", f"room {room_id} not found")
        return room

    def _public_user(self, user: Doc) -> dict[str, Any]:
        return {k: user[k] for k in ("id", "email", "username", "avatar_url", "token")}

    def _participant(self, email: str, room: Doc) -> dict[str, Any]:
        user = self.store.get("user", email) or {"id": 0, "username": email, "avatar_url": ""}
        marks = room["reads"].get(email, {})
        return {
            "id": user["id"],
            "email": email,
            "username": user["username"],
            "avatar_url": user["avatar_url"],
            "last_comment_read_id": marks.get("read", 0),
            "last_comment_received_id": marks.get("received", 0),
        }

    def _room_view(self, room: Doc) -> dict[str, Any]:
        return {
            "id": room["id"],
            "room_name": room["name"],
            "chat_type": room["type"],
            "avatar_url": room["avatar_url"],
            "last_comment_id": room["last_comment_id"],
            "last_comment_message": room["last_comment_message"],
            "last_topic_id": room["id"],
            "options": room["options"],
            "participants": [self._participant(e, room) for e in room["participants"]],
        }

    def _group_view(self, room: Doc) -> dict[str, Any]:
        # members as objects: what the official Python client reads (the 2017 docs show bare emails)
        return {
            "creator": room["creator"],
            "participants": [self._participant(e, room) for e in room["participants"]],
            "room_id": room["id"],
            "room_name": room["name"],
            "room_type": room["type"],
        }

    def _room_info(self, room: Doc, email: str, with_participants: bool) -> dict[str, Any]:
        info = {
            "room_id": room["id"],
            "room_name": room["name"],
            "room_type": room["type"],
            "room_avatar_url": room["avatar_url"],
            "last_comment_id": room["last_comment_id"],
            "last_comment_message": room["last_comment_message"],
            "last_comment_timestamp": room["last_comment_timestamp"],
            "unread_count": self._unread(room, email),
        }
        if with_participants:
            info["participants"] = [self._participant(e, room) for e in room["participants"]]
        return info

    def _unread(self, room: Doc, email: str) -> int:
        read = room["reads"].get(email, {}).get("read", 0)
        return sum(
            1
            for c in self.store.find("comment", lambda c: c["room_id"] == room["id"])
            if c["id"] > read and c["email"] != email
        )

    def _comments(self, room_id: int) -> list[Doc]:
        return sorted(
            self.store.find("comment", lambda c: c["room_id"] == room_id), key=lambda c: -c["id"]
        )

    # -- users -----------------------------------------------------------------------------------
    async def login_or_register(
        self, *, auth: Credentials, body: models.LoginOrRegisterRequest
    ) -> Any:
        email = body.email.lower()
        with self.store.transaction():
            user = self.store.get("user", email)
            if user is None:
                user = {
                    "id": self.store.next_id("user"),
                    "email": email,
                    "token": secrets.token_hex(10),
                    "created_at": _stamp(_now()),
                    "password": None,
                    "devices": [],
                }
            user["username"] = body.username
            user["avatar_url"] = (
                str(body.avatar_url) if body.avatar_url else user.get("avatar_url", "")
            )
            if body.password is not None:
                user["password"] = body.password.get_secret_value()
            if body.device_token:
                devices = [d for d in user["devices"] if d["token"] != body.device_token]
                user["devices"] = [
                    *devices,
                    {"token": body.device_token, "platform": body.device_platform},
                ]
            self.store.put("user", email, user)
        return _ok({"user": self._public_user(user)})

    async def get_user_profile(self, *, auth: Credentials, user_email: str) -> Any:
        return _ok({"user": self._public_user(self._user(user_email))})

    async def reset_user_token(
        self, *, auth: Credentials, body: models.ResetUserTokenRequest
    ) -> Any:
        email = body.user_email.lower()
        with self.store.transaction():
            user = self._user(email)
            user["token"] = secrets.token_hex(10)
            self.store.put("user", email, user)
        rooms = [r for r in self.store.find("room") if email in r["participants"]]
        last = max((r["last_comment_id"] for r in rooms), default=0)
        app = {
            "id": 1,
            "code": self.config["app_id"],
            "name": self.config["app_id"],
            "pn_android_configured": False,
            "pn_ios_configured": False,
        }
        return _ok(
            {
                "user": {
                    **self._public_user(user),
                    "app": app,
                    "last_comment_id": last,
                    "rtKey": f"rt-{self.config['app_id']}",
                    "pn_android_configured": False,
                    "pn_ios_configured": False,
                }
            }
        )

    # -- rooms -----------------------------------------------------------------------------------
    async def get_user_rooms(
        self,
        *,
        auth: Credentials,
        user_email: str,
        page: int | None = None,
        show_participants: bool | None = None,
        room_type: str | None = None,
    ) -> Any:
        email = self._user(user_email)["email"]
        rooms = [
            r
            for r in self.store.find("room")
            if email in r["participants"]
            and (room_type in (None, "", "all") or r["type"] == room_type)
        ]
        rooms.sort(key=lambda r: (-r["last_comment_id"], -r["id"]))
        chosen = _page(rooms, page) if page else rooms[:100]
        return _ok(
            {
                "meta": {"current_page": page or 1, "total_room": len(rooms)},
                "rooms_info": [self._room_info(r, email, bool(show_participants)) for r in chosen],
            }
        )

    def _new_room(
        self, name: str, kind: str, creator: str, participants: list[str], avatar_url: str = ""
    ) -> Doc:
        room_id = self.store.next_id("room")
        room = {
            "id": room_id,
            "name": name,
            "type": kind,
            "creator": creator,
            "avatar_url": avatar_url,
            "options": None,
            "participants": participants,
            "last_comment_id": 0,
            "last_comment_message": "",
            "last_comment_timestamp": NO_COMMENT_TIME,
            "reads": {},
            "created_at": _stamp(_now()),
        }
        self.store.insert("room", room, id=str(room_id))
        return room

    def _known(self, emails: list[str]) -> list[str]:
        known = []
        for email in emails:
            email = email.lower()
            if self.store.get("user", email) is None:
                raise ApiProblem("validation", f"user {email} is not registered")
            if email not in known:
                known.append(email)
        return known

    async def create_room(self, *, auth: Credentials, body: models.CreateRoomRequest) -> Any:
        with self.store.transaction():
            creator = self._known([body.creator])[0]
            members = self._known([body.creator, *(self._email_of(p) for p in body.participants)])
            room = self._new_room(
                body.name,
                "group",
                creator,
                members,
                str(body.avatar_url) if body.avatar_url else "",
            )
        return _ok(self._group_view(room))

    @staticmethod
    def _email_of(participant: Any) -> str:
        return (
            participant if isinstance(participant, str) else str(getattr(participant, "email", ""))
        )

    async def get_or_create_room_with_target(
        self, *, auth: Credentials, emails: list[str], avatar_url: str | None = None
    ) -> Any:
        pair = self._known(emails)
        if len(pair) != 2:
            raise ApiProblem("validation", "emails[] must name exactly two different users")
        with self.store.transaction():
            room = self.store.first(
                "room",
                lambda r: r["type"] == "single" and sorted(r["participants"]) == sorted(pair),
            )
            if room is None:
                room = self._new_room(" ".join(pair), "single", pair[0], pair, avatar_url or "")
        comments = [self._comment_view(c, room) for c in self._comments(room["id"])[:PAGE]]
        return _ok({"room": self._room_view(room), "comments": comments})

    async def get_rooms_info(self, *, auth: Credentials, body: models.GetRoomsInfoRequest) -> Any:
        email = self._user(body.user_email)["email"]
        infos = []
        for room_id in body.room_id:
            room = self.store.get("room", str(room_id))
            if room is not None and email in room["participants"]:
                infos.append(self._room_info(room, email, bool(body.show_participants)))
        return _ok({"rooms_info": infos})

    async def update_room(self, *, auth: Credentials, body: models.UpdateRoomRequest) -> Any:
        email = self._user(body.user_email)["email"]
        with self.store.transaction():
            room = self._room(body.room_id)
            if email not in room["participants"]:
                raise ApiProblem(
                    "validation", f"{email} is not a participant of room {body.room_id}"
                )
            before = dict(room)
            if body.room_name is not None:
                room["name"] = body.room_name
            if body.room_avatar_url is not None:
                room["avatar_url"] = str(body.room_avatar_url)
            if body.options is not None:
                try:
                    json.loads(body.options)
                except ValueError:
                    raise ApiProblem("validation", "options must be a JSON string") from None
                room["options"] = body.options
            changed = room != before
            self.store.put("room", str(room["id"]), room)
        comments = [self._comment_view(c, room) for c in self._comments(room["id"])[:PAGE]]
        return _ok({"changed": changed, "room": self._room_view(room), "comments": comments})

    async def add_room_participants(
        self, *, auth: Credentials, body: models.AddRoomParticipantsRequest
    ) -> Any:
        with self.store.transaction():
            room = self._room(body.room_id)
            if room["type"] != "group":
                raise ApiProblem("validation", "participants can only be added to group rooms")
            for email in self._known(body.emails):
                if email not in room["participants"]:
                    room["participants"].append(email)
            self.store.put("room", str(room["id"]), room)
        return _ok(self._group_view(room))

    async def remove_room_participants(
        self, *, auth: Credentials, body: models.RemoveRoomParticipantsRequest
    ) -> Any:
        with self.store.transaction():
            room = self._room(body.room_id)
            if room["type"] != "group":
                raise ApiProblem("validation", "participants can only be removed from group rooms")
            gone = {e.lower() for e in body.emails}
            room["participants"] = [e for e in room["participants"] if e not in gone]
            self.store.put("room", str(room["id"]), room)
        return _ok(self._group_view(room))

    # -- comments --------------------------------------------------------------------------------
    def _comment_view(self, comment: Doc, room: Doc | None = None) -> dict[str, Any]:
        view = {
            k: comment[k]
            for k in (
                "id",
                "comment_before_id",
                "message",
                "type",
                "payload",
                "room_id",
                "topic_id",
                "email",
                "username",
                "user_id",
                "user_avatar_url",
                "timestamp",
                "unix_timestamp",
                "unix_nano_timestamp",
                "unique_temp_id",
                "disable_link_preview",
                "status",
            )
        }
        view["comment_before_id_str"] = str(comment["comment_before_id"])
        if room is not None:
            view["room_name"] = room["name"]
        return view

    def _post(
        self,
        room: Doc,
        sender: Doc,
        message: str,
        kind: str,
        payload: dict[str, Any],
        unique_temp_id: str | None,
        disable_link_preview: bool,
    ) -> Doc:
        moment = _now()
        comment_id = self.store.next_id("comment")
        comment = {
            "id": comment_id,
            "comment_before_id": room["last_comment_id"],
            "message": message,
            "type": kind,
            "payload": payload,
            "room_id": room["id"],
            "topic_id": room["id"],
            "email": sender["email"],
            "username": sender["username"],
            "user_id": sender["id"],
            "user_avatar_url": sender["avatar_url"],
            "timestamp": _stamp(moment),
            "unix_timestamp": int(moment.timestamp()),
            "unix_nano_timestamp": int(moment.timestamp() * 1_000_000_000),
            "unique_temp_id": unique_temp_id or secrets.token_urlsafe(15)[:20],
            "disable_link_preview": disable_link_preview,
            "status": "sent",
        }
        self.store.insert("comment", comment, id=str(comment_id))
        room.update(
            last_comment_id=comment_id,
            last_comment_message=message,
            last_comment_timestamp=comment["timestamp"],
        )
        room["reads"][sender["email"]] = {"read": comment_id, "received": comment_id}
        self.store.put("room", str(room["id"]), room)
        return comment

    async def post_comment(self, *, auth: Credentials, body: models.PostCommentRequest) -> Any:
        kind = body.type.root if body.type is not None else "text"
        payload: dict[str, Any] = {}
        if kind != "text":
            if not body.payload:
                raise ApiProblem("validation", f"payload is required for comments of type {kind}")
            try:
                payload = json.loads(body.payload)
            except ValueError:
                raise ApiProblem("validation", "payload must be a JSON object") from None
            if not isinstance(payload, dict):
                raise ApiProblem("validation", "payload must be a JSON object")
        elif not body.message:
            raise ApiProblem("validation", "message is required for text comments")
        with self.store.transaction():
            sender = self._user(body.sender_email)
            room = self._room(body.room_id)
            if sender["email"] not in room["participants"]:
                raise ApiProblem(
                    "validation", f"{sender['email']} is not a participant of this room"
                )
            comment = self._post(
                room,
                sender,
                body.message or "",
                kind,
                payload,
                body.unique_temp_id,
                bool(body.disable_link_preview),
            )
        return _ok({"comment": self._comment_view(comment, room)})

    def _load(self, room_id: int, page: int | None, limit: int | None) -> Any:
        room = self._room(room_id)
        size = max(1, min(limit or PAGE, 100))
        comments = _page(self._comments(room["id"]), page, size)
        return _ok({"comments": [self._comment_view(c, room) for c in comments]})

    async def load_comments(
        self, *, auth: Credentials, room_id: int, page: int | None = None, limit: int | None = None
    ) -> Any:
        return self._load(room_id, page, limit)

    async def load_comments_post(
        self, *, auth: Credentials, body: models.LoadCommentsRequest
    ) -> Any:
        return self._load(body.room_id, body.page, body.limit)

    async def search_messages(
        self, *, auth: Credentials, body: models.SearchMessagesRequest
    ) -> Any:
        email = self._user(body.user_email)["email"]
        rooms = {
            r["id"]: r
            for r in self.store.find("room")
            if email in r["participants"] and (body.room_id is None or r["id"] == body.room_id)
        }
        needle = body.query.lower()
        found = [
            c
            for c in self.store.find("comment", lambda c: c["room_id"] in rooms)
            if needle in c["message"].lower()
        ]
        found.sort(key=lambda c: -c["id"])
        return _ok(
            {
                "comments": [
                    {
                        **self._comment_view(c, rooms[c["room_id"]]),
                        "chat_type": rooms[c["room_id"]]["type"],
                    }
                    for c in found[:PAGE]
                ]
            }
        )

    async def post_system_event_message(
        self, *, auth: Credentials, body: models.PostSystemEventMessageRequest
    ) -> Any:
        kind = body.system_event_type.root
        objects = [e.lower() for e in body.object_email or []]
        if kind in ("add_member", "remove_member") and not objects:
            raise ApiProblem("validation", f"object_email[] is required for {kind}")
        if kind in ("change_room_name", "create_room") and not body.updated_room_name:
            raise ApiProblem("validation", f"updated_room_name is required for {kind}")
        with self.store.transaction():
            room = self._room(body.room_id)
            subject = self._user(body.subject_email)
            object_users = [
                self.store.get("user", e) or {"email": e, "username": e} for e in objects
            ]
            room_name = body.updated_room_name or room["name"]
            text = SYSTEM_EVENT_TEXT[kind].format(
                subject=subject["username"],
                room=room_name,
                objects=", ".join(u["username"] for u in object_users),
            )
            payload = {
                "type": kind,
                "subject_email": subject["email"],
                "subject_username": subject["username"],
                "object_email": ", ".join(objects),
                "object_username": ", ".join(u["username"] for u in object_users),
                "room_name": room_name,
            }
            system = {
                "id": 0,
                "email": f"system@{self.config['app_id']}.qiscus.com",
                "username": "System",
                "avatar_url": "",
            }
            comment = self._post(room, system, text, "system_event", payload, None, False)
        return _ok({"comment": self._comment_view(comment, room)})

    # -- exports and imports ---------------------------------------------------------------------
    def _rows(self, kind: str, start: str | None, end: str | None) -> list[Doc]:
        source = {"users": "user", "rooms": "room", "comments": "comment"}[kind]
        rows = self.store.find(source)
        stamp = "timestamp" if kind == "comments" else "created_at"
        if start:
            rows = [r for r in rows if r.get(stamp, "")[:10] >= start]
        if end:
            rows = [r for r in rows if r.get(stamp, "")[:10] <= end]
        return rows

    async def create_export(self, *, auth: Credentials, body: models.CreateExportRequest) -> Any:
        if body.start_date and body.end_date and body.start_date > body.end_date:
            raise ApiProblem("validation", "start_date is after end_date")
        rows = self._rows(
            body.type,
            body.start_date.isoformat() if body.start_date else None,
            body.end_date.isoformat() if body.end_date else None,
        )
        created = _now().strftime("%Y-%m-%dT%H:%M:%S+00:00")
        history: Doc = {
            "unique_id": str(uuid.uuid4()),
            "resource_name": body.type,
            "status": "finished",
            "percentage": 100,
            "total_rows": len(rows),
            "size": len(json.dumps(rows)),
            "original_filename": f"{created}_exported_{body.type}.json",
            "download_url": "",
            "error_message": "",
            "created_at": created,
        }
        self.store.insert("export", history, id=str(history["unique_id"]))
        return _ok(history)

    async def list_exports(self, *, auth: Credentials, page: int | None = None) -> Any:
        histories = sorted(self.store.find("export"), key=lambda h: h["created_at"], reverse=True)
        return _ok({"backup_histories": _page(histories, page)})

    async def get_export(self, *, auth: Credentials, backup_unique_id: str) -> Any:
        history = self.store.get("export", backup_unique_id)
        if history is None:
            raise ApiProblem("not_found", f"backup {backup_unique_id} not found")
        return _ok({"backup_history": history})

    async def delete_export(self, *, auth: Credentials, backup_unique_id: str) -> Any:
        with self.store.transaction():
            history = self.store.get("export", backup_unique_id)
            if history is None:
                raise ApiProblem("not_found", f"backup {backup_unique_id} not found")
            self.store.delete("export", backup_unique_id)
        return _ok({"backup_history": history})

    async def create_import(self, *, auth: Credentials, body: models.CreateImportRequest) -> Any:
        created = _now().strftime("%Y-%m-%dT%H:%M:%S+00:00")
        history: Doc = {
            "unique_id": str(uuid.uuid4()),
            "resource_name": body.type,
            "status": "finished",
            "total_rows": 0,
            "size": len(body.file),
            "original_filename": f"{body.type}.json",
            "errors": {},
            "created_at": created,
        }
        try:
            records = json.loads(body.file)
            if not isinstance(records, list):
                raise ValueError("the file must hold a JSON array")
            if len(body.file) > 4 * 1024 * 1024:
                raise ValueError("the file is larger than 4 MB")
            with self.store.transaction():
                history["total_rows"] = self._import(body.type, records)
        except (ValueError, KeyError, TypeError, ApiProblem) as exc:
            history.update(
                status="failed",
                total_rows=0,
                errors={"Message": str(getattr(exc, "message", "") or exc), "Data": None},
            )
        self.store.insert("import", history, id=history["unique_id"])
        return _ok({"backup_history": history})

    def _import(self, kind: str, records: list[dict[str, Any]]) -> int:
        for record in records:
            if kind == "users":
                email = record["Email"].lower()
                if self.store.get("user", email) is not None:
                    raise ValueError(f"user {email} already exists")
                self.store.put(
                    "user",
                    email,
                    {
                        "id": self.store.next_id("user"),
                        "email": email,
                        "username": record.get("Name", email),
                        "avatar_url": record.get("AvatarUrl", ""),
                        "token": record.get("AuthenticationToken") or secrets.token_hex(10),
                        "password": record.get("Password"),
                        "created_at": record.get("CreateAt") or _stamp(_now()),
                        "devices": [],
                    },
                )
            elif kind == "rooms":
                members = self._known(record.get("ParticipantEmails", []))
                name = " ".join(members) if record.get("Type") == "single" else record["Name"]
                room = self._new_room(
                    name,
                    record.get("Type", "group"),
                    record["CreatorEmail"].lower(),
                    members,
                    record.get("AvatarUrl", ""),
                )
                room["unique_id"] = record.get("UniqueId")
                room["options"] = record.get("Options") or None
                self.store.put("room", str(room["id"]), room)
            else:
                unique = record["RoomUniqueId"]
                target = next(
                    (r for r in self.store.find("room") if r.get("unique_id") == unique), None
                )
                if target is None:
                    raise ValueError(f"room {unique} does not exist")
                room = target
                sender = self._user(record["CreatorEmail"])
                self._post(
                    room,
                    sender,
                    record.get("Message", ""),
                    record.get("Type", "text"),
                    record.get("Payload") or {},
                    record.get("UniqueId"),
                    bool(record.get("DisableLinkPreview")),
                )
        return len(records)

    async def list_imports(self, *, auth: Credentials, page: int | None = None) -> Any:
        histories = sorted(self.store.find("import"), key=lambda h: h["created_at"], reverse=True)
        return _ok({"backup_histories": _page(histories, page)})
