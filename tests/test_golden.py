"""Golden records: small fixture specs in, the exact packages out (`nox -s regen` rewrites)."""

from __future__ import annotations

import difflib
import subprocess
import sys

import pytest
from conftest import PROJECT
from regen_golden import GOLDEN, VALID, golden_files

CASES = sorted(p.name for p in VALID.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_output_matches_golden(case: str) -> None:
    produced = golden_files(case)
    on_disk = {
        p.relative_to(GOLDEN / case).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted((GOLDEN / case).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(produced) == sorted(on_disk), "file list differs: run `nox -s regen` and review"
    for name, text in produced.items():
        if text != on_disk[name]:
            diff = "".join(
                difflib.unified_diff(
                    on_disk[name].splitlines(True),
                    text.splitlines(True),
                    f"golden/{case}/{name}",
                    f"generated/{name}",
                )
            )
            pytest.fail(
                f"{case}/{name} differs from its golden record (`nox -s regen`):\n{diff[:4000]}"
            )


def test_golden_trees_type_check_strictly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *CASES],
        cwd=GOLDEN,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_golden_trees_pass_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "tests/golden"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
