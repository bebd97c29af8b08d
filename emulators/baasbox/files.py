"""Files (multipart uploads with attached data and ACL, kept base64 in the store) and assets.

Images are served as uploaded: the resize options are checked against the `Images` settings as
the server does, but no pixels are resampled (no imaging library is assumed).
"""

from __future__ import annotations

import base64
import json
import re
import struct
import uuid
from typing import Any, Literal

from fastapi.responses import Response

from generated.baasbox import models
from generated.baasbox.server import AssetsHandlers, Credentials, FilesHandlers, Reply

from ..store import Doc
from .common import (
    ACTIONS,
    ASSETS_CLUSTER,
    FILES_CLUSTER,
    Base,
    Caller,
    bad,
    empty_acl,
    forbidden,
    not_found,
    ok,
)
from .documents import Records

Action = Literal["read", "update", "delete", "all"]


def sniff(content: bytes) -> str:
    """A MIME type from the first bytes (the multipart part's own type does not reach us)."""
    signatures = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"BM", "image/bmp"),
    ]
    for magic, kind in signatures:
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            json.loads(text)
            return "application/json"
        except ValueError:
            pass
    if stripped.lower().startswith(("<!doctype html", "<html")):
        return "text/html"
    return "text/plain"


def image_size(content: bytes) -> tuple[int, int] | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    return None


def metadata_of(content: bytes, content_type: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"Content-Type": content_type}
    size = image_size(content)
    if size:
        meta.update({"Image Width": f"{size[0]} pixels", "Image Height": f"{size[1]} pixels"})
    return meta


def text_of(content: bytes, content_type: str) -> str:
    if content_type.startswith("text/") or content_type == "application/json":
        text = content.decode("utf-8", "replace")
        return re.sub(r"<[^>]+>", " ", text) if content_type == "text/html" else text
    return ""


def parse_json_object(text: str | None, what: str) -> dict[str, Any]:
    if text is None or text == "":
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise bad(f"The '{what}' field is not a valid JSON object") from None
    if not isinstance(value, dict):
        raise bad(f"The '{what}' field is not a valid JSON object")
    return value


class ImageChecks(Base):
    def resize_allowed(self, content_type: str, spec: str) -> None:
        """Refuse as the server does: not an image, resizing off, or a size not allowed."""
        if not content_type.startswith("image/"):
            raise bad("The resize options can be applied only to images")
        if not self.flag("image.allows.automatic.resize"):
            raise bad("The automatic resize of images is disabled")
        allowed = self.setting("image.allowed.automatic.resize.formats").split()
        if spec not in allowed and not self.within_limit(spec, allowed):
            raise bad(f"The size {spec} is not allowed. Allowed sizes: {' '.join(allowed)}")

    @staticmethod
    def within_limit(spec: str, allowed: list[str]) -> bool:
        numbers = [int(n) for n in re.findall(r"\d+", spec)]
        for entry in allowed:
            match = re.fullmatch(r"<=(\d+)px", entry)
            if match and numbers and not spec.endswith("%") and max(numbers) <= int(match.group(1)):
                return True
        return False

    def size_spec(self, size_id: int) -> str:
        allowed = self.setting("image.allowed.automatic.resize.formats").split()
        if size_id < 0 or size_id >= len(allowed):
            raise bad(
                f"The sizeId {size_id} is not valid: only {len(allowed)} sizes are configured"
            )
        return allowed[size_id]


