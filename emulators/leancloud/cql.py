"""A subset of CQL, LeanCloud's SQL-like query language, translated to a `where` clause.

    select (* | count(*) | field, ...) from Class
        [where cond] [order by field [asc|desc], ...] [limit [skip,] n]

`cond` combines comparisons (`= != <> < <= > >=`), `[not] in (...)`, `is [not] exists`,
`like 'pat%'`, with `and`, `or`, `not` and parentheses. Values are `?` (filled from `pvalues`),
quoted strings, numbers, `true`, `false`, `null`, `pointer('Class', 'id')` and `date('iso')`.
Anything else answers error 300, as LeanCloud does for statements it cannot parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .common import bad

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*|\?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_COMPARE = {"=": None, "!=": "$ne", "<>": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def syntax_error(detail: str) -> Exception:
    return bad(300, f"CQL syntax error: {detail}")


@dataclass
class Statement:
    class_name: str
    where: dict[str, Any] = field(default_factory=dict)
    keys: str | None = None
    count_only: bool = False
    order: str | None = None
    limit: int | None = None
    skip: int = 0


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise syntax_error(f"unexpected character at {position}")
        position = match.end()
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
    return tokens


class Parser:
    def __init__(self, text: str, values: list[Any]) -> None:
        self.tokens = tokenize(text)
        self.at = 0
        self.values = list(values)
        self.used = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() in words:
            self.at += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise syntax_error(f"'{word}' expected")

    def symbol(self, sym: str) -> bool:
        token = self.peek()
        if token and token[0] == "op" and token[1] == sym:
            self.at += 1
            return True
        return False

    def expect_symbol(self, sym: str) -> None:
        if not self.symbol(sym):
            raise syntax_error(f"'{sym}' expected")

    def name(self) -> str:
        token = self.peek()
        if not token or token[0] != "word":
            raise syntax_error("a name was expected")
        self.at += 1
        return token[1]

    # -- grammar -------------------------------------------------------------------------------
    def statement(self) -> Statement:
        self.expect_keyword("select")
        keys: list[str] = []
        count_only = False
        if self.symbol("*"):
            pass
        elif self.keyword("count"):
            self.expect_symbol("(")
            self.expect_symbol("*")
            self.expect_symbol(")")
            count_only = True
        else:
            keys.append(self.name())
            while self.symbol(","):
                keys.append(self.name())
        self.expect_keyword("from")
        result = Statement(self.name(), keys=",".join(keys) or None, count_only=count_only)
        while self.peek() is not None:
            if self.keyword("where"):
                result.where = self.disjunction()
            elif self.keyword("order"):
                self.expect_keyword("by")
                parts = [self.order_item()]
                while self.symbol(","):
                    parts.append(self.order_item())
                result.order = ",".join(parts)
            elif self.keyword("limit"):
                first = self.integer()
                if self.symbol(","):
                    result.skip, result.limit = first, self.integer()
                else:
                    result.limit = first
            else:
                raise syntax_error(f"unexpected '{self.tokens[self.at][1]}'")
        if self.used != len(self.values):
            raise syntax_error("the number of pvalues does not match the placeholders")
        return result

    def order_item(self) -> str:
        column = self.name()
        if self.keyword("desc"):
            return "-" + column
        self.keyword("asc")
        return column

    def integer(self) -> int:
        token = self.peek()
        if token and token[0] == "op" and token[1] == "?":
            value = self.value()
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise syntax_error("limit needs an integer")
        if not token or token[0] != "number" or not token[1].lstrip("-").isdigit():
            raise syntax_error("an integer was expected")
        self.at += 1
        return int(token[1])

    def disjunction(self) -> dict[str, Any]:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else {"$or": parts}

    def conjunction(self) -> dict[str, Any]:
        parts = [self.condition()]
        while self.keyword("and"):
            parts.append(self.condition())
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def condition(self) -> dict[str, Any]:
        if self.symbol("("):
            inner = self.disjunction()
            self.expect_symbol(")")
            return inner
        if self.keyword("not"):
            return negate(self.condition())
        column = self.name()
        if self.keyword("is"):
            negative = self.keyword("not")
            self.expect_keyword("exists")
            return {column: {"$exists": not negative}}
        negative = self.keyword("not")
        if self.keyword("in"):
            self.expect_symbol("(")
            values = [self.value()]
            while self.symbol(","):
                values.append(self.value())
            self.expect_symbol(")")
            return {column: {"$nin" if negative else "$in": values}}
        if self.keyword("like"):
            pattern = self.value()
            if not isinstance(pattern, str):
                raise syntax_error("like needs a string")
            regex = "^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$"
            if negative:
                raise syntax_error("'not like' is not supported")
            return {column: {"$regex": regex}}
        if negative:
            raise syntax_error("'in' or 'like' expected after 'not'")
        token = self.peek()
        if not token or token[0] != "op" or token[1] not in _COMPARE:
            raise syntax_error(f"an operator was expected after '{column}'")
        self.at += 1
        value = self.value()
        op = _COMPARE[token[1]]
        return {column: value if op is None else {op: value}}

    def value(self) -> Any:
        token = self.peek()
        if token is None:
            raise syntax_error("a value was expected")
        kind, text = token
        self.at += 1
        if kind == "op" and text == "?":
            if self.used >= len(self.values):
                raise syntax_error("more placeholders than pvalues")
            self.used += 1
            return self.values[self.used - 1]
        if kind == "string":
            quote = text[0]
            body = text[1:-1].replace(quote * 2, quote)
            return re.sub(r"\\(.)", r"\1", body)
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "word":
            lower = text.lower()
            if lower in ("true", "false"):
                return lower == "true"
            if lower == "null":
                return None
            if lower in ("pointer", "date"):
                self.expect_symbol("(")
                args = [self.value()]
                while self.symbol(","):
                    args.append(self.value())
                self.expect_symbol(")")
                if lower == "pointer" and len(args) == 2 and all(isinstance(a, str) for a in args):
                    return {"__type": "Pointer", "className": args[0], "objectId": args[1]}
                if lower == "date" and len(args) == 1 and isinstance(args[0], str):
                    return {"__type": "Date", "iso": args[0]}
                raise syntax_error(f"bad arguments to {lower}()")
        raise syntax_error(f"unexpected '{text}'")


_NEGATIONS = {"$ne": None, "$lt": "$gte", "$lte": "$gt", "$gt": "$lte", "$gte": "$lt"}


def negate(where: dict[str, Any]) -> dict[str, Any]:
    """`not (...)` for the constraints this parser produces."""
    if "$or" in where:
        return {"$and": [negate(part) for part in where["$or"]]}
    if "$and" in where:
        return {"$or": [negate(part) for part in where["$and"]]}
    (column, cond), *rest = where.items()
    if rest:
        raise syntax_error("cannot negate this condition")
    if not isinstance(cond, dict) or not all(str(k).startswith("$") for k in cond):
        return {column: {"$ne": cond}}
    (op, arg), *more = cond.items()
    if more:
        raise syntax_error("cannot negate this condition")
    if op == "$ne":
        return {column: arg}
    if op in _NEGATIONS:
        return {column: {_NEGATIONS[op]: arg}}
    if op == "$in":
        return {column: {"$nin": arg}}
    if op == "$nin":
        return {column: {"$in": arg}}
    if op == "$exists":
        return {column: {"$exists": not arg}}
    raise syntax_error("cannot negate this condition")


def parse(text: str, values: list[Any] | None = None) -> Statement:
    if not isinstance(text, str) or not text.strip():
        raise syntax_error("empty statement")
    return Parser(text, values or []).statement()
