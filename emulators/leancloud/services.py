"""Push, cloud functions, full-text search, leaderboards, server time, export and analytics.

Nothing leaves the machine: a push is recorded as a `Notification` counting the installations it
matched (kind `push_notification`; `push_scheduled` for later ones); cloud functions echo their
parameters (calls kept in `lc_function_call`). Search ranks stored objects by the query's terms.
Leaderboards are real: scores follow each board's strategy and order, versions roll over when a
board's period ends or it is reset, and old versions are archived.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from generated.leancloud import models
from generated.leancloud.server import Credentials

from . import cql
from .accounts import AccountsBase
from .base import BUILTIN, Ctx, kind, page_size
from .common import (
    MASTER_ONLY,
    NOT_FOUND,
    Doc,
    JsonObject,
    bad,
    date_value,
    fail,
    iso,
    object_id,
    parse_iso,
    pointer,
    random_id,
    raw_body,
    raw_query_json,
    reply,
)
from .query import order_docs

REQ_ID_WINDOW = 5 * 60
SCHEDULE_SLACK = 60
WORD = re.compile(r"\w+", re.UNICODE)
MEMBER_FIELD = {"user": "user", "object": "object", "entity": "entity"}
NO_BOARD = (404, 2100, "Leaderboard not found.")


def _period_end(start: datetime, interval: str) -> datetime | None:
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7 - day.weekday())
    if interval == "month":
        first = day.replace(day=1)
        return (first + timedelta(days=32)).replace(day=1)
    return None


def _strings(doc: Doc, fields: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in doc.items():
        if key.startswith("_") or (fields and key not in fields):
            continue
        if isinstance(value, str) and key not in ("objectId", "createdAt", "updatedAt"):
            found[key] = value
    return found


class ServicesMixin(AccountsBase):
    # -- push -----------------------------------------------------------------------------------
    def record_push(
        self, data: Doc, devices: list[Doc] | int, where: Any, prod: str, push_time: Any
    ) -> Doc:
        now = self.now()
        with self.store.transaction():
            req_id = data.get("req_id")
            if req_id:
                for record in self.store.find("push_notification"):
                    if record.get("_reqId") == req_id and now - record["_at"] < REQ_ID_WINDOW:
                        return record
            count = devices if isinstance(devices, int) else len(devices)
            when = parse_iso(push_time) if push_time else None
            scheduled = when is not None and when.timestamp() > now + SCHEDULE_SLACK
            record = {
                "objectId": random_id(16),
                "notificationId": data.get("notification_id") or random_id(16),
                "msg": data.get("data") or {},
                "where": where if isinstance(where, dict) else {},
                "status": "scheduled" if scheduled else "done",
                "devices": count,
                "successes": 0 if scheduled else count,
                "prod": prod,
                "from-service": "push",
                "createdAt": iso(now),
                "updatedAt": iso(now),
                "_reqId": req_id,
                "_at": now,
            }
            if not isinstance(devices, int) and not scheduled:
                record["iosSuccesses"] = sum(1 for d in devices if d.get("deviceType") == "ios")
                record["lcSuccesses"] = sum(1 for d in devices if d.get("deviceType") == "android")
            if when is not None:
                record["push-time"] = date_value(when.timestamp())
                record["_sendAt"] = when.timestamp()
            self.store.put("push_notification", record["objectId"], record)
            if scheduled and when is not None:
                number = self.store.next_id("push_scheduled")
                self.store.put(
                    "push_scheduled",
                    str(number),
                    {
                        "id": number,
                        "expire_time": int(when.timestamp() * 1000),
                        "push_msg": {
                            "id": record["objectId"],
                            "notificationId": record["notificationId"],
                            "app-id": self.config["app_id"],
                            "where": {"query": record["where"]},
                            "prod": prod,
                            "api-version": "1.1",
                            "msg": record["msg"],
                        },
                        "createdAt": iso(now),
                    },
                )
        return record

    def notification_view(self, record: Doc) -> Doc:
        view = {k: v for k, v in record.items() if not k.startswith("_")}
        if view.get("status") == "scheduled" and record.get("_sendAt", 0) <= self.now():
            view["status"] = "done"
            view["successes"] = view.get("devices", 0)
        return view

    async def send_push(
        self, *, auth: Credentials, x_lc_prod: int | None = None, body: models.PushRequest
    ) -> Any:
        ctx = self.ctx(auth)
        if not ctx.master:
            raise fail(*MASTER_ONLY)
        data = raw_body(body)
        where = data.get("where") if isinstance(data.get("where"), dict) else {}
        if data.get("cql"):
            statement = cql.parse(str(data["cql"]))
            if statement.class_name != "_Installation":
                raise bad(300, "CQL syntax error: pushes query _Installation.")
            where = statement.where
        channels = data.get("channels")
        if channels is not None:
            channels = [channels] if isinstance(channels, str) else list(channels)
            where = (
                {"$and": [where, {"channels": {"$in": channels}}]}
                if where
                else {"channels": {"$in": channels}}
            )
        installations = [
            d for d in self.store.find(kind("_Installation")) if d.get("valid", True) is not False
        ]
        devices = self.matcher(ctx).filter(installations, where)
        prod = data.get("prod") or ("dev" if x_lc_prod == 0 else "prod")
        record = self.record_push(data, devices, where, prod, data.get("push_time"))
        return reply(
            models.CreatedObject, {"objectId": record["objectId"], "createdAt": record["createdAt"]}
        )

    async def send_push_to_devices(
        self, *, auth: Credentials, body: models.PushDevicesRequest
    ) -> Any:
        data = raw_body(body)
        record = self.record_push(
            data,
            len(set(body.device_ids)),
            {"deviceType": body.device_type},
            body.prod or "prod",
            None,
        )
        return reply(
            models.CreatedObject, {"objectId": record["objectId"], "createdAt": record["createdAt"]}
        )

    def notification(self, key: str) -> Doc:
        record = self.store.get("push_notification", key)
        if record is None:
            record = next(
                (r for r in self.store.find("push_notification") if r.get("notificationId") == key),
                None,
            )
        if record is None:
            raise fail(*NOT_FOUND)
        return record

    async def get_push_record(self, *, auth: Credentials, object_id: str) -> Any:
        return reply(models.Notification, self.notification_view(self.notification(object_id)))

    async def list_notifications(
        self,
        *,
        auth: Credentials,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        docs = [self.notification_view(r) for r in self.store.find("push_notification")]
        body = self.find(
            "Notifications", Ctx(master=True), docs=docs, where=raw_query_json("where", where),
            order=order or "-createdAt", limit=limit, skip=skip, keys=keys, count=count,
        )  # fmt: skip
        return reply(models.NotificationList, body)

    async def get_notification(self, *, auth: Credentials, notification_id: str) -> Any:
        return reply(
            models.Notification, self.notification_view(self.notification(notification_id))
        )

    async def delete_notification(self, *, auth: Credentials, notification_id: str) -> Any:
        record = self.notification(notification_id)
        self.store.delete("push_notification", record["objectId"])
        return reply(models.EmptyObject, {})

    async def list_scheduled_pushes(self, *, auth: Credentials) -> Any:
        now = self.now() * 1000
        rows = [r for r in self.store.find("push_scheduled") if r.get("expire_time", 0) > now]
        return reply(models.ScheduledPushList, {"results": rows})

    async def cancel_scheduled_push(self, *, auth: Credentials, id: int) -> Any:
        with self.store.transaction():
            row = self.store.get("push_scheduled", str(id))
            if row is None:
                raise fail(*NOT_FOUND)
            self.store.delete("push_scheduled", str(id))
            self.store.delete("push_notification", str(row["push_msg"].get("id")))
        return reply(models.EmptyObject, {})

    # -- cloud functions ------------------------------------------------------------------------
    def call(self, auth: Credentials, name: str, body: Any, prod: int | None, rpc: bool) -> Any:
        ctx = self.ctx(auth)
        params = raw_body(body)
        self.store.insert(
            "lc_function_call",
            {
                "name": name,
                "params": params,
                "user": ctx.user_id,
                "prod": prod if prod is not None else 1,
                "rpc": rpc,
                "at": iso(self.now()),
            },
        )
        return reply(models.CloudFunctionResult, {"result": params if params is not None else {}})

    async def run_cloud_function(
        self,
        *,
        auth: Credentials,
        name: str,
        x_lc_prod: int | None = None,
        body: models.CloudFunctionParams,
    ) -> Any:
        return self.call(auth, name, body, x_lc_prod, False)

    async def call_cloud_function(
        self,
        *,
        auth: Credentials,
        name: str,
        x_lc_prod: int | None = None,
        body: models.CloudFunctionParams,
    ) -> Any:
        return self.call(auth, name, body, x_lc_prod, True)

    # -- search ---------------------------------------------------------------------------------
    def searchable(self, clazz: str | None, ctx: Ctx) -> list[tuple[str, Doc]]:
        if clazz:
            names = [clazz] if self.class_exists(clazz) else []
        else:
            names = [n for n, _ in self.store.all("lc_class") if n not in BUILTIN]
        return [
            (name, doc)
            for name in names
            for doc in self.store.find(kind(name))
            if self.can(ctx, doc, "read")
        ]

    def search_answer(
        self,
        scored: list[tuple[float, str, Doc]],
        ctx: Ctx,
        terms: list[str],
        *,
        skip: Any,
        limit: Any,
        sid: str | None,
        fields: str | None,
        highlights: str | None,
        include: str | None,
        order: str | None,
    ) -> Any:
        if order:
            by_id = {d["objectId"]: (s, n, d) for s, n, d in scored}
            ordered = order_docs([d for _, _, d in scored], order)
            scored = [by_id[d["objectId"]] for d in ordered]
        else:
            scored.sort(key=lambda item: -item[0])
        start = max(0, skip or 0)
        if sid:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(sid.encode()))["offset"])
            except (ValueError, KeyError, TypeError):
                raise bad(1, "Invalid sid.") from None
        size = page_size(limit)
        page = scored[start : start + size]
        wanted = [h.strip() for h in (highlights or "").split(",") if h.strip()]
        results = []
        for _, name, doc in page:
            hit = self.present(name, doc, ctx, keys=fields, include=include)
            hit["className"] = name
            if wanted:
                marks: dict[str, list[str]] = {}
                for field, text in _strings(doc, None if "*" in wanted else wanted).items():
                    marked = text
                    for term in terms:
                        marked = re.sub(
                            f"({re.escape(term)})", r"<em>\1</em>", marked, flags=re.IGNORECASE
                        )
                    if marked != text:
                        marks[field] = [marked]
                hit["_highlight"] = marks
            results.append(hit)
        more = start + size < len(scored)
        next_sid = (
            base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
            if more
            else None
        )
        return reply(
            models.SearchResult, {"hits": len(scored), "sid": next_sid, "results": results}
        )

    async def search_objects(
        self,
        *,
        auth: Credentials,
        q: str,
        skip: int | None = None,
        limit: int | None = None,
        sid: str | None = None,
        fields: str | None = None,
        highlights: str | None = None,
        clazz: str | None = None,
        include: str | None = None,
        order: str | None = None,
        sort: models.AnyObject | list[models.AnyObject] | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        clauses: list[tuple[str | None, str]] = []
        for part in re.findall(r'"[^"]*"|\S+', q):
            if part.upper() in ("AND", "OR", "NOT"):
                continue
            field, sep, value = part.partition(":")
            if not sep:
                field, value = "", part
            value = value.strip('"*')
            clauses.append((field or None, value.lower()))
        everything = all(value == "" for _, value in clauses)
        scored: list[tuple[float, str, Doc]] = []
        for name, doc in self.searchable(clazz, ctx):
            if everything:
                scored.append((1.0, name, doc))
                continue
            texts = {k: v.lower() for k, v in _strings(doc, None).items()}
            score = 0.0
            for field, value in clauses:
                if not value:
                    continue
                haystack = [texts.get(field, "")] if field else list(texts.values())
                score += sum(text.count(value) for text in haystack)
            if score > 0:
                scored.append((score, name, doc))
        terms = [value for _, value in clauses if value]
        return self.search_answer(
            scored, ctx, terms, skip=skip, limit=limit, sid=sid, fields=fields,
            highlights=highlights, include=include, order=order,
        )  # fmt: skip

    async def search_more_like_this(
        self,
        *,
        auth: Credentials,
        clazz: str,
        like: str | None = None,
        like_object_ids: str | None = None,
        min_term_freq: int | None = None,
        min_doc_freq: int | None = None,
        max_doc_freq: int | None = None,
        skip: int | None = None,
        limit: int | None = None,
        fields: str | None = None,
        include: str | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        if not like and not like_object_ids:
            raise bad(1, "One of like or likeObjectIds is required.")
        wanted = [f.strip() for f in (fields or "").split(",") if f.strip()] or None
        sources = [i.strip() for i in (like_object_ids or "").split(",") if i.strip()]
        words: set[str] = {w.lower() for w in WORD.findall(like or "")}
        for oid in sources:
            doc = self.load(clazz, oid) if self.class_exists(clazz) else None
            if doc is not None:
                for text in _strings(doc, wanted).values():
                    words |= {w.lower() for w in WORD.findall(text)}
        scored: list[tuple[float, str, Doc]] = []
        for name, doc in self.searchable(clazz, ctx):
            if doc["objectId"] in sources:
                continue
            have = {w.lower() for t in _strings(doc, wanted).values() for w in WORD.findall(t)}
            overlap = len(have & words)
            if overlap:
                scored.append((float(overlap), name, doc))
        return self.search_answer(
            scored, ctx, sorted(words), skip=skip, limit=limit, sid=None, fields=None,
            highlights=None, include=include, order=None,
        )  # fmt: skip

    async def analyze_text(self, *, auth: Credentials, clazz: str, text: str) -> Any:
        tokens = [
            {
                "token": match.group(0).lower(),
                "start_offset": match.start(),
                "end_offset": match.end(),
                "type": "<NUM>" if match.group(0).isdigit() else "<ALPHANUM>",
                "position": position,
            }
            for position, match in enumerate(WORD.finditer(text))
        ]
        return reply(models.AnalyzeResult, {"tokens": tokens})

    # -- leaderboards ---------------------------------------------------------------------------
    def board(self, name: str) -> Doc:
        """The leaderboard, rolled over to a new version if its period ended."""
        with self.store.transaction():
            board = self.store.get("lb", name)
            if board is None:
                raise fail(*NO_BOARD)
            ends = parse_iso((board.get("expiredAt") or {}).get("iso"))
            while ends is not None and ends.timestamp() <= self.now():
                board = self._new_version(board, ends.timestamp())
                ends = parse_iso((board.get("expiredAt") or {}).get("iso"))
            return board

    def _new_version(self, board: Doc, at: float) -> Doc:
        stamp = iso(at)
        name = str(board["statisticName"])
        archive = {
            "objectId": object_id(at),
            "statisticName": board["statisticName"],
            "version": board["version"],
            "status": "completed",
            "url": f"https://{self.files_host()}/leaderboard/{quote(name)}-v{board['version']}.csv",
            "file_key": f"{board['statisticName']}-v{board['version']}.csv",
            "activatedAt": board.get("activatedAt"),
            "deactivatedAt": date_value(at),
            "createdAt": stamp,
            "updatedAt": stamp,
        }
        self.store.put("lb_archive", archive["objectId"], archive)
        board["version"] = int(board["version"]) + 1
        board["activatedAt"] = date_value(at)
        self._set_expiry(board, at)
        board["updatedAt"] = stamp
        self.store.put("lb", board["statisticName"], board)
        return board

    def _set_expiry(self, board: Doc, start: float) -> None:
        end = _period_end(datetime.fromtimestamp(start, UTC), board["versionChangeInterval"])
        if end is None:
            board.pop("expiredAt", None)
        else:
            board["expiredAt"] = date_value(end.timestamp())

    def board_view(self, board: Doc) -> Any:
        return reply(models.Leaderboard, {k: v for k, v in board.items() if not k.startswith("_")})

    async def create_leaderboard(
        self, *, auth: Credentials, body: models.CreateLeaderboardRequest
    ) -> Any:
        now = self.now()
        with self.store.transaction():
            if self.store.get("lb", body.statisticName) is not None:
                raise bad(1, f"Leaderboard {body.statisticName} already exists.")
            board: Doc = {
                "objectId": object_id(now),
                "statisticName": body.statisticName,
                "memberType": body.memberType or "_User",
                "order": body.order or "descending",
                "updateStrategy": body.updateStrategy or "better",
                "versionChangeInterval": body.versionChangeInterval or "week",
                "version": 0,
                "activatedAt": date_value(now),
                "createdAt": iso(now),
                "updatedAt": iso(now),
            }
            self._set_expiry(board, now)
            self.store.put("lb", body.statisticName, board)
        return self.board_view(board)

    async def get_leaderboard(self, *, auth: Credentials, statistic_name: str) -> Any:
        return self.board_view(self.board(statistic_name))

    async def update_leaderboard(
        self, *, auth: Credentials, statistic_name: str, body: models.UpdateLeaderboardRequest
    ) -> Any:
        with self.store.transaction():
            board = self.board(statistic_name)
            if body.updateStrategy:
                board["updateStrategy"] = body.updateStrategy
            if body.versionChangeInterval:
                board["versionChangeInterval"] = body.versionChangeInterval
                activated = parse_iso(board["activatedAt"]["iso"])
                self._set_expiry(board, activated.timestamp() if activated else self.now())
            board["updatedAt"] = iso(self.now())
            self.store.put("lb", statistic_name, board)
        return self.board_view(board)

    async def delete_leaderboard(self, *, auth: Credentials, statistic_name: str) -> Any:
        with self.store.transaction():
            self.board(statistic_name)
            self.store.delete("lb", statistic_name)
            for key, stat in self.store.all("lb_stat"):
                if stat.get("statisticName") == statistic_name:
                    self.store.delete("lb_stat", key)
            for key, archive in self.store.all("lb_archive"):
                if archive.get("statisticName") == statistic_name:
                    self.store.delete("lb_archive", key)
        return reply(models.EmptyObject, {})

    async def reset_leaderboard(self, *, auth: Credentials, statistic_name: str) -> Any:
        with self.store.transaction():
            board = self._new_version(self.board(statistic_name), self.now())
        return self.board_view(board)

    async def list_leaderboard_archives(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        skip: int | None = None,
        limit: int | None = None,
    ) -> Any:
        self.board(statistic_name)
        rows = [
            a for a in self.store.find("lb_archive") if a.get("statisticName") == statistic_name
        ]
        rows.sort(key=lambda a: -int(a["version"]))
        start = max(0, skip or 0)
        return reply(
            models.LeaderboardArchiveList,
            {"results": rows[start : start + page_size(limit, 10, 100)]},
        )

    # statistics ---------------------------------------------------------------------------------
    @staticmethod
    def member_kind(board: Doc) -> str:
        member_type = board.get("memberType", "_User")
        return (
            "user" if member_type == "_User" else "entity" if member_type == "_Entity" else "object"
        )

    def member_ref(self, board: Doc, member: str, keys: str | None = None) -> Any:
        kind_ = self.member_kind(board)
        if kind_ == "entity":
            return member
        class_name = "_User" if kind_ == "user" else str(board["memberType"])
        ref: JsonObject = pointer(class_name, member)
        if keys:
            doc = self.load(class_name, member)
            if doc is not None:
                view = self.present(class_name, doc, Ctx(master=True), keys=keys)
                wanted = {k.strip().split(".")[0] for k in keys.split(",")}
                ref.update({k: v for k, v in view.items() if k in wanted and k not in ref})
        return ref

    def stat_row(self, board: Doc, stat: Doc, keys: str | None = None) -> JsonObject:
        return {
            "statisticName": board["statisticName"],
            "statisticValue": stat["value"],
            "version": stat["version"],
            MEMBER_FIELD[self.member_kind(board)]: self.member_ref(board, stat["member"], keys),
        }

    def stats_of(self, name: str, version: int) -> list[Doc]:
        return [
            s
            for s in self.store.find("lb_stat")
            if s.get("statisticName") == name and s.get("version") == version
        ]

    def check_member(self, kind_: str, member: str) -> None:
        if kind_ == "user" and self.load("_User", member) is None:
            raise fail(404, 211, "Could not find user.")

    def submit(self, kind_: str, member: str, body: Any, overwrite: Any) -> Any:
        self.check_member(kind_, member)
        items = raw_body(body)
        if not isinstance(items, list):
            raise bad(107, "An array of statistics is expected.")
        rows = []
        with self.store.transaction():
            for item in items:
                name, value = item.get("statisticName"), item.get("statisticValue")
                if (
                    not isinstance(name, str)
                    or isinstance(value, bool)
                    or not isinstance(value, int | float)
                ):
                    raise bad(
                        1, "Each statistic needs a statisticName and a numeric statisticValue."
                    )
                board = self.board(name)
                if self.member_kind(board) != kind_:
                    raise bad(1, f"Leaderboard {name} ranks {board['memberType']} members.")
                key = f"{name}:{board['version']}:{member}"
                stat = self.store.get("lb_stat", key)
                old = None if stat is None else stat["value"]
                if old is None or str(overwrite) == "1" or board["updateStrategy"] == "last":
                    new = value
                elif board["updateStrategy"] == "sum":
                    new = old + value
                elif board["order"] == "ascending":
                    new = min(old, value)
                else:
                    new = max(old, value)
                if stat is None or new != old:
                    stat = {
                        "statisticName": name,
                        "version": board["version"],
                        "member": member,
                        "value": new,
                        "at": self.now(),
                        "seq": self.store.next_id("lb_stat"),
                    }
                    self.store.put("lb_stat", key, stat)
                rows.append(self.stat_row(board, stat))
        return reply(models.StatisticList, {"results": rows})

    def member_stats(
        self, kind_: str, member: str, names: str | None, keys: str | None = None
    ) -> Any:
        wanted = {n.strip() for n in (names or "").split(",") if n.strip()}
        rows = []
        for board_name, _ in self.store.all("lb"):
            if wanted and board_name not in wanted:
                continue
            board = self.board(board_name)
            if self.member_kind(board) != kind_:
                continue
            stat = self.store.get("lb_stat", f"{board_name}:{board['version']}:{member}")
            if stat is not None:
                rows.append(self.stat_row(board, stat, keys))
        return reply(models.StatisticList, {"results": rows})

    def forget(self, kind_: str, member: str, names: str) -> Any:
        with self.store.transaction():
            for name in {n.strip() for n in names.split(",") if n.strip()}:
                board = self.store.get("lb", name)
                if board is None or self.member_kind(board) != kind_:
                    continue
                self.store.delete("lb_stat", f"{name}:{board['version']}:{member}")
        return reply(models.EmptyObject, {})

    def stats_by_ids(self, kind_: str, name: str, ids: list[str]) -> Any:
        board = self.board(name)
        if self.member_kind(board) != kind_:
            raise bad(1, f"Leaderboard {name} ranks {board['memberType']} members.")
        rows = []
        for member in ids:
            stat = self.store.get("lb_stat", f"{name}:{board['version']}:{member}")
            if stat is not None:
                rows.append(self.stat_row(board, stat))
        return reply(models.StatisticList, {"results": rows})

    def self_id(self, auth: Credentials) -> str:
        return str(self.require_user(self.ctx(auth))["objectId"])

    def only_self_or_master(self, auth: Credentials, member: str) -> None:
        ctx = self.ctx(auth)
        if not ctx.master and ctx.user_id != member:
            raise fail(403, 403, "Only the user itself (or the master key) may change its scores.")

    async def get_current_user_statistics(
        self, *, auth: Credentials, statistics: str | None = None, include_user: str | None = None
    ) -> Any:
        return self.member_stats("user", self.self_id(auth), statistics, include_user)

    async def update_current_user_statistics(
        self, *, auth: Credentials, body: list[models.StatisticUpdate]
    ) -> Any:
        return self.submit("user", self.self_id(auth), body, None)

    async def delete_current_user_statistics(self, *, auth: Credentials, statistics: str) -> Any:
        return self.forget("user", self.self_id(auth), statistics)

    async def get_user_statistics(
        self,
        *,
        auth: Credentials,
        object_id: str,
        statistics: str | None = None,
        include_user: str | None = None,
    ) -> Any:
        self.check_member("user", object_id)
        return self.member_stats("user", object_id, statistics, include_user)

    async def update_user_statistics(
        self,
        *,
        auth: Credentials,
        object_id: str,
        overwrite: int | None = None,
        body: list[models.StatisticUpdate],
    ) -> Any:
        self.only_self_or_master(auth, object_id)
        return self.submit("user", object_id, body, overwrite)

    async def delete_user_statistics(
        self, *, auth: Credentials, object_id: str, statistics: str
    ) -> Any:
        self.only_self_or_master(auth, object_id)
        return self.forget("user", object_id, statistics)

    async def get_users_statistics_by_ids(
        self, *, auth: Credentials, statistic_name: str, body: models.StatisticIdsRequest
    ) -> Any:
        return self.stats_by_ids("user", statistic_name, body.ids)

    async def get_object_statistics(
        self, *, auth: Credentials, object_id: str, statistics: str | None = None
    ) -> Any:
        return self.member_stats("object", object_id, statistics)

    async def update_object_statistics(
        self,
        *,
        auth: Credentials,
        object_id: str,
        overwrite: int | None = None,
        body: list[models.StatisticUpdate],
    ) -> Any:
        return self.submit("object", object_id, body, overwrite)

    async def delete_object_statistics(
        self, *, auth: Credentials, object_id: str, statistics: str
    ) -> Any:
        return self.forget("object", object_id, statistics)

    async def get_objects_statistics_by_ids(
        self, *, auth: Credentials, statistic_name: str, body: models.StatisticIdsRequest
    ) -> Any:
        return self.stats_by_ids("object", statistic_name, body.ids)

    async def get_entity_statistics(
        self, *, auth: Credentials, entity: str, statistics: str | None = None
    ) -> Any:
        return self.member_stats("entity", entity, statistics)

    async def update_entity_statistics(
        self,
        *,
        auth: Credentials,
        entity: str,
        overwrite: int | None = None,
        body: list[models.StatisticUpdate],
    ) -> Any:
        return self.submit("entity", entity, body, overwrite)

    async def delete_entity_statistics(
        self, *, auth: Credentials, entity: str, statistics: str
    ) -> Any:
        return self.forget("entity", entity, statistics)

    async def get_entities_statistics_by_ids(
        self, *, auth: Credentials, statistic_name: str, body: models.StatisticIdsRequest
    ) -> Any:
        return self.stats_by_ids("entity", statistic_name, body.ids)

    # ranks --------------------------------------------------------------------------------------
    def ranks(
        self,
        kind_: str | None,
        name: str,
        *,
        start: Any = None,
        size: Any = None,
        keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
        around: str | None = None,
    ) -> Any:
        board = self.board(name)
        if kind_ is not None and self.member_kind(board) != kind_:
            raise fail(*NO_BOARD)
        chosen = board["version"] if version is None else version
        stats = self.stats_of(name, chosen)
        descending = board["order"] != "ascending"
        stats.sort(key=lambda s: (-s["value"] if descending else s["value"], s["at"], s["seq"]))
        limit = page_size(size, 20, 2000) or 20
        if around is not None:
            position = next((i for i, s in enumerate(stats) if s["member"] == around), None)
            if position is None:
                window: list[tuple[int, Doc]] = []
            else:
                first = max(0, position - limit // 2)
                window = list(enumerate(stats))[first : first + limit]
        else:
            first = max(0, start or 0)
            window = list(enumerate(stats))[first : first + limit]
        others = [n.strip() for n in (include_statistics or "").split(",") if n.strip()]
        rows = []
        for rank, stat in window:
            row = {"rank": rank, **self.stat_row(board, stat, keys)}
            row.pop("version", None)
            if others:
                extra = []
                for other in others:
                    other_board = self.store.get("lb", other)
                    if other_board is None:
                        continue
                    found = self.store.get(
                        "lb_stat", f"{other}:{other_board['version']}:{stat['member']}"
                    )
                    if found is not None:
                        extra.append(
                            {
                                "statisticName": other,
                                "statisticValue": found["value"],
                                "version": found["version"],
                            }
                        )
                row["statistics"] = extra
            rows.append(row)
        body: JsonObject = {"results": rows}
        if count:
            body["count"] = len(stats)
        return reply(models.RankingList, body)

    async def get_user_leaderboard_ranks(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "user", statistic_name, start=start_position, size=max_results_count,
            keys=select_keys, include_statistics=include_statistics, version=version, count=count,
        )  # fmt: skip

    async def get_user_leaderboard_ranks_around(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        member_id: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "user", statistic_name, size=max_results_count, keys=select_keys,
            include_statistics=include_statistics, version=version, count=count, around=member_id,
        )  # fmt: skip

    async def get_object_leaderboard_ranks(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "object", statistic_name, start=start_position, size=max_results_count,
            keys=select_keys, include_statistics=include_statistics, version=version, count=count,
        )  # fmt: skip

    async def get_object_leaderboard_ranks_around(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        member_id: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "object", statistic_name, size=max_results_count, keys=select_keys,
            include_statistics=include_statistics, version=version, count=count, around=member_id,
        )  # fmt: skip

    async def get_entity_leaderboard_ranks(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "entity", statistic_name, start=start_position, size=max_results_count,
            include_statistics=include_statistics, version=version, count=count,
        )  # fmt: skip

    async def get_entity_leaderboard_ranks_around(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        member_id: str,
        start_position: int | None = None,
        max_results_count: int | None = None,
        select_keys: str | None = None,
        include_keys: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
    ) -> Any:
        return self.ranks(
            "entity", statistic_name, size=max_results_count,
            include_statistics=include_statistics, version=version, count=count, around=member_id,
        )  # fmt: skip

    async def get_leaderboard_ranks(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        skip: int | None = None,
        limit: int | None = None,
        select_user_keys: str | None = None,
        include_user: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
        start_position: int | None = None,
        max_results_count: int | None = None,
    ) -> Any:
        return self.ranks(
            None, statistic_name, start=start_position if start_position is not None else skip,
            size=max_results_count if max_results_count is not None else limit,
            keys=select_user_keys or include_user, include_statistics=include_statistics,
            version=version, count=count,
        )  # fmt: skip

    async def get_leaderboard_ranks_around_user(
        self,
        *,
        auth: Credentials,
        statistic_name: str,
        user_id: str,
        skip: int | None = None,
        limit: int | None = None,
        select_user_keys: str | None = None,
        include_user: str | None = None,
        include_statistics: str | None = None,
        version: int | None = None,
        count: int | None = None,
        start_position: int | None = None,
        max_results_count: int | None = None,
    ) -> Any:
        return self.ranks(
            None, statistic_name,
            size=max_results_count if max_results_count is not None else limit,
            keys=select_user_keys or include_user, include_statistics=include_statistics,
            version=version, count=count, around=user_id,
        )  # fmt: skip

    # -- misc -----------------------------------------------------------------------------------
    async def get_server_date(self, *, auth: Credentials) -> Any:
        return reply(models.Date, date_value(self.now()))

    async def export_data(self, *, auth: Credentials, body: models.ExportDataRequest) -> Any:
        job = {
            "status": "running",
            "id": random_id(24).lower(),
            "app_id": self.config["app_id"],
            "options": raw_body(body),
            "createdAt": iso(self.now()),
        }
        self.store.put("lc_export", job["id"], job)
        return reply(models.ExportJob, {k: job[k] for k in ("status", "id", "app_id")})

    async def get_export_job(self, *, auth: Credentials, id: str) -> Any:
        job = self.store.get("lc_export", id)
        if job is None:
            raise fail(*NOT_FOUND)
        answer = {
            "status": "done",
            "id": id,
            "app_id": job["app_id"],
            "download_url": f"https://{self.files_host()}/export/{id}.zip",
        }
        return reply(models.ExportJob, answer)

    async def collect_analytics(self, *, auth: Credentials, body: models.CollectRequest) -> Any:
        self.store.insert("lc_analytics", {"payload": raw_body(body), "at": iso(self.now())})
        return reply(models.AnyObject, {})


__all__ = ["ServicesMixin"]
