"""QuickBlox's query language for chat and custom objects: `field=value`, `field[op]=value`.

Operators: `lt`, `lte`, `gt`, `gte`, `ne`, `in`, `nin`, `all`, `ctn` (substring) and, for custom
objects, `or` (every `[or]` condition of a request forms one OR group) and `near` (a Location
field within a radius). Nested fields are written `data[topic]` or `attachments.type`. Values arrive
as text and are read the way the stored value is typed: numbers as numbers, ISO dates and unix
seconds as instants, booleans from `true`/`1`, everything else as text. A condition on an array
field matches when any element matches (`all` needs every listed value).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .util import parse_time, to_float

OPERATORS = frozenset({"lt", "lte", "gt", "gte", "ne", "in", "nin", "all", "ctn", "or", "near"})
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

Doc = dict[str, Any]


@dataclass(frozen=True)
class Condition:
    field: str  # dotted path
    op: str  # "eq" or one of OPERATORS
    value: Any  # text from a query string, or any JSON value from a body


def split_key(key: str) -> list[str] | None:
    """`data[topic][gt]` -> `["data", "topic", "gt"]`; None for a malformed key."""
    match = _KEY.match(key)
    if not match:
        return None
    head, rest = match.groups()
    tokens = [head, *re.findall(r"\[([^\[\]]*)\]", rest)]
    return tokens if all(tokens) else None


def parse_condition(key: str, value: Any) -> Condition | None:
    tokens = split_key(key)
    if tokens is None:
        return None
    if len(tokens) > 1 and tokens[-1] in OPERATORS:
        return Condition(".".join(tokens[:-1]), tokens[-1], value)
    return Condition(".".join(tokens), "eq", value)


def from_pairs(pairs: Iterable[tuple[str, Any]], reserved: Iterable[str]) -> list[Condition]:
    """Conditions of the query pairs whose name (or name before `[`) is not reserved."""
    skip = set(reserved)
    out: list[Condition] = []
    for key, value in pairs:
        if key in skip or key.split("[", 1)[0] in skip:
            continue
        condition = parse_condition(key, value)
        if condition is not None and not condition.field.endswith(".calc"):
            out.append(condition)
    return out


def from_criteria(criteria: dict[str, Any]) -> list[Condition]:
    """`{"age": {"gt": 4}, "name": "x"}` (a body's `search_criteria`) as conditions."""
    out: list[Condition] = []
    for key, value in criteria.items():
        if isinstance(value, dict) and value and all(k in OPERATORS for k in value):
            out.extend(Condition(key, op, v) for op, v in value.items())
        else:
            condition = parse_condition(key, value)
            if condition is not None:
                out.append(condition)
    return out


def resolve(doc: Any, path: str) -> Any:
    """The value at a dotted path; through a list, the values of its elements (flattened)."""
    node: Any = doc
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list):
            picked = []
            for item in node:
                if isinstance(item, dict) and part in item:
                    value = item[part]
                    picked.extend(value if isinstance(value, list) else [value])
            node = picked
        else:
            return None
    return node


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return [value]


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and bool(_DATE.match(value))


def _number(stored: Any, given: Any) -> tuple[float, float] | None:
    """Both sides as numbers when the stored value is numeric or a date, else None."""
    if isinstance(stored, bool):
        return None
    if isinstance(stored, int | float):
        other = to_float(given) if not isinstance(given, bool) else None
        return (float(stored), other) if other is not None else None
    if _is_date(stored):
        left, right = parse_time(stored), parse_time(given)
        if left is not None and right is not None:
            return left, right
    return None


def equals(stored: Any, given: Any) -> bool:
    if stored is None:
        return given is None or (isinstance(given, str) and given.lower() in ("null", "nil"))
    if isinstance(stored, bool):
        if isinstance(given, bool):
            return stored is given
        return str(given).strip().lower() in (("true", "1") if stored else ("false", "0"))
    numbers = _number(stored, given)
    if numbers is not None:
        return numbers[0] == numbers[1]
    if isinstance(stored, int | float):
        return False
    if isinstance(stored, dict | list):
        return bool(stored == given)
    return str(stored) == (given if isinstance(given, str) else json.dumps(given))


def compare(stored: Any, given: Any) -> int | None:
    """-1, 0, 1 comparing the stored value with the given one; None when they do not compare."""
    if stored is None or isinstance(stored, dict | list | bool):
        return None
    numbers = _number(stored, given)
    if numbers is not None:
        left, right = numbers
        return (left > right) - (left < right)
    if isinstance(stored, int | float):
        return None
    text = given if isinstance(given, str) else json.dumps(given)
    return (str(stored) > text) - (str(stored) < text)


