"""The results as one table of ratios to the peers, printed and written to benchmarks/RESULTS.md."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .common import Stat


@dataclass
class Row:
    section: str
    what: str
    ours: Stat | None
    peer_name: str
    peer: Stat | None
    unit: str
    lower_is_better: bool = True
    target: str = ""  # e.g. "<= 0.20"; compared against the ratio, or against `ours` when no peer
    note: str = ""

    @property
    def ratio(self) -> float:
        if not self.ours or not self.peer or not self.ours.ok or not self.peer.ok:
            return float("nan")
        return self.ours.median / self.peer.median if self.peer.median else float("nan")

    @property
    def holds(self) -> bool | None:
        if not self.target:
            return None
        op, _, number = self.target.partition(" ")
        limit = float(number.split()[0])
        value = (
            self.ratio if self.peer is not None else (self.ours.median if self.ours else math.nan)
        )
        if math.isnan(value):
            return False
        return {"<=": value <= limit, "<": value < limit, ">=": value >= limit, ">": value > limit}[
            op
        ]


def fmt(stat: Stat | None, unit: str) -> str:
    if stat is None:
        return ""
    if not stat.ok:
        return "failed"
    digits = 0 if unit in ("req/s", "cases/s") else 3 if unit == "s" and stat.median < 1 else 2
    if unit == "µs":
        digits = 0
    one = f"{{:.{digits}f}}"
    return (
        f"{one.format(stat.median)} {unit} "
        f"[{one.format(stat.min)}..{one.format(stat.max)}, n={len(stat.values)}]"
    )


def _ratio_text(row: Row) -> str:
    ratio = row.ratio
    if row.peer is None:
        return ""
    return "n/a" if math.isnan(ratio) else f"{ratio:.3g}x"  # 0.199x, not a rounded 0.20x


def _target_text(row: Row) -> str:
    if not row.target:
        return ""
    mark = {True: "holds", False: "MISSED", None: ""}[row.holds]
    subject = "ratio" if row.peer is not None else "ours"
    return f"{subject} {row.target}: {mark}"


def markdown(rows: list[Row]) -> str:
    lines = [
        "| measurement | ours | peer | peer's result | ours / peer | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    section = None
    for row in rows:
        if row.section != section:
            section = row.section
            lines.append(f"| **{section}** | | | | | |")
        what = row.what + (f" — {row.note}" if row.note else "")
        lines.append(
            f"| {what} | {fmt(row.ours, row.unit)} | {row.peer_name} | {fmt(row.peer, row.unit)} "
            f"| {_ratio_text(row)} | {_target_text(row)} |"
        )
    return "\n".join(lines)


def plain(rows: list[Row]) -> str:
    """The same table for a terminal."""
    header = ("measurement", "ours", "peer", "peer's result", "ours/peer", "target")
    cells = [header] + [
        (
            row.what,
            fmt(row.ours, row.unit),
            row.peer_name,
            fmt(row.peer, row.unit),
            _ratio_text(row),
            _target_text(row),
        )
        for row in rows
    ]
    widths = [min(60, max(len(c[i]) for c in cells)) for i in range(len(header))]
    out = []
    section = None
    for index, cell in enumerate(cells):
        if index and rows[index - 1].section != section:
            section = rows[index - 1].section
            out.append(f"-- {section}")
        out.append("  ".join(text[:60].ljust(widths[i]) for i, text in enumerate(cell)).rstrip())
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def document(
    rows: list[Row],
    machine: dict[str, str],
    versions: dict[str, str],
    notes: list[str],
    settings: dict[str, Any],
    total_seconds: float,
    when: str,
) -> str:
    targets = [row for row in rows if row.target]
    held = sum(1 for row in targets if row.holds)
    parts = [
        "# Benchmarks",
        "",
        f"Written by `nox -s bench` (`python -m benchmarks`) on {when}; the whole run took "
        f"{total_seconds / 60:.1f} minutes. Each figure is the median of several runs, with the "
        "minimum and maximum and the number of runs in brackets, `[min..max, n=runs]`; ratios "
        "are ours / the peer's, of the medians. How each figure is measured: "
        "`benchmarks/__init__.py`.",
        "",
        "## Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
        "",
        "## Versions",
        "",
        *[f"- {key}: {value}" for key, value in versions.items()],
        "",
        "## Settings",
        "",
        *[f"- {key}: {value}" for key, value in settings.items()],
        "",
        f"## Results ({held}/{len(targets)} targets hold)",
        "",
        markdown(rows),
        "",
        "## What the peers produced, and notes",
        "",
        *[f"- {note}" for note in notes],
        "",
    ]
    return "\n".join(parts)
