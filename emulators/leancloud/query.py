"""LeanCloud's query language: `where` constraints, `order`, `keys`, evaluated on stored documents.

A `where` is a JSON object: `{"field": value}` for equality (arrays match when they contain the
value, Pointers by class and objectId, Dates by instant) or `{"field": {"$op": ...}}` with the
operators `$ne $lt $lte $gt $gte $in $nin $all $size $exists $regex $options $select $dontSelect
$inQuery $notInQuery $nearSphere $maxDistanceIn* $within`; `$or`, `$and` and `$relatedTo` at the
top. Dotted field names reach into embedded objects.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from .common import Doc, bad, parse_iso

DATE_FIELDS = frozenset({"createdAt", "updatedAt"})
_MISSING = object()
_RANKS = {"z": 0, "n": 1, "s": 2, "d": 3, "b": 4, "p": 5, "o": 6, "l": 7}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_EARTH_KM = 6371.0
_EARTH_MILES = 3958.8

Resolver = Callable[[str, Any], list[Doc]]
Related = Callable[[Any, str], set[str]]


def python_regex(pattern: str) -> str:
    """`pattern` for `re`: PCRE's `\\Q...\\E` literal spans, which the SDKs' `startsWith`,
    `endsWith` and `contains` send (`^\\Qgam\\E`) and MongoDB accepts, escaped instead."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            if pattern[i + 1] == "Q":
                end = pattern.find("\\E", i + 2)
                stop = len(pattern) if end < 0 else end
                out.append(re.escape(pattern[i + 2 : stop]))
                i = stop if end < 0 else end + 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)


def get_path(doc: Any, path: str) -> Any:
    """The value at a dotted path, or `_MISSING`."""
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return _MISSING
    return node


