"""Documents in collections, their ACLs and grants, and links between records.

A document is stored under kind `doc:<collection>` by its UUID as
`{"meta": {rid, version, class, id, created, author}, "data": {...}, "acl": {...}}`; its RID is
`#<cluster of the collection>:<position>`. It is readable by its author, administrators, back-office
users and the users and roles granted `read` (or `all`); likewise for update and delete.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from generated.baasbox import models
from generated.baasbox.server import Credentials, DocumentsHandlers, LinksHandlers

from ..store import Doc
from .common import (
    LINKS_CLUSTER,
    Base,
    Caller,
    bad,
    clean_fields,
    doc_kind,
    forbidden,
    not_found,
    ok,
)
from .query import field_value, split_path

Action = Literal["read", "update", "delete", "all"]
DOCUMENT_KEYS = {
    "@rid",
    "@version",
    "@class",
    "id",
    "_creation_date",
    "_author",
    "_allowRead",
    "_allowUpdate",
    "_allowDelete",
}
DOCUMENTS: TypeAdapter[list[models.Document]] = TypeAdapter(list[models.Document])


def documents(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records a projection (`fields`) may have reshaped, checked against the Document model."""
    try:
        DOCUMENTS.validate_python(records)
    except ValidationError as exc:
        raise bad(f"Invalid fields clause: {exc.errors()[0]['msg']}") from None
    return records


class Records(Base):
    """Loading and showing any record a link or an id may name: documents, files, users."""

    def collection(self, name: str, message: str | None = None) -> Doc:
        record = self.store.get("collection", name)
        if record is None:
            raise not_found(message or f"{name} is not a valid collection name")
        return record

    def render_doc(self, record: Doc, with_acl: bool = False) -> dict[str, Any]:
        meta = record["meta"]
        out: dict[str, Any] = {
            "@rid": meta["rid"],
            "@version": meta["version"],
            "@class": meta["class"],
        }
        out.update(record["data"])
        out.update({"id": meta["id"], "_creation_date": meta["created"], "_author": meta["author"]})
        if with_acl:
            out.update(self.acl_members(meta["author"], record.get("acl") or {}))
        return out

    def render_file(self, record: Doc) -> dict[str, Any]:
        return {
            "@rid": record["rid"],
            "@version": record["version"],
            "@class": "_BB_File",
            "id": record["id"],
            "_creation_date": record["created"],
            "_author": record["author"],
            "fileName": record["fileName"],
            "contentType": record["contentType"],
            "contentLength": record["contentLength"],
            "metadata": record.get("metadata") or {},
            "attachedData": record.get("attachedData") or {},
        }

    def node(self, uid: str, caller: Caller) -> tuple[str, Doc, dict[str, Any]] | None:
        """(kind, stored record, rendered record) of a UUID the caller may read, else None."""
        node = self.store.get("node", uid)
        if node is None:
            return None
        kind, key = node["kind"], node["key"]
        if kind == "user":
            user = self.user(key)
            return (kind, user, self.user_view(user, caller)) if user else None
        if kind == "file":
            file = self.store.get("file", key)
            if file is None or not self.allowed(caller, file["author"], file["acl"], "read"):
                return None
            return kind, file, self.render_file(file)
        if kind.startswith("doc:"):
            record = self.store.get(kind, key)
            if record is None or not self.allowed(
                caller, record["meta"]["author"], record["acl"], "read"
            ):
                return None
            return kind, record, self.render_doc(record)
        return None

    def remove_links_of(self, uid: str) -> None:
        with self.store.transaction():
            for key, link in self.store.all("link"):
                if uid in (link["out"], link["in"]):
                    self.store.delete("link", key)
                    self.unindex(key)


