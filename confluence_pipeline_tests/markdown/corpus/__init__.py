"""Storage-format corpus: fragments (``fragments.py``) and whole pages (``pages/*.xml``).

Written from Confluence's documented storage format and the shapes real pages take, with
expectations about meaning (text, structure, no leaked markup), not about exact output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).parent / "pages"


@dataclass(frozen=True)
class Case:
    name: str
    storage: str
    contains: tuple[str, ...] = ()  # substrings that must survive
    absent: tuple[str, ...] = ()  # substrings that must not appear (parameters, junk)
    lines: tuple[str, ...] = ()  # lines that must appear exactly (trailing spaces ignored)
    code: tuple[tuple[str, str], ...] = ()  # (fence language, exact code) of fenced blocks
    tables: tuple[tuple[tuple[str, ...], ...], ...] = ()  # GFM rows, header row first
    order: tuple[str, ...] = ()  # substrings that must appear in this order
    nested: tuple[tuple[str, str], ...] = ()  # (parent, child): child's line indented deeper
    empty: bool = False  # the page has no text a reader would see
    jira_url: str = ""  # the Jira site the conversion is told about

    def __str__(self) -> str:
        return self.name


def page(name: str, **expectations: object) -> Case:
    storage = (PAGES_DIR / f"{name}.xml").read_text(encoding="utf-8")
    return Case(name=f"page:{name}", storage=storage, **expectations)  # type: ignore[arg-type]
