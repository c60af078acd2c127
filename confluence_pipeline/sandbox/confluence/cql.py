"""A small CQL subset: ``and``-joined clauses plus ``order by``.

Supported clauses (keywords case-insensitive, values quoted or bare)::

    space = "ENG" | space != "ENG" | space in ("ENG","OPS") | space not in (...)
    type = page | type in (page, blogpost)            (only pages exist in the sandbox)
    lastmodified|created  >= > <= < =  "yyyy-MM-dd HH:mm" | "yyyy-MM-dd"   (UTC)
                                       | now() | now("-15m")   (units y M w d h m)
    id = 123 | id in (1, 2) | title = "x" | title ~ "x" (text ~ searches titles only)
    label = "x" | label in (...) | ancestor = 123 | ancestor in (1, 2)
    ( clause and|or clause ... )      (a parenthesized group; 'and' binds tighter than 'or')
    order by lastmodified|created|title|id [asc|desc] [, ...]

Anything else (``or`` outside parentheses, ``not``, functions other than ``now()``) raises
CqlError.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .model import PageRecord, Site

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z0-9_.:\-]+)
    )""",
    re.VERBOSE,
)
_SUPPORTED = (
    "supported: space, type, lastmodified, created, id, title, label, ancestor joined with "
    "'and' (and 'or' inside parentheses), "
    "and 'order by lastmodified|created|title|id [asc|desc]'"
)
_DATE_FORMATS = (
    ("%Y-%m-%d %H:%M", 60_000),
    ("%Y/%m/%d %H:%M", 60_000),
    ("%Y-%m-%d", 86_400_000),
    ("%Y/%m/%d", 86_400_000),
)
_NOW_OFFSET = re.compile(r"([+-]?)(\d+)([yMwdhm])")
_UNIT_MS = {
    "y": 365 * 86_400_000,
    "M": 30 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
}
_ORDER_KEYS: dict[str, Callable[[PageRecord], Any]] = {
    "lastmodified": lambda p: p.version_ms,
    "created": lambda p: p.created_ms,
    "title": lambda p: p.title.lower(),
    "id": lambda p: p.id,
}

Predicate = Callable[[PageRecord], bool]


class CqlError(ValueError):
    """The query is malformed or uses CQL the sandbox does not support."""


@dataclass
class Query:
    clauses: list[Predicate] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)

    def matches(self, page: PageRecord) -> bool:
        return all(clause(page) for clause in self.clauses)

    def sort(self, pages: list[PageRecord]) -> list[PageRecord]:
        """Sorted by the ``order by`` fields (id ascending breaks ties and is the default)."""
        ordered = sorted(pages, key=lambda p: p.id)
        for name, descending in reversed(self.order):
            ordered.sort(key=_ORDER_KEYS[name], reverse=descending)
        return ordered


def parse(cql: str, site: Site) -> Query:
    """Compiles ``cql`` against ``site`` (space keys resolve to ids); raises CqlError."""
    tokens = _tokenize(cql)
    query = Query()
    position = 0
    while position < len(tokens):
        if _is(tokens, position, "order"):
            query.order = _order_by(tokens, position + 1)
            return query
        clause, position = _clause(tokens, position, site)
        query.clauses.append(clause)
        if position < len(tokens) and not _is(tokens, position, "order"):
            if not _is(tokens, position, "and"):
                raise CqlError(
                    f"expected 'and' or 'order by' at {tokens[position][1]!r}; " + _SUPPORTED
                )
            position += 1
            if position == len(tokens):
                raise CqlError("query ends after 'and'")
    if not query.clauses:
        raise CqlError("empty query")
    return query