class FileOps(Records, ImageChecks, FilesHandlers):
    def parse_file_acl(self, text: str | None) -> dict[str, Any]:
        acl = empty_acl()
        if text is None or text == "":
            return acl
        try:
            value = json.loads(text)
        except ValueError:
            raise bad("The 'acl' field is malformed", "40002") from None
        if not isinstance(value, dict):
            raise bad("The 'acl' field is malformed", "40002")
        for action, grantees in value.items():
            if action not in ACTIONS:
                raise bad(
                    f"{action} is not a valid permission: use read, update, delete or all", "40003"
                )
            if not isinstance(grantees, dict):
                raise bad(f"The permission {action} must hold 'users' and/or 'roles'", "40004")
            for key, names in grantees.items():
                if key not in ("users", "roles"):
                    raise bad(f"{key} is not valid: only 'users' and 'roles' are allowed", "40004")
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise bad(f"The value of {action}.{key} must be an array", "40010")
                for name in names:
                    if key == "users" and self.user(name) is None:
                        raise bad(f"The user {name} does not exist", "40005")
                    if key == "roles" and self.store.get("role", name) is None:
                        raise bad(f"The role {name} does not exist", "40006")
                acl[action][key] = list(dict.fromkeys(names))
        return acl

    def file(self, id: str, caller: Caller, action: str = "read") -> Doc:
        record = self.store.get("file", id)
        if record is None or not self.allowed(caller, record["author"], record["acl"], "read"):
            raise not_found(f"File {id} not found")
        if action != "read" and not self.allowed(caller, record["author"], record["acl"], action):
            raise forbidden(f"You have not the right to {action} the file {id}")
        return record

    async def upload_file(self, *, auth: Credentials, body: models.UploadFileRequest) -> Any:
        caller = self.me(auth)
        attached = parse_json_object(body.attachedData, "attachedData")
        acl = self.parse_file_acl(body.acl)
        content = bytes(body.file)
        content_type = sniff(content)
        uid = str(uuid.uuid4())
        with self.store.transaction():
            record: Doc = {
                "id": uid,
                "rid": self.next_rid(FILES_CLUSTER),
                "version": 1,
                "created": self.stamp(),
                "author": caller.username,
                "fileName": "file",
                "contentType": content_type,
                "contentLength": len(content),
                "metadata": metadata_of(content, content_type),
                "attachedData": attached,
                "acl": acl,
                "content": base64.b64encode(content).decode(),
            }
            self.store.put("file", uid, record)
            self.index(uid, record["rid"], "file", uid)
        return Reply(201, ok(self.render_file(record), 201))

    async def list_file_details(
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
        caller = self.who(auth)
        files = [
            self.render_file(r)
            for _, r in self.store.all("file")
            if self.allowed(caller, r["author"], r["acl"], "read")
        ]
        result = self.run_query(
            files,
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

    async def get_file_details(self, *, auth: Credentials, id: str) -> Any:
        return ok(self.render_file(self.file(id, self.who(auth))))

    async def get_file_attached_data(self, *, auth: Credentials, id: str) -> Any:
        return ok(self.file(id, self.who(auth)).get("attachedData") or {})

    async def get_file_content(self, *, auth: Credentials, id: str) -> Any:
        record = self.file(id, self.who(auth))
        text = text_of(base64.b64decode(record["content"]), record["contentType"])
        return Response(text, media_type="text/plain; charset=utf-8")

    async def download_file(
        self,
        *,
        auth: Credentials,
        id: str,
        download: bool | None = None,
        size_id: int | None = None,
        resize: str | None = None,
    ) -> Any:
        record = self.file(id, self.who(auth))
        if size_id is not None:
            self.resize_allowed(record["contentType"], self.size_spec(size_id))
        if resize:
            self.resize_allowed(record["contentType"], resize)
        headers = {}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{record["fileName"]}"'
        return Response(
            base64.b64decode(record["content"]), media_type=record["contentType"], headers=headers
        )

    async def delete_file(self, *, auth: Credentials, id: str) -> Any:
        caller = self.me(auth)
        with self.store.transaction():
            self.file(id, caller, "delete")
            self.store.delete("file", id)
            self.unindex(id)
            self.remove_links_of(id)
        return ok("")

    def change_file_grant(
        self, auth: Credentials, id: str, action: Action, name: str, is_role: bool, add: bool
    ) -> Any:
        caller = self.me(auth)
        with self.store.transaction():
            record = self.file(id, caller)
            if not (caller.is_admin or caller.username == record["author"]):
                raise forbidden(f"You have not the right to change the grants of the file {id}")
            if is_role and self.store.get("role", name) is None:
                raise not_found(f"role {name} not found")
            if not is_role and self.user(name) is None:
                raise not_found(f"user {name} not found")
            self.grant(record["acl"], action, name, is_role, add)
            record["version"] += 1
            self.store.put("file", id, record)
        return ok("")

    async def grant_file_to_user(
        self, *, auth: Credentials, id: str, action: Action, username: str
    ) -> Any:
        return self.change_file_grant(auth, id, action, username, False, True)

    async def revoke_file_from_user(
        self, *, auth: Credentials, id: str, action: Action, username: str
    ) -> Any:
        return self.change_file_grant(auth, id, action, username, False, False)

    async def grant_file_to_role(
        self, *, auth: Credentials, id: str, action: Action, rolename: str
    ) -> Any:
        return self.change_file_grant(auth, id, action, rolename, True, True)

    async def revoke_file_from_role(
        self, *, auth: Credentials, id: str, action: Action, rolename: str
    ) -> Any:
        return self.change_file_grant(auth, id, action, rolename, True, False)


class AssetOps(ImageChecks, AssetsHandlers):
    def render_asset(self, asset: Doc) -> dict[str, Any]:
        out = {
            "@rid": asset["rid"],
            "@version": asset["version"],
            "@class": "_BB_FileAsset" if asset.get("content") is not None else "_BB_Asset",
            "id": asset["id"],
            "_author": asset["author"],
            "_creation_date": asset["created"],
            "name": asset["name"],
            "meta": asset.get("meta") or {},
        }
        if asset.get("content") is not None:
            out.update(
                fileName=asset["fileName"],
                contentType=asset["contentType"],
                contentLength=asset["contentLength"],
            )
        return out

    def asset(self, name: str) -> Doc:
        asset = self.store.get("asset", name)
        if asset is None:
            raise not_found(f"Asset {name} not found")
        return asset

    def asset_file(self, name: str, download: bool, spec: str | None = None) -> Response:
        asset = self.asset(name)
        if asset.get("content") is None:
            raise not_found(f"Asset {name} is not a file asset")
        if spec is not None:
            self.resize_allowed(asset["contentType"], spec)
        headers = {}
        if download:
            headers["Content-Disposition"] = f'attachment; filename="{asset["fileName"]}"'
        return Response(
            base64.b64decode(asset["content"]), media_type=asset["contentType"], headers=headers
        )

    @staticmethod
    def size(w: str, h: str) -> str:
        def px(value: str) -> str:
            return value if value.endswith(("px", "%")) else value + "px"

        if not re.fullmatch(r"\d+(px|%)?", w) or not re.fullmatch(r"\d+(px|%)?", h):
            raise bad(f"The size {w}-{h} is not valid")
        return f"{px(w)}-{px(h)}"

    @staticmethod
    def percent(perc: str) -> str:
        if not re.fullmatch(r"\d+%", perc):
            raise bad(f"The value {perc} is not a valid percentage: it must end with %")
        return perc

    async def get_asset(self, *, auth: Credentials, name: str) -> Any:
        return self.asset_file(name, False)

    async def download_asset(self, *, auth: Credentials, name: str) -> Any:
        return self.asset_file(name, True)

    async def get_asset_data(self, *, auth: Credentials, name: str) -> Any:
        return ok(self.render_asset(self.asset(name)))

    async def get_asset_resized(self, *, auth: Credentials, name: str, w: str, h: str) -> Any:
        return self.asset_file(name, False, self.size(w, h))

    async def download_asset_resized(self, *, auth: Credentials, name: str, w: str, h: str) -> Any:
        return self.asset_file(name, True, self.size(w, h))

    async def get_asset_scaled(self, *, auth: Credentials, name: str, perc: str) -> Any:
        return self.asset_file(name, False, self.percent(perc))

    async def download_asset_scaled(self, *, auth: Credentials, name: str, perc: str) -> Any:
        return self.asset_file(name, True, self.percent(perc))

    async def get_asset_by_size_id(self, *, auth: Credentials, name: str, size_id: int) -> Any:
        self.asset(name)
        return self.asset_file(name, False, self.size_spec(size_id))

    async def download_asset_by_size_id(self, *, auth: Credentials, name: str, size_id: int) -> Any:
        self.asset(name)
        return self.asset_file(name, True, self.size_spec(size_id))

    async def list_assets(
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
        self.admin(auth)
        assets = [self.render_asset(a) for _, a in self.store.all("asset")]
        result = self.run_query(
            assets,
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

    async def create_asset(self, *, auth: Credentials, body: models.CreateAssetRequest) -> Any:
        caller = self.admin(auth)
        name = body.name.strip()
        if not name or "/" in name:
            raise bad("The 'name' field is missing or invalid")
        meta = parse_json_object(body.meta, "meta")
        with self.store.transaction():
            if self.store.get("asset", name) is not None:
                raise bad(f"An asset with the name {name} already exists")
            asset: Doc = {
                "id": str(uuid.uuid4()),
                "rid": self.next_rid(ASSETS_CLUSTER),
                "version": 1,
                "author": caller.username,
                "created": self.stamp(),
                "name": name,
                "meta": meta,
                "content": None,
            }
            if body.file is not None:
                content = bytes(body.file)
                asset.update(
                    content=base64.b64encode(content).decode(),
                    fileName=name,
                    contentType=sniff(content),
                    contentLength=len(content),
                )
            self.store.put("asset", name, asset)
        return Reply(201, ok(self.render_asset(asset), 201))

    async def delete_asset(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        if not self.store.delete("asset", name):
            raise not_found(f"Asset {name} not found")
        return ok("")
