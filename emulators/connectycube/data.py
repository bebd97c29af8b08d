"""Custom objects (`/data/{class_name}`): records, queries, update operators, bulk and ACLs.

Classes are made in the vendor's dashboard; here a class comes into being with its first record (or
only the names in option `custom_classes`, when set) and learns its field types from the values it
sees, the way a dashboard schema types them: a later `"age": "41"` is stored as 41 once `age` is an
Integer. Fields a class has but a record lacks read as null. Records carry ObjectIds, the owner and
unix-second times; each has read/update/delete permissions (defaults: open, owner, owner).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from . import query
from .common import CLASS, NOT_FOUND, Base, data_kind, split_ids
from .context import base_error, current, field_error, list_error

SYSTEM = ("_id", "_parent_id", "user_id", "created_at", "updated_at", "permissions")
DEFAULT_PERMISSIONS = {
    "read": {"access": "open"},
    "update": {"access": "owner"},
    "delete": {"access": "owner"},
}
OPERATORS = ("inc", "pull", "pull_all", "pop", "push", "add_to_set")
LIST_RESERVED = (
    "skip",
    "limit",
    "count",
    "sort_asc",
    "sort_desc",
    "output",
    "group_by",
    "permissions",
)
CLASS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return None


def _convert(value: Any, kind: str) -> Any:
    """A value as the field's type; raises ValueError when it cannot be one."""
    if value is None:
        return None
    if kind == "Integer":
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not number.is_integer():
            raise ValueError
        return int(number)
    if kind == "Float":
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError
    if kind == "Array":
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return [value]
    if kind == "String":
        if isinstance(value, (dict, list)):
            raise ValueError
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    return value


