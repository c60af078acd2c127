"""The document header an answer cites: title, path, URL, labels, author, last modified."""

from __future__ import annotations

import hashlib

from confluence_pipeline.markdown import content_hash, render_document


def _document(**overrides: object) -> str:
    fields: dict[str, object] = {
        "title": "Deploy checkout-api",
        "body_markdown": "## Steps\n\n1. Run the pipeline.\n",
        "space_key": "OPS",
        "space_name": "Operations",
        "url": "https://acme.atlassian.net/wiki/spaces/OPS/pages/123/Deploy",
        "breadcrumb": ("Runbooks", "Checkout"),
        "labels": ("runbook", "checkout"),
        "author": "Priya Raman",
        "last_modified": "2024-10-17T09:30:00Z",
    }
    fields.update(overrides)
    return render_document(**fields)  # type: ignore[arg-type]


def test_document_starts_with_the_title_then_metadata_then_body() -> None:
    text = _document()
    lines = text.split("\n")
    assert lines[0] == "# Deploy checkout-api"
    assert "- Path: Operations > Runbooks > Checkout > Deploy checkout-api" in lines
    assert "- URL: https://acme.atlassian.net/wiki/spaces/OPS/pages/123/Deploy" in lines
    assert "- Labels: runbook, checkout" in lines
    assert "- Author: Priya Raman" in lines
    assert "- Last modified: 2024-10-17T09:30:00Z" in lines
    assert "- Space: Operations (OPS)" in lines
    assert text.index("- Path:") < text.index("## Steps")
    assert text.endswith("1. Run the pipeline.\n")


def test_missing_optional_fields_are_left_out() -> None:
    text = _document(breadcrumb=(), labels=(), author=None, last_modified=None, space_name=None)
    assert "- Path: OPS > Deploy checkout-api" in text
    assert "Labels" not in text
    assert "Author" not in text
    assert "Last modified" not in text


def test_breadcrumb_ending_with_the_page_is_not_repeated() -> None:
    text = _document(breadcrumb=("Operations", "Runbooks", "Deploy checkout-api"))
    assert "- Path: Operations > Runbooks > Deploy checkout-api\n" in text


def test_titles_with_newlines_stay_on_one_heading_line_and_empty_titles_read_untitled() -> None:
    assert _document(title="Two\nlines").startswith("# Two lines\n")
    assert _document(title="  ").startswith("# Untitled\n")


def test_empty_body_still_gives_a_citable_header() -> None:
    text = _document(body_markdown="")
    assert text.startswith("# Deploy checkout-api\n\n- Path:")
    assert text.endswith("\n")


def test_content_hash_is_sha256_hex_of_utf8() -> None:
    assert content_hash("héllo") == hashlib.sha256("héllo".encode()).hexdigest()
    assert content_hash("a") != content_hash("b")
    assert len(content_hash("")) == 64
    assert content_hash("\ud800") == content_hash("\ud800")  # lone surrogate: no exception
