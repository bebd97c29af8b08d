"""Shared helpers: project paths, the CLI in a subprocess, the vendors' IR and packages."""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from generator import ir  # noqa: E402
from generator.build import Builder  # noqa: E402
from generator.load import Document, load  # noqa: E402
from generator.models import class_name  # noqa: E402
from generator.vendors import available, spec_root  # noqa: E402

# BAAS_VENDORS=qiscus,baasbox narrows a local run to some vendors; by default every spec is tested.
_ONLY = [v for v in os.environ.get("BAAS_VENDORS", "").split(",") if v]
VENDORS = [v for v in available() if not _ONLY or v in _ONLY]


def run_cli(
    *args: str, cwd: Path = PROJECT, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m generator ...` as a user runs it."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = str(PROJECT)
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@functools.cache
def vendor_doc(vendor: str) -> Document:
    return load(spec_root(vendor), name=vendor)


@functools.cache
def vendor_api(vendor: str) -> ir.Api:
    return Builder(
        vendor_doc(vendor), class_name, package=f"generated.{vendor}", source=f"specs/{vendor}"
    ).api(vendor)


def package(vendor: str, module: str) -> ModuleType:
    return importlib.import_module(f"generated.{vendor}.{module}")


def annotation_type(vendor: str, annotation: str) -> Any:
    """The Python type an IR annotation string names, evaluated against the vendor's models."""
    namespace = {"models": package(vendor, "models"), "Literal": Literal, "Any": Any}
    return eval(annotation, namespace)


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    return str(request.param)