class DataMixin(Base):
    # -- classes -----------------------------------------------------------------------------
    def check_class(self, class_name: str) -> None:
        configured = [c.strip() for c in self.option("custom_classes").split(",") if c.strip()]
        if (configured and class_name not in configured) or not CLASS_NAME.match(class_name):
            raise list_error(404, NOT_FOUND)

    def schema(self, class_name: str) -> dict[str, str]:
        doc = self.store.get(CLASS, class_name)
        return dict(doc.get("fields") or {}) if doc else {}

    def typed(self, class_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Values converted to the class's field types; unknown fields join the class."""
        schema = self.schema(class_name)
        out: dict[str, Any] = {}
        learned = False
        for name, value in fields.items():
            if name in SYSTEM or name in OPERATORS or name in ("id",):
                continue
            kind = schema.get(name)
            if kind is None:
                kind = _type_of(value)
                if kind is None:
                    out[name] = value
                    continue
                schema[name] = kind
                learned = True
            try:
                out[name] = _convert(value, kind)
            except (TypeError, ValueError):
                raise field_error(name, "is invalid") from None
        if learned or self.store.get(CLASS, class_name) is None:
            self.store.put(CLASS, class_name, {"name": class_name, "fields": schema})
        return out

    # -- permissions -------------------------------------------------------------------------
    @staticmethod
    def permissions_in(
        raw: models.CustomObjectPermissions | None, current_perms: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        out = {k: dict(v) for k, v in (current_perms or DEFAULT_PERMISSIONS).items()}
        if raw is None:
            return out
        for action in ("read", "update", "delete"):
            rule = getattr(raw, action)
            if rule is None:
                continue
            if rule.access == "not_allowed":
                raise field_error("permissions", "not_allowed is not available for records")
            entry: dict[str, Any] = {"access": rule.access}
            if rule.access == "open_for_users_ids":
                ids = rule.ids if rule.ids is not None else rule.users_ids
                if not ids:
                    raise field_error("permissions", f"{action}: ids are required")
                entry["users_ids"] = [str(i) for i in ids]
            if rule.access == "open_for_groups":
                groups = rule.groups if rule.groups is not None else rule.users_groups
                if not groups:
                    raise field_error("permissions", f"{action}: groups are required")
                entry["users_groups"] = [str(g) for g in groups]
            out[action] = entry
        return out

    def allowed(self, record: Doc, action: str, user_id: int) -> bool:
        rule = (record.get("permissions") or DEFAULT_PERMISSIONS).get(
            action
        ) or DEFAULT_PERMISSIONS[action]
        access = rule.get("access")
        if access == "open":
            return True
        if not user_id:
            return False
        if access == "owner":
            return bool(record.get("user_id") == user_id)
        if access == "open_for_users_ids":
            return str(user_id) in [str(i) for i in rule.get("users_ids") or []]
        if access == "open_for_groups":
            user = self.user_doc(user_id) or {}
            return bool(set(user.get("tags") or []) & set(rule.get("users_groups") or []))
        return False

    def _viewer(self, auth: Credentials) -> int:
        return int(self.session(auth).get("user_id") or 0)

    # -- views -------------------------------------------------------------------------------
    def record_view(self, class_name: str, doc: Doc) -> dict[str, Any]:
        out: dict[str, Any] = {name: None for name in self.schema(class_name)}
        out.update({k: v for k, v in doc.items() if not k.startswith("__")})
        out.setdefault("_parent_id", None)
        out.setdefault("permissions", DEFAULT_PERMISSIONS)
        return out

    def _new_record(
        self,
        class_name: str,
        fields: dict[str, Any],
        parent: str | None,
        permissions: models.CustomObjectPermissions | None,
        owner: int,
    ) -> Doc:
        now = int(self.now())
        doc: Doc = {
            "_id": self.oid(),
            "_parent_id": parent,
            "user_id": owner,
            "created_at": now,
            "updated_at": now,
            "permissions": self.permissions_in(permissions),
        }
        doc.update(self.typed(class_name, fields))
        self.store.put(data_kind(class_name), doc["_id"], doc)
        return doc

    # -- create ------------------------------------------------------------------------------
    async def create_custom_object(
        self, *, auth: Credentials, class_name: str, body: models.CreateCustomObjectRequest
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        with self.store.transaction():
            doc = self._new_record(
                class_name, dict(body.model_extra or {}), body.field_parent_id, body.permissions, me
            )
        return Reply(201, self.record_view(class_name, doc))

    async def create_custom_objects(
        self, *, auth: Credentials, class_name: str, body: models.CreateCustomObjectsRequest
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        if not body.record:
            raise field_error("record", "can't be blank")
        created = []
        with self.store.transaction():
            for key in sorted(body.record, key=int):
                item = body.record[key]
                created.append(
                    self._new_record(
                        class_name,
                        dict(item.model_extra or {}),
                        item.field_parent_id,
                        item.permissions,
                        me,
                    )
                )
        return Reply(
            201,
            {"class_name": class_name, "items": [self.record_view(class_name, d) for d in created]},
        )

    # -- read --------------------------------------------------------------------------------
    def records(self, class_name: str) -> list[Doc]:
        return self.store.find(data_kind(class_name))

    async def list_custom_objects(
        self,
        *,
        auth: Credentials,
        class_name: str,
        skip: int | None = None,
        limit: int | None = None,
        count: int | None = None,
        sort_asc: str | None = None,
        sort_desc: str | None = None,
        output_include: str | None = None,
        output_exclude: str | None = None,
        group_by: str | None = None,
        **_filters: Any,
    ) -> Any:
        self.check_class(class_name)
        viewer = self._viewer(auth)
        ctx = current()
        conditions = query.parse_pairs(ctx.query if ctx else [], LIST_RESERVED)
        docs = [
            self.record_view(class_name, d)
            for d in self.records(class_name)
            if self.allowed(d, "read", viewer)
        ]
        docs = query.apply(docs, conditions)
        if count:
            return {"class_name": class_name, "items_count": len(docs)}
        calcs = [c for c in conditions if c.op == "calc"]
        if calcs or group_by:
            items = _aggregate(docs, calcs, group_by)
            return {"class_name": class_name, "skip": 0, "limit": len(items), "items": items}
        docs = query.sort(docs, sort_asc, sort_desc)
        if limit == -1:
            docs, start, size = docs[-1:], 0, -1
        else:
            start = max(0, skip or 0)
            size = 100 if limit is None or limit <= 0 else min(limit, 100)
            docs = docs[start : start + size]
        return {
            "class_name": class_name,
            "skip": start,
            "limit": size,
            "items": [query.project(d, output_include, output_exclude) for d in docs],
        }

    async def get_custom_objects(
        self, *, auth: Credentials, class_name: str, record_id: str, permissions: int | None = None
    ) -> Any:
        self.check_class(class_name)
        viewer = self._viewer(auth)
        ids = split_ids(record_id)
        if permissions:
            if len(ids) != 1:
                raise list_error(404, NOT_FOUND)
            doc = self.store.get(data_kind(class_name), ids[0])
            if doc is None:
                raise list_error(404, NOT_FOUND)
            if not viewer or doc.get("user_id") != viewer:
                raise base_error(403, "Only the owner can view the permissions of a record")
            return {
                "record_id": doc["_id"],
                "permissions": doc.get("permissions") or DEFAULT_PERMISSIONS,
            }
        found = [d for d in (self.store.get(data_kind(class_name), i) for i in ids) if d]
        readable = [d for d in found if self.allowed(d, "read", viewer)]
        if not found:
            raise list_error(404, NOT_FOUND)
        if not readable:
            raise base_error(403, "You don't have permission to read these records")
        return {
            "class_name": class_name,
            "items": [self.record_view(class_name, d) for d in readable],
        }

    # -- update ------------------------------------------------------------------------------
    def change(self, class_name: str, doc: Doc, changes: dict[str, Any], me: int) -> Doc:
        """Apply field values and update operators to a record (in place), typed."""
        plain = {
            k: v
            for k, v in changes.items()
            if k not in OPERATORS and k not in SYSTEM and k not in ("id", "search_criteria")
        }
        schema = self.schema(class_name)
        for name, value in list(plain.items()):
            existing = doc.get(name)
            if (
                isinstance(value, dict)
                and isinstance(existing, list)
                and value
                and all(str(k).isdigit() for k in value)
            ):
                updated = list(existing)
                for index, item in value.items():
                    position = int(index)
                    if position >= len(updated):
                        updated.extend([None] * (position - len(updated) + 1))
                    updated[position] = item
                plain[name] = updated
            elif value is None:
                doc[name] = None
                del plain[name]
        doc.update(self.typed(class_name, plain))
        schema = self.schema(class_name)
        for name, amount in (changes.get("inc") or {}).items():
            try:
                step = float(amount)
            except (TypeError, ValueError):
                raise field_error(name, "is not a number") from None
            base = doc.get(name) or 0
            if isinstance(base, bool) or not isinstance(base, (int, float)):
                raise field_error(name, "is not a number")
            total = base + step
            doc[name] = (
                int(total)
                if schema.get(name) == "Integer" or (isinstance(base, int) and step.is_integer())
                else total
            )
        for name, value in (changes.get("pull") or {}).items():
            items = list(doc.get(name) or [])
            if isinstance(value, dict) and value and all(k in query.OPERATORS for k in value):
                conds = query.parse_criteria({"v": value})
                doc[name] = [i for i in items if not all(query.matches({"v": i}, c) for c in conds)]
            else:
                doc[name] = [
                    i
                    for i in items
                    if not query.matches({"v": i}, query.Condition("v", "eq", value))
                ]
        for name, values in (changes.get("pull_all") or {}).items():
            drop = values if isinstance(values, list) else [values]
            doc[name] = [
                i
                for i in list(doc.get(name) or [])
                if not any(query.matches({"v": i}, query.Condition("v", "eq", d)) for d in drop)
            ]
        for name, side in (changes.get("pop") or {}).items():
            items = list(doc.get(name) or [])
            if items:
                items = items[1:] if str(side).strip() == "-1" else items[:-1]
            doc[name] = items
        for name, values in (changes.get("push") or {}).items():
            doc[name] = list(doc.get(name) or []) + (
                values if isinstance(values, list) else [values]
            )
        for name, values in (changes.get("add_to_set") or {}).items():
            items = list(doc.get(name) or [])
            for value in values if isinstance(values, list) else [values]:
                if value not in items:
                    items.append(value)
            doc[name] = items
        for name in {*(changes.get("push") or {}), *(changes.get("add_to_set") or {})}:
            if name not in schema:
                self.typed(class_name, {name: doc[name]})
        if changes.get("permissions") is not None:
            if doc.get("user_id") != me:
                raise base_error(403, "Only the owner can change the permissions of a record")
            raw = models.CustomObjectPermissions.model_validate(changes["permissions"])
            doc["permissions"] = self.permissions_in(raw, doc.get("permissions"))
        if "_parent_id" in changes:
            doc["_parent_id"] = changes["_parent_id"]
        doc["updated_at"] = int(self.now())
        return doc

    async def update_custom_object(
        self,
        *,
        auth: Credentials,
        class_name: str,
        record_id: str,
        body: models.UpdateCustomObjectRequest,
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        changes = body.model_dump(by_alias=True, exclude_unset=True)
        with self.store.transaction():
            doc = self.store.get(data_kind(class_name), record_id)
            if doc is None:
                raise list_error(404, NOT_FOUND)
            if not self.allowed(doc, "update", me):
                raise base_error(403, "You don't have permission to update this record")
            self.change(class_name, doc, changes, me)
            self.store.put(data_kind(class_name), record_id, doc)
        return self.record_view(class_name, doc)

    async def update_custom_objects(
        self, *, auth: Credentials, class_name: str, body: models.UpdateCustomObjectsRequest
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        missing: list[str] = []
        updated = []
        with self.store.transaction():
            for key in sorted(body.record, key=int):
                item = body.record[key]
                changes = item.model_dump(by_alias=True, exclude_unset=True)
                record_id = str(item.id or changes.get("_id") or "")
                doc = self.store.get(data_kind(class_name), record_id) if record_id else None
                if doc is None or not self.allowed(doc, "update", me):
                    missing.append(record_id)
                    continue
                self.change(class_name, doc, changes, me)
                self.store.put(data_kind(class_name), record_id, doc)
                updated.append(doc)
        out: dict[str, Any] = {
            "class_name": class_name,
            "items": [self.record_view(class_name, d) for d in updated],
        }
        if missing:
            out["not_found"] = {"ids": missing}
        return out

    async def update_custom_objects_by_criteria(
        self,
        *,
        auth: Credentials,
        class_name: str,
        body: models.UpdateCustomObjectsByCriteriaRequest,
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        conditions = query.parse_criteria(body.search_criteria)
        changes = body.model_dump(by_alias=True, exclude_unset=True)
        changes.pop("search_criteria", None)
        updated = []
        with self.store.transaction():
            docs = [self.record_view(class_name, d) for d in self.records(class_name)]
            matched = [d for d in query.apply(docs, conditions) if self.allowed(d, "update", me)]
            for view in matched:
                doc = self.store.get(data_kind(class_name), view["_id"])
                if doc is None:
                    continue
                self.change(class_name, doc, changes, me)
                self.store.put(data_kind(class_name), doc["_id"], doc)
                updated.append(doc)
        return {
            "class_name": class_name,
            "skip": 0,
            "limit": len(updated),
            "total_found": len(updated),
            "items": [self.record_view(class_name, d) for d in updated],
        }

    # -- delete ------------------------------------------------------------------------------
    def remove_record(self, class_name: str, record_id: str) -> None:
        """Delete a record and, recursively, the records whose `_parent_id` points at it."""
        self.store.delete(data_kind(class_name), record_id)
        for other in [k for k, _ in self.store.all(CLASS)]:
            for child in self.store.find(
                data_kind(other), lambda d: d.get("_parent_id") == record_id
            ):
                self.remove_record(other, child["_id"])

    async def delete_custom_objects(
        self, *, auth: Credentials, class_name: str, record_id: str
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        ids = split_ids(record_id)
        done: list[str] = []
        missing: list[str] = []
        refused: list[str] = []
        with self.store.transaction():
            for one in ids:
                doc = self.store.get(data_kind(class_name), one)
                if doc is None:
                    missing.append(one)
                elif not self.allowed(doc, "delete", me):
                    refused.append(one)
                else:
                    self.remove_record(class_name, one)
                    done.append(one)
        if len(ids) == 1:
            if missing:
                raise list_error(404, NOT_FOUND)
            if refused:
                raise base_error(403, "You don't have permission to delete this record")
            return Reply(200, headers={"Content-Type": "text/plain"})  # one id: an empty body
        return {
            "SuccessfullyDeleted": {"ids": done},
            "WrongPermissions": {"ids": refused},
            "NotFound": {"ids": missing},
        }

    async def delete_custom_objects_by_criteria(
        self, *, auth: Credentials, class_name: str, **_filters: Any
    ) -> Any:
        me = self.user_id(auth)
        self.check_class(class_name)
        ctx = current()
        pairs = list(ctx.query) if ctx else []
        if ctx is not None and ctx.content_type.startswith("application/x-www-form-urlencoded"):
            from urllib.parse import parse_qsl

            pairs.extend(parse_qsl(bytes(ctx.body).decode("utf-8", "replace")))
            body = None
        else:
            body = ctx.json_body() if ctx is not None else None
        conditions = query.parse_pairs(pairs)
        if isinstance(body, dict):
            conditions.extend(query.parse_criteria(body))
        deleted = 0
        with self.store.transaction():
            docs = [self.record_view(class_name, d) for d in self.records(class_name)]
            for view in query.apply(docs, conditions):
                if self.allowed(view, "delete", me):
                    self.remove_record(class_name, view["_id"])
                    deleted += 1
        return {"total_deleted": deleted}


def _aggregate(
    docs: list[dict[str, Any]], calcs: list[query.Condition], group_by: str | None
) -> list[dict[str, Any]]:
    """`field[calc]=avg|min|max|sum` per `group_by` value; `_id` is the group's key, as in Mongo."""
    groups: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, Any] = {}
    for doc in docs:
        key = doc.get(group_by) if group_by else None
        label = "null" if key is None else str(key)
        groups.setdefault(label, []).append(doc)
        keys[label] = key
    out = []
    for label, members in groups.items():
        item: dict[str, Any] = {"_id": label}
        if group_by:
            item[group_by] = keys[label]
        for calc in calcs:
            numbers = [
                float(d[calc.field])
                for d in members
                if isinstance(d.get(calc.field), (int, float))
                and not isinstance(d.get(calc.field), bool)
            ]
            fn = str(calc.value)
            value: float | None
            if not numbers:
                value = None
            elif fn == "avg":
                value = sum(numbers) / len(numbers)
            elif fn == "min":
                value = min(numbers)
            elif fn == "max":
                value = max(numbers)
            elif fn == "sum":
                value = sum(numbers)
            else:
                value = None
            item[calc.field] = value
        item["count"] = len(members)
        out.append(item)
    return out


__all__ = ["DataMixin"]
