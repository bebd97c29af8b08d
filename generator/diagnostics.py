"""Problems found in a spec, as values that say where they are."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: `file:line: /json/pointer: message`."""

    file: str
    line: int
    pointer: str
    message: str
    rule: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}: {self.pointer or '/'}: {self.message}{rule}"


class SpecError(Exception):
    """Raised by a stage that cannot go on; carries every problem it found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(set(diagnostics))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class GenerationError(Exception):
    """A later stage (models, formatting) failed; the message says which and why."""


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)


def split_pointer(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return []
    return [unescape_pointer_token(t) for t in pointer.lstrip("/").split("/")]
