"""The MCP server's small parts: page references, excerpts, the exposure rule, and its
independence from Dagster."""

from __future__ import annotations

import subprocess
import sys

import pytest

from confluence_pipeline.markdown import render_document
from confluence_pipeline.mcp.http import ExposureError, check_exposure, is_loopback
from confluence_pipeline.mcp.pages import PageRef, PageRefError, parse_page_ref
from confluence_pipeline.mcp.retrieval import pipeline_filters
from confluence_pipeline.mcp.service import excerpt
from confluence_pipeline.settings import SECRET_ENV, Settings


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("163845", PageRef("163845")),
        (" 163845\n", PageRef("163845")),
        (
            "https://acme.atlassian.net/wiki/spaces/ENG/pages/163845/Deploy+guide",
            PageRef("163845", "acme.atlassian.net"),
        ),
        (
            "https://ACME.atlassian.net/wiki/spaces/ENG/pages/163845",
            PageRef("163845", "acme.atlassian.net"),
        ),
        (
            "https://acme.atlassian.net/wiki/spaces/ENG/pages/edit-v2/163845",
            PageRef("163845", "acme.atlassian.net"),
        ),
        (
            "http://127.0.0.1:8790/wiki/pages/viewpage.action?pageId=42&x=1",
            PageRef("42", "127.0.0.1"),
        ),
    ],
)
def test_page_references(ref: str, expected: PageRef) -> None:
    assert parse_page_ref(ref) == expected


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "abc",
        "12a",
        "https://acme.atlassian.net/wiki/spaces/ENG/overview",
        "https://acme.atlassian.net/wiki/x/AbCd",
        "ftp://acme/pages/12/x",
        "/wiki/spaces/ENG/pages/12/x",
        "https://acme.atlassian.net/wiki/pages/viewpage.action?pageId=abc",
    ],
)
def test_what_is_not_a_page_reference(ref: str) -> None:
    with pytest.raises(PageRefError, match="is not a page id or a Confluence page URL"):
        parse_page_ref(ref)


def test_excerpts_leave_the_document_header_out_and_center_on_the_query() -> None:
    body = " ".join(f"word{i}" for i in range(400)) + " the needle-77 is here " + "tail " * 200
    text = render_document(
        title="T", body_markdown=body, space_key="ENG", space_name="Eng", url="https://x/1"
    )
    cut = excerpt(text, "where is needle-77?", limit=200)
    assert "needle-77" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= 202 and "- URL:" not in cut
    short = render_document(
        title="T", body_markdown="just this", space_key="ENG", space_name="Eng", url="https://x/1"
    )
    assert excerpt(short, "anything") == "just this"
    assert excerpt("no header\n\nat   all", "x") == "no header at all"


def test_filters_in_the_v1_shape() -> None:
    assert pipeline_filters({}) is None
    assert pipeline_filters({"space_key": ["ENG", "OPS"]}) == {
        "filters": [{"key": "space_key", "operator": "in", "value": ["ENG", "OPS"]}],
        "condition": "and",
    }


def test_serving_beyond_loopback_needs_a_long_enough_token() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host)
        check_exposure(host, None)
    for host in ("0.0.0.0", "::", "10.1.2.3", "mcp.example.com"):
        assert not is_loopback(host)
        with pytest.raises(ExposureError, match="set CONFLUENCE_PIPELINE_MCP_TOKEN"):
            check_exposure(host, None)
        check_exposure(host, "x" * 16)
    with pytest.raises(ExposureError, match="too short"):
        check_exposure("127.0.0.1", "x" * 15)


def test_the_token_is_read_by_settings_and_masked() -> None:
    settings = Settings.from_env({"CONFLUENCE_PIPELINE_MCP_TOKEN": "t" * 20})
    assert settings.mcp_token == "t" * 20
    assert Settings.from_env({}).mcp_token is None
    assert "CONFLUENCE_PIPELINE_MCP_TOKEN" in SECRET_ENV
    assert "t" * 20 in settings.secret_values()


def test_the_mcp_package_does_not_import_dagster() -> None:
    code = (
        "import sys, confluence_pipeline.mcp; "
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'dagster']; "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
