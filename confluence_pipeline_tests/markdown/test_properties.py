"""Whatever markup arrives, conversion never raises and takes a defined path: well-formed
markup is converted from its XML tree, and no input makes the converter crash into its
plain-text fallback (which would hide the crash behind a string)."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from confluence_pipeline.markdown import (
    Conversion,
    Outcome,
    ParsedAs,
    StorageConverter,
    convert_storage,
)
from confluence_pipeline.markdown.handlers import HANDLERS
from confluence_pipeline.markdown.protocol import Converter
from confluence_pipeline.markdown.text import Ctx

Convert = Callable[[str], Conversion]

TAGS = [
    "p", "div", "span", "strong", "em", "code", "pre", "ul", "ol", "li", "table", "tbody",
    "thead", "tr", "td", "th", "h1", "h3", "blockquote", "a", "br", "hr", "img", "time",
    "ac:structured-macro", "ac:parameter", "ac:rich-text-body", "ac:plain-text-body",
    "ac:link", "ac:link-body", "ac:plain-text-link-body", "ac:image", "ac:emoticon",
    "ac:task-list", "ac:task", "ac:task-status", "ac:task-body", "ac:layout",
    "ac:layout-section", "ac:layout-cell", "ac:placeholder", "ac:adf-extension", "ac:adf-node",
    "ac:adf-content", "ac:adf-attribute", "ri:page", "ri:user", "ri:attachment", "ri:url",
    "foo:bar", "x",
]  # fmt: skip
ATTRS = [
    'ac:name="code"', 'ac:name="info"', 'ac:name="status"', 'ac:name="expand"',
    'ac:name="language"', 'ac:name="title"', 'ac:name="jira"', 'ac:name="nope"',
    'ri:content-title="Page"', 'ri:filename="a b.png"', 'ri:account-id="557058:x"',
    'ri:value="https://e.x/i.png"', 'colspan="3"', 'rowspan="0"', 'colspan="-1"',
    'rowspan="99999"', 'start="x"', 'href="javascript:1"', 'datetime="2024-01-01"',
    'type="panel"', 'key="panel-type"',
]  # fmt: skip
MALFORMED_ATTRS = ["bare", 'x="<>&"']
CHARS = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
TEXT = CHARS | st.sampled_from(
    ["&nbsp;", "&rarr;", "&bogus;", "&", "<", ">", "]]>", "|", "`", "*_", "\n"]
)
XML_TEXT = CHARS.map(lambda text: html.escape(text, quote=False)) | st.sampled_from(
    ["&nbsp;", "&rarr;", "&amp;", "&#169;", "|", "`", "*_", "\n"]
)


def _converted(conversion: Conversion, *outcomes: Outcome) -> Conversion:
    """``conversion``, after asserting it took one of ``outcomes``."""
    assert conversion.outcome in outcomes, conversion
    return conversion


@st.composite
def _fragment(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9))
    if kind < 2 or depth > 6:
        return draw(TEXT)
    if kind == 2:
        return f"<![CDATA[{draw(TEXT)}]]>"
    tag = draw(st.sampled_from(TAGS))
    attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS + MALFORMED_ATTRS), max_size=2)))
    opening = f"<{tag} {attrs}>" if attrs else f"<{tag}>"
    if kind == 3:
        return opening.replace(">", "/>", 1) if draw(st.booleans()) else opening  # unclosed
    inner = "".join(draw(st.lists(_fragment(depth + 1), max_size=4)))
    closing = f"</{tag}>" if draw(st.integers(0, 9)) else f"</{draw(st.sampled_from(TAGS))}>"
    return opening + inner + closing


def _element(tag: str, attrs: list[str], kids: list[str] | None) -> str:
    opening = f"<{tag}" + "".join(" " + attr for attr in attrs)
    return opening + "/>" if kids is None else f"{opening}>{''.join(kids)}</{tag}>"


_XML_NODE = st.recursive(
    XML_TEXT | CHARS.map(lambda text: f"<![CDATA[{text.replace(']]>', ']] >')}]]>"),
    lambda kids: st.builds(
        _element,
        st.sampled_from(TAGS),
        st.lists(st.sampled_from(ATTRS), max_size=2, unique_by=lambda attr: attr.split("=")[0]),
        st.none() | st.lists(kids, max_size=4),
    ),
    max_leaves=50,
)
SOUP = st.lists(_fragment(), max_size=6).map("".join)
WELL_FORMED = st.lists(_XML_NODE, max_size=6).map("".join)


def well_formed_property(convert: Convert) -> Callable[[], None]:
    """The property: well-formed markup converts from its XML tree, never via a fallback."""

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(WELL_FORMED)
    def check(storage: str) -> None:
        conversion = convert(storage)
        if storage.strip():
            assert conversion.outcome is Outcome.CONVERTED, conversion
            assert conversion.parsed_as is ParsedAs.XML, conversion
        else:
            assert conversion.outcome is Outcome.EMPTY, conversion

    return check


test_well_formed_markup_converts_from_its_xml_tree = well_formed_property(convert_storage)


def _crash(conv: Converter, el: etree._Element, ctx: Ctx) -> str:
    raise ValueError("a handler bug")


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # reporting the failure
def test_a_crashing_handler_fails_the_well_formed_property() -> None:
    broken = StorageConverter(handlers=dict.fromkeys(HANDLERS, _crash))
    conversion = broken.convert_page("<ul><li>kept text</li></ul>")
    assert conversion.outcome is Outcome.CRASHED
    assert isinstance(conversion.error, ValueError)
    assert conversion.markdown == "kept text"  # the fallback alone would look like success
    with pytest.raises(AssertionError):
        well_formed_property(broken.convert_page)()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP)
def test_tag_soup_converts_without_crashing(storage: str) -> None:
    _converted(convert_storage(storage), Outcome.CONVERTED, Outcome.TOO_DEEP, Outcome.EMPTY)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SOUP, st.integers(0, 10_000))
def test_truncated_documents_convert_without_crashing(storage: str, cut: int) -> None:
    truncated = storage[: cut % (len(storage) + 1)]
    _converted(convert_storage(truncated), Outcome.CONVERTED, Outcome.TOO_DEEP, Outcome.EMPTY)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_converts(storage: str) -> None:
    _converted(convert_storage(storage), Outcome.CONVERTED, Outcome.EMPTY)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ul", "ol", "li", "table", "tr", "td", "div", "blockquote",
                                 "ac:rich-text-body", "ac:task-list", "ac:task-body"]),
                min_size=1, max_size=400))  # fmt: skip
def test_arbitrary_nesting_converts_or_falls_back_as_too_deep(tags: list[str]) -> None:
    storage = "".join(f"<{t}>" for t in tags) + "deep text" + "".join(f"</{t}>" for t in tags[::-1])
    conversion = _converted(convert_storage(storage), Outcome.CONVERTED, Outcome.TOO_DEEP)
    assert "deep text" in conversion.markdown


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=80))
def test_code_macro_bodies_survive_byte_for_byte(code: str) -> None:
    code = code.replace("\r", "").replace("]]>", "]] >")
    if not code.strip() or any(ord(ch) < 32 and ch not in "\t\n" for ch in code):
        return
    storage = (
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">text'
        f"</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )
    conversion = _converted(convert_storage(storage), Outcome.CONVERTED)
    assert conversion.parsed_as is ParsedAs.XML
    assert code.rstrip("\n") in conversion.markdown
