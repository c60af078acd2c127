"""How HTML and Confluence elements convert: markdownify ``convert_*`` callbacks, and the
handlers of the HTML elements that walk their content themselves.

``convert_<tag>(el, text, parent_tags)`` receives the element's converted children, as in
markdownify. A handler (``render_pre(conv, el, ctx)``, registered in :mod:`.handlers`) reads
the element itself, for elements whose Markdown is more than their children's text.
"""

from __future__ import annotations

import re

from lxml import etree
from markdownify import ATX, MarkdownConverter, chomp  # type: ignore[attr-defined]

from .protocol import Converter
from .storage import attr, raw_text
from .text import EMPTY, Ctx, escape_brackets, inline_code, link_destination, quote

_WS_RE = re.compile(r"\s+")
_DEST_UNSAFE_RE = re.compile(r"[\s()<>]")


class HtmlElements(MarkdownConverter):
    """Element conversions; the walking lives in :class:`~.converter.StorageConverter`."""

    def plain(self, text: str, ctx: Ctx = EMPTY) -> str:  # provided by the walker
        raise NotImplementedError

    class Options(MarkdownConverter.DefaultOptions):  # type: ignore[name-defined,misc]
        heading_style = ATX
        bullets = "-"
        strip_document = None

    def convert_hN(self, n: int, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        if not text.strip():
            return ""
        heading: str = super().convert_hN(n, el, text, parent_tags)  # type: ignore[misc]
        return heading

    def convert_a(self, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        prefix: str
        suffix: str
        prefix, suffix, text = chomp(text)
        href = (el.get("href") or "").strip()
        if "_noformat" in parent_tags or not href or (href.startswith("#") and text):
            return prefix + text + suffix
        if not text or text.replace("\\_", "_") == href:
            if _DEST_UNSAFE_RE.search(href) or ":" not in href:
                return prefix + (text or "") + suffix
            return f"{prefix}<{href}>{suffix}"
        return f"{prefix}[{text}]({link_destination(href)}){suffix}"

    def convert_img(self, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        alt = self.plain(el.get("alt") or el.get("title") or "")
        src = (el.get("src") or "").strip()
        if not src or "_inline" in parent_tags:
            return alt
        return f"![{escape_brackets(alt)}]({link_destination(src)})"

    convert_strike = MarkdownConverter.convert_del  # type: ignore[attr-defined]

    def convert_div(self, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        text = text.strip()
        if "_inline" in parent_tags:
            return " " + text + " " if text else ""
        return "\n\n" + text + "\n\n" if text else ""

    convert_center = convert_details = convert_figure = convert_div
    convert_ac_layout = convert_ac_layout_section = convert_ac_layout_cell = convert_div
    convert_ac_rich_text_body = convert_ac_adf_content = convert_ac_adf_fallback = convert_div

    def convert_span(self, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        style = el.get("style")
        if style and "line-through" in style:  # the editor's strikethrough
            struck: str = self.convert_del(el, text, parent_tags)  # type: ignore[attr-defined]
            return struck
        return text

    # Cells and rows outside a table (tag soup): a cell is a block, rows make a table.
    convert_td = convert_th = convert_div

    def convert_summary(self, el: etree._Element, text: str, parent_tags: Ctx) -> str:
        text = text.strip()
        return f"\n\n**{text}**\n\n" if text else ""


def render_pre(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    code = raw_text(el)
    if not code.strip():
        return ""
    language = attr(el, "data-language") or _class_language(el.get("class") or "")
    if not language and len(el) and el[0].tag == "code":
        language = _class_language(el[0].get("class") or "")
    if "_inline" in ctx:
        return inline_code(_WS_RE.sub(" ", code).strip())
    return "\n\n" + conv.add_code(code.strip("\n"), language) + "\n\n"


def render_time(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    text = conv.process_children(el, ctx, False).strip()
    return text or conv.plain(el.get("datetime") or "", ctx)


def render_input(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    if (el.get("type") or "").lower() != "checkbox":
        return ""
    return "[x] " if el.get("checked") is not None else "[ ] "


def render_blockquote(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    body, mark = conv.quoted_body(el, ctx)
    if not body:
        return ""
    if "_inline" in ctx:
        return " " + body + " "
    return "\n\n" + (quote(body) if mark else body) + "\n\n"


def _class_language(classes: str) -> str:
    for name in classes.split():
        if name.startswith(("language-", "lang-")):
            return name.split("-", 1)[1]
    match = re.search(r"brush:\s*([\w#+-]+)", classes)
    return match.group(1) if match else ""
