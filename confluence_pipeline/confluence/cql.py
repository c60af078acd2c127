"""Building CQL safely: every value goes through :func:`cql_string`."""

from __future__ import annotations


def cql_string(value: str) -> str:
    """``value`` as a double-quoted CQL string: ``\\`` and ``"`` are escaped with a backslash,
    so whatever it holds stays one value (never more CQL)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
