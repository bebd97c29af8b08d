"""Schemathesis on its own: the plain `schemathesis run` CLI, every check, the stateful phase on,
against each emulator served over loopback as users run it, reports no failure and tests every
operation.

The project's `schemathesis.toml` (found from the project root) brings the vendors' auth and the
refusals a schema cannot express (see its comments). The budget is small and seeded for CI; the
coverage phase, the slowest by far, is left to the deeper run in the README.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PROJECT, VENDORS
from test_emulators_process import emulator

BUDGET = (
    "--checks=all",
    "--phases=examples,fuzzing,stateful",
    "--max-examples=2",
    "--seed=20261122",
    "--request-timeout=30",
)


def operation_count(vendor: str) -> int:
    spec = json.loads((PROJECT / "generated" / vendor / "openapi.json").read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in spec["paths"].values() for method in item if method in methods)


@pytest.mark.parametrize("vendor", VENDORS)
def test_schemathesis_cli_finds_nothing(vendor: str, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with emulator(vendor, "--db", str(tmp_path / "db.sqlite3")) as (base, _):
        started = time.monotonic()
        command = [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json"]
        options = [f"--url={base}", *BUDGET, "--report=json", f"--report-json-path={report}"]
        result = subprocess.run(
            [*command, *options],
            cwd=PROJECT,  # where schemathesis.toml is found
            # a fixed hash seed too: set and dict orders feed the generation, not only --seed
            env={**os.environ, "PYTHONPATH": str(PROJECT), "NO_COLOR": "1", "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    found = output.partition("= FAILURES =")[2] or output.partition("= ERRORS =")[2] or output
    assert report.exists(), output[-5000:]
    data = json.loads(report.read_text(encoding="utf-8"))
    operations, cases = data["operations"], data["test_cases"]
    print(
        f"{vendor}: {cases['generated']} cases, {operations['tested']}/{operations['total']}"
        f" operations, {cases['with_failures']} failing, {len(data['errors'])} errors,"
        f" {seconds:.0f}s"
    )
    assert result.returncode == 0, found[:5000]
    assert not data["failures"] and not data["errors"], found[:5000]
    assert operations["total"] == operations["selected"] == operation_count(vendor)
    assert operations["tested"] == operations["total"], output[-5000:]
