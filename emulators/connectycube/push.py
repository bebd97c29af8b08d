"""Push subscriptions and events, and the address book.

Nothing is delivered offline: an event is validated, stored and recorded in the outbox with the
users and subscriptions it would have reached.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from .common import (
    ADDRESS_BOOK,
    EVENT,
    NOT_FOUND,
    SUBSCRIPTION,
    USER,
    Base,
    id_list,
    iso,
    truthy,
)
from .context import base_error, field_error, list_error


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


class PushMixin(Base):
    def subscription_view(self, doc: Doc) -> dict[str, Any]:
        return {
            "subscription": {
                "id": doc["id"],
                "notification_channel": {"name": doc["notification_channel"]},
                "device": {"udid": doc["udid"], "platform": {"name": doc["platform"]}},
            }
        }

    async def create_subscription(
        self, *, auth: Credentials, body: models.CreateSubscriptionRequest
    ) -> Any:
        me = self.user_id(auth)
        channel = body.notification_channel
        token = body.push_token
        if channel == "web":
            for name in ("web_endpoint", "web_auth", "web_p256dh"):
                if not getattr(token, name):
                    raise field_error(f"push_token[{name}]", "can't be blank")
        elif not token.client_identification_sequence:
            raise field_error("push_token[client_identification_sequence]", "can't be blank")
        with self.store.transaction():
            # one device, one channel: a new subscription replaces the old one, whoever had it
            for key, old in self.store.all(SUBSCRIPTION):
                if old["udid"] == body.device.udid and old["notification_channel"] == channel:
                    self.store.delete(SUBSCRIPTION, key)
            sub_id = self.store.next_id("cc.subscription")
            doc: Doc = {
                "id": sub_id,
                "user_id": me,
                "notification_channel": channel,
                "udid": body.device.udid,
                "platform": body.device.platform,
                "push_token": token.model_dump(exclude_none=True),
                "created_at": self.now(),
            }
            self.store.put(SUBSCRIPTION, str(sub_id), doc)
        return Reply(201, [self.subscription_view(doc)])

    async def list_subscriptions(self, *, auth: Credentials) -> Any:
        me = self.user_id(auth)
        mine = self.store.find(SUBSCRIPTION, lambda d: d.get("user_id") == me)
        if not mine:
            raise list_error(404, NOT_FOUND)
        return [self.subscription_view(d) for d in mine]

    async def delete_subscription(self, *, auth: Credentials, subscription_id: int) -> None:
        me = self.user_id(auth)
        with self.store.transaction():
            doc = self.store.get(SUBSCRIPTION, str(subscription_id))
            if doc is None or doc.get("user_id") != me:
                raise list_error(404, NOT_FOUND)
            self.store.delete(SUBSCRIPTION, str(subscription_id))
        return None

    # -- events ------------------------------------------------------------------------------
    def recipients(self, event: models.EventCreateFields) -> list[int]:
        users = self.store.find(USER)
        chosen: set[int] = set()
        selected = False
        if event.user is not None and event.user.ids:
            ids = id_list(event.user.ids)
            if ids is None:
                raise field_error("event[user][ids]", "is invalid")
            chosen |= {u["id"] for u in users if u["id"] in ids}
            selected = True
        tags = event.user.tags if event.user is not None else None
        if tags is not None and (tags.any or tags.all or tags.exclude):
            pool = users
            if tags.any:
                wanted = {t.strip() for t in tags.any.split(",") if t.strip()}
                pool = [u for u in pool if wanted & set(u.get("tags") or [])]
            if tags.all:
                needed = {t.strip() for t in tags.all.split(",") if t.strip()}
                pool = [u for u in pool if needed <= set(u.get("tags") or [])]
            if tags.exclude:
                banned = {t.strip() for t in tags.exclude.split(",") if t.strip()}
                pool = [u for u in pool if not banned & set(u.get("tags") or [])]
            chosen |= {u["id"] for u in pool}
            selected = True
        if event.external_user is not None and event.external_user.ids:
            wanted_ext = {p.strip() for p in event.external_user.ids.split(",") if p.strip()}
            chosen |= {
                u["id"]
                for u in users
                if str(u.get("external_user_id")) in wanted_ext
                or str(u.get("external_id")) in wanted_ext
            }
            selected = True
        if not selected:
            raise base_error(
                422,
                "At least one recipient selector is required: user[ids], "
                "user[tags] or external_user[ids]",
            )
        return sorted(chosen)

    async def create_event(self, *, auth: Credentials, body: models.CreateEventRequest) -> Any:
        me = self.user_id(auth)
        event = body.event
        if not event.message:
            raise field_error("event[message]", "can't be blank")
        if event.push_type is None:
            try:
                base64.b64decode(event.message, validate=True)
            except (binascii.Error, ValueError):
                raise field_error(
                    "event[message]", "must be base64-encoded JSON for a universal push"
                ) from None
        recipients = self.recipients(event)
        now = self.now()
        with self.store.transaction():
            event_id = self.store.next_id("cc.event")
            tag_query = (
                event.user.tags.model_dump(exclude_none=True)
                if event.user is not None and event.user.tags is not None
                else None
            )
            doc: Doc = {
                "id": event_id,
                "event_type": event.event_type or "one_shot",
                "message": event.message,
                "date": None,
                "period": None,
                "end_date": None,
                "name": None,
                "occured_count": 0,
                "active": True,
                "application_id": self.app_id,
                "user_id": me,
                "kind": "API",
                "environment": event.environment,
                "tag_query": tag_query,
                "notification_channel": {"name": event.push_type or "universal"},
                "created_at": now,
                "updated_at": now,
                "recipients": recipients,
            }
            self.store.put(EVENT, str(event_id), doc)
        devices = self.store.find(
            SUBSCRIPTION,
            lambda d: (
                d.get("user_id") in recipients
                and (event.push_type is None or d["notification_channel"] == event.push_type)
            ),
        )
        self.record_outbox(
            "push",
            {
                "event_id": event_id,
                "user_ids": recipients,
                "subscription_ids": [d["id"] for d in devices],
                "message": event.message,
            },
        )
        view = {k: v for k, v in doc.items() if k != "recipients"}
        view.update(created_at=iso(now), updated_at=iso(now))
        return Reply(201, [{"event": view}])

    # -- address book ------------------------------------------------------------------------
    @staticmethod
    def _book_key(user_id: int, udid: str | None) -> str:
        return f"{user_id}:{udid or ''}"

    def _book(self, user_id: int, udid: str | None) -> Doc:
        return self.store.get(ADDRESS_BOOK, self._book_key(user_id, udid)) or {
            "user_id": user_id,
            "udid": udid,
            "contacts": [],
        }

    async def get_address_book(self, *, auth: Credentials, udid: str | None = None) -> Any:
        me = self.user_id(auth)
        return [{"name": c["name"], "phone": c["phone"]} for c in self._book(me, udid)["contacts"]]

    async def upload_address_book(
        self, *, auth: Credentials, body: models.UploadAddressBookRequest
    ) -> Any:
        me = self.user_id(auth)
        created = updated = deleted = 0
        rejected: dict[str, list[str]] = {}
        with self.store.transaction():
            book = self._book(me, body.udid)
            contacts: list[dict[str, Any]] = list(book["contacts"])
            uploaded: set[str] = set()
            for index, contact in enumerate(body.contacts):
                phone = contact.phone.strip()
                if not 10 <= len(phone) <= 15:
                    rejected[str(index)] = ["Phone length must be from 10 to 15 characters"]
                    continue
                uploaded.add(phone)
                existing = next((c for c in contacts if c["phone"] == phone), None)
                if str(contact.destroy) == "1":
                    if existing is not None:
                        contacts.remove(existing)
                        deleted += 1
                    continue
                if not contact.name:
                    rejected[str(index)] = ["Name can't be blank"]
                    continue
                if existing is None:
                    contacts.append({"name": contact.name, "phone": phone})
                    created += 1
                elif existing["name"] != contact.name:
                    existing["name"] = contact.name
                    updated += 1
            if truthy(body.force) if body.force is not None else False:
                kept = [c for c in contacts if c["phone"] in uploaded]
                deleted += len(contacts) - len(kept)
                contacts = kept
            book["contacts"] = contacts
            self.store.put(ADDRESS_BOOK, self._book_key(me, body.udid), book)
        out: dict[str, Any] = {"created": created, "updated": updated, "deleted": deleted}
        if rejected:
            out["rejected"] = rejected
        return out

    async def list_registered_contacts(
        self, *, auth: Credentials, udid: str | None = None, compact: int | None = None
    ) -> Any:
        me = self.user_id(auth)
        if udid is not None:
            books = [self._book(me, udid)]
        else:
            books = self.store.find(ADDRESS_BOOK, lambda d: d.get("user_id") == me)
        names: dict[str, str] = {}
        for book in books:
            for contact in book["contacts"]:
                names.setdefault(_digits(contact["phone"]), contact["name"])
        items = []
        for user in self.store.find(USER, lambda d: bool(_digits(d.get("phone")))):
            key = _digits(user.get("phone"))
            if key in names and user["id"] != me:
                entry = {
                    "id": user["id"],
                    "phone": user.get("phone"),
                    "address_book_name": names[key],
                }
                if not compact:
                    entry = {**self.user_view(user), **entry}
                items.append({"user": entry})
        return {"items": items}