def norm(value: Any, as_date: bool = False) -> tuple[str, Any]:
    """A comparable form: kind letter and value (Dates as instants, Pointers as class and id)."""
    if value is None or value is _MISSING:
        return ("z", None)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", float(value))
    if isinstance(value, str):
        if as_date:
            moment = parse_iso(value)
            if moment is not None:
                return ("d", moment.timestamp())
        return ("s", value)
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind == "Date":
            moment = parse_iso(value.get("iso"))
            if moment is not None:
                return ("d", moment.timestamp())
        if kind in ("Pointer", "Object") and "objectId" in value:
            return ("p", f"{value.get('className')}\x00{value.get('objectId')}")
        if kind == "File":
            return ("p", f"_File\x00{value.get('objectId') or value.get('id')}")
        return ("o", json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return ("l", json.dumps(value, sort_keys=True))
    return ("o", repr(value))


def sort_key(value: Any, as_date: bool = False) -> tuple[int, Any]:
    kind, plain = norm(value, as_date)
    return (_RANKS[kind], plain)


def _compare(left: tuple[str, Any], right: tuple[str, Any], op: str) -> bool:
    if left[0] != right[0] or left[0] in ("z", "o", "l", "p"):
        return False
    a, b = left[1], right[1]
    if op == "$lt":
        return bool(a < b)
    if op == "$lte":
        return bool(a <= b)
    if op == "$gt":
        return bool(a > b)
    return bool(a >= b)


def _geo(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict) and value.get("__type") == "GeoPoint":
        try:
            return float(value["latitude"]), float(value["longitude"])
        except (KeyError, TypeError, ValueError):
            return None
    return None


def distance_radians(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lng1, lat2, lng2 = (math.radians(x) for x in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * math.asin(min(1.0, math.sqrt(h)))


OPERATORS = frozenset(
    {
        "$ne", "$lt", "$lte", "$gt", "$gte", "$in", "$nin", "$all", "$size", "$exists",
        "$regex", "$options", "$select", "$dontSelect", "$inQuery", "$notInQuery",
        "$nearSphere", "$maxDistance", "$maxDistanceInMiles", "$maxDistanceInKilometers",
        "$maxDistanceInRadians", "$within", "$eq",
    }
)  # fmt: skip


def is_operator_object(cond: Any) -> bool:
    return isinstance(cond, dict) and bool(cond) and all(str(k).startswith("$") for k in cond)


class Matcher:
    """Evaluates `where` on documents; sub-queries and relations are answered by the callbacks."""

    def __init__(self, resolve: Resolver, related: Related) -> None:
        self.resolve = resolve
        self.related = related
        self._cache: dict[str, Any] = {}

    def filter(self, docs: Iterable[Doc], where: Any) -> list[Doc]:
        if where in (None, {}, []):
            return list(docs)
        self.check(where)
        return [doc for doc in docs if self.matches(doc, where)]

    # -- validation first, so a bad query fails even on an empty class -------------------------
    def check(self, where: Any) -> None:
        if isinstance(where, list):
            for part in where:
                self.check(part)
            return
        if not isinstance(where, dict):
            raise bad(107, "Invalid 'where': a JSON object is expected.")
        for key, cond in where.items():
            if key in ("$or", "$and"):
                if not isinstance(cond, list) or not cond:
                    raise bad(1, f"{key} must be a non-empty array of queries.")
                for part in cond:
                    self.check(part)
            elif key == "$relatedTo":
                if not isinstance(cond, dict) or not isinstance(cond.get("key"), str):
                    raise bad(1, "$relatedTo needs an object Pointer and a key.")
            elif key.startswith("$"):
                raise bad(1, f"Unknown query operator '{key}'.")
            elif is_operator_object(cond):
                for op, arg in cond.items():
                    self._check_operator(op, arg)

    def _check_operator(self, op: str, arg: Any) -> None:
        if op not in OPERATORS:
            raise bad(1, f"Unknown query operator '{op}'.")
        if op in ("$in", "$nin", "$all") and not isinstance(arg, list):
            raise bad(1, f"{op} needs an array.")
        if op == "$regex":
            if not isinstance(arg, str):
                raise bad(1, "$regex needs a string.")
            try:
                re.compile(python_regex(arg))
            except re.error:
                raise bad(1, f"Invalid regular expression '{arg}'.") from None
        if op == "$options" and (not isinstance(arg, str) or set(arg) - set(_FLAGS)):
            raise bad(1, "$options accepts only the flags i, m, s and x.")
        if op == "$exists" and not isinstance(arg, bool):
            raise bad(1, "$exists needs a boolean.")
        if op == "$size" and (isinstance(arg, bool) or not isinstance(arg, int)):
            raise bad(1, "$size needs an integer.")
        if op in ("$inQuery", "$notInQuery") and not (
            isinstance(arg, dict) and isinstance(arg.get("className"), str)
        ):
            raise bad(1, f"{op} needs a className and a where.")
        if op in ("$select", "$dontSelect") and not (
            isinstance(arg, dict)
            and isinstance(arg.get("key"), str)
            and isinstance(arg.get("query"), dict)
            and isinstance(arg["query"].get("className"), str)
        ):
            raise bad(1, f"{op} needs a query with a className, and a key.")
        if op == "$nearSphere" and _geo(arg) is None:
            raise bad(302, "Invalid GeoPoint.")
        if op == "$within":
            box = arg.get("$box") if isinstance(arg, dict) else None
            if not (isinstance(box, list) and len(box) == 2 and all(_geo(p) for p in box)):
                raise bad(302, "$within needs a $box of two GeoPoints.")
        if op.startswith("$maxDistance") and (
            isinstance(arg, bool) or not isinstance(arg, int | float)
        ):
            raise bad(1, f"{op} needs a number.")

    # -- evaluation ----------------------------------------------------------------------------
    def matches(self, doc: Doc, where: Any) -> bool:
        if isinstance(where, list):
            return all(self.matches(doc, part) for part in where)
        for key, cond in where.items():
            if key == "$or":
                if not any(self.matches(doc, part) for part in cond):
                    return False
            elif key == "$and":
                if not all(self.matches(doc, part) for part in cond):
                    return False
            elif key == "$relatedTo":
                if doc.get("objectId") not in self.related(cond.get("object"), cond["key"]):
                    return False
            elif not self._field(doc, key, cond):
                return False
        return True

    def _field(self, doc: Doc, key: str, cond: Any) -> bool:
        value = get_path(doc, key)
        as_date = key in DATE_FIELDS
        if not is_operator_object(cond):
            return self._equals(doc, key, value, cond, as_date)
        for op, arg in cond.items():
            if not self._operator(doc, key, value, op, arg, cond, as_date):
                return False
        return True

    def _equals(self, doc: Doc, key: str, value: Any, expected: Any, as_date: bool) -> bool:
        if isinstance(value, dict) and value.get("__type") == "Relation":
            members = doc.get("_rel", {}).get(key, [])
            if isinstance(expected, dict) and expected.get("__type") == "Pointer":
                return expected.get("objectId") in members
            return False
        if value is _MISSING:
            return expected is None
        target = norm(expected, as_date)
        if norm(value, as_date) == target:
            return True
        if isinstance(value, list) and not isinstance(expected, list):
            return any(norm(item, as_date) == target for item in value)
        return False

    def _operator(
        self, doc: Doc, key: str, value: Any, op: str, arg: Any, cond: Doc, as_date: bool
    ) -> bool:
        items = value if isinstance(value, list) else [value]
        if op == "$eq":
            return self._equals(doc, key, value, arg, as_date)
        if op == "$ne":
            return not self._equals(doc, key, value, arg, as_date)
        if op in ("$lt", "$lte", "$gt", "$gte"):
            if value is _MISSING:
                return False
            right = norm(arg, as_date)
            return any(_compare(norm(item, as_date), right, op) for item in items)
        if op == "$in":
            if value is _MISSING:
                return None in arg
            return any(self._equals(doc, key, value, candidate, as_date) for candidate in arg)
        if op == "$nin":
            return not any(self._equals(doc, key, value, candidate, as_date) for candidate in arg)
        if op == "$all":
            if not isinstance(value, list):
                return False
            have = {norm(item, as_date) for item in value}
            return all(norm(candidate, as_date) in have for candidate in arg)
        if op == "$size":
            return isinstance(value, list) and len(value) == int(arg)
        if op == "$exists":
            return (value is not _MISSING) is bool(arg)
        if op == "$regex":
            if not isinstance(value, str):
                return False
            flags = 0
            for letter in str(cond.get("$options", "")):
                flags |= _FLAGS.get(letter, 0)
            return re.search(python_regex(arg), value, flags) is not None
        if op == "$options" or op.startswith("$maxDistance"):
            return True  # read with $regex / $nearSphere
        if op in ("$inQuery", "$notInQuery"):
            ids = {
                f"{arg['className']}\x00{d.get('objectId')}"
                for d in self._sub(arg["className"], arg.get("where"))
            }
            hit = any(norm(item)[0] == "p" and norm(item)[1] in ids for item in items)
            return hit if op == "$inQuery" else not hit
        if op in ("$select", "$dontSelect"):
            query = arg["query"]
            wanted = {
                norm(get_path(d, arg["key"]))
                for d in self._sub(query["className"], query.get("where"))
                if get_path(d, arg["key"]) is not _MISSING
            }
            hit = any(norm(item) in wanted for item in items if item is not _MISSING)
            return hit if op == "$select" else not hit
        if op == "$nearSphere":
            here, there = _geo(value), _geo(arg)
            if here is None or there is None:
                return False
            radians = distance_radians(here, there)
            limit = _max_distance(cond)
            return limit is None or radians <= limit
        if op == "$within":
            here = _geo(value)
            corners = [_geo(p) for p in arg["$box"]]
            if here is None or corners[0] is None or corners[1] is None:
                return False
            (south, west), (north, east) = corners[0], corners[1]
            return south <= here[0] <= north and west <= here[1] <= east
        raise bad(1, f"Unknown query operator '{op}'.")

    def _sub(self, class_name: str, where: Any) -> list[Doc]:
        key = class_name + "\x00" + json.dumps(where, sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = self.resolve(class_name, where)
        result: list[Doc] = self._cache[key]
        return result


def _max_distance(cond: Doc) -> float | None:
    if "$maxDistanceInRadians" in cond:
        return float(cond["$maxDistanceInRadians"])
    if "$maxDistance" in cond:
        return float(cond["$maxDistance"])
    if "$maxDistanceInKilometers" in cond:
        return float(cond["$maxDistanceInKilometers"]) / _EARTH_KM
    if "$maxDistanceInMiles" in cond:
        return float(cond["$maxDistanceInMiles"]) / _EARTH_MILES
    return None


def near_point(where: Any) -> tuple[str, tuple[float, float]] | None:
    """The top-level `$nearSphere` constraint, which also orders results nearest first."""
    if not isinstance(where, dict):
        return None
    for key, cond in where.items():
        if is_operator_object(cond) and "$nearSphere" in cond:
            point = _geo(cond["$nearSphere"])
            if point is not None:
                return key, point
    return None


def order_docs(docs: list[Doc], order: str | None, where: Any = None) -> list[Doc]:
    """Sort by `order` (`a,-b`); a `$nearSphere` without `order` sorts nearest first."""
    ordered = list(docs)
    fields = [f.strip() for f in (order or "").split(",") if f.strip()]
    if not fields:
        near = near_point(where)
        if near is not None:
            key, point = near

            def distance(doc: Doc) -> float:
                here = _geo(get_path(doc, key))
                return distance_radians(here, point) if here else math.inf

            ordered.sort(key=distance)
        return ordered
    for spec in reversed(fields):
        name = spec.lstrip("-+")
        ordered.sort(key=_field_key(name), reverse=spec.startswith("-"))
    return ordered


def _field_key(name: str) -> Callable[[Doc], tuple[int, Any]]:
    as_date = name in DATE_FIELDS

    def key(doc: Doc) -> tuple[int, Any]:
        return sort_key(get_path(doc, name), as_date)

    return key


def project(obj: Doc, keys: str | None) -> Doc:
    """Apply `keys`: listed fields only (plus the reserved ones), or all but `-field`s."""
    specs = [k.strip() for k in (keys or "").split(",") if k.strip()]
    if not specs:
        return obj
    include = [k for k in specs if not k.startswith("-")]
    exclude = [k[1:] for k in specs if k.startswith("-")]
    if include:
        result: Doc = {
            k: obj[k]
            for k in ("__type", "className", "objectId", "createdAt", "updatedAt")
            if k in obj
        }
        for path in include:
            value = get_path(obj, path)
            if value is _MISSING:
                continue
            node = result
            parts = path.split(".")
            for part in parts[:-1]:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
            node[parts[-1]] = value
    else:
        result = json.loads(json.dumps(obj))
    for path in exclude:
        target: Any = result
        parts = path.split(".")
        for part in parts[:-1]:
            target = target.get(part) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target.pop(parts[-1], None)
    return result
