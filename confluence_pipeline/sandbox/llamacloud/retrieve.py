"""Lexical retrieval: term overlap between the query and a document, plus metadata filters."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, TypeVar

_T = TypeVar("_T")

_WORD = re.compile(r"\w+")


def terms(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def index_terms(
    text: str, metadata: Mapping[str, Any], excluded_keys: Collection[str]
) -> frozenset[str]:
    """The words a document is found by: its text and its embedded metadata values."""
    embedded = " ".join(str(value) for key, value in metadata.items() if key not in excluded_keys)
    return terms(f"{text} {embedded}")


def score(query_terms: frozenset[str], document_terms: frozenset[str]) -> float:
    """Share of the query's words found in the document, in [0, 1]."""
    if not query_terms:
        return 0.0
    return len(query_terms & document_terms) / len(query_terms)


def ranked(
    query_terms: frozenset[str],
    candidates: Iterable[tuple[frozenset[str], _T]],
    *,
    keep: Callable[[_T], bool],
    cutoff: float,
    top_k: int,
) -> list[tuple[float, _T]]:
    """The ``top_k`` best ``(score, item)`` with a positive score of at least ``cutoff`` that
    ``keep`` accepts, best first (ties keep the candidates' order)."""
    scored = []
    for position, (item_terms, item) in enumerate(candidates):
        value = score(query_terms, item_terms)
        if value > 0 and value >= cutoff and keep(item):
            scored.append((-value, position, item))
    scored.sort(key=lambda entry: entry[:2])
    return [(-negative, item) for negative, _, item in scored[:top_k]]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def operator(actual: Any, expected: Any) -> bool:
        try:
            return actual is not None and compare(actual, expected)
        except TypeError:
            return False

    return operator


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda actual, expected: actual == expected,
    "!=": lambda actual, expected: actual != expected,
    "<": _compare(lambda actual, expected: actual < expected),
    "<=": _compare(lambda actual, expected: actual <= expected),
    ">": _compare(lambda actual, expected: actual > expected),
    ">=": _compare(lambda actual, expected: actual >= expected),
    "in": lambda actual, expected: actual in _as_list(expected),
    "nin": lambda actual, expected: actual not in _as_list(expected),
    "any": lambda actual, expected: any(item in _as_list(actual) for item in _as_list(expected)),
    "all": lambda actual, expected: all(item in _as_list(actual) for item in _as_list(expected)),
    "contains": lambda actual, expected: expected in _as_list(actual),
    "text_match": lambda actual, expected: str(expected) in str(actual),
    "text_match_insensitive": lambda actual, expected: str(expected).lower() in str(actual).lower(),
    "is_empty": lambda actual, _expected: actual in (None, "", []),
}


_CONDITIONS = ("and", "or", "not")


class FilterError(ValueError):
    """A filter the emulator does not understand."""


def check_filters(filters: Mapping[str, Any] | None) -> None:
    """Raises FilterError for an unknown operator or condition or a filter without a key."""
    if not filters:
        return
    if (filters.get("condition") or "and") not in _CONDITIONS:
        raise FilterError(f"unsupported filter condition {filters.get('condition')!r}")
    for spec in filters.get("filters") or []:
        if "filters" in spec:
            check_filters(spec)
        elif spec.get("operator", "==") not in _OPERATORS or "key" not in spec:
            raise FilterError(f"unsupported filter {dict(spec)!r}")


def matches(filters: Mapping[str, Any] | None, metadata: Mapping[str, Any]) -> bool:
    """Whether ``metadata`` passes checked ``MetadataFilters`` (nested; and/or/not)."""
    if not filters:
        return True
    specs: Iterable[Mapping[str, Any]] = filters.get("filters") or []
    results = (
        matches(spec, metadata)
        if "filters" in spec
        else _OPERATORS[spec.get("operator", "==")](metadata.get(spec["key"]), spec.get("value"))
        for spec in specs
    )
    condition = filters.get("condition") or "and"
    if condition == "or":
        return any(results)
    if condition == "not":
        return not any(results)
    return all(results)
