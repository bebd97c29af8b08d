"""Blobs: create with an upload ticket, upload to the emulator itself, complete, download."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response

from generated.quickblox import models
from generated.quickblox.server import ContentHandlers, Credentials, Reply, Result

from . import context
from .base import BLOB, BLOB_DATA, USER, Base, Principal
from .util import NO_PERMISSION, NO_SESSION, NOT_FOUND, fail, iso, to_int

Doc = dict[str, Any]
TICKET_TTL = 3600  # an upload ticket is valid about one hour
LINK_TTL = 600  # a signed download link of a private blob
MAX_UPLOAD = 50 * 1024 * 1024
STORAGE_PATH = "/_storage/blobs/{uid}"  # the emulator's stand-in for the file host
BLOB_FIELDS = (
    "id",
    "uid",
    "content_type",
    "name",
    "size",
    "public",
    "blob_status",
    "set_completed_at",
    "created_at",
    "updated_at",
    "account_id",
    "app_id",
    "tag_list",
)


class ContentOps(Base, ContentHandlers):
    def sign(self, text: str) -> str:
        return hmac.new(
            self.config["auth_secret"].encode(), text.encode(), hashlib.sha256
        ).hexdigest()

    def blob_doc(self, blob_id: int) -> Doc:
        doc = self.store.get(BLOB, str(blob_id))
        if doc is None:
            fail("not_found", NOT_FOUND)
        return doc

    def own_blob(self, blob_id: int) -> Doc:
        doc = self.blob_doc(blob_id)
        principal = self.who()
        if not principal.admin and doc.get("__owner") != principal.user_id:
            fail("forbidden", NO_PERMISSION)
        return doc

    def ticket(self, doc: Doc) -> Doc:
        """A fresh upload ticket: the emulator's own upload URL with S3-style signed fields."""
        now = self.now()
        expires = int(now + TICKET_TTL)
        policy = base64.b64encode(
            json.dumps(
                {"blob_id": doc["id"], "key": doc["uid"], "expires": expires}, separators=(",", ":")
            ).encode()
        ).decode()
        stamp = iso(now) or ""
        day = stamp[:10].replace("-", "")
        fields = [
            ("acl", "public-read" if doc.get("public") else "authenticated-read"),
            ("content_type", doc.get("content_type") or ""),
            ("expires", iso(expires) or ""),
            ("key", doc["uid"]),
            ("policy", policy),
            ("success_action_status", "201"),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-credential", f"{self.app_id}/{day}/emulator/s3/aws4_request"),
            ("x-amz-date", stamp.replace("-", "").replace(":", "")),
            ("x-amz-signature", self.sign(policy)),
        ]
        doc["__policy"] = policy
        return {
            "id": doc["id"],
            "blob_id": doc["id"],
            "expires": iso(expires),
            "object_access_type": "Write",
            "params": f"{context.base_url()}/blobs/{doc['id']}/upload/?{urlencode(fields)}",
        }

    @staticmethod
    def render_blob(doc: Doc, access: Doc | None = None) -> models.BlobWrapper:
        blob = {k: doc.get(k) for k in BLOB_FIELDS}
        if access is not None:
            blob["blob_object_access"] = access
        return models.BlobWrapper.model_validate({"blob": blob})

    def download_link(self, doc: Doc) -> str:
        url = context.base_url() + STORAGE_PATH.format(uid=doc["uid"])
        if doc.get("public"):
            return url
        expires = str(int(self.now() + LINK_TTL))
        return (
            f"{url}?{urlencode({'expires': expires, 'signature': self.sign(doc['uid'] + expires)})}"
        )

    def redirect(self, doc: Doc, principal: Principal) -> Reply[None]:
        if not doc.get("public") and principal.anonymous:
            fail("unauthorized", NO_SESSION)
        if self.store.get(BLOB_DATA, str(doc["id"])) is None:
            fail("not_found", NOT_FOUND)
        return Reply(302, None, headers={"Location": self.download_link(doc)})

    # -- operations -------------------------------------------------------------------------
    async def create_blob(
        self, *, auth: Credentials, body: models.CreateBlobRequest
    ) -> Result[models.BlobWrapper]:
        me = self.me()
        new = body.blob
        if not new.content_type.strip():
            fail("validation", "content_type can't be blank")
        now = self.now_iso()
        with self.store.transaction():
            blob_id = self.store.next_id("qb_blob_id", start=1000001)
            doc: Doc = {
                "id": blob_id,
                "uid": secrets.token_hex(16) + "00",
                "content_type": new.content_type.strip(),
                "name": new.name,
                "size": None,
                "public": bool(new.public),
                "blob_status": None,
                "set_completed_at": None,
                "created_at": now,
                "updated_at": now,
                "account_id": self.app_id,
                "app_id": self.app_id,
                "tag_list": new.tag_list,
                "__owner": me,
            }
            access = self.ticket(doc)
            self.store.put(BLOB, str(blob_id), doc)
        return Reply(201, self.render_blob(doc, access))

    async def upload_blob_file(
        self, *, auth: Credentials, blob_id: int, body: models.BlobUploadForm
    ) -> Result[None]:
        doc = self.store.get(BLOB, str(blob_id))
        if doc is None or body.key != doc.get("uid"):
            fail("forbidden", "Invalid according to Policy: key does not match the ticket")
        policy = body.policy or ""
        signature = body.x_amz_signature or ""
        if (
            not policy
            or policy != doc.get("__policy")
            or not hmac.compare_digest(signature, self.sign(policy))
        ):
            fail("forbidden", "Invalid according to Policy: Policy Condition failed")
        try:
            expires = int(json.loads(base64.b64decode(policy))["expires"])
        except (ValueError, KeyError, TypeError):
            fail("forbidden", "Invalid policy")
        if expires < self.now():
            fail("forbidden", "Request has expired")
        if len(body.file) > MAX_UPLOAD:
            fail("validation", "Your proposed upload exceeds the maximum allowed size", status=400)
        with self.store.transaction():
            self.store.put(BLOB_DATA, str(blob_id), {"data": base64.b64encode(body.file).decode()})
            doc["__uploaded"] = len(body.file)
            doc["updated_at"] = self.now_iso()
            self.store.put(BLOB, str(blob_id), doc)
        return Reply(201)

    async def complete_blob(
        self, *, auth: Credentials, blob_id: int, body: models.CompleteBlobRequest
    ) -> Result[None]:
        size = body.blob.size if body.blob and body.blob.size is not None else body.size
        if size is None or size < 0:
            fail("validation", "size can't be blank")
        with self.store.transaction():
            doc = self.own_blob(blob_id)
            now = self.now_iso()
            doc.update(
                {
                    "size": size,
                    "blob_status": "complete",
                    "set_completed_at": now,
                    "updated_at": now,
                }
            )
            self.store.put(BLOB, str(blob_id), doc)
        return None

    async def get_blob(
        self, *, auth: Credentials, blob_id: str, token: str | None = None
    ) -> Result[models.BlobWrapper]:
        principal = self.token_principal(token)
        number = to_int(blob_id)
        if number is None or not blob_id.strip().isdigit():
            doc = self.store.first(BLOB, lambda b: b.get("uid") == blob_id)
            if doc is None:
                fail("not_found", NOT_FOUND)
            return self.redirect(doc, principal)
        if principal.anonymous:
            fail("unauthorized", NO_SESSION)
        doc = self.blob_doc(number)
        if (
            not doc.get("public")
            and not principal.admin
            and doc.get("__owner") != principal.user_id
        ):
            fail("forbidden", NO_PERMISSION)
        return self.render_blob(doc)

    async def download_blob(
        self, *, auth: Credentials, blob_id: int, token: str | None = None
    ) -> Result[None]:
        principal = self.token_principal(token)
        return self.redirect(self.blob_doc(blob_id), principal)

    async def update_blob(
        self, *, auth: Credentials, blob_id: int, body: models.UpdateBlobRequest
    ) -> Result[models.BlobWrapper]:
        changes = body.blob
        with self.store.transaction():
            doc = self.own_blob(blob_id)
            if changes.name is not None:
                if not changes.name.strip() or len(changes.name) > 100:
                    fail("validation", "name is invalid")
                doc["name"] = changes.name
            if changes.content_type is not None:
                if not changes.content_type.strip() or len(changes.content_type) > 50:
                    fail("validation", "content_type is invalid")
                doc["content_type"] = changes.content_type
            access = None
            if changes.new == 1:
                doc.update({"size": None, "blob_status": None, "set_completed_at": None})
                access = self.ticket(doc)
            doc["updated_at"] = self.now_iso()
            self.store.put(BLOB, str(blob_id), doc)
        return self.render_blob(doc, access)

    async def delete_blob(self, *, auth: Credentials, blob_id: int) -> Result[None]:
        with self.store.transaction():
            self.own_blob(blob_id)
            self.store.delete(BLOB, str(blob_id))
            self.store.delete(BLOB_DATA, str(blob_id))
            for user in self.store.find(USER, lambda u: u.get("blob_id") == blob_id):
                user["blob_id"] = None
                self.store.put(USER, str(user["id"]), user)
        return None

    async def list_blobs(
        self, *, auth: Credentials, page: int | None = None, per_page: int | None = None
    ) -> Result[models.BlobPage]:
        me = self.me()
        docs = self.store.find(BLOB, lambda b: b.get("__owner") == me)
        number = page if page and page > 0 else 1
        size = min(per_page if per_page and per_page > 0 else 10, 100)
        chunk = docs[(number - 1) * size : number * size]
        return models.BlobPage.model_validate(
            {
                "current_page": number,
                "per_page": size,
                "total_entries": len(docs),
                "items": [
                    self.render_blob(d).model_dump(mode="json", exclude_unset=True) for d in chunk
                ],
            }
        )

    # -- the file host (not part of the API) ------------------------------------------------
    def storage_download(self, uid: str, expires: str | None, signature: str | None) -> Response:
        doc = self.store.first(BLOB, lambda b: b.get("uid") == uid)
        data = self.store.get(BLOB_DATA, str(doc["id"])) if doc else None
        if doc is None or data is None:
            return Response(
                b"<Error><Code>NoSuchKey</Code></Error>", 404, media_type="application/xml"
            )
        if not doc.get("public"):
            stamp = to_int(expires)
            good = signature is not None and hmac.compare_digest(
                signature, self.sign(uid + str(expires))
            )
            if not good or stamp is None or stamp < self.now():
                return Response(
                    b"<Error><Code>AccessDenied</Code></Error>", 403, media_type="application/xml"
                )
        content = base64.b64decode(data["data"])
        return Response(
            content,
            200,
            media_type=doc.get("content_type") or "application/octet-stream",
            headers={"Content-Disposition": f'inline; filename="{doc.get("name") or uid}"'},
        )
