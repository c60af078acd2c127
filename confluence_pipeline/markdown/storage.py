"""Parse Confluence storage format into an lxml tree, whatever state the markup is in.

Storage format is XML with undeclared ``ac:``/``ri:`` prefixes, HTML named entities and CDATA
sections. Well-formed pages are parsed once by libxml2's XML parser inside a wrapper element
that declares the prefixes; anything that parser rejects (unclosed tags, stray ``&``, unknown
prefixes) is re-parsed by the forgiving HTML parser, so a page always yields a tree. Both
parsers keep libxml2's safety limits (nesting deeper than 256 levels, a text node over 10 MB):
a page beyond them yields a tree holding just its text (:attr:`ParsedAs.TEXT`).

Elements are named through :func:`tag_name` (``"p"``, ``"ac:structured-macro"``,
``"ri:page"``) and attributes read through :func:`attr`, the same for both parsers.
"""

from __future__ import annotations

import enum
import html
import re
import threading
from dataclasses import dataclass
from html.entities import html5
from typing import TypedDict

from lxml import etree

AC_NS = "http://atlassian.com/content"
RI_NS = "http://atlassian.com/resource/identifier"
AT_NS = "http://atlassian.com/template"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_PREFIX_NS = {"ac": AC_NS, "ri": RI_NS, "at": AT_NS}
_NS_PREFIX = {uri: prefix for prefix, uri in _PREFIX_NS.items()}
_OTHER_NS = "urn:x-storage-prefix:"

ROOT_TAG = "storage-root"
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})

