"""Each kind of broken spec gives its one located line, exit 1, no traceback, and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import PROJECT, run_cli

INVALID = PROJECT / "tests" / "fixtures" / "specs" / "invalid"
CASES = sorted(p.name for p in INVALID.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_validate_reports_one_located_line(case: str) -> None:
    spec = INVALID / case / "openapi.yaml"
    result = run_cli("validate", spec.relative_to(PROJECT).as_posix())
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8")
    assert result.returncode == 1
    assert result.stdout == expected
    assert len(result.stdout.splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", CASES)
def test_generate_leaves_output_untouched(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(PROJECT / "generated" / "qiscus", out / "broken")
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    spec = INVALID / case / "openapi.yaml"
    args = ["--out", str(out), "--package", "broken", "--house"]  # the cases break house rules too
    result = run_cli("generate", "--spec", str(spec), *args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "nothing was written" in result.stderr
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before


def test_lines_name_file_line_and_pointer() -> None:
    line = (INVALID / "example_breaks_schema" / "expected.txt").read_text().strip()
    file, lineno, pointer, _ = line.split(":", 3)
    assert file.endswith("example_breaks_schema/openapi.yaml")
    assert int(lineno) > 1
    assert pointer.strip().startswith("/paths/")


def test_missing_spec_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "file not found" in result.stdout
    assert "Traceback" not in result.stderr
