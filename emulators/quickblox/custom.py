"""Custom objects: classes with typed fields and permissions, records, queries, bulk, files."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

from generated.quickblox import models
from generated.quickblox.server import Credentials, CustomobjectsHandlers, Reply, Result

from . import context, query
from .base import CLASS, RECORD_FILE, USER, Base, Principal, record_kind
from .schema import cast, cast_scalar, parse_type
from .util import (
    NO_PERMISSION,
    NO_SESSION,
    NOT_FOUND,
    VendorError,
    fail,
    field_error,
    str_list,
    to_float,
)

Doc = dict[str, Any]
ACTIONS = ("create", "read", "update", "delete")
DEFAULT_ACL = {"create": "open", "read": "open", "update": "owner", "delete": "owner"}
FIXED = ("_id", "_parent_id", "user_id", "created_at", "updated_at")
IGNORED = frozenset(
    {
        "_id",
        "id",
        "user_id",
        "created_at",
        "updated_at",
        "class_name",
        "_parent_id",
        "permissions",
        "record_id",
        "search_criteria",
    }
)
OPERATORS = ("inc", "pull", "pull_all", "pop", "push", "add_to_set")
PERMS = "__permissions"
LIST_RESERVED = (
    "limit",
    "skip",
    "count",
    "sort_asc",
    "sort_desc",
    "output",
    "group_by",
    "token",
    "permissions",
    "field_name",
)
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,49}$")
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
MAX_LIMIT = 100


def acl_entry(given: models.PermissionInput | None, default: str) -> Doc:
    if given is None:
        return {"access": default}
    entry: Doc = {"access": given.access}
    if given.access == "open_for_users_ids":
        entry["users_ids"] = str_list(given.ids)
    if given.access == "open_for_groups":
        entry["users_groups"] = str_list(given.groups)
    return entry


class CustomOps(Base, CustomobjectsHandlers):
    # -- classes and rights -----------------------------------------------------------------
    def class_doc(self, class_name: str) -> Doc:
        doc = self.store.get(CLASS, class_name)
        if doc is None:
            fail("not_found", NOT_FOUND)
        return doc

    @staticmethod
    def types(klass: Doc) -> dict[str, str]:
        return {
            f["name"]: f["type"] + ("_a" if f.get("is_array") == "1" else "")
            for f in klass.get("custom_fields", [])
        }

    def user_tags(self, user_id: int) -> set[str]:
        user = self.store.get(USER, str(user_id)) or {}
        return {t.lower() for t in str_list(user.get("user_tags"))}

    def allowed(self, action: str, klass: Doc, record: Doc | None, principal: Principal) -> bool:
        if principal.admin:
            return True
        entry = None
        if record is not None and action != "create":
            entry = (record.get(PERMS) or {}).get(action)
        if entry is None:
            entry = klass.get("acl", {}).get(action) or {"access": DEFAULT_ACL[action]}
        access = entry.get("access")
        user = principal.user_id
        if access == "open":
            return user is not None or action == "read"
        if user is None:
            return False
        owner = record is not None and record.get("user_id") == user
        if access == "owner":
            return owner
        if access == "open_for_users_ids":
            return owner or str(user) in entry.get("users_ids", [])
        if access == "open_for_groups":
            groups = {g.lower() for g in entry.get("users_groups", [])}
            return owner or bool(self.user_tags(user) & groups)
        return False

    def render_record(self, klass: Doc, record: Doc) -> Doc:
        out: Doc = {name: record.get(name) for name in FIXED}
        for name in self.types(klass):
            out[name] = record.get(name)
        own = record.get(PERMS) or {}
        out["permissions"] = {
            action: own.get(action)
            or klass.get("acl", {}).get(action)
            or {"access": DEFAULT_ACL[action]}
            for action in ("read", "update", "delete")
        }
        return out

    def records(self, class_name: str) -> list[Doc]:
        return self.store.find(record_kind(class_name))

    # -- values -----------------------------------------------------------------------------
    def cast_values(self, klass: Doc, values: Doc, errors: dict[str, list[str]]) -> Doc:
        types = self.types(klass)
        out: Doc = {}
        for name, value in values.items():
            if name in IGNORED or name in OPERATORS:
                continue
            if name not in types:
                errors.setdefault(name, []).append("is not a field of the class")
                continue
            try:
                out[name] = cast(value, types[name])
            except ValueError as problem:
                errors.setdefault(name, []).append(str(problem))
        return out

    @staticmethod
    def record_permissions(
        given: models.RecordPermissionsInput | None, errors: dict[str, list[str]]
    ) -> Doc | None:
        if given is None:
            return None
        out: Doc = {}
        for action in ("read", "update", "delete"):
            entry = getattr(given, action)
            if entry is None:
                continue
            if entry.access == "not_allowed":
                errors.setdefault("permissions", []).append(
                    f"{action}: not_allowed is for classes only"
                )
                continue
            out[action] = acl_entry(entry, DEFAULT_ACL[action])
        return out

    def new_record(self, klass: Doc, body: models.RecordInput, user_id: int) -> Doc:
        errors: dict[str, list[str]] = {}
        values = self.cast_values(klass, dict(body.model_extra or {}), errors)
        perms = self.record_permissions(body.permissions, errors)
        parent = body.field_parent_id
        if parent is not None and not _OBJECT_ID.match(parent):
            errors.setdefault("_parent_id", []).append("is invalid")
        if errors:
            raise VendorError(422, {"errors": errors})
        now = int(self.now())
        record: Doc = {
            "_id": self.object_id(),
            "_parent_id": parent,
            "user_id": user_id,
            "created_at": now,
            "updated_at": now,
        }
        record.update(values)
        record[PERMS] = perms
        return record

    def apply_update(self, klass: Doc, record: Doc, raw: Doc) -> Doc:
        """Field sets and the array/number operators of an update, type-checked; 422 on errors."""
        types = self.types(klass)
        errors: dict[str, list[str]] = {}
        changed = dict(record)

        def kind(name: str) -> tuple[str, bool] | None:
            if name not in types:
                errors.setdefault(name, []).append("is not a field of the class")
                return None
            return parse_type(types[name])

        def element(name: str, base: str, value: Any) -> Any:
            try:
                return cast_scalar(value, base)
            except ValueError as problem:
                errors.setdefault(name, []).append(str(problem))
                return None

        for name, value in raw.items():
            if name in IGNORED or name in OPERATORS:
                continue
            parsed = kind(name)
            if parsed is None:
                continue
            base, array = parsed
            if array and isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
                items = list(changed.get(name) or [])
                for index_text, item in sorted(value.items(), key=lambda kv: int(kv[0])):
                    index = int(index_text)
                    while len(items) <= index:
                        items.append(None)
                    items[index] = element(name, base, item)
                changed[name] = items
                continue
            try:
                changed[name] = cast(value, types[name])
            except ValueError as problem:
                errors.setdefault(name, []).append(str(problem))
        for name, amount in (raw.get("inc") or {}).items():
            parsed = kind(name)
            if parsed is None:
                continue
            base, array = parsed
            number = to_float(amount)
            if array or base not in ("Integer", "Float") or number is None:
                errors.setdefault(name, []).append("cannot be incremented")
                continue
            if base == "Integer" and not number.is_integer():
                errors.setdefault(name, []).append("is not an integer")
                continue
            total = (changed.get(name) or 0) + number
            changed[name] = int(total) if base == "Integer" else total
        for op in ("push", "add_to_set", "pull_all", "pull", "pop"):
            for name, value in (raw.get(op) or {}).items():
                parsed = kind(name)
                if parsed is None:
                    continue
                base, array = parsed
                if not array:
                    errors.setdefault(name, []).append(f"is not an array ({op})")
                    continue
                items = list(changed.get(name) or [])
                if op in ("push", "add_to_set", "pull_all"):
                    given = [
                        element(name, base, v)
                        for v in (value if isinstance(value, list) else [value])
                    ]
                    if op == "push":
                        items.extend(given)
                    elif op == "add_to_set":
                        items.extend(
                            v for i, v in enumerate(given) if v not in items and v not in given[:i]
                        )
                    else:
                        items = [v for v in items if v not in given]
                elif op == "pull":
                    if isinstance(value, dict):
                        conditions = query.from_criteria({"v": value})
                        items = [
                            v
                            for v in items
                            if not all(query.matches({"v": v}, c) for c in conditions)
                        ]
                    else:
                        items = [v for v in items if not query.equals(v, value)]
                elif value == 1:
                    items = items[:-1]
                elif value == -1:
                    items = items[1:]
                changed[name] = items
        if errors:
            raise VendorError(422, {"errors": errors})
        changed["updated_at"] = int(self.now())
        return changed

    def drop_record(self, class_name: str, record_id: str) -> None:
        """Delete a record, its files and, recursively, its child records."""
        kind = record_kind(class_name)
        self.store.delete(kind, record_id)
        for file_id, _ in self.store.all(RECORD_FILE):
            if file_id.startswith(f"{class_name}/{record_id}/"):
                self.store.delete(RECORD_FILE, file_id)
        for child in self.store.find(kind, lambda r: r.get("_parent_id") == record_id):
            self.drop_record(class_name, child["_id"])

    def record_model(self, klass: Doc, record: Doc) -> models.Record:
        return models.Record.model_validate(self.render_record(klass, record))

    # -- classes ----------------------------------------------------------------------------
    async def create_class(
        self, *, auth: Credentials, body: models.CreateClassRequest
    ) -> Result[models.CustomObjectClass]:
        principal = self.who()
        if not principal.admin:
            fail("forbidden", "Only the account owner can create classes")
        name = body.name.strip()
        if not _NAME.match(name):
            field_error("name", "is invalid")
        fields: list[Doc] = []
        errors: dict[str, list[str]] = {}
        for field_name, type_name in (body.fields.root if body.fields else {}).items():
            parsed = parse_type(type_name)
            if not _NAME.match(field_name) or field_name in IGNORED:
                errors.setdefault(field_name, []).append("is not a valid field name")
            elif parsed is None:
                errors.setdefault(field_name, []).append(f"has an unknown type {type_name!r}")
            else:
                entry: Doc = {"name": field_name, "type": parsed[0]}
                if parsed[1]:
                    entry["is_array"] = "1"
                fields.append(entry)
        if errors:
            raise VendorError(422, {"errors": errors})
        perms = body.permissions
        acl = {a: acl_entry(getattr(perms, a) if perms else None, DEFAULT_ACL[a]) for a in ACTIONS}
        with self.store.transaction():
            if self.store.get(CLASS, name) is not None:
                field_error("name", "has already been taken")
            doc = {
                "_id": self.object_id(),
                "name": name,
                "application_id": self.app_id,
                "user_id": principal.user_id or 0,
                "custom_fields": fields,
                "acl": acl,
            }
            self.store.put(CLASS, name, doc)
        return Reply(201, models.CustomObjectClass.model_validate(doc))

    # -- records ----------------------------------------------------------------------------
    async def create_record(
        self, *, auth: Credentials, class_name: str, body: models.RecordInput
    ) -> Result[models.Record]:
        me = self.me()
        klass = self.class_doc(class_name)
        if not self.allowed("create", klass, None, self.who()):
            fail("forbidden", NO_PERMISSION)
        with self.store.transaction():
            record = self.new_record(klass, body, me)
            self.store.put(record_kind(class_name), record["_id"], record)
        return Reply(201, self.record_model(klass, record))

    async def create_records(
        self, *, auth: Credentials, class_name: str, body: models.MultiRecordsRequest
    ) -> Result[models.RecordsCreated]:
        me = self.me()
        klass = self.class_doc(class_name)
        if not self.allowed("create", klass, None, self.who()):
            fail("forbidden", NO_PERMISSION)
        entries = sorted(body.record.root.items(), key=lambda kv: (len(kv[0]), kv[0]))
        with self.store.transaction():
            created = []
            for _, entry in entries:
                record = self.new_record(klass, entry, me)
                self.store.put(record_kind(class_name), record["_id"], record)
                created.append(self.render_record(klass, record))
        return models.RecordsCreated.model_validate({"class_name": class_name, "items": created})

    async def list_records(
        self, *, auth: Credentials, class_name: str, **params: Any
    ) -> Result[models.RecordList]:
        klass = self.class_doc(class_name)
        principal = self.who()
        readable = [
            self.render_record(klass, r)
            for r in self.records(class_name)
            if self.allowed("read", klass, r, principal)
        ]
        pairs = context.query_pairs()
        conditions = query.from_pairs(pairs, LIST_RESERVED)
        found = query.select(readable, conditions)
        found = query.near_filter(found, conditions)
        sort_asc, sort_desc = params.get("sort_asc"), params.get("sort_desc")
        near = any(c.op == "near" for c in conditions)
        if sort_asc or sort_desc or not near:
            found = query.ordered(
                found, sort_asc or sort_desc or "_id", descending=bool(sort_desc and not sort_asc)
            )
        found = query.aggregate(found, pairs, params.get("group_by"))
        if params.get("count") == 1:
            return models.RecordList(class_name=class_name, skip=0, limit=0, items=[])
        if params.get("limit") == -1:
            chunk, skip, limit = found[-1:], 0, -1
        else:
            chunk, skip, limit = query.window(
                found, params.get("skip"), params.get("limit"), MAX_LIMIT, MAX_LIMIT
            )
        include = str_list(params.get("output_include"))
        exclude = set(str_list(params.get("output_exclude")))
        if include:
            keep = {"_id", *include}
            chunk = [{k: v for k, v in item.items() if k in keep} for item in chunk]
        if exclude:
            chunk = [
                {k: v for k, v in item.items() if k not in exclude or k == "_id"} for item in chunk
            ]
        return models.RecordList.model_validate(
            {"class_name": class_name, "skip": skip, "limit": limit, "items": chunk}
        )

    async def get_records(
        self, *, auth: Credentials, class_name: str, record_id: str, permissions: int | None = None
    ) -> Result[models.GetRecordsResponse]:
        klass = self.class_doc(class_name)
        principal = self.who()
        ids = str_list(record_id)
        kind = record_kind(class_name)
        found = [r for r in (self.store.get(kind, one) for one in ids) if r is not None]
        if permissions == 1:
            if len(ids) != 1 or not found:
                fail("not_found", NOT_FOUND)
            record = found[0]
            if not principal.admin and record.get("user_id") != principal.user_id:
                fail("forbidden", NO_PERMISSION)
            rendered = self.render_record(klass, record)
            return models.GetRecordsResponse.model_validate(
                {"record_id": record["_id"], "permissions": rendered["permissions"]}
            )
        readable = [r for r in found if self.allowed("read", klass, r, principal)]
        if not found:
            fail("not_found", NOT_FOUND)
        if not readable:
            fail("forbidden", NO_PERMISSION)
        return models.GetRecordsResponse.model_validate(
            {
                "class_name": class_name,
                "skip": 0,
                "limit": len(ids),
                "items": [self.render_record(klass, r) for r in readable],
            }
        )

    async def update_record(
        self, *, auth: Credentials, class_name: str, record_id: str, body: models.RecordUpdate
    ) -> Result[models.Record]:
        klass = self.class_doc(class_name)
        principal = self.who()
        kind = record_kind(class_name)
        raw = body.model_dump(mode="json", exclude_unset=True)
        with self.store.transaction():
            record = self.store.get(kind, record_id)
            if record is None:
                fail("not_found", NOT_FOUND)
            if not self.allowed("update", klass, record, principal):
                fail("forbidden", NO_PERMISSION)
            changed = self.apply_update(klass, record, raw)
            if body.permissions is not None:
                if not principal.admin and record.get("user_id") != principal.user_id:
                    fail("forbidden", NO_PERMISSION)
                errors: dict[str, list[str]] = {}
                perms = self.record_permissions(body.permissions, errors)
                if errors:
                    raise VendorError(422, {"errors": errors})
                changed[PERMS] = {**(record.get(PERMS) or {}), **(perms or {})}
            self.store.put(kind, record_id, changed)
        return self.record_model(klass, changed)

    async def update_records(
        self, *, auth: Credentials, class_name: str, body: models.MultiRecordsRequest
    ) -> Result[models.RecordsUpdated]:
        klass = self.class_doc(class_name)
        principal = self.who()
        kind = record_kind(class_name)
        updated: list[Doc] = []
        missing: list[str] = []
        with self.store.transaction():
            for _, entry in sorted(body.record.root.items(), key=lambda kv: (len(kv[0]), kv[0])):
                raw = entry.model_dump(mode="json", exclude_unset=True)
                one = str(raw.get("_id") or raw.get("id") or "")
                record = self.store.get(kind, one) if one else None
                if record is None or not self.allowed("update", klass, record, principal):
                    missing.append(one)
                    continue
                changed = self.apply_update(klass, record, raw)
                self.store.put(kind, one, changed)
                updated.append(self.render_record(klass, changed))
        return models.RecordsUpdated.model_validate(
            {"class_name": class_name, "not_found": {"ids": missing}, "items": updated}
        )

    async def update_records_by_criteria(
        self, *, auth: Credentials, class_name: str, body: models.UpdateByCriteriaRequest
    ) -> Result[models.RecordsUpdatedByCriteria]:
        klass = self.class_doc(class_name)
        principal = self.who()
        kind = record_kind(class_name)
        raw = body.model_dump(mode="json", exclude_unset=True)
        criteria = raw.pop("search_criteria", {}) or {}
        conditions = query.from_criteria(criteria)
        records = self.records(class_name)
        by_id = {r["_id"]: r for r in records}
        matched = query.select([self.render_record(klass, r) for r in records], conditions)
        updated: list[Doc] = []
        with self.store.transaction():
            for item in matched:
                record = by_id[item["_id"]]
                if not self.allowed("update", klass, record, principal):
                    continue
                changed = self.apply_update(klass, record, raw)
                self.store.put(kind, record["_id"], changed)
                updated.append(self.render_record(klass, changed))
        return models.RecordsUpdatedByCriteria.model_validate(
            {
                "class_name": class_name,
                "skip": 0,
                "limit": len(updated),
                "total_found": len(matched),
                "items": updated,
            }
        )

    async def delete_records(
        self, *, auth: Credentials, class_name: str, record_id: str
    ) -> Result[models.DeleteResult]:
        klass = self.class_doc(class_name)
        principal = self.who()
        kind = record_kind(class_name)
        ids = str_list(record_id)
        done: list[str] = []
        refused: list[str] = []
        missing: list[str] = []
        with self.store.transaction():
            for one in ids:
                record = self.store.get(kind, one)
                if record is None:
                    missing.append(one)
                elif not self.allowed("delete", klass, record, principal):
                    refused.append(one)
                else:
                    self.drop_record(class_name, one)
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

    async def delete_records_by_criteria(
        self,
        *,
        auth: Credentials,
        class_name: str,
        body: models.CriteriaDeleteForm | None = None,
        **params: Any,
    ) -> Result[models.DeleteByCriteriaResult]:
        klass = self.class_doc(class_name)
        principal = self.who()
        conditions = query.from_pairs(context.query_pairs(), LIST_RESERVED)
        if body is not None:
            conditions += query.from_criteria(dict(body.model_extra or {}))
        records = self.records(class_name)
        by_id = {r["_id"]: r for r in records}
        matched = query.select([self.render_record(klass, r) for r in records], conditions)
        matched = query.near_filter(matched, conditions)
        deleted = 0
        with self.store.transaction():
            for item in matched:
                record = by_id[item["_id"]]
                if self.store.get(record_kind(class_name), record["_id"]) is None:
                    continue  # already gone with its parent
                if self.allowed("delete", klass, record, principal):
                    self.drop_record(class_name, record["_id"])
                    deleted += 1
        return models.DeleteByCriteriaResult(total_deleted=deleted)

    # -- file fields ------------------------------------------------------------------------
    def file_field(self, klass: Doc, field_name: str) -> None:
        parsed = parse_type(self.types(klass).get(field_name, ""))
        if parsed is None or parsed[0] != "File" or parsed[1]:
            field_error("field_name", f"{field_name} is not a File field of the class")

    async def upload_record_file(
        self, *, auth: Credentials, class_name: str, record_id: str, body: models.RecordFileUpload
    ) -> Result[models.RecordFileInfo]:
        klass = self.class_doc(class_name)
        kind = record_kind(class_name)
        with self.store.transaction():
            record = self.store.get(kind, record_id)
            if record is None:
                fail("not_found", NOT_FOUND)
            if not self.allowed("update", klass, record, self.who()):
                fail("forbidden", NO_PERMISSION)
            self.file_field(klass, body.field_name)
            info = {
                "file_id": secrets.token_hex(16),
                "name": body.field_name,
                "size": len(body.file),
                "content_type": "application/octet-stream",
            }
            self.store.put(
                RECORD_FILE,
                f"{class_name}/{record_id}/{body.field_name}",
                {**info, "data": base64.b64encode(body.file).decode()},
            )
            record[body.field_name] = info
            record["updated_at"] = int(self.now())
            self.store.put(kind, record_id, record)
        return models.RecordFileInfo.model_validate({"_id": record_id, **info})

    async def download_record_file(
        self,
        *,
        auth: Credentials,
        class_name: str,
        record_id: str,
        field_name: str,
        token: str | None = None,
    ) -> Result[bytes]:
        principal = self.token_principal(token)
        klass = self.class_doc(class_name)
        record = self.store.get(record_kind(class_name), record_id)
        if record is None:
            fail("not_found", NOT_FOUND)
        if not self.allowed("read", klass, record, principal):
            if principal.anonymous:
                fail("unauthorized", NO_SESSION)
            fail("forbidden", NO_PERMISSION)
        stored = self.store.get(RECORD_FILE, f"{class_name}/{record_id}/{field_name}")
        if stored is None:
            fail("not_found", NOT_FOUND)
        return base64.b64decode(stored["data"])

    async def delete_record_file(
        self,
        *,
        auth: Credentials,
        class_name: str,
        record_id: str,
        field_name: str | None = None,
        body: models.FileFieldRequest | None = None,
    ) -> Result[None]:
        name = field_name or (body.field_name if body else None)
        if not name:
            fail("not_found", "field_name is required")
        klass = self.class_doc(class_name)
        kind = record_kind(class_name)
        with self.store.transaction():
            record = self.store.get(kind, record_id)
            if record is None:
                fail("not_found", NOT_FOUND)
            if not self.allowed("update", klass, record, self.who()):
                fail("forbidden", NO_PERMISSION)
            if not self.store.delete(RECORD_FILE, f"{class_name}/{record_id}/{name}"):
                fail("not_found", NOT_FOUND)
            record[name] = None
            record["updated_at"] = int(self.now())
            self.store.put(kind, record_id, record)
        return None
