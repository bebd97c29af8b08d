"""Reference emulators of the five vendor APIs, built on the generated server skeletons.

`python -m emulators <vendor>` serves one on loopback; `create_app(vendor)` builds one in process.
Each vendor's implementation lives in `emulators/<vendor>/`; its data goes through `store.Store`.
"""

from __future__ import annotations

import importlib
from typing import Any

import email_validator

from .config import VENDORS, Config, load
from .store import Store

__all__ = ["VENDORS", "Config", "Store", "create_app", "load"]

# The specs' `format: email` is the address syntax: it admits special-use domains (`a@b.test`),
# which the models' `EmailStr` (email-validator) would refuse. An emulator serves the spec.
email_validator.SPECIAL_USE_DOMAIN_NAMES = []


def create_app(vendor: str, config: Config | None = None, store: Store | None = None) -> Any:
    """The FastAPI app of one vendor's emulator (a private in-memory store unless one is given)."""
    config = config or load(vendor)
    module = importlib.import_module(f"emulators.{vendor}")
    return module.create_emulator(config, store or Store(config.db))
