"""BaasBox query criteria: the OrientDB SQL subset of `where`, `params`, `orderBy`, `groupBy`,
`fields`, `page`/`recordsPerPage` (pages from 0), `skip` and `count`, applied to JSON records.

`where` grammar (keywords in any case):

    expr    := and ("or" and)*              and := not ("and" not)*
    not     := "not" not | "(" expr ")" | value test
    test    := op value | "is" ["not"] "null" | ["not"] "in" value | "like" value
             | "contains" value | "containstext" value | "between" value "and" value
    op      := = == != <> < <= > >=
    value   := 'text' | "text" | number | ? | true | false | null | [value, ...]
             | date('...') | field | field.method()      (methods: toLowerCase, toUpperCase,
               trim, length, size, asString, asInteger, asFloat)

A field is a dotted path into the record (`title`, `address.city`, `user.name`, `in.name`,
`@rid`, `_creation_date`); a missing field is null. `?` takes the next of the repeated `params`.
Numbers compared with text that reads as a number compare as numbers (OrientDB casts the same way);
`like` takes `%` (any run) and `_` (one character) and ignores case.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
Predicate = Callable[[Record], bool]
Getter = Callable[[Record], Any]

DEFAULT_RECORDS_PER_PAGE = 20  # query.record_per_page of application.conf


class CriteriaError(ValueError):
    """An invalid query criterion: the server answers 400."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<op><>|!=|<=|>=|==|=|<|>)
      | (?P<punct>[(),\[\]?])
      | (?P<name>`[^`]+`|[A-Za-z_@$][\w@$#:\-]*(?:\.[A-Za-z_@$][\w@$#:\-]*|\.`[^`]+`)*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {
    "and",
    "or",
    "not",
    "is",
    "null",
    "in",
    "like",
    "contains",
    "containstext",
    "between",
    "true",
    "false",
}
METHODS = {
    "tolowercase",
    "touppercase",
    "trim",
    "length",
    "size",
    "asstring",
    "asinteger",
    "asfloat",
}


