"""The markdownify converter for Confluence storage format, walking an lxml tree.

markdownify's own walker runs over a BeautifulSoup tree; this subclass keeps its conversion
callbacks (``convert_p``, ``convert_hN``, ``convert_strong``, ``convert_code``, ...) and its
``parent_tags`` conventions (``_inline``, ``_noformat``) but feeds them from one lxml parse.
Tags whose handling needs more than their converted text (lists, tables, macros, links) have a
handler in the registry of :mod:`.handlers`, which walks the element itself through the
:class:`~.protocol.Converter` protocol this class implements. Code blocks are replaced by
placeholders while the page is assembled so that whitespace tidying never touches them.
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from lxml import etree

from .elements import HtmlElements
from .handlers import HANDLERS
from .macros import is_block_macro
from .protocol import TagHandler
from .storage import TAG_NAMES, ParsedAs, fallback_text, parse_storage, tag_name
from .text import EMPTY, CodeBlock, Ctx, collapse_blank_lines, finish, token, words

Handler = Callable[[etree._Element, Ctx], str]  # a tag's handler, bound to the converter

_WS_RE = re.compile(r"\s+")
_UNTIDY_RE = re.compile(r"[^\S ]|  ")  # whitespace other than single spaces
_MACROS = frozenset({"ac:structured-macro", "ac:macro"})
_MAX_CACHED_NAMES = 2048
_MAX_QUOTE_DEPTH = 8
_ESCAPE_RE = re.compile(r"\*(?!\s)|(?<!\s)\*|(?<![^\W_])_|_(?![^\W_])")

# Elements around which whitespace is insignificant (markdownify's block elements, plus ours).
BLOCK = words(
    "p div section article header footer aside nav main figure figcaption address h1 h2 "
    "h3 h4 h5 h6 ul ol li dl dt dd table thead tbody tfoot tr td th caption colgroup col "
    "blockquote pre hr br details summary storage-root body html center ac:layout "
    "ac:layout-section ac:layout-cell ac:rich-text-body ac:plain-text-body ac:parameter "
    "ac:default-parameter ac:task-list ac:task ac:task-body ac:task-id ac:task-status "
    "ac:task-uuid ac:adf-extension ac:adf-node ac:adf-content ac:adf-fallback "
    "ac:adf-attribute ac:adf-parameter"
)
# Elements dropped with everything inside them.
SKIP = words(
    "#comment #pi #entity #other script style head title meta link colgroup col template "
    "iframe object embed video audio source noscript ac:placeholder ac:parameter "
    "ac:default-parameter ac:task-id ac:task-uuid ac:task-status ac:adf-attribute "
    "ac:adf-parameter at:var at:declarations"
)
# parent_tags markers an element gives its children.
_CHILD_MARKERS: dict[str, frozenset[str]] = {
    "code": frozenset({"_noformat"}),
    "kbd": frozenset({"_noformat"}),
    "samp": frozenset({"_noformat"}),
    **{f"h{n}": frozenset({"_inline"}) for n in range(1, 7)},
}


class Outcome(enum.Enum):
    """The path a page took through conversion."""

    EMPTY = "empty"  # no markup to convert
    CONVERTED = "converted"  # its tree was walked (``Conversion.parsed_as`` says which tree)
    TOO_DEEP = "too-deep"  # its tree was too deep to walk: the page's plain text instead
    CRASHED = "crashed"  # the converter raised (a bug): the page's plain text instead


@dataclass(frozen=True)
class Conversion:
    """A page's Markdown and the path it took there."""

    markdown: str
    outcome: Outcome
    parsed_as: ParsedAs | None = None  # how the markup was read, when it was converted
    error: Exception | None = None  # what the converter raised (TOO_DEEP, CRASHED)


