"""Push subscriptions and notification events. Nothing leaves the machine: an event resolves its
recipients and records one delivery per matching subscription in the store."""

from __future__ import annotations

from typing import Any

from generated.quickblox import models
from generated.quickblox.server import Credentials, PushHandlers, Reply, Result

from .base import DELIVERY, EVENT, SUBSCRIPTION, USER, Base
from .util import NOT_FOUND, fail, field_error, int_list, iso, str_list

Doc = dict[str, Any]
MAX_SUBSCRIPTIONS = 10
EVENT_FIELDS = (
    "id",
    "event_type",
    "message",
    "date",
    "end_date",
    "period",
    "name",
    "occured_count",
    "active",
    "application_id",
    "user_id",
    "kind",
    "environment",
    "tag_query",
    "notification_channel",
    "subscribers_selector",
    "created_at",
    "updated_at",
)


class PushOps(Base, PushHandlers):
    # -- subscriptions ----------------------------------------------------------------------
    def subscriptions_of(self, user_id: int) -> list[models.SubscriptionWrapper]:
        docs = self.store.find(SUBSCRIPTION, lambda s: s.get("user_id") == user_id)
        return [
            models.SubscriptionWrapper.model_validate(
                {
                    "subscription": {
                        "id": s["id"],
                        "notification_channel": {"name": s["channel"]},
                        "device": s["device"],
                    }
                }
            )
            for s in docs
        ]

    async def create_subscription(
        self, *, auth: Credentials, body: models.CreateSubscriptionRequest
    ) -> Result[list[models.SubscriptionWrapper]]:
        me = self.me()
        channel = body.notification_channel
        if channel != "email" and body.push_token is None:
            field_error("push_token", "can't be blank")
        if channel != "email" and body.device is None:
            field_error("device", "can't be blank")
        token = body.push_token
        if token is not None and not token.client_identification_sequence.strip():
            field_error("client_identification_sequence", "is not valid")
        device: Doc = {}
        if body.device is not None:
            device = {"udid": body.device.udid, "platform": {"name": body.device.platform}}
        if token is not None:
            device["client_identification_sequence"] = token.client_identification_sequence
            device["bundle_identifier"] = token.bundle_identifier
        with self.store.transaction():
            mine = self.store.find(SUBSCRIPTION, lambda s: s.get("user_id") == me)
            same = [
                s
                for s in mine
                if s.get("channel") == channel
                and s.get("device", {}).get("udid") == device.get("udid")
            ]
            for old in same:
                self.store.delete(SUBSCRIPTION, str(old["id"]))
            if len(mine) - len(same) >= MAX_SUBSCRIPTIONS:
                fail("validation", f"A user can have at most {MAX_SUBSCRIPTIONS} subscriptions")
            number = self.store.next_id("qb_subscription_id", start=50000001)
            self.store.put(
                SUBSCRIPTION,
                str(number),
                {
                    "id": number,
                    "user_id": me,
                    "channel": channel,
                    "device": device,
                    "environment": token.environment if token else "production",
                },
            )
        return Reply(201, self.subscriptions_of(me))

    async def list_subscriptions(
        self, *, auth: Credentials
    ) -> Result[list[models.SubscriptionWrapper]]:
        found = self.subscriptions_of(self.me())
        if not found:
            fail("not_found", NOT_FOUND)
        return found

    async def delete_subscription(self, *, auth: Credentials, subscription_id: int) -> Result[None]:
        me = self.me()
        with self.store.transaction():
            doc = self.store.get(SUBSCRIPTION, str(subscription_id))
            if doc is None or doc.get("user_id") != me:
                fail("not_found", NOT_FOUND)
            self.store.delete(SUBSCRIPTION, str(subscription_id))
        return None

    # -- events -----------------------------------------------------------------------------
    def recipients(self, event: models.NewEvent) -> list[int]:
        ids: set[int] = set()
        if event.user is not None:
            given = int_list(event.user.ids)
            if given is None:
                field_error("user.ids", "is invalid")
            ids.update(given)
            if event.user.tags is not None:
                tags = event.user.tags
                users = self.store.find(USER)
                for user in users:
                    have = {t.lower() for t in str_list(user.get("user_tags"))}
                    if tags.any and not have & {t.lower() for t in str_list(tags.any)}:
                        continue
                    if tags.all and not {t.lower() for t in str_list(tags.all)} <= have:
                        continue
                    if tags.exclude and have & {t.lower() for t in str_list(tags.exclude)}:
                        continue
                    if tags.any or tags.all or tags.exclude:
                        ids.add(int(user["id"]))
        if event.external_user is not None:
            external = int_list(event.external_user.ids)
            if external is None:
                field_error("external_user.ids", "is invalid")
            for user in self.store.find(USER, lambda u: u.get("external_user_id") in external):
                ids.add(int(user["id"]))
        return sorted(i for i in ids if self.store.get(USER, str(i)) is not None)

    def deliver(self, doc: Doc) -> None:
        """Record one delivery per subscription of every recipient on the event's channel."""
        channel = doc["notification_channel"]["name"]
        for user_id in doc["subscribers_selector"]["user_ids"]:
            subs = [s for s in self.store.find(SUBSCRIPTION) if s.get("user_id") == user_id]
            for sub in subs:
                if channel not in ("universal", sub.get("channel")) and not (
                    channel == "universal" and sub.get("channel") == "email"
                ):
                    continue
                if (
                    sub.get("environment") != doc.get("environment")
                    and sub.get("channel") != "email"
                ):
                    continue
                self.store.insert(
                    DELIVERY,
                    {
                        "event_id": doc["id"],
                        "user_id": user_id,
                        "subscription_id": sub["id"],
                        "channel": sub.get("channel"),
                        "message": doc.get("message"),
                        "at": self.now(),
                    },
                )
        doc["occured_count"] = int(doc.get("occured_count") or 0) + 1

    def catch_up(self, doc: Doc) -> Doc:
        """Fire scheduled events whose time has come (events fire lazily, when next read)."""
        if not doc.get("active") or doc.get("event_type") == "one_shot":
            return doc
        now = self.now()
        start = doc.get("date")
        if not isinstance(start, int) or start > now:
            return doc
        with self.store.transaction():
            if doc["event_type"] == "fixed_date":
                self.deliver(doc)
                doc["active"] = False
            else:
                period = int(doc.get("period") or 86400)
                end = doc.get("end_date") if isinstance(doc.get("end_date"), int) else None
                last = min(now, end) if end else now
                due = int((last - start) // period) + 1
                while int(doc.get("occured_count") or 0) < due:
                    self.deliver(doc)
                if end and now >= end:
                    doc["active"] = False
            self.store.put(EVENT, str(doc["id"]), doc)
        return doc

    def event_doc(self, event_id: int) -> Doc:
        doc = self.store.get(EVENT, str(event_id))
        if doc is None or doc.get("user_id") != self.me():
            fail("not_found", NOT_FOUND)
        return self.catch_up(doc)

    @staticmethod
    def render_event(doc: Doc) -> models.EventWrapper:
        return models.EventWrapper.model_validate({"event": {k: doc.get(k) for k in EVENT_FIELDS}})

    async def create_event(
        self, *, auth: Credentials, body: models.CreateEventRequest
    ) -> Result[models.EventWrapper]:
        me = self.me()
        event = body.event
        kind = event.event_type or ("fixed_date" if event.date is not None else "one_shot")
        if kind in ("fixed_date", "period_date") and event.date is None:
            field_error("date", "can't be blank")
        if kind == "period_date" and event.period is None:
            field_error("period", "can't be blank")
        if not event.message:
            field_error("message", "can't be blank")
        recipients = self.recipients(event)
        if event.user is None and event.external_user is None:
            fail(
                "validation", "Recipients are required: user[ids], user[tags] or external_user[ids]"
            )
        channel = (
            "email" if event.notification_type == "email" else (event.push_type or "universal")
        )
        now = self.now_iso()
        tags = event.user.tags if event.user is not None else None
        with self.store.transaction():
            number = self.store.next_id("qb_event_id", start=40000001)
            doc: Doc = {
                "id": number,
                "event_type": kind,
                "message": event.message,
                "date": event.date,
                "end_date": event.end_date,
                "period": event.period,
                "name": event.name,
                "occured_count": 0,
                "active": True,
                "application_id": self.app_id,
                "user_id": me,
                "kind": "API",
                "environment": event.environment,
                "tag_query": ",".join(filter(None, [tags.any, tags.all, tags.exclude]))
                if tags
                else None,
                "notification_channel": {"name": channel},
                "subscribers_selector": {"environment": event.environment, "user_ids": recipients},
                "created_at": now,
                "updated_at": now,
            }
            if kind == "one_shot":
                self.deliver(doc)
                doc["active"] = False
            self.store.put(EVENT, str(number), doc)
            doc = self.catch_up(doc)
        return self.render_event(doc)

    async def get_event(self, *, auth: Credentials, event_id: int) -> Result[models.EventWrapper]:
        return self.render_event(self.event_doc(event_id))

    async def update_event(
        self, *, auth: Credentials, event_id: int, body: models.UpdateEventRequest
    ) -> Result[models.EventWrapper]:
        changes = body.event.model_dump(exclude_unset=True)
        with self.store.transaction():
            doc = self.event_doc(event_id)
            for name in ("message", "date", "period", "name"):
                if name in changes and changes[name] is not None:
                    doc[name] = changes[name]
            if changes.get("active") is True:
                doc["active"] = True
                if doc.get("event_type") == "one_shot":
                    self.deliver(doc)
                    doc["active"] = False
            elif changes.get("active") is False:
                doc["active"] = False
            doc["updated_at"] = self.now_iso()
            self.store.put(EVENT, str(event_id), doc)
        return self.render_event(doc)

    async def delete_event(self, *, auth: Credentials, event_id: int) -> Result[None]:
        with self.store.transaction():
            self.event_doc(event_id)
            self.store.delete(EVENT, str(event_id))
        return None

    async def list_events(
        self, *, auth: Credentials, page: int | None = None, per_page: int | None = None
    ) -> Result[models.EventPage]:
        me = self.me()
        docs = [self.catch_up(d) for d in self.store.find(EVENT, lambda e: e.get("user_id") == me)]
        number = page if page and page > 0 else 1
        size = min(per_page if per_page and per_page > 0 else 10, 100)
        chunk = docs[(number - 1) * size : number * size]
        return models.EventPage.model_validate(
            {
                "current_page": number,
                "per_page": size,
                "total_entries": len(docs),
                "items": [{"event": {k: d.get(k) for k in EVENT_FIELDS}} for d in chunk],
            }
        )

    async def get_event_status(
        self, *, auth: Credentials, event_id: int
    ) -> Result[models.EventStatus]:
        doc = self.event_doc(event_id)
        deliveries = self.store.find(DELIVERY, lambda d: d.get("event_id") == event_id)
        return models.EventStatus.model_validate(
            {
                "id": doc["id"],
                "active": doc.get("active"),
                "occured_count": doc.get("occured_count"),
                "recipients": len(doc["subscribers_selector"]["user_ids"]),
                "delivered": len(deliveries),
                "last_delivered_at": iso(max((d["at"] for d in deliveries), default=None)),
            }
        )
