"""Stage 7, write: put generated packages on disk all at once, or compare them with what is there.

Writing is all-or-nothing: every package is staged beside its target first, and only when all are
staged are they swapped in. A failure before that leaves the output tree exactly as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .pipeline import Generated

STAMP = ".inputs"
_IGNORED = {"__pycache__", ".mypy_cache", ".ruff_cache"}


def _existing(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not _IGNORED & set(p.relative_to(directory).parts)
    }


def differences(out_root: Path, packages: list[Generated]) -> list[str]:
    """Paths (relative to `out_root`) that are missing, changed or extra."""
    drift: list[str] = []
    for package in packages:
        on_disk = _existing(out_root / package.name)
        wanted = {name: text.encode("utf-8") for name, text in package.files.items()}
        for name in sorted(set(on_disk) | set(wanted)):
            if on_disk.get(name) != wanted.get(name):
                state = (
                    "missing"
                    if name not in on_disk
                    else "extra"
                    if name not in wanted
                    else "changed"
                )
                drift.append(f"{package.name}/{name} ({state})")
    return drift


def write_packages(out_root: Path, packages: list[Generated]) -> None:
    out_root.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for package in packages:
            stage = Path(tempfile.mkdtemp(prefix=f".{package.name}.new-", dir=out_root))
            for name, text in package.files.items():
                target = stage / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(text.encode("utf-8"))
            staged.append((stage, out_root / package.name))
    except BaseException:
        for stage, _ in staged:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    for stage, target in staged:
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=out_root))
            old.rmdir()
            target.rename(old)
        stage.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def read_stamp(out_root: Path, name: str) -> str | None:
    stamp = out_root / name / STAMP
    return stamp.read_text(encoding="utf-8").strip() if stamp.exists() else None