class StorageConverter(HtmlElements):
    """Converts one storage-format page at a time (an instance is not thread-safe).

    ``handlers``: the tag → handler registry to consult (default: :data:`.handlers.HANDLERS`).
    """

    def __init__(self, handlers: Mapping[str, TagHandler] = HANDLERS, **options: Any) -> None:
        super().__init__(**options)
        self._registry = handlers
        self._code_blocks: list[CodeBlock] = []
        self._tables_rendered = 0
        self._quote_depth = 0
        self._people: Mapping[str, str] = {}
        self._jira_url = ""
        self._bound: dict[str, Handler] = {}  # by tag name, cached
        self._ctx_cache: dict[tuple[Ctx, frozenset[str]], Ctx] = {}

    # -- entry points -------------------------------------------------------------------------

    def convert(self, html: str) -> str:
        return self.convert_tree(parse_storage(html).root)

    def convert_page(
        self, storage: str, people: Mapping[str, str] | None = None, jira_url: str = ""
    ) -> Conversion:
        """The Markdown of :func:`storage_to_markdown`, and the path the page took; never
        raises."""
        self._people = people or {}
        self._jira_url = jira_url
        if isinstance(storage, bytes):
            storage = storage.decode("utf-8", "replace")
        if not isinstance(storage, str) or not storage.strip():
            return Conversion("", Outcome.EMPTY)
        try:
            parsed = parse_storage(storage)
            return Conversion(self.convert_tree(parsed.root), Outcome.CONVERTED, parsed.parsed_as)
        except RecursionError as error:
            return Conversion(fallback_text(storage), Outcome.TOO_DEEP, error=error)
        except Exception as error:  # degrade to the page's text, never fail a load
            return Conversion(fallback_text(storage), Outcome.CRASHED, error=error)

    def convert_tree(self, root: etree._Element) -> str:
        self._code_blocks = []
        self._tables_rendered = 0
        self._quote_depth = 0
        body = self.process_children(root, EMPTY, True)
        return finish(body, self._code_blocks)

    def person(self, account_id: str) -> str | None:
        return self._people.get(account_id)

    @property
    def jira_url(self) -> str:
        return self._jira_url

    # -- walking ------------------------------------------------------------------------------

    def process_tag(self, el: etree._Element, ctx: Ctx) -> str:
        name = tag_name(el.tag)
        handler = self._bound.get(name)
        if handler is None:
            handler = self._resolve(name)
        return handler(el, ctx)

    def _resolve(self, name: str) -> Handler:
        if name in SKIP:
            handler: Handler = _skip
        elif name in self._registry:
            handler = partial(self._registry[name], self)
        else:
            convert_fn = self.get_conv_fn_cached(name)  # type: ignore[attr-defined]
            handler = self._generic(name, convert_fn)
        if len(self._bound) >= _MAX_CACHED_NAMES:  # junk pages invent tag names: stay bounded
            self._bound.clear()
            self.convert_fn_cache.clear()  # type: ignore[attr-defined]
        self._bound[name] = handler
        return handler

    def _generic(self, name: str, convert_fn: Callable[..., str] | None) -> Handler:
        markers = _CHILD_MARKERS.get(name)
        block = name in BLOCK

        def handle(el: etree._Element, ctx: Ctx) -> str:
            inner = self.with_markers(ctx, markers) if markers else ctx
            text = self.process_children(el, inner, block)
            return convert_fn(el, text, parent_tags=ctx) if convert_fn else text

        return handle

    def with_markers(self, ctx: Ctx, markers: frozenset[str]) -> Ctx:
        key = (ctx, markers)
        merged = self._ctx_cache.get(key)
        if merged is None:
            merged = self._ctx_cache[key] = ctx | markers
        return merged

    def is_block(self, el: etree._Element, name: str | None = None) -> bool:
        """Whether whitespace next to ``el`` is insignificant (it renders as a block)."""
        if name is None:
            name = tag_name(el.tag)
        if name in BLOCK:
            return True
        if name in _MACROS:
            return is_block_macro(el)
        return False

    def process_children(self, el: etree._Element, ctx: Ctx, block: bool) -> str:
        """Converted content of ``el``; ``block`` drops whitespace at its inner edges.

        This loop is where conversion spends most of its time: names are looked up once per
        child, handlers come from a dict, and text nodes take a fast path when already tidy.
        """
        text = el.text
        if not len(el):
            return self.process_text(text, ctx, block, block) if text else ""
        kids = list(el)
        names = [TAG_NAMES.get(kid.tag) or tag_name(kid.tag) for kid in kids]
        bound = self._bound
        out: list[str] = []
        if text:
            out.append(self.process_text(text, ctx, block, self.is_block(kids[0], names[0])))
        last = len(kids) - 1
        for i, kid in enumerate(kids):
            name = names[i]
            handler = bound.get(name) or self._resolve(name)
            converted = handler(kid, ctx)
            if converted:
                out.append(converted)
            tail = kid.tail
            if tail:
                after = self.is_block(kids[i + 1], names[i + 1]) if i < last else block
                out.append(self.process_text(tail, ctx, self.is_block(kid, name), after))
        return "".join(out)

    def process_text(
        self, text: str, ctx: Ctx, strip_left: bool = False, strip_right: bool = False
    ) -> str:
        if text.isspace():
            return "" if strip_left or strip_right else " "
        if _UNTIDY_RE.search(text):
            text = _WS_RE.sub(" ", text)
        if strip_left:
            text = text.lstrip(" ")
        if strip_right:
            text = text.rstrip(" ")
        if ("*" in text or "_" in text) and "_noformat" not in ctx:
            text = _ESCAPE_RE.sub(r"\\\g<0>", text)
        return text

    def escape(self, text: str, parent_tags: Ctx) -> str:
        """Escape ``*`` and ``_`` only where Markdown would read them as emphasis."""
        if "*" in text or "_" in text:
            return _ESCAPE_RE.sub(r"\\\g<0>", text)
        return text

    def plain(self, text: str, ctx: Ctx = EMPTY) -> str:
        """Attribute or CDATA text as inline Markdown: whitespace collapsed, escaped."""
        text = _WS_RE.sub(" ", text).strip()
        return text if "_noformat" in ctx else self.escape(text, ctx)

    def add_code(self, code: str, language: str = "") -> str:
        """A placeholder for a fenced code block, restored after the page is assembled."""
        self._code_blocks.append(CodeBlock(code, language))
        return token(len(self._code_blocks) - 1)

    def code_block(self, index: int) -> CodeBlock:
        return self._code_blocks[index]

    def count_table(self) -> None:
        self._tables_rendered += 1

    @property
    def tables_rendered(self) -> int:
        return self._tables_rendered

    def quoted_body(self, el: etree._Element | None, ctx: Ctx) -> tuple[str, bool]:
        """``block_body`` of a quote's content, and whether to mark it with ``>``: quotes
        nested deeper than ``_MAX_QUOTE_DEPTH`` stay unmarked, or every line of a deep page
        would carry hundreds of ``>``."""
        self._quote_depth += 1
        try:
            body = self.block_body(el, ctx)
        finally:
            self._quote_depth -= 1
        return body, self._quote_depth < _MAX_QUOTE_DEPTH

    def block_body(self, el: etree._Element | None, ctx: Ctx) -> str:
        """Converted content of a body element, stripped, blank lines collapsed."""
        if el is None:
            return ""
        return collapse_blank_lines(self.process_children(el, ctx, True).strip())