class DocumentOps(Records, DocumentsHandlers):
    def load(
        self, collection: str, id: str, caller: Caller, action: str, missing: str | None = None
    ) -> Doc:
        """The document, if the caller may read it and perform `action` on it."""
        self.collection(collection)
        record = self.store.get(doc_kind(collection), id)
        if record is None:
            raise not_found(missing or f"{id} not found")
        meta = record["meta"]
        if not self.allowed(caller, meta["author"], record["acl"], "read"):
            raise not_found(missing or f"{id} not found. Do you have the right to read it?")
        if action != "read" and not self.allowed(caller, meta["author"], record["acl"], action):
            verb = "delete" if action == "delete" else "modify"
            raise forbidden(f"You have not the right to {verb} {id}")
        return record

    def save(self, collection: str, record: Doc) -> None:
        record["meta"]["version"] += 1
        self.store.put(doc_kind(collection), record["meta"]["id"], record)

    def readable(
        self, collection: str, caller: Caller, with_acl: bool = False
    ) -> list[dict[str, Any]]:
        self.collection(collection)
        return [
            self.render_doc(r, with_acl)
            for _, r in self.store.all(doc_kind(collection))
            if self.allowed(caller, r["meta"]["author"], r["acl"], "read")
        ]

    async def create_document(
        self, *, auth: Credentials, collection: str, body: models.CreateDocumentRequest
    ) -> Any:
        caller = self.me(auth)
        raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        with self.store.transaction():
            info = self.collection(collection, f"Collection {collection} does not exists")
            acl = self.acl_from_members(raw)
            uid = raw.get("id") if isinstance(raw.get("id"), str) and raw.get("id") else None
            if uid is not None and self.store.get("node", uid) is not None:
                raise bad(f'Provided ID already exists: "{uid}"')
            uid = uid or str(uuid.uuid4())
            rid = self.next_rid(info["cluster"])
            record = {
                "meta": {
                    "rid": rid,
                    "version": 1,
                    "class": collection,
                    "id": uid,
                    "created": self.stamp(),
                    "author": caller.username,
                },
                "data": clean_fields(raw),
                "acl": acl,
            }
            self.store.put(doc_kind(collection), uid, record)
            self.index(uid, rid, doc_kind(collection), uid)
        return ok(self.render_doc(record))

    async def list_documents(
        self,
        *,
        auth: Credentials,
        collection: str,
        where: str | None = None,
        params: list[str] | None = None,
        order_by: str | None = None,
        group_by: str | None = None,
        page: int | None = None,
        records_per_page: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        fields: str | None = None,
        depth: int | None = None,
        with_acl: bool | None = None,
    ) -> Any:
        caller = self.who(auth)
        docs = self.readable(collection, caller, bool(with_acl))
        result = self.run_query(
            docs,
            self.criteria(
                where=where,
                params=params,
                order_by=order_by,
                group_by=group_by,
                page=page,
                records_per_page=records_per_page,
                skip=skip,
                fields=fields,
            ),
        )
        if count:
            return ok([{"count": result.count}])
        return ok(documents(result.records), more=result.more)

    async def count_documents(
        self,
        *,
        auth: Credentials,
        collection: str,
        where: str | None = None,
        params: list[str] | None = None,
    ) -> Any:
        caller = self.who(auth)
        docs = self.readable(collection, caller)
        result = self.run_query(docs, self.criteria(where=where, params=params))
        return ok({"count": result.count})

    async def get_document(
        self, *, auth: Credentials, collection: str, id: str, with_acl: bool | None = None
    ) -> Any:
        record = self.load(collection, id, self.who(auth), "read")
        return ok(self.render_doc(record, bool(with_acl)))

    async def get_document_by_rid(
        self, *, auth: Credentials, rid: str, with_acl: bool | None = None
    ) -> Any:
        caller = self.me(auth)
        if not re.fullmatch(r"#?-?\d+:-?\d+", rid):
            raise bad(f"#{rid} is not a valid record id")
        name = rid if rid.startswith("#") else "#" + rid
        target = self.store.get("rid", name)
        found = self.node(target["id"], caller) if target else None
        if found is None:
            raise not_found(f"{name} unknown")
        kind, record, view = found
        if kind.startswith("doc:") and with_acl:
            view = self.render_doc(record, True)
        return ok(view)

    async def update_document(
        self, *, auth: Credentials, collection: str, id: str, body: models.UpdateDocumentRequest
    ) -> Any:
        caller = self.me(auth)
        raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        with self.store.transaction():
            record = self.load(
                collection,
                id,
                caller,
                "update",
                f"Document {id} was not found in the collection {collection}",
            )
            stored = record["meta"]["version"]
            sent = raw.get("@version")
            if sent is not None and sent != stored:
                raise bad(
                    "You are attempting to update an older version of the document. Your "
                    f"document version is {sent}, the stored document has version {stored}",
                    "40001",
                )
            if any(
                member in raw for member in ("_allowRead", "_allowUpdate", "_allowDelete", "_allow")
            ):
                if not (caller.is_admin or caller.username == record["meta"]["author"]):
                    raise forbidden(f"You have not the right to change the ACL of {id}")
                record["acl"] = self.acl_from_members(raw, record["acl"])
            record["data"] = clean_fields(raw)
            self.save(collection, record)
        return ok(self.render_doc(record))

    async def delete_document(self, *, auth: Credentials, collection: str, id: str) -> Any:
        caller = self.me(auth)
        with self.store.transaction():
            self.load(collection, id, caller, "delete", f"id {id} not found")
            self.store.delete(doc_kind(collection), id)
            self.unindex(id)
            self.remove_links_of(id)
        return ok("")

    async def get_document_field(
        self, *, auth: Credentials, collection: str, id: str, field_path: str
    ) -> Any:
        record = self.load(collection, id, self.who(auth), "read")
        parts = field_parts(field_path)
        value = field_value(record["data"], ".".join(parts))
        if value is None and not has_path(record["data"], parts):
            raise not_found(f"The field {field_path} does not exist in the document {id}")
        key = parts[-1] if parts[-1] not in DOCUMENT_KEYS else ".".join(parts)
        return ok({key: value})

    async def update_document_field(
        self,
        *,
        auth: Credentials,
        collection: str,
        id: str,
        field_path: str,
        body: models.UpdateDocumentFieldRequest,
    ) -> Any:
        caller = self.me(auth)
        parts = field_parts(field_path)
        if not clean_fields({parts[0]: 0}):
            raise bad(f"The field {parts[0]} cannot be changed")
        with self.store.transaction():
            record = self.load(
                collection,
                id,
                caller,
                "update",
                f"Document {id} was not found in the collection {collection}",
            )
            set_path(record["data"], parts, body.data)
            self.save(collection, record)
        return ok(self.render_doc(record))

    async def list_linked_documents(
        self,
        *,
        auth: Credentials,
        collection: str,
        id: str,
        link_name: str,
        link_dir: Literal["to", "from", "both"] | None = None,
        where: str | None = None,
        params: list[str] | None = None,
        order_by: str | None = None,
        group_by: str | None = None,
        page: int | None = None,
        records_per_page: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        fields: str | None = None,
        depth: int | None = None,
    ) -> Any:
        caller = self.me(auth)
        self.load(collection, id, caller, "read")
        direction = link_dir or "to"
        others: list[str] = []
        for _, link in self.store.all("link"):
            if link["label"] != link_name:
                continue
            if direction in ("to", "both") and link["out"] == id:
                others.append(link["in"])
            if direction in ("from", "both") and link["in"] == id:
                others.append(link["out"])
        views = []
        for uid in dict.fromkeys(others):
            found = self.node(uid, caller)
            if found is not None:
                views.append(found[2])
        result = self.run_query(
            views,
            self.criteria(
                where=where,
                params=params,
                order_by=order_by,
                group_by=group_by,
                page=page,
                records_per_page=records_per_page,
                skip=skip,
                fields=fields,
            ),
        )
        if count:
            return ok([{"count": result.count}])
        return ok(documents(result.records), more=result.more)

    def owned(self, collection: str, id: str, caller: Caller) -> Doc:
        """The document, for a change of its grants (owner and administrators only)."""
        try:
            self.collection(collection)
        except Exception:
            raise not_found(f"collection {collection} not found") from None
        record = self.load(
            collection,
            id,
            caller,
            "read",
            f"document {id} not found. Hint: has the user the correct rights on it?",
        )
        if not (caller.is_admin or caller.username == record["meta"]["author"]):
            raise forbidden(f"You have not the right to change the grants of {id}")
        return record

    async def update_document_acl(
        self, *, auth: Credentials, collection: str, id: str, body: models.DocumentAcl
    ) -> Any:
        caller = self.me(auth)
        raw = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
        with self.store.transaction():
            record = self.owned(collection, id, caller)
            for member in ("_allowRead", "_allowUpdate", "_allowDelete"):
                raw.setdefault(member, [])
            record["acl"] = self.acl_from_members(raw, record["acl"])
            self.save(collection, record)
        return ok(self.render_doc(record))

    def change_doc_grant(
        self,
        auth: Credentials,
        collection: str,
        id: str,
        action: Action,
        name: str,
        is_role: bool,
        add: bool,
    ) -> Any:
        caller = self.me(auth)
        with self.store.transaction():
            record = self.owned(collection, id, caller)
            if is_role and self.store.get("role", name) is None:
                raise not_found(f"role {name} not found")
            if not is_role and self.user(name) is None:
                raise not_found(f"user {name} not found")
            self.grant(record["acl"], action, name, is_role, add)
            self.save(collection, record)
        return ok("")

    async def grant_document_to_user(
        self, *, auth: Credentials, collection: str, id: str, action: Action, username: str
    ) -> Any:
        return self.change_doc_grant(auth, collection, id, action, username, False, True)

    async def revoke_document_from_user(
        self, *, auth: Credentials, collection: str, id: str, action: Action, username: str
    ) -> Any:
        return self.change_doc_grant(auth, collection, id, action, username, False, False)

    async def grant_document_to_role(
        self, *, auth: Credentials, collection: str, id: str, action: Action, rolename: str
    ) -> Any:
        return self.change_doc_grant(auth, collection, id, action, rolename, True, True)

    async def revoke_document_from_role(
        self, *, auth: Credentials, collection: str, id: str, action: Action, rolename: str
    ) -> Any:
        return self.change_doc_grant(auth, collection, id, action, rolename, True, False)


