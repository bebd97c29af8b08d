"""The vendor's filter language: `field=value` and `field[op]=value`, sorting, projections.

Operators (chat, custom objects, meetings, admin lists): `lt lte gt gte ne in nin all ctn`,
plus `or` and `near` (custom objects) and `start_with` (users v2). Lists are comma-separated
(`type[in]=2,3`) or repeated `[]` keys (`id[in][]=1&id[in][]=2`). Query values are text; each is
read as the type of the stored value it is compared with (numbers, booleans, dates as ISO strings
or unix seconds).
Arrays match element-wise, as in MongoDB, which the vendor runs on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .common import parse_time

OPERATORS = frozenset(
    {
        "lt",
        "lte",
        "gt",
        "gte",
        "ne",
        "in",
        "nin",
        "all",
        "ctn",
        "or",
        "near",
        "calc",
        "start_with",
        "eq",
    }
)
LIST_OPERATORS = frozenset({"in", "nin", "all", "or"})
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    field: str  # dotted path: `extensions.location`, `attachments.type`
    op: str
    value: Any  # text, a list of texts, or (from JSON criteria) any JSON value


def split_key(key: str) -> tuple[str, str | None, bool]:
    """`type[in][]` -> ("type", "in", True); `extensions[a]` -> ("extensions.a", None, False)."""
    head, _, rest = key.partition("[")
    tokens = [t for t in rest.rstrip("]").split("][")] if rest else []
    repeated = bool(tokens) and tokens[-1] == ""
    if repeated:
        tokens = tokens[:-1]
    op = None
    if tokens and tokens[-1] in OPERATORS:
        op = tokens.pop()
    return ".".join([head, *tokens]), op, repeated


def parse_pairs(
    pairs: Iterable[tuple[str, str]],
    reserved: Iterable[str] = (),
    rename: dict[str, str] | None = None,
) -> list[Condition]:
    """Query pairs to conditions; reserved keys (paging, sorting...) are skipped."""
    skip = set(reserved)
    grouped: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str]] = []
    for key, value in pairs:
        if key in skip or key.split("[")[0] in skip:
            continue
        field, op, _ = split_key(key)
        if rename and field in rename:
            field = rename[field]
        slot = (field, op or "eq")
        if slot not in grouped:
            grouped[slot] = []
            order.append(slot)
        grouped[slot].append(value)
    out = []
    for field, op in order:
        values = grouped[(field, op)]
        if op in LIST_OPERATORS:
            items = [part.strip() for v in values for part in str(v).split(",") if part.strip()]
            out.append(Condition(field, op, items))
        else:
            out.append(Condition(field, op, values[-1]))
    return out


def parse_criteria(criteria: dict[str, Any]) -> list[Condition]:
    """JSON criteria `{"age": {"lt": 30}, "name": "x"}` (update by criteria)."""
    out = []
    for field, spec in criteria.items():
        if isinstance(spec, dict) and spec and all(k in OPERATORS for k in spec):
            for op, value in spec.items():
                if op in LIST_OPERATORS and not isinstance(value, list):
                    value = [p.strip() for p in str(value).split(",") if p.strip()]
                out.append(Condition(field, op, value))
        else:
            out.append(Condition(field, "eq", spec))
    return out


def resolve(doc: Any, path: str) -> Any:
    """The value at a dotted path; through arrays it collects the elements' values."""
    node: Any = doc
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part, _MISSING)
        elif isinstance(node, list):
            collected = []
            for item in node:
                if isinstance(item, dict) and part in item:
                    value = item[part]
                    collected.extend(value if isinstance(value, list) else [value])
            node = collected
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def coerce(query: Any, like: Any) -> Any:
    """Read a query value as the type of the stored value `like`; `_MISSING` if it cannot be."""
    if not isinstance(query, str):
        return query  # JSON criteria carry their own types
    text = query
    if like is None:
        return None if text.lower() in ("null", "") else text
    if isinstance(like, bool):
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        return _MISSING
    if isinstance(like, (int, float)):
        try:
            return float(text)
        except ValueError:
            moment = parse_time(text)
            return moment if moment is not None else _MISSING
    return text