@dataclass(frozen=True)
class Token:
    kind: str  # string number op punct name keyword end
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise CriteriaError(f"Invalid where condition near '{text[position : position + 20]}'")
        position = match.end()
        kind = match.lastgroup or "end"
        value = match.group(kind)
        if kind == "name" and value.lower() in KEYWORDS:
            kind, value = "keyword", value.lower()
        tokens.append(Token(kind, value))
    tokens.append(Token("end", ""))
    return tokens


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    if literal[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def parse_date(text: str) -> str | None:
    """A BaasBox date (`2014-09-09T17:59:47.772+0200`, or ISO) in the emulator's UTC format."""
    candidate = text.strip()
    candidate = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", candidate).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_date(moment)


def format_date(moment: datetime) -> str:
    """BaasBox's `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, always in UTC (`+0000`): text order is time order."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def field_value(record: Any, path: str) -> Any:
    node = record
    for part in split_path(path):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            index = int(part)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
    return node


def split_path(path: str) -> list[str]:
    parts: list[str] = []
    for raw in re.findall(r"`[^`]+`|[^.]+", path):
        if raw.startswith("`"):
            parts.append(raw[1:-1])
            continue
        head, *indexes = re.split(r"\[(\d+)\]", raw)
        if head:
            parts.append(head)
        parts.extend(i for i in indexes if i)
    return parts


class _Parser:
    def __init__(self, text: str, params: Sequence[str]) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.params = list(params)
        self.used = 0

    def peek(self) -> Token:
        return self.tokens[self.position]

    def take(self) -> Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            self.position += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            found = token.text or "end of condition"
            raise CriteriaError(f"Invalid where condition: expected {text or kind}, found {found}")
        return token

    def parse(self) -> Predicate:
        predicate = self.expr()
        if self.peek().kind != "end":
            raise CriteriaError(f"Invalid where condition near '{self.peek().text}'")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.conjunction()]
        while self.accept("keyword", "or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.negation()]
        while self.accept("keyword", "and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def negation(self) -> Predicate:
        if self.accept("keyword", "not"):
            inner = self.negation()
            return lambda r: not inner(r)
        if self.peek().kind == "punct" and self.peek().text == "(":
            self.take()
            inner = self.expr()
            self.expect("punct", ")")
            return inner
        return self.test(self.value())

    def test(self, left: Getter) -> Predicate:
        token = self.take()
        if token.kind == "op":
            right = self.value()
            compare = _OPERATORS[token.text]
            return lambda r: compare(left(r), right(r))
        if token.kind != "keyword":
            raise CriteriaError(f"Invalid where condition: operator expected, found {token.text!r}")
        if token.text == "is":
            negate = self.accept("keyword", "not")
            self.expect("keyword", "null")
            return (lambda r: left(r) is not None) if negate else (lambda r: left(r) is None)
        if token.text == "not":
            self.expect("keyword", "in")
            right = self.value()
            return lambda r: not _in(left(r), right(r))
        if token.text == "in":
            right = self.value()
            return lambda r: _in(left(r), right(r))
        if token.text == "like":
            right = self.value()
            return lambda r: _like(left(r), right(r))
        if token.text == "contains":
            right = self.value()
            return lambda r: _contains(left(r), right(r))
        if token.text == "containstext":
            right = self.value()
            return lambda r: _contains_text(left(r), right(r))
        if token.text == "between":
            low = self.value()
            self.expect("keyword", "and")
            high = self.value()
            return lambda r: _compare(left(r), low(r), "ge") and _compare(left(r), high(r), "le")
        raise CriteriaError(f"Invalid where condition: unexpected {token.text!r}")

    def value(self) -> Getter:
        token = self.take()
        if token.kind == "string":
            text = _unquote(token.text)
            return lambda r: text
        if token.kind == "number":
            number = float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
            return lambda r: number
        if token.kind == "punct" and token.text == "?":
            if self.used >= len(self.params):
                raise CriteriaError("The number of the 'params' does not match the '?' of where")
            param = self.params[self.used]
            self.used += 1
            return lambda r: param
        if token.kind == "punct" and token.text == "[":
            items: list[Getter] = []
            if not self.accept("punct", "]"):
                items.append(self.value())
                while self.accept("punct", ","):
                    items.append(self.value())
                self.expect("punct", "]")
            return lambda r: [item(r) for item in items]
        if token.kind == "keyword" and token.text in ("true", "false"):
            flag = token.text == "true"
            return lambda r: flag
        if token.kind == "keyword" and token.text == "null":
            return lambda r: None
        if token.kind == "name":
            return self.name(token.text)
        raise CriteriaError(f"Invalid where condition: value expected, found {token.text or 'end'}")

    def name(self, text: str) -> Getter:
        if self.accept("punct", "("):
            args: list[Getter] = []
            if not self.accept("punct", ")"):
                args.append(self.value())
                while self.accept("punct", ","):
                    args.append(self.value())
                self.expect("punct", ")")
            return self.call(text, args)
        return lambda r: field_value(r, text)

    def call(self, text: str, args: list[Getter]) -> Getter:
        head, _, method = text.rpartition(".")
        if head and method.lower() in METHODS and not args:
            return _method(head, method.lower())
        if text.lower() == "date" and len(args) == 1:
            arg = args[0]
            return lambda r: parse_date(str(arg(r)))
        if text.lower() == "sysdate" and not args:
            stamp = format_date(datetime.now(UTC))
            return lambda r: stamp
        raise CriteriaError(f"Invalid where condition: unknown function {text}()")


def _method(path: str, method: str) -> Getter:
    def apply(record: Record) -> Any:
        value = field_value(record, path)
        if value is None:
            return None
        if method == "tolowercase":
            return str(value).lower()
        if method == "touppercase":
            return str(value).upper()
        if method == "trim":
            return str(value).strip()
        if method in ("length", "size"):
            return len(value) if isinstance(value, (str, list, dict)) else None
        if method == "asstring":
            return _text(value)
        number = _number(value)
        if number is None:
            return None
        return int(number) if method == "asinteger" else float(number)

    return apply


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        if math.isfinite(number):
            return int(number) if number.is_integer() and "." not in value else number
    return None


def _coerce(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Both sides in comparable form, or None when they cannot be compared."""
    if left is None or right is None:
        return None
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left, right
        other = right if isinstance(left, bool) else left
        flag = left if isinstance(left, bool) else right
        if isinstance(other, str) and other.lower() in ("true", "false"):
            return (
                (flag, other.lower() == "true") if flag is left else (other.lower() == "true", flag)
            )
        return None
    numeric = (int, float)
    if isinstance(left, numeric) or isinstance(right, numeric):
        a, b = _number(left), _number(right)
        return (a, b) if a is not None and b is not None else None
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if isinstance(left, type(right)) or isinstance(right, type(left)):
        return left, right
    return None


def _compare(left: Any, right: Any, how: str) -> bool:
    pair = _coerce(left, right)
    if pair is None:
        return False
    a, b = pair
    try:
        if how == "eq":
            return bool(a == b)
        if how == "ne":
            return bool(a != b)
        if how == "lt":
            return bool(a < b)
        if how == "le":
            return bool(a <= b)
        if how == "gt":
            return bool(a > b)
        return bool(a >= b)
    except TypeError:
        return False


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: _compare(a, b, "eq"),
    "==": lambda a, b: _compare(a, b, "eq"),
    "!=": lambda a, b: _compare(a, b, "ne"),
    "<>": lambda a, b: _compare(a, b, "ne"),
    "<": lambda a, b: _compare(a, b, "lt"),
    "<=": lambda a, b: _compare(a, b, "le"),
    ">": lambda a, b: _compare(a, b, "gt"),
    ">=": lambda a, b: _compare(a, b, "ge"),
}


