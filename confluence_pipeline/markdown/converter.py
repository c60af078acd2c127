"""The markdownify converter for Confluence storage format, walking an lxml tree.

markdownify's own walker runs over a BeautifulSoup tree; this subclass keeps its conversion
callbacks (``convert_p``, ``convert_hN``, ``convert_strong``, ``convert_code``, ...) and its
``parent_tags`` conventions (``_inline``, ``_noformat``) but feeds them from one lxml parse.
Tags whose handling needs more than their converted text (lists, tables, macros, links) have a
``render_<tag>`` method that walks the element itself. Code blocks are replaced by placeholders
while the page is assembled so that whitespace tidying never touches them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from lxml import etree

from . import adf, links, lists, macros, tables
from .elements import HtmlElements
from .storage import TAG_NAMES, fallback_text, parse_storage, raw_text, tag_name
from .text import EMPTY, CodeBlock, Ctx, collapse_blank_lines, finish, quote, token, words

Handler = Callable[[etree._Element, Ctx], str]

_WS_RE = re.compile(r"\s+")
_UNTIDY_RE = re.compile(r"[^\S ]|  ")  # whitespace other than single spaces
_MACROS = frozenset({"ac:structured-macro", "ac:macro"})
_MAX_CACHED_NAMES = 2048
_MAX_QUOTE_DEPTH = 8
_ESCAPE_RE = re.compile(r"\*(?!\s)|(?<!\s)\*|(?<![^\W_])_|_(?![^\W_])")
_MANGLE_RE = re.compile(r"[\[\]:.#-]")

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


class StorageConverter(HtmlElements):
    """Converts one storage-format page at a time (an instance is not thread-safe)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.code_blocks: list[CodeBlock] = []
        self.tables_rendered = 0
        self.quote_depth = 0
        self._handlers: dict[str, Handler] = {}
        self._ctx_cache: dict[tuple[Ctx, frozenset[str]], Ctx] = {}

    # -- entry points -------------------------------------------------------------------------

    def convert(self, html: str) -> str:
        return self.convert_tree(parse_storage(html))

    def convert_tree(self, root: etree._Element) -> str:
        self.code_blocks = []
        self.tables_rendered = 0
        self.quote_depth = 0
        body = self.process_children(root, EMPTY, True)
        return finish(body, self.code_blocks)

    # -- walking ------------------------------------------------------------------------------

    def process_tag(self, node: etree._Element, parent_tags: Ctx | None = None) -> str:
        name = tag_name(node.tag)
        handler = self._handlers.get(name)
        if handler is None:
            handler = self._resolve(name)
        return handler(node, parent_tags or EMPTY)

    def _resolve(self, name: str) -> Handler:
        mangled = _MANGLE_RE.sub("_", name)
        render = getattr(self, "render_" + mangled, None)
        if name in SKIP:
            handler: Handler = _skip
        elif render is not None:
            handler = render
        else:
            convert_fn = self.get_conv_fn_cached(name)  # type: ignore[attr-defined]
            handler = self._generic(name, convert_fn)
        if len(self._handlers) >= _MAX_CACHED_NAMES:  # junk pages invent tag names: stay bounded
            self._handlers.clear()
            self.convert_fn_cache.clear()  # type: ignore[attr-defined]
        self._handlers[name] = handler
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
            return macros.is_block_macro(el)
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
        handlers = self._handlers
        out: list[str] = []
        if text:
            out.append(self.process_text(text, ctx, block, self.is_block(kids[0], names[0])))
        last = len(kids) - 1
        for i, kid in enumerate(kids):
            name = names[i]
            handler = handlers.get(name) or self._resolve(name)
            converted = handler(kid, ctx)
            if converted:
                out.append(converted)
            tail = kid.tail
            if tail:
                after = self.is_block(kids[i + 1], names[i + 1]) if i < last else block
                out.append(self.process_text(tail, ctx, self.is_block(kid, name), after))
        return "".join(out)

    def process_text(  # type: ignore[override]
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
        self.code_blocks.append(CodeBlock(code, language))
        return token(len(self.code_blocks) - 1)

    def quoted_body(self, el: etree._Element | None, ctx: Ctx) -> tuple[str, bool]:
        """``block_body`` of a quote's content, and whether to mark it with ``>``: quotes
        nested deeper than ``_MAX_QUOTE_DEPTH`` stay unmarked, or every line of a deep page
        would carry hundreds of ``>``."""
        self.quote_depth += 1
        try:
            body = self.block_body(el, ctx)
        finally:
            self.quote_depth -= 1
        return body, self.quote_depth < _MAX_QUOTE_DEPTH

    def render_blockquote(self, el: etree._Element, ctx: Ctx) -> str:
        body, mark = self.quoted_body(el, ctx)
        if not body:
            return ""
        if "_inline" in ctx:
            return " " + body + " "
        return "\n\n" + (quote(body) if mark else body) + "\n\n"

    def block_body(self, el: etree._Element | None, ctx: Ctx) -> str:
        """Converted content of a body element, stripped, blank lines collapsed."""
        if el is None:
            return ""
        return collapse_blank_lines(self.process_children(el, ctx, True).strip())

    # -- elements converted by the helper modules ------------------------------------------

    def render_ul(self, el: etree._Element, ctx: Ctx) -> str:
        return lists.render_list(self, el, ctx, ordered=False)

    def render_ol(self, el: etree._Element, ctx: Ctx) -> str:
        return lists.render_list(self, el, ctx, ordered=True)

    def render_li(self, el: etree._Element, ctx: Ctx) -> str:
        return lists.render_list(self, el, ctx, ordered=False, items=[el])

    def render_table(self, el: etree._Element, ctx: Ctx) -> str:
        return tables.render_table(self, el, ctx)

    render_tr = render_thead = render_tbody = render_tfoot = render_table

    def render_ac_structured_macro(self, el: etree._Element, ctx: Ctx) -> str:
        return macros.render_macro(self, el, ctx)

    render_ac_macro = render_ac_structured_macro

    def render_ac_adf_extension(self, el: etree._Element, ctx: Ctx) -> str:
        return adf.render_adf_extension(self, el, ctx)

    def render_ac_adf_node(self, el: etree._Element, ctx: Ctx) -> str:
        return adf.render_adf_node(self, el, ctx)

    def render_ac_plain_text_body(self, el: etree._Element, ctx: Ctx) -> str:
        return macros.render_plain_body(self, el, ctx, "")

    def render_ac_task_list(self, el: etree._Element, ctx: Ctx) -> str:
        return lists.render_task_list(self, el, ctx)

    def render_ac_task(self, el: etree._Element, ctx: Ctx) -> str:
        return lists.render_task_list(self, el, ctx, tasks=[el])

    def render_ac_link(self, el: etree._Element, ctx: Ctx) -> str:
        return links.render_link(self, el, ctx)

    def render_ac_image(self, el: etree._Element, ctx: Ctx) -> str:
        return links.render_image(self, el, ctx)

    def render_ac_emoticon(self, el: etree._Element, ctx: Ctx) -> str:
        return links.render_emoticon(self, el, ctx)

    def render_ac_plain_text_link_body(self, el: etree._Element, ctx: Ctx) -> str:
        return self.plain(raw_text(el), ctx)

    def render_ri_user(self, el: etree._Element, ctx: Ctx) -> str:
        return links.mention(self, el, "", ctx)


def _skip(el: etree._Element, ctx: Ctx) -> str:
    return ""


_local = threading.local()


def _converter() -> StorageConverter:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = StorageConverter()
    return converter


def storage_to_markdown(storage: str) -> str:
    """Markdown for one page's storage-format body; never raises.

    Macros keep their meaningful content (code, panels, expands, status text, excerpts) and
    never leak their parameters; tables become GFM tables, or one list item per row when a
    cell holds content a GFM cell cannot. Malformed markup is converted on a best-effort basis;
    input no parser can read (or nesting too deep to walk) falls back to its plain text.
    """
    if isinstance(storage, bytes):
        storage = storage.decode("utf-8", "replace")
    if not isinstance(storage, str) or not storage.strip():
        return ""
    try:
        return _converter().convert(storage)
    except Exception:  # RecursionError included: degrade to the page's text, never fail a load
        _local.converter = None
        return fallback_text(storage)