def _elements(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _equal(stored: Any, query: Any) -> bool:
    for element in _elements(stored):
        wanted = coerce(query, element)
        if wanted is _MISSING:
            continue
        if (
            isinstance(element, (int, float))
            and not isinstance(element, bool)
            and isinstance(wanted, (int, float))
            and not isinstance(wanted, bool)
        ):
            if float(element) == float(wanted):
                return True
        elif element == wanted:
            return True
    return False


def _compare(stored: Any, query: Any, op: str) -> bool:
    for element in _elements(stored):
        if element is None or isinstance(element, (dict, list)):
            continue
        wanted = coerce(query, element)
        if wanted is _MISSING or wanted is None:
            continue
        try:
            if op == "lt" and element < wanted:
                return True
            if op == "lte" and element <= wanted:
                return True
            if op == "gt" and element > wanted:
                return True
            if op == "gte" and element >= wanted:
                return True
        except TypeError:
            continue
    return False


def _near(stored: Any, query: Any) -> bool:
    match = re.fullmatch(r"\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*;\s*([\d.]+)\s*", str(query))
    if not match or not isinstance(stored, list) or len(stored) != 2:
        return False
    try:
        lng1, lat1 = float(stored[0]), float(stored[1])
    except (TypeError, ValueError):
        return False
    lng2, lat2, radius = (float(g) for g in match.groups())
    return distance_m(lng1, lat1, lng2, lat2) <= radius


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371000.0 * math.asin(min(1.0, math.sqrt(a)))


def matches(doc: Any, condition: Condition) -> bool:
    stored = resolve(doc, condition.field)
    op, query = condition.op, condition.value
    present = stored is not _MISSING
    if op == "calc":
        return True  # aggregation, not a filter
    if op == "eq":
        if not present:
            return coerce(query, None) is None if isinstance(query, str) else query is None
        return _equal(stored, query)
    if op == "ne":
        return not present or not _equal(stored, query)
    if not present:
        return op == "nin"
    if op in ("lt", "lte", "gt", "gte"):
        return _compare(stored, query, op)
    values = query if isinstance(query, list) else [query]
    if op in ("in", "or"):
        return any(_equal(stored, v) for v in values)
    if op == "nin":
        return not any(_equal(stored, v) for v in values)
    if op == "all":
        return isinstance(stored, list) and all(_equal(stored, v) for v in values)
    if op == "ctn":
        return any(
            element is not None
            and not isinstance(element, (dict, list))
            and str(query) in _text(element)
            for element in _elements(stored)
        )
    if op == "start_with":
        return any(
            isinstance(e, str) and e.lower().startswith(str(query).lower())
            for e in _elements(stored)
        )
    if op == "near":
        return _near(stored, query)
    return False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def apply(docs: Iterable[Any], conditions: Iterable[Condition]) -> list[Any]:
    conds = list(conditions)
    return [doc for doc in docs if all(matches(doc, c) for c in conds)]


def _rank(value: Any) -> tuple[int, Any]:
    if value is _MISSING or value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (3, int(value))
    if isinstance(value, (int, float)):
        return (1, float(value))
    if isinstance(value, str):
        return (2, value)
    return (4, str(value))


def sort(
    docs: list[Any],
    sort_asc: str | None,
    sort_desc: str | None,
    default: Callable[[Any], Any] | None = None,
    default_desc: bool = False,
) -> list[Any]:
    """`sort_desc` wins over `sort_asc`; ties keep insertion (creation) order."""
    if sort_desc:
        return sorted(docs, key=lambda d: _rank(resolve(d, sort_desc)), reverse=True)
    if sort_asc:
        return sorted(docs, key=lambda d: _rank(resolve(d, sort_asc)))
    if default is not None:
        return sorted(docs, key=default, reverse=default_desc)
    return list(docs)


def project(
    doc: dict[str, Any], include: str | None, exclude: str | None, keep: Iterable[str] = ("_id",)
) -> dict[str, Any]:
    """`output[include]=a,b` / `output[exclude]=c`."""
    if include:
        wanted = {p.strip() for p in include.split(",") if p.strip()} | set(keep)
        return {k: v for k, v in doc.items() if k in wanted}
    if exclude:
        unwanted = {p.strip() for p in exclude.split(",") if p.strip()} - set(keep)
        return {k: v for k, v in doc.items() if k not in unwanted}
    return doc