def _tokenize(cql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = cql.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise CqlError(f"cannot parse CQL near {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _is(tokens: list[tuple[str, str]], position: int, word: str) -> bool:
    return (
        position < len(tokens)
        and tokens[position][0] == "word"
        and tokens[position][1].lower() == word
    )


def _group(tokens: list[tuple[str, str]], pos: int, site: Site) -> tuple[Predicate, int]:
    """A parenthesized ``or`` of ``and``-joined clauses, starting after its ``(``."""
    alternatives: list[list[Predicate]] = [[]]
    while pos < len(tokens):
        clause, pos = _clause(tokens, pos, site)
        alternatives[-1].append(clause)
        if pos >= len(tokens):
            break
        if tokens[pos][1] == ")":
            return _any_of(alternatives), pos + 1
        if _is(tokens, pos, "or"):
            alternatives.append([])
        elif not _is(tokens, pos, "and"):
            raise CqlError(f"expected 'and', 'or' or ')' at {tokens[pos][1]!r}")
        pos += 1
    raise CqlError("missing ')'")


def _any_of(alternatives: list[list[Predicate]]) -> Predicate:
    groups = [list(group) for group in alternatives]
    return lambda p: any(all(c(p) for c in group) for group in groups)


def _clause(tokens: list[tuple[str, str]], pos: int, site: Site) -> tuple[Predicate, int]:
    if tokens[pos][1] == "(":
        return _group(tokens, pos + 1, site)
    kind, name = tokens[pos]
    if kind != "word" or name.lower() in ("or", "not", "and"):
        raise CqlError(f"unsupported CQL at {name!r}; {_SUPPORTED}")
    name = name.lower()
    pos += 1
    if _is(tokens, pos, "not") and _is(tokens, pos + 1, "in"):
        values, pos = _value_list(tokens, pos + 2)
        return _negate(_membership(name, values, site)), pos
    if _is(tokens, pos, "in"):
        values, pos = _value_list(tokens, pos + 1)
        return _membership(name, values, site), pos
    if pos + 1 >= len(tokens) or tokens[pos][0] != "op":
        raise CqlError(f"expected an operator after {name!r}")
    op, (value_kind, value) = tokens[pos][1], tokens[pos + 1]
    if value_kind not in ("str", "word"):
        raise CqlError(f"expected a value after '{name} {op}' (functions are unsupported)")
    if pos + 2 < len(tokens) and tokens[pos + 2][1] == "(":
        if name in ("lastmodified", "created") and value.lower() == "now":
            moment, end = _now(tokens, pos + 3)
            return _date_comparison(name, op, moment, 1), end
        raise CqlError(f"CQL functions like {value}() are unsupported; {_SUPPORTED}")
    return _comparison(name, op, value, site), pos + 2


def _value_list(tokens: list[tuple[str, str]], pos: int) -> tuple[list[str], int]:
    if pos >= len(tokens) or tokens[pos][1] != "(":
        raise CqlError("expected '(' after 'in'")
    values: list[str] = []
    pos += 1
    while pos < len(tokens):
        kind, value = tokens[pos]
        if kind in ("str", "word"):
            values.append(value)
        elif value == ")":
            if not values:
                raise CqlError("empty 'in (...)' list")
            return values, pos + 1
        elif value != ",":
            raise CqlError(f"unexpected {value!r} in 'in (...)' list")
        pos += 1
    raise CqlError("missing ')' after 'in (...)' list")


def _membership(name: str, values: list[str], site: Site) -> Predicate:
    if name in ("space", "space.key"):
        ids = {site.space_by_key[v].id for v in values if v in site.space_by_key}
        return lambda p: p.space_id in ids
    if name == "type":
        wanted = {v.lower() for v in values}
        return lambda p: "page" in wanted
    if name == "id":
        page_ids = {int(v) for v in values if v.isdigit()}
        return lambda p: p.id in page_ids
    if name == "label":
        labels = set(values)
        return lambda p: bool(labels.intersection(p.labels))
    if name == "ancestor":
        roots = {int(v) for v in values if v.isdigit()}
        return lambda p: any(a.id in roots for a in site.ancestors(p))
    raise CqlError(f"'{name} in (...)' is unsupported; {_SUPPORTED}")


def _negate(predicate: Predicate) -> Predicate:
    return lambda p: not predicate(p)


def _comparison(name: str, op: str, value: str, site: Site) -> Predicate:
    if name in ("lastmodified", "created"):
        return _date_comparison(name, op, *_parse_date(value))
    if op in ("=", "!="):
        if name in ("space", "space.key", "type", "id", "label", "ancestor"):
            positive = _membership(name, [value], site)
            return positive if op == "=" else _negate(positive)
        if name == "title":
            return (lambda p: p.title == value) if op == "=" else (lambda p: p.title != value)
    if op in ("~", "!~") and name in ("title", "text"):
        needle = value.lower()

        def contains(page: PageRecord) -> bool:
            return needle in page.title.lower()

        return contains if op == "~" else _negate(contains)
    raise CqlError(f"'{name} {op}' is unsupported; {_SUPPORTED}")


def _now(tokens: list[tuple[str, str]], pos: int) -> tuple[int, int]:
    """Epoch ms of ``now(...)`` whose arguments start at ``pos``, and the position after it."""
    moment = int(time.time() * 1000)
    if pos < len(tokens) and tokens[pos][0] == "str":
        match = _NOW_OFFSET.fullmatch(tokens[pos][1].strip())
        if match is None:
            raise CqlError(f'bad now() offset {tokens[pos][1]!r}: use e.g. "-15m"')
        sign, amount, unit = match.groups()
        moment += (-1 if sign == "-" else 1) * int(amount) * _UNIT_MS[unit]
        pos += 1
    if pos >= len(tokens) or tokens[pos][1] != ")":
        raise CqlError("missing ')' after now(")
    return moment, pos + 1


def _date_comparison(name: str, op: str, start: int, width: int) -> Predicate:
    key = _ORDER_KEYS[name]
    comparisons: dict[str, Predicate] = {
        ">=": lambda p: key(p) >= start,
        ">": lambda p: key(p) >= start + width,
        "<": lambda p: key(p) < start,
        "<=": lambda p: key(p) < start + width,
        "=": lambda p: start <= key(p) < start + width,
        "!=": lambda p: not start <= key(p) < start + width,
    }
    if op not in comparisons:
        raise CqlError(f"'{name} {op}' is unsupported; {_SUPPORTED}")
    return comparisons[op]


def _parse_date(value: str) -> tuple[int, int]:
    """Start (epoch ms, UTC) and granularity of a CQL date."""
    for fmt, width in _DATE_FORMATS:
        try:
            moment = datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(moment.timestamp() * 1000), width
    raise CqlError(f'bad date {value!r}: use "yyyy-MM-dd HH:mm" or "yyyy-MM-dd"')


def _order_by(tokens: list[tuple[str, str]], pos: int) -> list[tuple[str, bool]]:
    if not _is(tokens, pos, "by"):
        raise CqlError("expected 'by' after 'order'")
    pos += 1
    order: list[tuple[str, bool]] = []
    while pos < len(tokens):
        kind, name = tokens[pos]
        if kind != "word" or name.lower() not in _ORDER_KEYS:
            raise CqlError(f"cannot order by {name!r}; {_SUPPORTED}")
        descending = False
        pos += 1
        if _is(tokens, pos, "asc") or _is(tokens, pos, "desc"):
            descending = tokens[pos][1].lower() == "desc"
            pos += 1
        order.append((name.lower(), descending))
        if pos < len(tokens):
            if tokens[pos][1] != ",":
                raise CqlError(f"unexpected {tokens[pos][1]!r} after 'order by'")
            pos += 1
    if not order:
        raise CqlError("'order by' needs a field")
    return order
