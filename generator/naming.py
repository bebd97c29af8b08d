"""Python names from OpenAPI names: deterministic, valid, readable."""

from __future__ import annotations

import keyword
import re
import unicodedata

_BUILTIN_SHADOWS = frozenset(
    {"type", "id", "filter", "format", "list", "dict", "set", "input", "hash", "object"}
)


def words(name: str) -> list[str]:
    """Split camelCase, snake_case, kebab-case, dotted and bracketed names into lower-case words."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", name) if w]


def snake(name: str) -> str:
    """`getUserRooms` -> `get_user_rooms`, `participants[]` -> `participants`, `for` -> `for_`."""
    result = "_".join(words(name)) or "value"
    if result[0].isdigit():
        result = "n" + result
    if keyword.iskeyword(result) or keyword.issoftkeyword(result):
        result += "_"
    return result


def pascal(name: str) -> str:
    """`login_or_register` -> `LoginOrRegister`."""
    result = "".join(w[:1].upper() + w[1:] for w in words(name)) or "Value"
    if result[0].isdigit():
        result = "N" + result
    return result


def is_python_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def parameter_name(name: str, taken: set[str]) -> str:
    """A keyword-argument name for a wire name, unique among `taken` (which it extends)."""
    base = snake(name)
    candidate = base
    n = 2
    while candidate in taken:
        candidate = f"{base}_{n}"
        n += 1
    taken.add(candidate)
    return candidate