def field_parts(path: str) -> list[str]:
    """`title`, `tags[2]`, `address.street`, `.a/.b` -> path segments."""
    text = path.replace("/.", ".").lstrip(".")
    parts = split_path(text)
    if not parts or any(not p for p in parts):
        raise bad(f"The field path .{path} is not valid")
    return parts


def has_path(data: Any, parts: list[str]) -> bool:
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def set_path(data: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = data
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        following = parts[position + 1] if not last else None
        if isinstance(node, dict):
            if last:
                node[part] = value
                return
            if not isinstance(node.get(part), (dict, list)):
                node[part] = [] if following is not None and following.isdigit() else {}
            node = node[part]
        elif isinstance(node, list) and part.isdigit():
            index = int(part)
            if index > len(node):
                raise bad(f"Index {index} is out of the bounds of the array")
            if index == len(node):
                node.append(None if last else {})
            if last:
                node[index] = value
                return
            if not isinstance(node[index], (dict, list)):
                node[index] = {}
            node = node[index]
        else:
            raise bad(f"The field {'.'.join(parts[: position + 1])} cannot be set")


class LinkOps(Records, LinksHandlers):
    def render_link(self, link: Doc, caller: Caller) -> dict[str, Any]:
        ends = {}
        for end in ("out", "in"):
            found = self.node(link[end], caller)
            ends[end] = found[2] if found else {}
        return {
            "@rid": link["rid"],
            "@version": link["version"],
            "@class": "E",
            "label": link["label"],
            "id": link["id"],
            "_author": link["author"],
            "_creation_date": link["created"],
            "out": ends["out"],
            "in": ends["in"],
        }

    async def create_link(
        self, *, auth: Credentials, source_id: str, link_name: str, dest_id: str
    ) -> Any:
        caller = self.me(auth)
        if not link_name.strip():
            raise bad("The link name cannot be empty")
        with self.store.transaction():
            if self.node(source_id, caller) is None:
                raise not_found(
                    f"Source record {source_id} not found. Hint: has the user the "
                    "correct rights on it?"
                )
            if self.node(dest_id, caller) is None:
                raise not_found(
                    f"Destination record {dest_id} not found. Hint: has the user the "
                    "correct rights on it?"
                )
            uid = str(uuid.uuid4())
            link: Doc = {
                "id": uid,
                "rid": self.next_rid(LINKS_CLUSTER),
                "version": 1,
                "label": link_name,
                "out": source_id,
                "in": dest_id,
                "author": caller.username,
                "created": self.stamp(),
            }
            self.store.put("link", uid, link)
            self.index(uid, link["rid"], "link", uid)
        return ok(self.render_link(link, caller))

    async def list_links(
        self,
        *,
        auth: Credentials,
        where: str | None = None,
        params: list[str] | None = None,
        order_by: str | None = None,
        group_by: str | None = None,
        page: int | None = None,
        records_per_page: int | None = None,
        skip: int | None = None,
        count: bool | None = None,
        fields: str | None = None,
        depth: int | None = None,
    ) -> Any:
        caller = self.me(auth)
        links = [self.render_link(link, caller) for _, link in self.store.all("link")]
        result = self.run_query(
            links,
            self.criteria(
                where=where,
                params=params,
                order_by=order_by,
                group_by=group_by,
                page=page,
                records_per_page=records_per_page,
                skip=skip,
            ),
        )
        return ok(result.records, more=result.more)

    async def get_link(self, *, auth: Credentials, link_id: str) -> Any:
        caller = self.me(auth)
        link = self.store.get("link", link_id)
        if link is None:
            raise not_found(f"Link {link_id} not found")
        return ok(self.render_link(link, caller))

    async def delete_link(self, *, auth: Credentials, link_id: str) -> Any:
        self.me(auth)
        with self.store.transaction():
            if not self.store.delete("link", link_id):
                raise not_found(f"Link {link_id} not found")
            self.unindex(link_id)
        return ok("")
