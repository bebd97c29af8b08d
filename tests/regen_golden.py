"""Rewrite tests/golden/<case>/ from tests/fixtures/specs/valid/<case>/. Review the diff."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from generator.load import load  # noqa: E402
from generator.pipeline import generate_document  # noqa: E402

VALID = HERE / "fixtures" / "specs" / "valid"
GOLDEN = HERE / "golden"


def golden_files(case: str) -> dict[str, str]:
    root = VALID / case / "openapi.yaml"
    doc = load(root, name=case)
    return generate_document(
        doc, package=case, source=f"tests/fixtures/specs/valid/{case}", house=False
    ).files


def main() -> None:
    for case in sorted(p.name for p in VALID.iterdir() if p.is_dir()):
        target = GOLDEN / case
        shutil.rmtree(target, ignore_errors=True)
        for name, text in golden_files(case).items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
