"""Database-wide operations for administrators and root: statistics, wipe, export and import
(a zip holding every record as JSON, kept in the store), root password reset, metrics, limits."""

from __future__ import annotations

import base64
import io
import json
import platform
import zipfile
from typing import Any

from fastapi.responses import Response

from generated.baasbox import models
from generated.baasbox.server import Credentials, DatabaseHandlers, Reply, RootHandlers

from ..store import Doc
from .common import (
    ADMIN,
    API_VERSION,
    FIXED_KINDS,
    Base,
    bad,
    doc_kind,
    not_found,
    ok,
    unavailable,
)

EXPORT_ENTRY = "baasbox-export.json"
NOT_EXPORTED = {"session", "export", "state", "log"}
ROOT_DEFAULTS = {"baasbox.db.size": 0, "baasbox.db.alert": 80, "web.enable": True}


class DatabaseOps(Base, DatabaseHandlers, RootHandlers):
    # -- content of the database -------------------------------------------------------------------
    def data_kinds(self) -> list[str]:
        collections = [doc_kind(name) for name, _ in self.store.all("collection")]
        return [k for k in FIXED_KINDS if k not in NOT_EXPORTED] + collections

    def wipe(self) -> None:
        with self.store.transaction():
            for kind in self.data_kinds():
                for key, _ in self.store.all(kind):
                    self.store.delete(kind, key)
            self.store.delete("state", "db")

    def export_bytes(self) -> bytes:
        dump = {
            "api_version": API_VERSION,
            "time": self.stamp(),
            "kinds": {kind: self.store.all(kind) for kind in self.data_kinds()},
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(EXPORT_ENTRY, json.dumps(dump, separators=(",", ":")))
        return buffer.getvalue()

    def import_bytes(self, content: bytes) -> None:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                dump = json.loads(archive.read(EXPORT_ENTRY))
            kinds = dump["kinds"]
            records = [
                (str(kind), str(key), doc)
                for kind, items in kinds.items()
                for key, doc in items
                if isinstance(doc, dict)
            ]
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError):
            raise bad("The file is not a valid BaasBox export") from None
        if not any(kind == "user" and key == ADMIN for kind, key, _ in records):
            raise bad("The file is not a valid BaasBox export: it has no admin user")
        with self.store.transaction():
            self.wipe()
            for kind, key, doc in records:
                if kind in NOT_EXPORTED:
                    continue
                self.store.put(kind, key, doc)
            self.store.put("state", "db", {"imported": self.stamp()})
            self.log("system", "database imported")

    # -- exports -----------------------------------------------------------------------------------
    def start_export(self) -> Any:
        name = (
            f"{self.stamp()[:19].replace('-', '').replace(':', '').replace('T', '-')}-"
            f"{self.store.next_id('export'):04d}.zip"
        )
        with self.store.transaction():
            content = self.export_bytes()
            self.store.put(
                "export",
                name,
                {"content": base64.b64encode(content).decode(), "time": self.stamp()},
            )
            self.log("system", f"database exported to {name}")
        return Reply(202, ok(name, 202))

    def list_exports(self) -> Any:
        return ok([name for name, _ in self.store.all("export")])

    def download_export(self, filename: str) -> Any:
        record = self.store.get("export", filename)
        if record is None:
            raise not_found(f"{filename} not found")
        return Response(
            base64.b64decode(record["content"]),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def delete_export(self, filename: str) -> Any:
        if not self.store.delete("export", filename):
            raise not_found(f"{filename} not found")
        return ok("")

    async def list_admin_db_exports(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        return self.list_exports()

    async def start_admin_db_export(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        return self.start_export()

    async def download_admin_db_export(self, *, auth: Credentials, filename: str) -> Any:
        self.admin(auth)
        return self.download_export(filename)

    async def delete_admin_db_export(self, *, auth: Credentials, filename: str) -> Any:
        self.admin(auth)
        return self.delete_export(filename)

    async def import_admin_db(
        self, *, auth: Credentials, body: models.ImportDatabaseRequest
    ) -> Any:
        self.admin(auth)
        self.import_bytes(bytes(body.file))
        return ok("")

    async def list_root_db_exports(self, *, auth: Credentials) -> Any:
        return self.list_exports()

    async def start_root_db_export(self, *, auth: Credentials) -> Any:
        return self.start_export()

    async def download_root_db_export(self, *, auth: Credentials, filename: str) -> Any:
        return self.download_export(filename)

    async def delete_root_db_export(self, *, auth: Credentials, filename: str) -> Any:
        return self.delete_export(filename)

    async def import_root_db(self, *, auth: Credentials, body: models.ImportDatabaseRequest) -> Any:
        self.import_bytes(bytes(body.file))
        return ok("")

    # -- administration ----------------------------------------------------------------------------
    async def get_api_version(self, *, auth: Credentials) -> Any:
        return {"api_version": API_VERSION, "edition": "emulator"}

    async def get_db_statistics(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        details = []
        for name, _ in self.store.all("collection"):
            docs = self.store.all(doc_kind(name))
            details.append(
                {
                    "name": name,
                    "records": len(docs),
                    "size": sum(len(json.dumps(d)) for _, d in docs),
                }
            )
        size = sum(
            len(json.dumps(d)) for kind in self.data_kinds() for _, d in self.store.all(kind)
        )
        server = self.store.get("state", "server") or {}
        limits = self.root_limits()
        return ok(
            {
                "installation": {
                    "bb_id": server.get("bb_id", ""),
                    "bb_version": API_VERSION,
                    "db_version": "1.0.0",
                },
                "db": {
                    "physical_size": size,
                    "datafile_freespace": 0,
                    "size_threshold_percentage": limits["baasbox.db.alert"],
                    "url": self.store.url,
                },
                "data": {
                    "users": self.store.count("user"),
                    "collections": len(details),
                    "collections_details": details,
                    "assets": self.store.count("asset"),
                    "files": self.store.count("file"),
                },
                "os": {
                    "os_name": platform.system() or "N/A",
                    "os_arch": platform.machine() or "N/A",
                    "os_version": platform.release() or "N/A",
                    "processors": 0,
                },
                "java": {
                    "java_class_version": "N/A",
                    "java_vendor": "N/A",
                    "java_vendor_url": "N/A",
                    "java_version": "N/A",
                },
                "memory": {
                    "max_allocable_memory": 0,
                    "current_allocate_memory": 0,
                    "used_memory_in_the_allocate_memory": 0,
                    "free_memory_in_the_allocated_memory": 0,
                },
            }
        )

    async def get_latest_version(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        # Offline: no call to baasbox.com; the emulator answers with its own version.
        return ok(
            {
                "latest_version": API_VERSION,
                "current_version": API_VERSION,
                "new_version_available": False,
                "source": "emulator (offline)",
            }
        )

    async def drop_database(self, *, auth: Credentials, timeout_2: int) -> Any:
        self.admin(auth)
        if not 0 <= timeout_2 <= 2**63 - 1:
            raise bad(f"Cannot parse parameter timeout as Long: {timeout_2}")
        with self.store.transaction():
            # sessions live outside the database, as in BaasBox: they outlast the wipe
            self.wipe()
            self.seed()
            self.log("system", "database dropped")
        return ok("")

    async def stream_system_log(self, *, auth: Credentials) -> Any:
        return self.log_stream(auth, None)

    # -- root --------------------------------------------------------------------------------------
    async def reset_admin_password(
        self, *, auth: Credentials, body: models.ResetAdminPasswordRequest
    ) -> Any:
        if not body.password:
            raise bad("The password field cannot be empty")
        self.set_password(ADMIN, body.password)
        return ok("Admin passowrd reset")

    def metrics_on(self) -> bool:
        return bool((self.store.get("state", "metrics") or {}).get("enabled"))

    async def start_metrics(self, *, auth: Credentials) -> Any:
        self.store.put("state", "metrics", {"enabled": True, "since": self.now()})
        return ok("Metrics service started")

    async def stop_metrics(self, *, auth: Credentials) -> Any:
        self.store.put("state", "metrics", {"enabled": False})
        return ok("Metrics service stopped")

    def registry(self, name: str) -> Any:
        if not self.metrics_on():
            raise unavailable("The metrics service are disabled")
        if name == "counters":
            values: dict[str, Any] = {
                "users": {"count": self.store.count("user")},
                "sessions": {"count": self.store.count("session")},
                "files": {"count": self.store.count("file")},
                "assets": {"count": self.store.count("asset")},
                "collections": {"count": self.store.count("collection")},
            }
        elif name == "gauges":
            values = {"uptime": {"value": self.uptime()["uptime"]}}
        else:
            values = {}
        return ok(values)

    async def get_metrics_meters(self, *, auth: Credentials) -> Any:
        return self.registry("meters")

    async def get_metrics_counters(self, *, auth: Credentials) -> Any:
        return self.registry("counters")

    async def get_metrics_gauges(self, *, auth: Credentials) -> Any:
        return self.registry("gauges")

    async def get_metrics_timers(self, *, auth: Credentials) -> Any:
        return self.registry("timers")

    async def get_metrics_histograms(self, *, auth: Credentials) -> Any:
        return self.registry("histograms")

    def uptime(self) -> dict[str, Any]:
        start = int((self.store.get("state", "server") or {}).get("start_time", 0))
        now = int(self.now() * 1000)
        return {
            "start_time": start,
            "time_zone": "UTC",
            "uptime": max(0, now - start),
            "time_unit": "ms",
        }

    async def get_uptime(self, *, auth: Credentials) -> Any:
        return ok(self.uptime())

    def root_limits(self) -> dict[str, Any]:
        return {**ROOT_DEFAULTS, **(self.store.get("state", "root_configuration") or {})}

    async def get_root_configuration(self, *, auth: Credentials) -> Any:
        limits = self.root_limits()
        return ok({k: limits[k] for k in ("baasbox.db.alert", "baasbox.db.size")})

    async def override_root_configuration(
        self, *, auth: Credentials, body: models.OverrideRootConfigurationRequest
    ) -> Any:
        sent = body.model_dump(by_alias=True, exclude_none=True)
        with self.store.transaction():
            limits: Doc = {**self.root_limits(), **sent}
            self.store.put("state", "root_configuration", limits)
        return ok(limits)
