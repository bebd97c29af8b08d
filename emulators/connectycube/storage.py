"""Files (blobs): the three-step upload (create ticket, post to the bucket, complete), downloads.

The emulator is its own storage bucket: upload tickets point at `POST /` of the emulator (the
`uploadBlobFile` operation), with a policy signed by the application secret and valid one hour, and
content is kept in the store. Downloads redirect to `GET /_storage/{uid}` on the emulator, a route
outside the spec standing in for the bucket's object URL.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from emulators.store import Doc
from generated.connectycube import models
from generated.connectycube.server import Credentials, Reply

from .common import (
    BLOB,
    BLOB_CONTENT,
    NOT_FOUND,
    SESSION,
    Base,
    iso,
    page_numbers,
    parse_time,
    same,
    to_int,
    utf8,
)
from .context import base_error, field_error, list_error

BUCKET = "cb-emulator-bucket"
TICKET_TTL = 3600.0
MAX_SIZE = 100 * 1024 * 1024
STORAGE_PATH = "/_storage"


def _xml(root: str, fields: dict[str, str]) -> bytes:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return utf8(f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{inner}</{root}>')


class StorageMixin(Base):
    def blob(self, blob_id: int | str) -> Doc:
        number = to_int(blob_id)
        doc = self.store.get(BLOB, str(number)) if number is not None else None
        if doc is None and isinstance(blob_id, str):
            doc = self.store.first(BLOB, lambda d: d.get("uid") == blob_id)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        return doc

    def sign(self, text: str) -> str:
        return hmac.new(
            utf8(self.config["auth_secret"]),
            utf8(text),
            sha256,
        ).hexdigest()

    def write_ticket(self, doc: Doc) -> dict[str, Any]:
        now = self.now()
        expires = now + TICKET_TTL
        acl = "public-read" if doc.get("public") else "authenticated-read"
        policy = base64.b64encode(
            json.dumps(
                {
                    "expiration": iso(expires),
                    "conditions": [
                        {"bucket": BUCKET},
                        {"key": doc["uid"]},
                        {"acl": acl},
                        {"Content-Type": doc.get("content_type")},
                        ["content-length-range", 0, MAX_SIZE],
                    ],
                },
                separators=(",", ":"),
            ).encode()
        ).decode()
        stamp = datetime.fromtimestamp(now, UTC)
        params = urlencode(
            [
                ("Content-Type", doc.get("content_type") or "application/octet-stream"),
                (
                    "Expires",
                    datetime.fromtimestamp(expires, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
                ),
                ("acl", acl),
                ("key", doc["uid"]),
                ("policy", policy),
                ("success_action_status", "201"),
                ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
                ("x-amz-credential", f"EMULATOR/{stamp:%Y%m%d}/us-east-1/s3/aws4_request"),
                ("x-amz-date", f"{stamp:%Y%m%dT%H%M%SZ}"),
                ("x-amz-signature", self.sign(policy)),
            ]
        )
        return {
            "id": doc["id"],
            "blob_id": doc["id"],
            "expires": iso(expires),
            "object_access_type": "Write",
            "params": f"{self.base_url()}/?{params}",
        }

    def read_ticket(self, doc: Doc) -> dict[str, Any]:
        expires = self.now() + TICKET_TTL
        signature = self.sign(f"{doc['uid']}:{int(expires)}")
        url = (
            f"{self.base_url()}{STORAGE_PATH}/{doc['uid']}?expires={int(expires)}"
            f"&signature={signature}"
        )
        return {
            "id": doc["id"],
            "blob_id": doc["id"],
            "expires": iso(expires),
            "object_access_type": "Read",
            "download_url": url,
        }

    def blob_view(self, doc: Doc, ticket: dict[str, Any] | None = None) -> dict[str, Any]:
        out = {
            "id": doc["id"],
            "uid": doc["uid"],
            "content_type": doc.get("content_type"),
            "name": doc.get("name"),
            "size": doc.get("size"),
            "public": bool(doc.get("public")),
            "blob_status": doc.get("blob_status"),
            "set_completed_at": iso(doc.get("set_completed_at")),
            "last_read_access_ts": iso(doc.get("last_read_access_ts")),
            "created_at": iso(doc.get("created_at")),
            "updated_at": iso(doc.get("updated_at")),
            "account_id": doc.get("account_id"),
            "app_id": doc.get("app_id"),
        }
        if ticket is not None:
            out["blob_object_access"] = ticket
        return out

    def can_read(self, doc: Doc, auth: Credentials, token: str | None = None) -> bool:
        if doc.get("public"):
            return True
        candidate = auth.cb_token or token
        if not candidate:
            return False
        session = self.store.get(SESSION, candidate)
        return session is not None and session.get("expires_at", 0) > self.now()

    # -- create, upload, complete ------------------------------------------------------------
    async def create_blob(self, *, auth: Credentials, body: models.CreateBlobRequest) -> Any:
        me = self.user_id(auth)
        now = self.now()
        with self.store.transaction():
            blob_id = self.store.next_id("cc.blob")
            doc: Doc = {
                "id": blob_id,
                "uid": secrets.token_hex(16) + "00",
                "content_type": body.blob.content_type,
                "name": body.blob.name,
                "size": None,
                "public": bool(body.blob.public),
                "blob_status": None,
                "set_completed_at": None,
                "last_read_access_ts": None,
                "created_at": now,
                "updated_at": now,
                "account_id": self.app_id,
                "app_id": self.app_id,
                "user_id": me,
            }
            self.store.put(BLOB, str(blob_id), doc)
        return Reply(201, {"blob": self.blob_view(doc, self.write_ticket(doc))})

    async def upload_blob_file(
        self, *, auth: Credentials, body: models.UploadBlobFileRequest
    ) -> Any:
        def denied(message: str) -> Reply[Any]:
            return Reply(403, _xml("Error", {"Code": "AccessDenied", "Message": message}))

        policy_text = body.policy
        if not same(self.sign(policy_text), body.x_amz_signature or ""):
            return denied("Invalid according to Policy: Policy Signature does not match")
        try:
            policy = json.loads(base64.b64decode(policy_text))
        except (ValueError, UnicodeDecodeError):
            return denied("Invalid Policy: Invalid JSON.")
        conditions = policy.get("conditions") if isinstance(policy, dict) else None
        keys = [c.get("key") for c in conditions or [] if isinstance(c, dict) and "key" in c]
        expires = parse_time(policy.get("expiration")) if isinstance(policy, dict) else None
        if expires is None or expires < self.now():
            return denied("Invalid according to Policy: Policy expired.")
        if body.key not in keys:
            return denied(
                'Invalid according to Policy: Policy Condition failed: ["eq", "$key", ...]'
            )
        content = body.file if isinstance(body.file, bytes) else utf8(str(body.file))
        if len(content) > MAX_SIZE:
            return Reply(
                400,
                _xml(
                    "Error",
                    {
                        "Code": "EntityTooLarge",
                        "Message": "Your proposed upload exceeds the maximum allowed size",
                    },
                ),
            )
        doc = self.store.first(BLOB, lambda d: d.get("uid") == body.key)
        if doc is None:
            return denied("Access Denied")
        with self.store.transaction():
            self.store.put(
                BLOB_CONTENT,
                body.key,
                {
                    "content": base64.b64encode(content).decode(),
                    "content_type": body.content_type or doc.get("content_type"),
                    "etag": sha256(content).hexdigest()[:32],
                },
            )
        etag = sha256(content).hexdigest()[:32]
        return Reply(
            201,
            _xml(
                "PostResponse",
                {
                    "Location": f"{self.base_url()}/{body.key}",
                    "Bucket": BUCKET,
                    "Key": body.key,
                    "ETag": f'"{etag}"',
                },
            ),
        )

    async def complete_blob_upload(
        self, *, auth: Credentials, blob_id: int, body: models.CompleteBlobUploadRequest
    ) -> None:
        me = self.user_id(auth)
        raw = body.size if body.size is not None else (body.blob.size if body.blob else None)
        size = to_int(raw)
        if size is None or size < 0:
            raise field_error("size", "is invalid")
        with self.store.transaction():
            doc = self.blob(blob_id)
            if doc.get("user_id") != me:
                raise list_error(404, NOT_FOUND)
            now = self.now()
            doc.update(size=size, blob_status="complete", set_completed_at=now, updated_at=now)
            self.store.put(BLOB, str(doc["id"]), doc)
        return None

    # -- read --------------------------------------------------------------------------------
    async def get_blob(
        self, *, auth: Credentials, blob_id: int | str, token: str | None = None
    ) -> Any:
        doc = self.blob(blob_id)
        if token and not auth.cb_token:
            session = self.store.get(SESSION, token)
            if session is None or session.get("expires_at", 0) <= self.now():
                raise base_error(401, "Required session does not exist")
        if not self.can_read(doc, auth, token):
            raise base_error(403, "Forbidden")
        with self.store.transaction():
            doc["last_read_access_ts"] = self.now()
            self.store.put(BLOB, str(doc["id"]), doc)
        return {"blob": self.blob_view(doc)}

    async def get_blob_object(
        self, *, auth: Credentials, blob_uid: str, download_url: int | str | None = None
    ) -> Any:
        doc = self.store.first(BLOB, lambda d: d.get("uid") == blob_uid)
        if doc is None:
            raise list_error(404, NOT_FOUND)
        wants = download_url is not None and str(download_url).lower() in ("1", "true")
        return {"blob": self.blob_view(doc, self.read_ticket(doc) if wants else None)}

    async def download_blob(self, *, auth: Credentials, blob_uid: str) -> Any:
        doc = self.store.first(BLOB, lambda d: d.get("uid") == blob_uid)
        if doc is None or doc.get("blob_status") != "complete":
            raise list_error(404, NOT_FOUND)
        if not self.can_read(doc, auth):
            raise base_error(403, "Forbidden")
        with self.store.transaction():
            doc["last_read_access_ts"] = self.now()
            self.store.put(BLOB, str(doc["id"]), doc)
        return Reply(302, None, headers={"Location": self.read_ticket(doc)["download_url"]})

    async def list_blobs(
        self, *, auth: Credentials, page: int | None = None, per_page: int | None = None
    ) -> Any:
        me = self.user_id(auth)
        mine = self.store.find(BLOB, lambda d: d.get("user_id") == me)
        items, number, size = page_numbers(mine, page, per_page)
        return {
            "current_page": number,
            "per_page": size,
            "total_entries": len(mine),
            "items": [{"blob": self.blob_view(d)} for d in items],
        }

    # -- change ------------------------------------------------------------------------------
    def own_blob(self, auth: Credentials, blob_id: int) -> Doc:
        me = self.user_id(auth)
        doc = self.blob(blob_id)
        if doc.get("user_id") != me:
            raise base_error(403, "Forbidden")
        return doc

    async def update_blob(
        self, *, auth: Credentials, blob_id: int, body: models.UpdateBlobRequest
    ) -> Any:
        with self.store.transaction():
            doc = self.own_blob(auth, blob_id)
            fields = body.blob.model_dump(exclude_unset=True)
            if fields.get("name") is not None:
                if not fields["name"]:
                    raise field_error("name", "can't be blank")
                doc["name"] = fields["name"]
            if fields.get("content_type") is not None:
                doc["content_type"] = fields["content_type"]
            renew = str(fields.get("new")) == "1"
            if renew:
                doc.update(size=None, blob_status=None, set_completed_at=None)
                self.store.delete(BLOB_CONTENT, doc["uid"])
            doc["updated_at"] = self.now()
            self.store.put(BLOB, str(doc["id"]), doc)
        return {"blob": self.blob_view(doc, self.write_ticket(doc) if renew else None)}

    async def delete_blob(self, *, auth: Credentials, blob_id: int) -> None:
        with self.store.transaction():
            doc = self.own_blob(auth, blob_id)
            self.store.delete(BLOB, str(doc["id"]))
            self.store.delete(BLOB_CONTENT, doc["uid"])
        return None

    # -- the bucket's object URL (outside the spec) ------------------------------------------
    def stored_content(
        self,
        uid: str,
        expires: str | None,
        signature: str | None,
    ) -> tuple[bytes, str] | None:
        stamp = to_int(expires)
        if (
            stamp is None
            or stamp < self.now()
            or not signature
            or not same(self.sign(f"{uid}:{stamp}"), signature)
        ):
            return None
        doc = self.store.get(BLOB_CONTENT, uid)
        if doc is None:
            return None
        return base64.b64decode(doc["content"]), str(
            doc.get("content_type") or "application/octet-stream"
        )