def _skip(el: etree._Element, ctx: Ctx) -> str:
    return ""


_local = threading.local()


def _converter() -> StorageConverter:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = StorageConverter()
    return converter


def convert_storage(
    storage: str, people: Mapping[str, str] | None = None, jira_url: str = ""
) -> Conversion:
    """:func:`storage_to_markdown`, and the path the page took (``Conversion.outcome``)."""
    conversion = _converter().convert_page(storage, people, jira_url)
    if conversion.error is not None:  # the next page starts on a fresh converter
        _local.converter = None
    return conversion


def storage_to_markdown(
    storage: str, people: Mapping[str, str] | None = None, jira_url: str = ""
) -> str:
    """Markdown for one page's storage-format body; never raises. ``people`` maps account ids
    to display names, so mentions read ``@Display Name``; others read ``@user(<id>)``.
    ``jira_url``: the Jira site's base URL, so that Jira issue keys become links to it.

    Macros keep their meaningful content (code, panels, expands, status text, excerpts, Jira
    issue keys and queries) and never leak their hidden parameters; tables become GFM tables,
    or one list item per row when a cell holds content a GFM cell cannot. Malformed markup is
    converted on a best-effort basis; input no parser can read (or nesting too deep to walk)
    falls back to its plain text.
    """
    return convert_storage(storage, people, jira_url).markdown
