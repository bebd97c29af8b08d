"""The coverage tables in specs/README.md name every operation of every spec, and nothing else."""

from __future__ import annotations

import pytest
from conftest import PROJECT, VENDORS, vendor_api

README = (PROJECT / "specs" / "README.md").read_text(encoding="utf-8")
TITLES = {
    "quickblox": "QuickBlox",
    "qiscus": "Qiscus",
    "leancloud": "LeanCloud",
    "connectycube": "ConnectyCube",
    "baasbox": "BaasBox",
}


def section(vendor: str) -> str:
    start = README.index(f"\n### {TITLES[vendor]}\n")
    following = README.find("\n### ", start + 1)
    return README[start : following if following != -1 else None]


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_operation_is_in_the_coverage_table(vendor: str) -> None:
    text = section(vendor)
    api = vendor_api(vendor)
    missing = [op.id for op in (*api.operations, *api.webhooks) if f"`{op.id}`" not in text]
    assert not missing, f"{vendor}: not in the coverage table: {missing}"
