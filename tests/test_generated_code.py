"""The committed generated code imports, passes ruff and mypy --strict; so does code using it."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from conftest import PROJECT, VENDORS


@pytest.mark.parametrize("vendor", VENDORS)
def test_packages_import(vendor: str) -> None:
    for module in ("models", "client", "server"):
        importlib.import_module(f"generated.{vendor}.{module}")
    server = importlib.import_module(f"generated.{vendor}.server")
    app = server.create_app(server.Handlers())
    assert app.routes


def test_ruff_is_clean_on_the_project_and_generated() -> None:
    for args in (["check", "."], ["format", "--check", "generated", "generator", "tests"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=PROJECT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_generated_and_on_code_using_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "generated", "tests/typing"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
