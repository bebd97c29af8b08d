"""Shared helpers: time formats, passwords, number parsing and the vendor's error bodies."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, NoReturn

from generated.quickblox.server import ApiProblem

NOT_FOUND = "Entity you are looking for was not found"
NEED_USER = "Forbidden. Need user."
NO_PERMISSION = "You don't have appropriate permissions to perform this operation"
NO_SESSION = "Required session does not exist"


def iso(ts: float | None) -> str | None:
    """`2019-08-27T20:19:08Z`, the format of users, dialogs, messages and blobs."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def expiry_text(ts: float) -> str:
    """`2019-09-01 16:55:56 UTC`, the format of `QB-Token-ExpirationDate`."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def parse_time(value: Any) -> float | None:
    """Unix seconds from a number, a numeric string or an ISO 8601 date; None when unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    number = to_float(text)
    if number is not None:
        return number
    candidate = text.replace(" UTC", "+00:00").replace("Z", "+00:00")
    if " " in candidate and "T" not in candidate:
        candidate = candidate.replace(" ", "T", 1)
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if number != number or number in (float("inf"), float("-inf")):
            return None
        return number
    return None


def to_int(value: Any) -> int | None:
    """An integer from an int or an integral numeric string (None otherwise)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) < 19:
            return int(text)
    return None


def int_list(value: Any) -> list[int] | None:
    """`"1, 2,3"`, `[1, "2"]` or `5` as a list of ints; None when any item is not a number."""
    if value is None:
        return []
    items: list[Any]
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    else:
        items = [value]
    out: list[int] = []
    for item in items:
        number = to_int(item)
        if number is None:
            return None
        out.append(number)
    return out


def str_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def hash_password(password: str, salt: str | None = None) -> dict[str, str]:
    salt = salt or secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000).hex()
    return {"salt": salt, "hash": digest}


def check_password(stored: dict[str, str] | None, password: str) -> bool:
    if not stored:
        return False
    expected = hash_password(password, stored.get("salt", ""))["hash"]
    return hmac.compare_digest(expected, stored.get("hash", ""))


def fail(situation: str, message: str = "", *, status: int | None = None) -> NoReturn:
    """Answer `{"errors": {"base": [message]}}` with the situation's status."""
    raise ApiProblem(situation, message, status=status)


class VendorError(Exception):
    """An answer whose body is not the `{"errors": {"base": [...]}}` envelope: field-keyed
    validation errors (`{"errors": {"login": ["has already been taken"]}}`) or the plain list some
    endpoints send (`{"errors": ["Empty address book"]}`). The app turns it into a JSON answer."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


def field_error(field: str, message: str) -> NoReturn:
    raise VendorError(422, {"errors": {field: [message]}})


def field_errors(errors: dict[str, list[str]]) -> NoReturn:
    raise VendorError(422, {"errors": errors})


def plain_error(status: int, message: str) -> NoReturn:
    raise VendorError(status, {"errors": [message]})
