"""Credentials the emulators accept: options, else environment variables, else these defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# (environment variable, default). BaasBox keeps its real defaults; the rest are made up and public.
CREDENTIALS: dict[str, dict[str, tuple[str, str]]] = {
    "quickblox": {
        "app_id": ("QB_APP_ID", "1"),
        "auth_key": ("QB_AUTH_KEY", "qb-auth-key"),
        "auth_secret": ("QB_AUTH_SECRET", "qb-auth-secret"),
        "account_key": ("QB_ACCOUNT_KEY", "qb-account-key"),
    },
    "connectycube": {
        "app_id": ("CB_APP_ID", "1"),
        "auth_key": ("CB_AUTH_KEY", "cb-auth-key"),
        "auth_secret": ("CB_AUTH_SECRET", "cb-auth-secret"),
    },
    "leancloud": {
        "app_id": ("LC_APP_ID", "lc-app-id"),
        "app_key": ("LC_APP_KEY", "lc-app-key"),
        "master_key": ("LC_MASTER_KEY", "lc-master-key"),
    },
    "qiscus": {
        "app_id": ("QISCUS_APP_ID", "qiscus-app"),
        "secret": ("QISCUS_SECRET", "qiscus-secret"),
    },
    "baasbox": {
        "appcode": ("BAASBOX_APPCODE", "1234567890"),
        "admin_password": ("BAASBOX_ADMIN_PASSWORD", "admin"),
    },
}
VENDORS = tuple(CREDENTIALS)


@dataclass(frozen=True)
class Config:
    """One emulator's settings."""

    vendor: str
    credentials: dict[str, str]
    db: str = ":memory:"
    session_ttl: float = 0.0  # seconds; 0 means the vendor's own default
    options: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.credentials[name]


def load(
    vendor: str,
    overrides: dict[str, str] | None = None,
    *,
    db: str = ":memory:",
    session_ttl: float = 0.0,
    environ: dict[str, str] | None = None,
) -> Config:
    env = os.environ if environ is None else environ
    given = overrides or {}
    values = {
        name: given.get(name) or env.get(variable) or default
        for name, (variable, default) in CREDENTIALS[vendor].items()
    }
    return Config(vendor, values, db=db, session_ttl=session_ttl)