def _in(left: Any, right: Any) -> bool:
    items = right if isinstance(right, list) else [right]
    if isinstance(left, list):
        return any(_compare(x, y, "eq") for x in left for y in items)
    return any(_compare(left, y, "eq") for y in items)


def _like(left: Any, right: Any) -> bool:
    if left is None or right is None or isinstance(left, (dict, list)):
        return False
    return wildcard_match(_text(left).lower(), _text(right).lower())


def wildcard_match(text: str, pattern: str) -> bool:
    """SQL LIKE (`%` any run, `_` one character) in linear space, without regular expressions."""
    t = p = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("_", text[t]) and pattern[p] != "%":
            t += 1
            p += 1
        elif p < len(pattern) and pattern[p] == "%":
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "%":
        p += 1
    return p == len(pattern)


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, list):
        return any(_compare(x, right, "eq") for x in left)
    if isinstance(left, dict):
        return isinstance(right, str) and right in left
    return False


def _contains_text(left: Any, right: Any) -> bool:
    return isinstance(left, str) and right is not None and _text(right) in left


def compile_where(where: str | None, params: Sequence[str] | None = None) -> Predicate:
    if where is None or not where.strip():
        return lambda r: True
    return _Parser(where, params or []).parse()


# -- sorting, projection, paging ------------------------------------------------------------------
_RANK = {type(None): 0, bool: 1, int: 2, float: 2, str: 3, list: 4, dict: 5}


def _sort_key(value: Any) -> tuple[int, Any]:
    rank = _RANK.get(type(value), 6)
    if rank in (4, 5, 6):
        return rank, str(value)
    return rank, (0 if value is None else value)


def parse_order(order_by: str | None) -> list[tuple[str, bool]]:
    """`name desc, age` -> [("name", True), ("age", False)] (True = descending)."""
    if not order_by or not order_by.strip():
        return []
    keys: list[tuple[str, bool]] = []
    for item in order_by.split(","):
        words = item.split()
        if not words or len(words) > 2:
            raise CriteriaError(f"Invalid orderBy clause: '{order_by}'")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc") or not re.fullmatch(r"[\w@.$`\[\]\-]+", words[0]):
            raise CriteriaError(f"Invalid orderBy clause: '{order_by}'")
        keys.append((words[0], direction == "desc"))
    return keys


def parse_fields(fields: str | None) -> list[tuple[str, str]] | None:
    """`name, address.city as c` -> [("name", "name"), ("address.city", "c")]; None for all."""
    if fields is None or not fields.strip() or fields.strip() == "*":
        return None
    out: list[tuple[str, str]] = []
    for item in fields.split(","):
        match = re.fullmatch(r"\s*([\w@.$`\[\]\-]+)(?:\s+as\s+(\w+))?\s*", item, re.IGNORECASE)
        if match is None or match.group(1) == "*":
            raise CriteriaError(f"Invalid fields clause: '{fields}' (functions are not supported)")
        path = match.group(1)
        out.append((path, match.group(2) or split_path(path)[-1]))
    return out


@dataclass
class Criteria:
    where: str | None = None
    params: list[str] | None = None
    order_by: str | None = None
    group_by: str | None = None
    page: int | None = None
    records_per_page: int | None = None
    skip: int | None = None
    count: bool | None = None
    fields: str | None = None

    @property
    def paginated(self) -> bool:
        return self.page is not None and self.page > -1


@dataclass
class Result:
    records: list[Record]
    count: int  # matching records before paging
    more: bool | None  # set on paginated queries


def run(records: Sequence[Record], criteria: Criteria) -> Result:
    """Filter, group, sort, page and project; raises CriteriaError for an invalid criterion."""
    predicate = compile_where(criteria.where, criteria.params)
    order = parse_order(criteria.order_by)
    projection = parse_fields(criteria.fields)
    size = criteria.records_per_page
    if size is not None and size < 1:
        raise CriteriaError("recordsPerPage parameter must be a positive Integer")
    if criteria.skip is not None and criteria.skip < 0:
        raise CriteriaError("skip parameter must be a non negative Integer")
    matched = [r for r in records if predicate(r)]
    if criteria.group_by:
        seen: set[str] = set()
        grouped = []
        for record in matched:
            key = repr([field_value(record, p.strip()) for p in criteria.group_by.split(",")])
            if key not in seen:
                seen.add(key)
                grouped.append(record)
        matched = grouped
    for path, descending in reversed(order):

        def by_field(record: Record, path: str = path) -> tuple[int, Any]:
            return _sort_key(field_value(record, path))

        matched.sort(key=by_field, reverse=descending)
    total = len(matched)
    start = criteria.skip or 0
    more: bool | None = None
    if criteria.paginated:
        size = size or DEFAULT_RECORDS_PER_PAGE
        start += (criteria.page or 0) * size
        page = matched[start : start + size]
        more = total > start + size
    else:
        page = matched[start:]
    if projection is not None:
        page = [{alias: field_value(r, path) for path, alias in projection} for r in page]
    return Result(page, total, more)