_ENTITY_RE = re.compile(
    r"&(?:([A-Za-z][A-Za-z0-9]{0,40});|(#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});))?"
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PREFIX_RE = re.compile(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[\w.-]+\s*=")
_TAG_RE = re.compile(r"<[^<>]*>")  # [^<>]: linear even on "<<<<..." soup
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")

_local = threading.local()


class ParsedAs(enum.Enum):
    """Which reading of a page's markup gave its tree."""

    XML = "xml"  # well-formed storage format
    HTML = "html"  # malformed markup, read by the forgiving HTML parser
    TEXT = "text"  # no parser read it (within libxml2's limits): a tree of its text alone


@dataclass(frozen=True)
class Parsed:
    root: etree._Element  # synthetic; its children are the page's top-level nodes
    parsed_as: ParsedAs


class _ParserOptions(TypedDict):
    no_network: bool
    remove_comments: bool
    remove_pis: bool
    collect_ids: bool


# Without huge_tree: libxml2's safety limits stay on for both parsers.
_OPTIONS = _ParserOptions(no_network=True, remove_comments=True, remove_pis=True, collect_ids=False)


def _xml_parser() -> etree.XMLParser:
    parser = getattr(_local, "xml", None)
    if parser is None:
        parser = _local.xml = etree.XMLParser(resolve_entities=False, **_OPTIONS)
    return parser


def _html_parser() -> etree.HTMLParser:
    parser = getattr(_local, "html", None)
    if parser is None:
        parser = _local.html = etree.HTMLParser(recover=True, default_doctype=False, **_OPTIONS)
    return parser


def _fix_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is not None:
        if name in _XML_ENTITIES:
            return match.group(0)
        char = html5.get(name + ";")
        if char is None:
            return "&amp;" + name + ";"
        return html.escape(char, quote=False)
    if match.group(2) is not None:
        return match.group(0)
    return "&amp;"


def _prepare(storage: str) -> str:
    """Make storage text acceptable to the XML parser without touching CDATA content."""
    if _CONTROL_RE.search(storage):
        storage = _CONTROL_RE.sub("", storage)
    if "&" in storage:
        if "<![CDATA[" in storage:  # entities inside CDATA are text: leave them alone
            parts = _split_cdata(storage)
            for i in range(0, len(parts), 2):
                if "&" in parts[i]:
                    parts[i] = _ENTITY_RE.sub(_fix_entity, parts[i])
            storage = "".join(parts)
        else:
            storage = _ENTITY_RE.sub(_fix_entity, storage)
    if storage.lstrip().startswith("<?xml"):
        storage = _XML_DECL_RE.sub("", storage, count=1)
    return storage


def _wrapper(extra_prefixes: set[str]) -> str:
    declared = dict(_PREFIX_NS)
    for prefix in sorted(extra_prefixes):
        if prefix not in declared and prefix not in ("xml", "xmlns"):
            declared[prefix] = _OTHER_NS + prefix
    attrs = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in declared.items())
    return f"<{ROOT_TAG} {attrs}>"


_DEFAULT_WRAPPER = _wrapper(set())


def _parse_xml(text: str, opening: str) -> etree._Element | None:
    try:
        return etree.fromstring(opening + text + f"</{ROOT_TAG}>", _xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None


def _parse_html(storage: str) -> Parsed:
    text = _CONTROL_RE.sub("", storage)
    if "<![CDATA[" in text:  # the HTML parser knows no CDATA: make its content plain text
        parts = _split_cdata(text)
        for i in range(1, len(parts), 2):
            content = parts[i][9:]
            parts[i] = html.escape(content[:-3] if content.endswith("]]>") else content, False)
        text = "".join(parts)
    root = etree.Element(ROOT_TAG)
    if not text.strip():
        return Parsed(root, ParsedAs.TEXT)
    try:
        document = etree.fromstring(f"<div>{text}</div>", _html_parser())
    except (etree.XMLSyntaxError, ValueError):
        document = None
    if document is not None:
        body = document.find("body")
        body = body if body is not None else document
        kept = sum(len("".join(part.split())) for part in body.itertext())
        # Below half the text: the parser gave up part way (a limit was hit).
        if 2 * kept >= len("".join(_text_only(text).split())):
            return Parsed(body, ParsedAs.HTML)
    root.text = _text_only(text)
    return Parsed(root, ParsedAs.TEXT)


def _split_cdata(text: str) -> list[str]:
    """``text`` cut into outside, CDATA section, outside, ...; in linear time, whatever the
    input (a regex with a lazy ``.*?`` goes quadratic on thousands of unterminated sections).
    An unterminated last section runs to the end of the text."""
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find("<![CDATA[", pos)
        if start < 0:
            parts.append(text[pos:])
            return parts
        end = text.find("]]>", start + 9)
        end = len(text) if end < 0 else end + 3
        parts += [text[pos:start], text[start:end]]
        pos = end
        if pos >= len(text):
            parts.append("")
            return parts


def _without_parameters(markup: str) -> str:
    """``markup`` without ``<ac:parameter>`` elements (their text is never page text)."""
    out: list[str] = []
    pos = 0
    while True:
        start = markup.find("<ac:parameter", pos)
        end = markup.find("</ac:parameter>", start) if start >= 0 else -1
        if end < 0:
            out.append(markup[pos:])
            return " ".join(out)
        out.append(markup[pos:start])
        pos = end + len("</ac:parameter>")


def _text_only(markup: str) -> str:
    """The text of ``markup`` with tags (and macro parameters) removed, entities decoded."""
    return html.unescape(_TAG_RE.sub(" ", _without_parameters(markup)))


def parse_storage(storage: str) -> Parsed:
    """The tree of ``storage`` and how it was read; never raises on malformed markup."""
    prepared = _prepare(storage)
    root = _parse_xml(prepared, _DEFAULT_WRAPPER)
    if root is None:
        prefixes = {a or b for a, b in _PREFIX_RE.findall(prepared)} - set(_PREFIX_NS)
        if prefixes:
            root = _parse_xml(prepared, _wrapper(prefixes))
    return Parsed(root, ParsedAs.XML) if root is not None else _parse_html(storage)


TAG_NAMES: dict[object, str] = {
    etree.Comment: "#comment",
    etree.ProcessingInstruction: "#pi",
    etree.Entity: "#entity",
}


def tag_name(tag: object) -> str:
    """Canonical name for an lxml ``el.tag``: ``"p"``, ``"ac:link"``, ``"ri:page"``."""
    name = TAG_NAMES.get(tag)
    if name is not None:
        return name
    if not isinstance(tag, str):
        name = "#other"
    elif tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = _NS_PREFIX.get(uri)
        if prefix is None and uri.startswith(_OTHER_NS):
            prefix = uri[len(_OTHER_NS) :]
        name = f"{prefix}:{local.lower()}" if prefix else local.lower()
    else:
        name = tag.lower()
    if len(TAG_NAMES) < 4096:
        TAG_NAMES[tag] = name
    return name


_ATTR_KEYS: dict[str, tuple[str, ...]] = {}


def attr(el: etree._Element, qname: str, default: str = "") -> str:
    """Value of attribute ``qname`` (``"ac:name"``, ``"href"``) or ``default``.

    Works for both parsers: namespaced keys from the XML parse, literal ``ac:`` keys from HTML.
    """
    keys = _ATTR_KEYS.get(qname)
    if keys is None:
        prefix, _, local = qname.rpartition(":")
        uri = _PREFIX_NS.get(prefix)
        keys = (f"{{{uri}}}{local}", qname) if uri else (qname,)
        _ATTR_KEYS[qname] = keys
    for key in keys:
        value = el.get(key)
        if value is not None:
            return value
    return default


def children(el: etree._Element, name: str) -> list[etree._Element]:
    """Direct children of ``el`` named ``name``."""
    return [child for child in el if tag_name(child.tag) == name]


def child(el: etree._Element, name: str) -> etree._Element | None:
    """First direct child of ``el`` named ``name``, or ``None``."""
    for kid in el:
        if tag_name(kid.tag) == name:
            return kid
    return None


def raw_text(el: etree._Element) -> str:
    """All text under ``el`` exactly as stored (CDATA included), ``<br>`` read as a newline."""
    parts: list[str] = []
    _collect_raw(el, parts)
    return "".join(parts)


def _collect_raw(el: etree._Element, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for kid in el:
        if tag_name(kid.tag) == "br":
            parts.append("\n")
        elif isinstance(kid.tag, str):
            _collect_raw(kid, parts)
        if kid.tail:
            parts.append(kid.tail)


def fallback_text(storage: str) -> str:
    """The page's readable text, for input the converter could not walk."""
    try:
        parts: list[str] = []
        for el in parse_storage(storage).root.iter():
            if isinstance(el.tag, str) and tag_name(el.tag) in ("ac:parameter", "p", "li", "tr"):
                parts.append("\n")
            if el.text and tag_name(el.tag) != "ac:parameter":
                parts.append(el.text)
            if el.tail:
                parts.append(el.tail)
        lines = (_collapse(line) for line in "".join(parts).split("\n"))
        return "\n\n".join(line for line in lines if line)
    except Exception:
        return _collapse(_text_only(storage))


def _collapse(text: str) -> str:
    return " ".join(text.split())