def _scalar_match(op: str, stored: Any, given: Any) -> bool:
    if op == "eq":
        return equals(stored, given)
    if op in ("lt", "lte", "gt", "gte"):
        order = compare(stored, given)
        if order is None:
            return False
        return {"lt": order < 0, "lte": order <= 0, "gt": order > 0, "gte": order >= 0}[op]
    if op in ("in", "or"):
        return any(equals(stored, item) for item in _items(given))
    if op == "ctn":
        return stored is not None and str(given) in str(stored)
    return False


def matches(doc: Doc, condition: Condition) -> bool:
    stored = resolve(doc, condition.field)
    op, given = condition.op, condition.value
    values = stored if isinstance(stored, list) else [stored]
    if op == "all":
        return all(any(equals(v, item) for v in values) for item in _items(given))
    if op == "ne":
        return not any(equals(v, given) for v in values)
    if op == "nin":
        return not any(equals(v, item) for v in values for item in _items(given))
    if op == "near":
        return True  # applied by `near_filter`
    if isinstance(stored, list) and op == "eq" and isinstance(given, list):
        return stored == given
    return any(_scalar_match(op, v, given) for v in values)


def select(docs: Iterable[Doc], conditions: list[Condition]) -> list[Doc]:
    """The documents meeting every condition; `[or]` conditions count as one OR group."""
    plain = [c for c in conditions if c.op != "or"]
    either = [c for c in conditions if c.op == "or"]
    out = []
    for doc in docs:
        if not all(matches(doc, c) for c in plain):
            continue
        if either and not any(matches(doc, c) for c in either):
            continue
        out.append(doc)
    return out


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, float(value))
    if isinstance(value, int | float):
        return (1, float(value))
    if _is_date(value):
        when = parse_time(value)
        if when is not None:
            return (1, when)
    if isinstance(value, str):
        return (2, value)
    return (3, json.dumps(value, sort_keys=True, default=str))


def ordered(docs: list[Doc], field: str, descending: bool, tiebreak: str = "_id") -> list[Doc]:
    """Sorted by a field (missing values first when ascending), ties by `tiebreak`."""
    return sorted(
        docs,
        key=lambda d: (sort_key(resolve(d, field)), sort_key(resolve(d, tiebreak))),
        reverse=descending,
    )


def window(
    docs: list[Doc], skip: int | None, limit: int | None, default: int, most: int
) -> tuple[list[Doc], int, int]:
    """Apply skip/limit (clamped); returns the slice and the effective skip and limit."""
    start = max(0, skip or 0)
    size = default if limit is None or limit <= 0 else min(limit, most)
    return docs[start : start + size], start, size


def near_filter(docs: list[Doc], conditions: list[Condition]) -> list[Doc]:
    """`location[near]=lng,lat;radius_m`: keep documents within the radius, nearest first."""
    for condition in conditions:
        if condition.op != "near":
            continue
        text = str(condition.value)
        point, _, radius_text = text.partition(";")
        coords = [to_float(p) for p in point.split(",")]
        if len(coords) != 2 or None in coords:
            return []
        lng, lat = coords[0] or 0.0, coords[1] or 0.0
        radius = to_float(radius_text) if radius_text else None
        scored = []
        for doc in docs:
            where = resolve(doc, condition.field)
            if not (isinstance(where, list) and len(where) == 2):
                continue
            here = [to_float(v) for v in where]
            if None in here:
                continue
            distance = haversine(lng, lat, here[0] or 0.0, here[1] or 0.0)
            if radius is None or distance <= radius:
                scored.append((distance, doc))
        docs = [doc for _, doc in sorted(scored, key=lambda pair: pair[0])]
    return docs


def haversine(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Metres between two points."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlng = rlat2 - rlat1, math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlng / 2) ** 2
    return 2 * 6371000.0 * math.asin(min(1.0, math.sqrt(a)))


def aggregate(docs: list[Doc], pairs: Iterable[tuple[str, str]], group_by: str | None) -> list[Doc]:
    """`field[calc]=avg|min|max|sum` (optionally `group_by=field`): one item per group, holding the
    group value and `<field>_<calc>` results."""
    calcs: list[tuple[str, str]] = []
    for key, text in pairs:
        tokens = split_key(key)
        if tokens and len(tokens) == 2 and tokens[1] == "calc":
            calcs.extend((tokens[0], fn) for fn in _items(text) if fn in CALCS)
    if not calcs:
        return docs
    groups: dict[str, tuple[Any, list[Doc]]] = {}
    for doc in docs:
        value: Any = resolve(doc, group_by) if group_by else None
        key = json.dumps(value, sort_keys=True, default=str)
        groups.setdefault(key, (value, []))[1].append(doc)
    out = []
    for value, members in groups.values():
        item: Doc = {group_by: value} if group_by else {}
        for field, fn in calcs:
            numbers = [
                float(v)
                for v in (resolve(d, field) for d in members)
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            item[f"{field}_{fn}"] = CALCS[fn](numbers) if numbers else None
        out.append(item)
    return out


CALCS: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda xs: sum(xs) / len(xs),
    "min": min,
    "max": max,
    "sum": sum,
}
