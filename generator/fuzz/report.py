"""What a conformance run found, as a person and a CI server want to read it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree


@dataclass(frozen=True)
class Failure:
    check: str  # Schemathesis check name: not_a_server_error, status_code_conformance, ...
    operation: str  # "GET /path" or "Stateful tests"
    title: str
    message: str
    curl: str  # a command that reproduces it


@dataclass
class Report:
    vendor: str
    operations_total: int = 0
    operations_covered: set[str] = field(default_factory=set)
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # what Schemathesis could not generate for (schema constructs it does not support): not a fault
    # of the implementation, but said, so a reader knows which cases were not tried
    warnings: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # responses by HTTP status
    seconds: float = 0.0
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def unique_failures(self) -> list[Failure]:
        seen: dict[tuple[str, str, str], Failure] = {}
        for failure in self.failures:
            seen.setdefault((failure.operation, failure.check, failure.title), failure)
        return sorted(seen.values(), key=lambda f: (f.operation, f.check, f.title))

    def summary(self) -> str:
        lines = [
            f"{self.vendor}: {len(self.operations_covered)}/{self.operations_total} operations "
            f"covered, {self.cases} cases, {len(self.unique_failures())} distinct failures, "
            f"{self.seconds:.1f}s" + (f", seed {self.seed}" if self.seed is not None else ""),
        ]
        classes = Counter(f"{status // 100}xx" for status in self.statuses.elements())
        lines.append("  responses: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
        by_check = Counter(f.check for f in self.unique_failures())
        for check, count in sorted(by_check.items()):
            lines.append(f"  {check}: {count}")
        for failure in self.unique_failures():
            lines.append(f"- [{failure.check}] {failure.operation}: {failure.title}")
            if failure.message:
                lines.extend("    " + line for line in failure.message.strip().splitlines()[:6])
            if failure.curl:
                lines.append("    reproduce: " + " ".join(failure.curl.split()))
        lines.extend(f"! error: {error}" for error in self.errors)
        lines.extend(f"~ not tried: {warning}" for warning in self.warnings)
        return "\n".join(lines)

    def write_junit(self, path: Path) -> None:
        """JUnit XML: one test case per operation, a failure element per distinct problem."""
        suite = ElementTree.Element("testsuite", name=f"conformance.{self.vendor}")
        failures = self.unique_failures()
        operations = sorted(self.operations_covered | {f.operation for f in failures})
        for operation in operations:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"conformance.{self.vendor}", name=operation
            )
            for failure in (f for f in failures if f.operation == operation):
                element = ElementTree.SubElement(
                    case, "failure", type=failure.check, message=failure.title
                )
                element.text = f"{failure.message}\n\nreproduce: {failure.curl}"
        for error in self.errors:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"conformance.{self.vendor}", name="run"
            )
            ElementTree.SubElement(case, "error", message=error[:200]).text = error
        suite.set("tests", str(len(suite)))
        suite.set("failures", str(len(failures)))
        suite.set("errors", str(len(self.errors)))
        suite.set("time", f"{self.seconds:.3f}")
        path.parent.mkdir(parents=True, exist_ok=True)
        ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
