"""Plugins (server-side JavaScript): stored, versioned, activated and deactivated as the server
does, but never executed. Invoking an active plugin records the call (kind `plugin_call`) and
answers 200 with the request object the script would have received, under `data.request`, and
`data.executed: false`; that is the one place where the emulator cannot behave like BaasBox.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from generated.baasbox import models
from generated.baasbox.server import Credentials, PluginsHandlers, Reply

from ..store import Doc
from .common import API_VERSION, SCRIPTS_CLUSTER, Base, bad, not_found, ok, unavailable

NAME_RE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")


def jsonable(value: Any) -> Any:
    """A request body as JSON: uploaded bytes become text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


class PluginOps(Base, PluginsHandlers):
    def plugin(self, name: str) -> Doc:
        record = self.store.get("plugin", name)
        if record is None:
            raise not_found(f"Script: {name} not found")
        return record

    @staticmethod
    def render_plugin(record: Doc) -> dict[str, Any]:
        return {
            "@rid": record["rid"],
            "@version": record["version"],
            "@class": "_BB_Script",
            "name": record["name"],
            "code": list(record["code"]),
            "lang": record["lang"],
            "library": record["library"],
            "active": record["active"],
            "_storage": record.get("storage") or {},
            "_invalid": False,
            "_creation_date": record["created"],
        }

    @staticmethod
    def source(code: str, encoded: str | None) -> str:
        if encoded is None:
            return code
        if encoded.upper() != "BASE64":
            raise bad(f"Encoding {encoded} is not supported: use BASE64")
        try:
            return base64.b64decode(code, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise bad("Script error: the code is not valid BASE64") from None

    async def list_plugins(
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
        plugins = [self.render_plugin(r) for _, r in self.store.all("plugin")]
        result = self.run_query(
            plugins,
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

    async def create_plugin(self, *, auth: Credentials, body: models.CreatePluginRequest) -> Any:
        self.admin(auth)
        name = body.name.strip()
        if not NAME_RE.fullmatch(name):
            raise bad(f"Script error: {name} is not a valid name: use <namespace>.<name>")
        if name.lower().startswith("baasbox."):
            raise bad("Script error: the namespace 'baasbox' is reserved")
        if body.lang.lower() != "javascript":
            raise bad(f"Script error: language {body.lang} is not supported")
        code = self.source(body.code, body.encoded)
        with self.store.transaction():
            if self.store.get("plugin", name) is not None:
                raise bad(f"Script error: a script named {name} already exists")
            storage = body.field_storage.model_dump(mode="json") if body.field_storage else {}
            self.store.put(
                "plugin",
                name,
                {
                    "name": name,
                    "rid": self.next_rid(SCRIPTS_CLUSTER),
                    "version": 1,
                    "code": [code],
                    "lang": "javascript",
                    "library": bool(body.library),
                    "active": bool(body.active),
                    "storage": storage,
                    "created": self.stamp(),
                },
            )
            self.log(
                "plugin",
                f"script {name} installed (stored only: the emulator does not run scripts)",
            )
        return Reply(201, ok(f"Script {name} installed", 201))

    async def get_plugin(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        return ok(self.render_plugin(self.plugin(name)))

    async def update_plugin(
        self, *, auth: Credentials, name: str, body: models.UpdatePluginRequest
    ) -> Any:
        self.admin(auth)
        with self.store.transaction():
            record = self.plugin(name)
            record["code"].insert(0, body.code)
            record["version"] += 1
            self.store.put("plugin", name, record)
        return ok(f"Script {name} updated")

    async def drop_plugin(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        if not self.store.delete("plugin", name):
            raise not_found(f"Script: {name} not found")
        return ok("")

    async def delete_plugin_version(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        with self.store.transaction():
            record = self.plugin(name)
            if len(record["code"]) > 1:
                record["code"].pop(0)
                record["version"] += 1
                self.store.put("plugin", name, record)
            else:
                self.store.delete("plugin", name)
        return ok("")

    def set_active(self, name: str, active: bool) -> Any:
        with self.store.transaction():
            record = self.store.get("plugin", name)
            if record is None:
                raise not_found(f"Script: {name} does not exists")
            if record["active"] == active:
                return ok(f"Script already {name}" + (" active" if active else " deactivated"))
            record["active"] = active
            record["version"] += 1
            self.store.put("plugin", name, record)
        return ok(f"Script: {name}" + (" is now active" if active else " is no longer active"))

    async def activate_plugin(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        return self.set_active(name, True)

    async def deactivate_plugin(self, *, auth: Credentials, name: str) -> Any:
        self.admin(auth)
        return self.set_active(name, False)

    async def stream_plugin_logs(self, *, auth: Credentials) -> Any:
        return self.log_stream(auth, "plugin")

    # -- invocation --------------------------------------------------------------------------------
    def invoke(
        self, auth: Credentials, method: str, name: str, params: str | None, body: Any
    ) -> Any:
        caller = self.who(auth)
        record = self.store.get("plugin", name)
        if record is None or record.get("library"):
            raise not_found("Script does not exists")
        if not record["active"]:
            raise unavailable("Script is in an invalid state")
        path_params = [p for p in (params or "").split("/") if p]
        request = {
            "pluginName": name,
            "method": method,
            "path": f"/plugin/{name}" + (f"/{params}" if params else ""),
            "pathParams": path_params,
            "pathParamsString": params or "",
            "username": caller.username or "baasbox",
            "appcode": self.config["appcode"],
            "body": jsonable(body),
            "serverTimestamp": int(self.now() * 1000),
            "serverVersion": API_VERSION,
        }
        with self.store.transaction():
            self.store.insert(
                "plugin_call", {"plugin": name, "time": self.stamp(), "request": request}
            )
            self.log(
                "plugin",
                f"{name} invoked with {method} by {request['username']} "
                "(not executed by the emulator)",
            )
        return ok(
            {
                "executed": False,
                "request": request,
                "message": "The emulator stores plugins but does not run them",
            }
        )

    async def invoke_plugin_get(self, *, auth: Credentials, name: str) -> Any:
        return self.invoke(auth, "GET", name, None, None)

    async def invoke_plugin_post(
        self, *, auth: Credentials, name: str, body: Any | None = None
    ) -> Any:
        return self.invoke(auth, "POST", name, None, body)

    async def invoke_plugin_put(
        self, *, auth: Credentials, name: str, body: Any | None = None
    ) -> Any:
        return self.invoke(auth, "PUT", name, None, body)

    async def invoke_plugin_delete(self, *, auth: Credentials, name: str) -> Any:
        return self.invoke(auth, "DELETE", name, None, None)

    async def invoke_plugin_get_with_path(
        self, *, auth: Credentials, name: str, params: str
    ) -> Any:
        return self.invoke(auth, "GET", name, params, None)

    async def invoke_plugin_post_with_path(
        self, *, auth: Credentials, name: str, params: str, body: Any | None = None
    ) -> Any:
        return self.invoke(auth, "POST", name, params, body)

    async def invoke_plugin_put_with_path(
        self, *, auth: Credentials, name: str, params: str, body: Any | None = None
    ) -> Any:
        return self.invoke(auth, "PUT", name, params, body)

    async def invoke_plugin_delete_with_path(
        self, *, auth: Credentials, name: str, params: str
    ) -> Any:
        return self.invoke(auth, "DELETE", name, params, None)
