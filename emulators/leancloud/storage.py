"""Objects, batch, CQL, schemas, scans, roles, files and installations."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from typing import Any
from urllib.parse import quote

from generated.leancloud import models
from generated.leancloud.server import ApiProblem, Credentials

from .accounts import AccountsBase
from .base import BUILTIN, Ctx, clean_class, kind, page_size, public_fields
from .common import (
    MASTER_ONLY,
    NOT_FOUND,
    Doc,
    JsonObject,
    bad,
    base_url,
    fail,
    iso,
    problem_body,
    random_id,
    raw_body,
    raw_query_json,
    reply,
)
from .cql import parse as cql_parse
from .query import get_path, sort_key

ROLE_NAME = re.compile(r"^[A-Za-z0-9_\- ]+$")
MASTER_ONLY_CLASSES = frozenset({"_Installation"})  # closed to clients for queries by default
BATCH_PATH = re.compile(
    r"^(?:/1\.1)?/(classes/([^/]+)|users|roles|installations|files)(?:/([^/]+))?/?$"
)
BATCH_CLASSES = {
    "users": "_User",
    "roles": "_Role",
    "installations": "_Installation",
    "files": "_File",
}


def _type_of(value: Any) -> JsonObject:
    if isinstance(value, bool):
        return {"type": "Boolean"}
    if isinstance(value, int | float):
        return {"type": "Number"}
    if isinstance(value, str):
        return {"type": "String"}
    if isinstance(value, list):
        return {"type": "Array"}
    if isinstance(value, dict):
        typed = value.get("__type")
        if typed in ("Pointer", "Relation") and isinstance(value.get("className"), str):
            return {"type": typed, "className": value["className"]}
        if typed in ("Date", "File", "GeoPoint", "Bytes"):
            return {"type": typed}
    return {"type": "Object"}


class StorageMixin(AccountsBase):
    def location(self, class_name: str, oid: str) -> dict[str, str]:
        return {"Location": f"{base_url()}/1.1/classes/{class_name}/{oid}"}

    def existing_class(self, class_name: str) -> str:
        name = clean_class(class_name)
        if not self.class_exists(name):
            raise fail(*NOT_FOUND)
        return name

    # -- objects --------------------------------------------------------------------------------
    async def query_objects(
        self,
        *,
        auth: Credentials,
        class_name: str,
        where: models.WhereClause | None = None,
        order: str | None = None,
        limit: int | None = None,
        skip: int | None = None,
        keys: str | None = None,
        include: str | None = None,
        count: int | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        name = self.existing_class(class_name)
        if name in MASTER_ONLY_CLASSES and not ctx.master:
            raise fail(*MASTER_ONLY)
        body = self.find(
            name,
            ctx,
            where=raw_query_json("where", where),
            order=order,
            limit=limit,
            skip=skip,
            keys=keys,
            include=include,
            count=count,
            return_acl=return_acl,
        )
        return reply(models.ObjectList, body)

    def create_any(self, name: str, data: Any, ctx: Ctx) -> tuple[Doc, JsonObject]:
        """Create in any class, with the rules of the built-in ones: the doc and the answer."""
        if name == "_User":
            user, token, _ = self.sign_up_core(data, ctx)
            return user, {
                "sessionToken": token,
                "createdAt": user["createdAt"],
                "objectId": user["objectId"],
            }
        if name == "_Role":
            doc = self.create_role_core(data, ctx)
        elif name == "_Installation":
            doc = self.save_installation(data, ctx)
        else:
            doc = self.create(name, data, ctx)
        return doc, {"objectId": doc["objectId"], "createdAt": doc["createdAt"]}

    async def create_object(
        self,
        *,
        auth: Credentials,
        class_name: str,
        fetch_when_save: bool | None = None,
        new: bool | None = None,
        body: models.ObjectFields,
    ) -> Any:
        ctx = self.ctx(auth)
        name = clean_class(class_name)
        doc, answer = self.create_any(name, raw_body(body), ctx)
        if fetch_when_save or new:
            answer = {**self.present(name, doc, ctx), **answer}
        return reply(models.CreatedObject, answer, 201, self.location(class_name, doc["objectId"]))

    async def get_object(
        self,
        *,
        auth: Credentials,
        class_name: str,
        object_id: str,
        include: str | None = None,
        keys: str | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        name = self.existing_class(class_name)
        doc = self.load(name, object_id)
        if doc is None or not self.can(ctx, doc, "read"):
            if name == "_User":
                raise bad(211, "Could not find user.")
            return reply(models.LcObject, {})
        view = self.present(name, doc, ctx, keys=keys, include=include, return_acl=return_acl)
        return reply(models.LcObject, view)

    def update_any(
        self, name: str, oid: str, data: Any, ctx: Ctx, where: Any = None
    ) -> tuple[Doc, list[str]]:
        if name == "_User":
            return self.update_user_core(oid, data, ctx, where=where)
        if name == "_Role" and isinstance(data, dict) and "name" in data:
            current = self.load("_Role", oid)
            if current is not None and data["name"] != current.get("name"):
                raise bad(139, "A role's name can only be set before it has been saved.")
        return self.update(name, oid, data, ctx, where=where)

    def update_answer(
        self, name: str, doc: Doc, changed: list[str], ctx: Ctx, fetch: bool | None
    ) -> JsonObject:
        answer: JsonObject = {"updatedAt": doc["updatedAt"], "objectId": doc["objectId"]}
        if fetch:
            view = self.present(name, doc, ctx)
            answer.update({k: view[k] for k in changed if k in view})
        return answer

    async def update_object(
        self,
        *,
        auth: Credentials,
        class_name: str,
        object_id: str,
        where: models.WhereClause | None = None,
        fetch_when_save: bool | None = None,
        new: bool | None = None,
        body: models.ObjectFields,
    ) -> Any:
        ctx = self.ctx(auth)
        name = clean_class(class_name)
        doc, changed = self.update_any(
            name, object_id, raw_body(body), ctx, raw_query_json("where", where)
        )
        answer = self.update_answer(name, doc, changed, ctx, fetch_when_save or new)
        return reply(models.UpdatedObject, answer)

    def delete_any(self, name: str, oid: str, ctx: Ctx, where: Any = None) -> None:
        if "," in oid:  # `id1,id2`: how the JS SDK's `AV.Object.destroyAll` deletes in one request
            for one in dict.fromkeys(part.strip() for part in oid.split(",")):
                if one:
                    self.delete_any(name, one, ctx, where)
            return
        if name == "_User":
            self.delete_user_core(oid, ctx)
        elif name == "_Installation" and not ctx.master:
            raise fail(*MASTER_ONLY)
        else:
            self.remove(name, oid, ctx, where=where)

    async def delete_object(
        self,
        *,
        auth: Credentials,
        class_name: str,
        object_id: str,
        where: models.WhereClause | None = None,
        body: models.DeleteObjectRequest | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        name = clean_class(class_name)
        self.delete_any(name, object_id, ctx, raw_query_json("where", where))
        return reply(models.EmptyObject, {})

    async def scan_objects(
        self,
        *,
        auth: Credentials,
        class_name: str,
        limit: int | None = None,
        cursor: str | None = None,
        where: models.WhereClause | None = None,
        scan_key: str | None = None,
        keys: str | None = None,
        return_acl: bool | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        name = self.existing_class(class_name)
        field = (scan_key or "objectId").lstrip("-") or "objectId"
        descending = bool(scan_key and scan_key.startswith("-"))
        docs = self.matcher(ctx).filter(self.store.find(kind(name)), raw_query_json("where", where))

        def position(doc: Doc) -> tuple[Any, str]:
            return (sort_key(get_path(doc, field)), str(doc.get("objectId")))

        docs.sort(key=position, reverse=descending)
        if cursor:
            try:
                last_value, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                mark = (sort_key(last_value), str(last_id))
            except (ValueError, TypeError):
                raise bad(1, "Invalid cursor.") from None
            docs = [d for d in docs if (position(d) < mark if descending else position(d) > mark)]
        size = page_size(limit) or 100
        page = docs[:size]
        next_cursor = None
        if len(docs) > size:
            last = page[-1]
            raw = json.dumps([get_path(last, field) if field in last else None, last["objectId"]])
            next_cursor = base64.urlsafe_b64encode(raw.encode()).decode()
        results = [self.present(name, d, ctx, keys=keys, return_acl=return_acl) for d in page]
        return reply(models.ScanResult, {"results": results, "cursor": next_cursor})

    # -- batch ----------------------------------------------------------------------------------
    async def batch(self, *, auth: Credentials, body: models.BatchRequest) -> Any:
        ctx = self.ctx(auth)
        data = raw_body(body)
        operations = data.get("requests") if isinstance(data, dict) else None
        if not isinstance(operations, list):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        results: list[JsonObject] = []
        for operation in operations:
            try:
                results.append({"success": self.batch_one(operation, ctx)})
            except ApiProblem as problem:
                results.append({"error": problem_body(problem)})
        return reply(list[models.BatchResult], results)

    def batch_one(self, operation: Any, ctx: Ctx) -> JsonObject:
        if not isinstance(operation, dict):
            raise bad(107, "Malformed batch request.")
        method = str(operation.get("method", "")).upper()
        match = BATCH_PATH.match(str(operation.get("path", "")))
        if match is None:
            raise bad(1, f"Unsupported batch path '{operation.get('path')}'.")
        group, class_part, oid = match.groups()
        name = clean_class(class_part) if class_part else BATCH_CLASSES[group]
        given = operation.get("params")
        params: Doc = given if isinstance(given, dict) else {}
        where = params.get("where")
        if isinstance(where, str):
            try:
                where = json.loads(where)
            except ValueError:
                raise bad(107, "Invalid JSON in 'where'.") from None
        body = operation.get("body")
        if method == "POST" and oid is None:
            return self.create_any(name, body if body is not None else {}, ctx)[1]
        if method == "PUT" and oid is not None:
            doc, _ = self.update_any(name, oid, body if body is not None else {}, ctx, where)
            return {"updatedAt": doc["updatedAt"], "objectId": doc["objectId"]}
        if method == "DELETE" and oid is not None:
            self.delete_any(name, oid, ctx, where)
            return {}
        if method == "GET":
            if not self.class_exists(name):
                raise fail(*NOT_FOUND)
            if oid is None:
                if name in MASTER_ONLY_CLASSES and not ctx.master:
                    raise fail(*MASTER_ONLY)
                return self.find(
                    name,
                    ctx,
                    where=where,
                    order=params.get("order"),
                    limit=params.get("limit"),
                    skip=params.get("skip"),
                    keys=params.get("keys"),
                    include=params.get("include"),
                    count=params.get("count"),
                )
            found = self.load(name, oid)
            if found is None or not self.can(ctx, found, "read"):
                return {}
            return self.present(
                name, found, ctx, keys=params.get("keys"), include=params.get("include")
            )
        raise bad(1, f"Unsupported batch method {method} for '{operation.get('path')}'.")

    # -- CQL ------------------------------------------------------------------------------------
    async def cloud_query(
        self, *, auth: Credentials, cql: str, pvalues: list[Any] | None = None
    ) -> Any:
        ctx = self.ctx(auth)
        raw = raw_query_json("pvalues", pvalues)
        statement = cql_parse(cql, raw if isinstance(raw, list) else [])
        name = self.existing_class(statement.class_name)
        if name in MASTER_ONLY_CLASSES and not ctx.master:
            raise fail(*MASTER_ONLY)
        found = self.find(
            name,
            ctx,
            where=statement.where,
            order=statement.order,
            limit=0 if statement.count_only else statement.limit,
            skip=statement.skip,
            keys=statement.keys,
            count=1 if statement.count_only else None,
        )
        found["className"] = statement.class_name
        return reply(models.CloudQueryResult, found)

    # -- schemas --------------------------------------------------------------------------------
    def schema_of(self, name: str) -> JsonObject:
        fields: JsonObject = {
            "objectId": {"type": "String"},
            "createdAt": {"type": "Date"},
            "updatedAt": {"type": "Date"},
            "ACL": {"type": "ACL"},
        }
        if name == "_User":
            fields.update(
                {
                    k: {"type": t}
                    for k, t in (
                        ("username", "String"),
                        ("password", "String"),
                        ("email", "String"),
                        ("emailVerified", "Boolean"),
                        ("mobilePhoneNumber", "String"),
                        ("mobilePhoneVerified", "Boolean"),
                        ("authData", "Object"),
                    )
                }
            )
        for doc in self.store.find(kind(name)):
            for key, value in public_fields(doc).items():
                if key not in fields and value is not None:
                    fields[key] = _type_of(value)
        return fields

    async def list_schemas(self, *, auth: Credentials) -> Any:
        names = {name for name, _ in self.store.all("lc_class")}
        names |= {name for name in BUILTIN if self.store.count(kind(name))}
        return reply(models.AppSchemas, {name: self.schema_of(name) for name in sorted(names)})

    async def get_class_schema(self, *, auth: Credentials, class_name: str) -> Any:
        name = self.existing_class(class_name)
        return reply(models.ClassSchema, self.schema_of(name))

    # -- roles ----------------------------------------------------------------------------------
    def create_role_core(self, data: Any, ctx: Ctx) -> Doc:
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        name = data.get("name")
        if not isinstance(name, str) or not ROLE_NAME.match(name):
            raise bad(139, "Invalid role name.")
        if "ACL" not in data:
            raise bad(123, "Invalid ACL: a role needs an ACL.")
        with self.store.transaction():
            if any(r.get("name") == name for r in self.store.find(kind("_Role"))):
                raise bad(137, "A unique field was given a value that is already taken.")
            doc = self.new_doc(
                {
                    "users": {"__type": "Relation", "className": "_User"},
                    "roles": {"__type": "Relation", "className": "_Role"},
                }
            )
            self.apply_changes("_Role", doc, data, creating=True)
            self.save_new("_Role", doc)
        return doc

    async def query_roles(
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
        body = self.find(
            "_Role",
            self.ctx(auth),
            where=raw_query_json("where", where),
            order=order,
            limit=limit,
            skip=skip,
            keys=keys,
            include=include,
            count=count,
            return_acl=return_acl,
        )
        return reply(models.RoleList, body)

    async def create_role(self, *, auth: Credentials, body: models.CreateRoleRequest) -> Any:
        doc = self.create_role_core(raw_body(body), self.ctx(auth))
        answer = {"objectId": doc["objectId"], "createdAt": doc["createdAt"]}
        return reply(
            models.CreatedObject,
            answer,
            201,
            {"Location": f"{base_url()}/1.1/roles/{doc['objectId']}"},
        )

    async def get_role(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        doc = self.load("_Role", object_id)
        if doc is None or not self.can(ctx, doc, "read"):
            raise fail(*NOT_FOUND)
        return reply(models.Role, self.present("_Role", doc, ctx))

    async def update_role(
        self, *, auth: Credentials, object_id: str, body: models.ObjectFields
    ) -> Any:
        ctx = self.ctx(auth)
        doc, _ = self.update_any("_Role", object_id, raw_body(body), ctx)
        return reply(models.UpdatedObject, {"updatedAt": doc["updatedAt"], "objectId": object_id})

    async def delete_role(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        if self.load("_Role", object_id) is None:
            raise fail(*NOT_FOUND)
        self.remove("_Role", object_id, ctx)
        return reply(models.EmptyObject, {})

    # -- files ----------------------------------------------------------------------------------

    def file_record(self, data: Doc, ctx: Ctx, *, url: str | None, key: str | None) -> Doc:
        name = str(data.get("name") or "file")
        mime = data.get("mime_type") or mimetypes.guess_type(name)[0] or "application/octet-stream"
        meta = dict(data.get("metaData") or {})
        meta.setdefault("owner", ctx.user_id or "unknown")
        if url is None:
            extension = (
                re.sub(r"[^A-Za-z0-9]", "", name.rsplit(".", 1)[1])[:16] if "." in name else ""
            )
            key = key or random_id(40) + (f".{extension}" if extension else "")
            url = f"https://{self.files_host()}/{quote(key, safe='/')}"  # a URL: the key encoded
        doc = self.new_doc(
            {
                "name": name,
                "url": url,
                "mime_type": mime,
                "metaData": meta,
                "provider": "qiniu",
                "bucket": self.config["app_id"][:8] or "bucket",
            }
        )
        if key is not None:
            doc["key"] = key
        if data.get("ACL") is not None:
            doc["ACL"] = data["ACL"]
        return doc

    async def create_file_token(self, *, auth: Credentials, body: models.FileTokenRequest) -> Any:
        ctx = self.ctx(auth)
        data = raw_body(body)
        if data.get("key") is not None and not ctx.master:
            raise fail(*MASTER_ONLY)
        doc = self.file_record(data, ctx, url=None, key=data.get("key"))
        token = random_id(40)
        doc["_token"] = token
        doc["_uploaded"] = False
        self.save_new("_File", doc)
        answer = {
            "objectId": doc["objectId"],
            "token": token,
            "upload_url": "https://upload.qiniup.com",
            "provider": "qiniu",
            "bucket": doc["bucket"],
            "url": doc["url"],
            "key": doc["key"],
            "mime_type": doc["mime_type"],
            "createdAt": doc["createdAt"],
        }
        return reply(models.FileToken, answer)

    async def file_callback(self, *, auth: Credentials, body: models.FileCallbackRequest) -> Any:
        with self.store.transaction():
            found = [d for d in self.store.find(kind("_File")) if d.get("_token") == body.token]
            if not found:
                raise bad(1, "Invalid upload token.")
            doc = found[0]
            if body.result:
                doc["_uploaded"] = True
                doc["updatedAt"] = iso(self.now())
                self.store.put(kind("_File"), doc["objectId"], doc)
            else:
                self.store.delete(kind("_File"), doc["objectId"])
        return reply(models.EmptyObject, {})

    async def create_file(self, *, auth: Credentials, body: models.CreateFileRequest) -> Any:
        ctx = self.ctx(auth)
        data = raw_body(body)
        doc = self.file_record(data, ctx, url=str(data.get("url")), key=None)
        doc["metaData"].setdefault("__source", "external")
        self.save_new("_File", doc)
        answer = {"objectId": doc["objectId"], "createdAt": doc["createdAt"]}
        return reply(
            models.CreatedObject,
            answer,
            201,
            {"Location": f"{base_url()}/1.1/files/{doc['objectId']}"},
        )

    def file_or_404(self, oid: str, ctx: Ctx) -> Doc:
        doc = self.load("_File", oid)
        if doc is None or not self.can(ctx, doc, "read"):
            raise fail(*NOT_FOUND)
        return doc

    async def get_file(
        self,
        *,
        auth: Credentials,
        object_id: str,
        include: str | None = None,
        keys: str | None = None,
    ) -> Any:
        ctx = self.ctx(auth)
        doc = self.file_or_404(object_id, ctx)
        return reply(models.LcFile, self.present("_File", doc, ctx, keys=keys, include=include))

    async def delete_file(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        self.file_or_404(object_id, ctx)
        self.remove("_File", object_id, ctx)
        return reply(models.EmptyObject, {})

    async def censor_file(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        with self.store.transaction():
            doc = self.file_or_404(object_id, ctx)
            doc["censorResult"] = "passed"
            doc["updatedAt"] = iso(self.now())
            self.store.put(kind("_File"), object_id, doc)
        return reply(models.CensorResult, {"censorResult": "passed"})

    # -- installations --------------------------------------------------------------------------
    def save_installation(self, data: Any, ctx: Ctx) -> Doc:
        if not isinstance(data, dict):
            raise bad(107, "Malformed json object. A json dictionary is expected.")
        if data.get("deviceType") not in ("ios", "android"):
            raise bad(1, "deviceType must be 'ios' or 'android'.")
        with self.store.transaction():
            existing = None
            for doc in self.store.find(kind("_Installation")):
                same_id = data.get("installationId") and doc.get("installationId") == data.get(
                    "installationId"
                )
                same_token = data.get("deviceToken") and doc.get("deviceToken") == data.get(
                    "deviceToken"
                )
                if same_id or same_token:
                    existing = doc
                    break
            if existing is not None:
                self.apply_changes("_Installation", existing, data, creating=False)
                existing["updatedAt"] = iso(self.now())
                self.save("_Installation", existing)
                return existing
            return self.create("_Installation", data, ctx, extra={"valid": data.get("valid", True)})

    async def query_installations(
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
        body = self.find(
            "_Installation",
            self.ctx(auth),
            where=raw_query_json("where", where),
            order=order,
            limit=limit,
            skip=skip,
            keys=keys,
            include=include,
            count=count,
            return_acl=return_acl,
        )
        return reply(models.InstallationList, body)

    async def create_installation(
        self, *, auth: Credentials, body: models.CreateInstallationRequest
    ) -> Any:
        doc = self.save_installation(raw_body(body), self.ctx(auth))
        return reply(
            models.CreatedObject,
            {"objectId": doc["objectId"], "createdAt": doc["createdAt"]},
            201,
            {"Location": f"{base_url()}/1.1/installations/{doc['objectId']}"},
        )

    async def get_installation(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        doc = self.load("_Installation", object_id)
        if doc is None or not self.can(ctx, doc, "read"):
            raise fail(*NOT_FOUND)
        return reply(models.Installation, self.present("_Installation", doc, ctx))

    async def update_installation(
        self, *, auth: Credentials, object_id: str, body: models.ObjectFields
    ) -> Any:
        ctx = self.ctx(auth)
        if self.load("_Installation", object_id) is None:
            raise fail(*NOT_FOUND)
        doc, _ = self.update("_Installation", object_id, raw_body(body), ctx)
        return reply(models.UpdatedObject, {"updatedAt": doc["updatedAt"], "objectId": object_id})

    async def delete_installation(self, *, auth: Credentials, object_id: str) -> Any:
        ctx = self.ctx(auth)
        if self.load("_Installation", object_id) is None:
            raise fail(*NOT_FOUND)
        self.remove("_Installation", object_id, ctx)
        return reply(models.EmptyObject, {})


__all__ = ["StorageMixin"]
