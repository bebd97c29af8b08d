"""Settings (`/admin/configuration`) and REST API access control (`/admin/endpoints`)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from generated.baasbox import models
from generated.baasbox.server import Credentials, SettingsHandlers

from . import settings
from .common import Base, bad, not_found, ok
from .spec import ENDPOINT_GROUPS

HINT = (
    "HINT: the value is taken from the URL only for compatibility; send it in a JSON body "
    '({"value": ...}) to PUT /admin/configuration/{section}/{key}'
)


class SettingsOps(Base, SettingsHandlers):
    def section(self, section: str) -> str:
        name = settings.section_name(section)
        if name is None:
            raise not_found(f"{section} is not a valid configuration section")
        return name

    def set_value(self, section: str, key: str, value: str | None, file: bytes | None) -> None:
        row = settings.BY_KEY.get(key)
        if row is None or row[0] != section:
            raise bad(f"The key {key} does not exist in the section {section}")
        kind = row[4]
        if kind == "ConfigurationFileContainer":
            if file is None and not value:
                raise bad("missing file")
            stored = f"file:{len(file)} bytes" if file is not None else str(value)
        else:
            if value is None:
                raise bad("The body payload must contain the 'value' field")
            stored = value
            if kind == "Integer":
                try:
                    int(value)
                except ValueError:
                    raise bad(f"{value} must be a number") from None
            if kind == "Boolean":
                if value.lower() not in ("true", "false"):
                    raise bad(f"{value} must be true or false")
                stored = value.lower()
        self.store.put("setting", key, {"section": section, "value": stored})

    def entries(self, section: str) -> list[dict[str, Any]]:
        return [
            {"key": key, "value": self.setting(key), "description": description, "type": kind}
            for sec, _, key, _, kind, description in settings.SETTINGS
            if sec == section
        ]

    async def dump_configuration(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        out = []
        for section, description in settings.SECTIONS.items():
            subs: dict[str, list[dict[str, Any]]] = {}
            for sec, sub, key, _, kind, _ in settings.SETTINGS:
                if sec == section:
                    subs.setdefault(sub, []).append({key: self.setting(key), "type": kind})
            out.append({"section": section, "description": description, "sub sections": subs})
        return ok(out)

    async def dump_configuration_text(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        lines = []
        for section in settings.SECTIONS:
            lines.append(f"[{section}]")
            lines += [f"{e['key']}={e['value']}" for e in self.entries(section)]
            lines.append("")
        return Response("\n".join(lines), media_type="application/text")

    async def get_configuration_section(self, *, auth: Credentials, section: str) -> Any:
        self.admin(auth)
        return ok(self.entries(self.section(section)))

    async def set_configuration_section(
        self,
        *,
        auth: Credentials,
        section: str,
        body: models.SetConfigurationValueRequest | None = None,
    ) -> Any:
        self.admin(auth)
        self.section(section)
        raise bad("The key parameter should be specified in the url.")

    async def set_configuration_value(
        self,
        *,
        auth: Credentials,
        section: str,
        sub_section: str,
        key: str,
        value: str,
        body: models.SetConfigurationValueRequest | None = None,
    ) -> Any:
        self.admin(auth)
        self.set_value(self.section(section), key, value, None)
        return ok(HINT)

    async def set_configuration_value_deprecated(
        self,
        *,
        auth: Credentials,
        section: str,
        key: str,
        value: str,
        body: models.SetConfigurationValueRequest | None = None,
    ) -> Any:
        self.admin(auth)
        self.set_value(self.section(section), key, value, None)
        return ok(HINT)

    async def set_configuration_value_from_body(
        self,
        *,
        auth: Credentials,
        section: str,
        key: str,
        body: models.SetConfigurationValueRequest,
    ) -> Any:
        self.admin(auth)
        self.set_value(
            self.section(section),
            key,
            body.value,
            bytes(body.file) if body.file is not None else None,
        )
        return ok("")

    # -- endpoint groups ---------------------------------------------------------------------------
    def tag(self, tag: str) -> str:
        if tag not in ENDPOINT_GROUPS:
            raise not_found(f"tag permission {tag} does not exists")
        return tag

    async def list_endpoint_groups(self, *, auth: Credentials) -> Any:
        self.admin(auth)
        return ok(
            {
                tag: [self.group_enabled(tag), description]
                for tag, description in ENDPOINT_GROUPS.items()
            }
        )

    async def get_endpoint_group(self, *, auth: Credentials, tag: str) -> Any:
        self.admin(auth)
        return ok({"tag": self.tag(tag), "enabled": self.group_enabled(tag)})

    async def enable_endpoint_group(self, *, auth: Credentials, tag: str) -> Any:
        self.admin(auth)
        self.store.put("endpoint", self.tag(tag), {"enabled": True})
        return ok("success")

    async def disable_endpoint_group(self, *, auth: Credentials, tag: str) -> Any:
        self.admin(auth)
        self.store.put("endpoint", self.tag(tag), {"enabled": False})
        return ok("success")
