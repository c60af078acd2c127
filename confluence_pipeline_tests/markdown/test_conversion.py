"""Conversion behaviour that the corpus does not show case by case: parser fallback, size,
depth, libxml2's limits, concurrency, linear work on hostile input."""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

import pytest

from confluence_pipeline.markdown import Outcome, ParsedAs, convert_storage, storage_to_markdown

from .corpus import Case
from .corpus.fragments import FRAGMENTS
from .corpus.pages import PAGES


@pytest.mark.parametrize("case", FRAGMENTS + PAGES, ids=str)
def test_a_page_the_xml_parser_rejects_converts_like_its_well_formed_self(case: Case) -> None:
    # An unclosed <br> makes the page malformed XML, so the forgiving HTML parser reads it.
    assert storage_to_markdown("<br>" + case.storage).strip() == storage_to_markdown(case.storage)


def test_a_one_megabyte_page_converts_whole() -> None:
    section = (
        "<h2>Section</h2><p>Some <strong>text</strong> with a "
        '<ac:link><ri:page ri:content-title="Link"/></ac:link>.</p>'
        "<table><tbody><tr><th>K</th><th>V</th></tr><tr><td>a</td><td>b</td></tr></tbody></table>"
        '<ac:structured-macro ac:name="code"><ac:parameter ac:name="language">go</ac:parameter>'
        "<ac:plain-text-body><![CDATA[fmt.Println(1)\nfmt.Println(2)]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )
    storage = section * (1_000_000 // len(section) + 1) + "<p>THE END</p>"
    assert len(storage) > 1_000_000
    conversion = convert_storage(storage)
    assert (conversion.outcome, conversion.parsed_as) == (Outcome.CONVERTED, ParsedAs.XML)
    markdown = conversion.markdown
    assert markdown.endswith("THE END")
    assert markdown.count("```go") == storage.count('"language">go<')


def test_twenty_levels_of_nested_tables_and_panels_keep_the_innermost_text() -> None:
    storage = '<table><tr><td><ac:structured-macro ac:name="info"><ac:rich-text-body>' * 20
    storage += "innermost"
    storage += "</ac:rich-text-body></ac:structured-macro></td></tr></table>" * 20
    assert "innermost" in storage_to_markdown(storage)


@pytest.mark.parametrize(
    "storage",
    [
        "<div>" * 300 + "bottom text" + "</div>" * 300,
        "<div><span>" * 5000 + "bottom text" + "</span></div>" * 5000,
        "<p>" + "bottom text " * 900_000 + "</p>",
    ],
    ids=["300-levels", "10000-levels", "10-MB-text-node"],
)
def test_a_page_beyond_libxml2_limits_is_read_as_its_text(storage: str) -> None:
    # libxml2 refuses more than 256 levels or a text node over 10 MB unless huge_tree lifts
    # its limits, which it must not: such a page is read as text, not parsed as XML.
    conversion = convert_storage(storage)
    assert (conversion.outcome, conversion.parsed_as) == (Outcome.CONVERTED, ParsedAs.TEXT)
    assert "bottom text" in conversion.markdown


def test_a_tree_too_deep_to_walk_falls_back_to_its_text() -> None:
    storage = "<blockquote>" * 255 + "bottom text" + "</blockquote>" * 255
    conversion = convert_storage(storage)
    assert conversion.outcome is Outcome.TOO_DEEP
    assert isinstance(conversion.error, RecursionError)
    assert conversion.markdown == "bottom text"


def test_bytes_and_empty_input() -> None:
    assert storage_to_markdown(b"<p>caf\xc3\xa9</p>") == "café"  # type: ignore[arg-type]
    assert storage_to_markdown("") == ""
    assert storage_to_markdown("<p></p>") == ""


def test_concurrent_conversions_do_not_interfere() -> None:
    storages = [case.storage for case in FRAGMENTS + PAGES] * 3
    expected = [storage_to_markdown(storage) for storage in storages]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(storage_to_markdown, storages)) == expected


def _calls(storage: str) -> int:
    """Function calls (Python and C) made converting ``storage``: a deterministic measure of
    work, unlike a clock."""
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    assert convert_storage(storage).outcome is Outcome.CONVERTED  # also warms the caches
    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        convert_storage(storage)
    finally:
        sys.setprofile(previous)
    return calls


@pytest.mark.parametrize(
    ("make", "n"),
    [
        (lambda n: "<br>" + "<ac:parameter>x" * n, 5_000),
        (lambda n: "&" + "<![CDATA[x" * n, 5_000),
        (lambda n: "<" * n, 50_000),
        (lambda n: "&" * n, 50_000),
        # Below 1000 rows a rowspan of 1000 covers every row beneath it: quadratic if expanded.
        (lambda n: "<table>" + '<tr><td rowspan="1000">x</td></tr>' * n + "</table>", 400),
        (lambda n: "<table><tr>" + '<td colspan="50">x</td>' * n + "</tr></table>", 2_500),
    ],
    ids=["unclosed-parameters", "unclosed-cdata", "lt-soup", "amp-soup", "rowspans", "colspans"],
)
def test_hostile_input_converts_with_linear_work(make: Callable[[int], str], n: int) -> None:
    assert _calls(make(2 * n)) <= 2.5 * _calls(make(n))
