"""Custom-object field types and how values are cast to them."""

from __future__ import annotations

from typing import Any

from .util import parse_time, to_float, to_int

TYPES = ("String", "Integer", "Float", "Boolean", "Location", "File", "Date")


def parse_type(name: str) -> tuple[str, bool] | None:
    """`String_a` -> ("String", True); None for an unknown type."""
    text = (name or "").strip()
    array = text.endswith("_a")
    base = text[:-2] if array else text
    match = next((t for t in TYPES if t.lower() == base.lower()), None)
    return (match, array) if match else None


def cast_scalar(value: Any, base: str) -> Any:
    """The value as the type stores it; ValueError when it cannot be."""
    if value is None:
        return None
    if base == "String":
        if isinstance(value, dict | list):
            raise ValueError("is invalid")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if base == "Integer":
        number = to_int(value)
        if number is None:
            raise ValueError("is not a number")
        return number
    if base == "Float":
        real = to_float(value)
        if real is None:
            raise ValueError("is not a number")
        return real
    if base == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError("is invalid")
    if base == "Location":
        parts = value if isinstance(value, list) else str(value).split(",")
        coords = [to_float(p) for p in parts]
        if len(coords) != 2 or None in coords:
            raise ValueError("is invalid")
        lng, lat = coords[0] or 0.0, coords[1] or 0.0
        if not (-180 <= lng <= 180 and -90 <= lat <= 90):
            raise ValueError("is invalid")
        return [lng, lat]
    if base == "Date":
        if isinstance(value, bool) or parse_time(value) is None:
            raise ValueError("is invalid")
        return value
    raise ValueError("cannot be set directly")  # File: through the file endpoints


def cast(value: Any, type_name: str) -> Any:
    parsed = parse_type(type_name)
    if parsed is None:
        raise ValueError("has an unknown type")
    base, array = parsed
    if not array:
        return cast_scalar(value, base)
    if value is None:
        return None
    items = value if isinstance(value, list) else [p for p in str(value).split(",") if p != ""]
    return [cast_scalar(item, base) for item in items]
