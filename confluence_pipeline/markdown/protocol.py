"""What a tag handler may ask of the converter walking the page.

A handler converts one element (a list, a table, a macro, a link, ...) given the converter and
the markers of its context. Whatever it needs from the walk goes through :class:`Converter`, so
the walk's state (code blocks, counters, quote depth) stays the converter's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lxml import etree

from .text import EMPTY, CodeBlock, Ctx


class Converter(Protocol):
    def process_children(self, el: etree._Element, ctx: Ctx, block: bool) -> str:
        """Converted content of ``el``; ``block`` drops whitespace at its inner edges."""
        ...

    def process_tag(self, el: etree._Element, ctx: Ctx) -> str:
        """``el`` converted by the handler of its tag."""
        ...

    def block_body(self, el: etree._Element | None, ctx: Ctx) -> str:
        """Converted content of a body element, stripped, blank lines collapsed."""
        ...

    def quoted_body(self, el: etree._Element | None, ctx: Ctx) -> tuple[str, bool]:
        """``block_body`` of a quote's content, and whether to mark its lines with ``>``."""
        ...

    def plain(self, text: str, ctx: Ctx = EMPTY) -> str:
        """Attribute or CDATA text as inline Markdown: whitespace collapsed, escaped."""
        ...

    def add_code(self, code: str, language: str = "") -> str:
        """A placeholder for a fenced code block, restored after the page is assembled."""
        ...

    def code_block(self, index: int) -> CodeBlock:
        """The code block behind placeholder ``index``."""
        ...

    def count_table(self) -> None:
        """Count a table as rendered (a cell holding one cannot be a GFM cell)."""
        ...

    def person(self, account_id: str) -> str | None:
        """The display name of ``account_id``, when the caller of the conversion knows it."""
        ...

    @property
    def jira_url(self) -> str:
        """The base URL of the Jira site that Jira macros link to, ``""`` when unknown."""
        ...

    @property
    def tables_rendered(self) -> int:
        """Tables counted so far on this page."""
        ...


TagHandler = Callable[[Converter, etree._Element, Ctx], str]
