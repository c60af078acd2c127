"""Every corpus case converts without leaking markup or parameters, and keeps its meaning.

A check of one expectation (``contains``, ``lines``, ``code``, ...) runs on the cases that set
it, so every collected test asserts something.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confluence_pipeline.markdown import Conversion, Outcome, convert_storage, storage_to_markdown

from .checks import (
    fenced_blocks,
    gfm_tables,
    indent_of,
    line_of,
    macro_parameter_runs,
    macro_parameters,
    stripped_lines,
    without_code,
)
from .corpus import Case
from .corpus.fragments import FRAGMENTS
from .corpus.pages import PAGES

CASES = FRAGMENTS + PAGES
# Parameters a reader sees on the page, so the Markdown shows them too (as a label or caption).
DISPLAYED_PARAMETERS = {"title", "key", "jqlQuery"}


def _hidden_parameters(case: Case) -> list[tuple[str, str]]:
    parameters = macro_parameters(case.storage)
    return [(name, value) for name, value in parameters if name not in DISPLAYED_PARAMETERS]


def cases_where(sets: Callable[[Case], object]) -> pytest.MarkDecorator:
    """Parametrize ``case`` over the cases for which ``sets`` is truthy (they set what the
    test checks)."""
    return pytest.mark.parametrize("case", [case for case in CASES if sets(case)], ids=str)


def test_the_corpus_is_large_enough_and_uniquely_named() -> None:
    assert len(CASES) >= 60
    assert len(PAGES) >= 6
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> Case:
    param: Case = request.param
    return param


@pytest.fixture
def conversion(case: Case) -> Conversion:
    return convert_storage(case.storage, jira_url=case.jira_url)


@pytest.fixture
def markdown(conversion: Conversion) -> str:
    return conversion.markdown


def test_every_case_converts_without_falling_back(case: Case, conversion: Conversion) -> None:
    expected = Outcome.CONVERTED if case.storage.strip() else Outcome.EMPTY
    assert conversion.outcome is expected, conversion


def test_no_storage_markup_leaks(markdown: str) -> None:
    prose = without_code(markdown)
    for needle in ("ac:", "ri:", "<ac", "</ac", "<ri", "CDATA", "<![", "]]>"):
        assert needle not in prose


@cases_where(lambda case: _hidden_parameters(case) or macro_parameter_runs(case.storage))
def test_no_macro_parameter_becomes_text(case: Case, markdown: str) -> None:
    lines = stripped_lines(markdown)
    for name, value in _hidden_parameters(case):
        assert value not in lines, f"parameter {name}={value!r} leaked as a line"
    for run in macro_parameter_runs(case.storage):
        assert run not in markdown, f"parameters {run!r} leaked"


@cases_where(lambda case: case.contains)
def test_text_survives(case: Case, markdown: str) -> None:
    for text in case.contains:
        assert text in markdown, f"{text!r} missing from:\n{markdown}"


@cases_where(lambda case: case.absent)
def test_absent_text_stays_out(case: Case, markdown: str) -> None:
    for text in case.absent:
        assert text not in markdown, f"{text!r} should not be in:\n{markdown}"


@cases_where(lambda case: case.empty)
def test_pages_without_visible_text_give_no_markdown(case: Case, markdown: str) -> None:
    assert markdown.strip() == ""


@cases_where(lambda case: case.lines)
def test_lines_survive(case: Case, markdown: str) -> None:
    lines = {line.rstrip() for line in markdown.split("\n")}
    for line in case.lines:
        assert line in lines, f"line {line!r} missing from:\n{markdown}"


@cases_where(lambda case: case.order)
def test_order_is_kept(case: Case, markdown: str) -> None:
    position = -1
    for text in case.order:
        found = markdown.find(text, position + 1)
        assert found > position, f"{text!r} out of order in:\n{markdown}"
        position = found


@cases_where(lambda case: case.code)
def test_code_blocks_are_byte_exact_with_language(case: Case, markdown: str) -> None:
    blocks = fenced_blocks(markdown)
    for language, code in case.code:
        assert (language, code) in blocks, f"missing ```{language} block {code!r} in {blocks}"


@cases_where(lambda case: case.tables)
def test_tables_keep_rows_and_columns(case: Case, markdown: str) -> None:
    tables = gfm_tables(markdown)
    for expected in case.tables:
        rows = [list(row) for row in expected]
        assert rows in tables, f"table {rows} not among {tables}"


@cases_where(lambda case: case.nested)
def test_nesting_is_kept(case: Case, markdown: str) -> None:
    for parent, kid in case.nested:
        assert indent_of(markdown, kid) > indent_of(markdown, parent), markdown
        assert markdown.index(line_of(markdown, kid)) > markdown.index(line_of(markdown, parent))


def test_conversion_is_deterministic(case: Case, markdown: str) -> None:
    assert storage_to_markdown(case.storage, jira_url=case.jira_url) == markdown
