"""Where things are: the vendors, their specs, and the output tree."""

from __future__ import annotations

from pathlib import Path

VENDORS = ("quickblox", "qiscus", "leancloud", "connectycube", "baasbox")
PROJECT = Path(__file__).resolve().parent.parent
SPECS = PROJECT / "specs"
TEMPLATES = PROJECT / "templates"
GENERATED = PROJECT / "generated"


def spec_root(vendor: str) -> Path:
    return SPECS / vendor / "openapi.yaml"


def available() -> list[str]:
    """Vendors whose spec exists, in the project's order."""
    return [v for v in VENDORS if spec_root(v).exists()]
