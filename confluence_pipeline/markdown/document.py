"""The Markdown document uploaded for a page: a title, a citation header, then the body."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

_WS_RE = re.compile(r"\s+")


def _line(text: str | None) -> str:
    return _WS_RE.sub(" ", text or "").strip()


def render_document(
    *,
    title: str,
    body_markdown: str,
    space_key: str,
    space_name: str | None,
    url: str,
    breadcrumb: Sequence[str] = (),
    labels: Sequence[str] = (),
    author: str | None = None,
    editor: str | None = None,
    last_modified: str | None = None,
) -> str:
    """``# <title>``, a metadata list an answer can cite, then ``body_markdown``.

    The path reads ``Space > Ancestor > ... > Page``; ``breadcrumb`` holds the ancestors'
    titles (a trailing entry equal to the title is not repeated). Empty or missing fields are
    left out; an empty title reads "Untitled". The result ends with one newline.
    """
    heading = _line(title) or "Untitled"
    space = _line(space_name) or _line(space_key)
    ancestors = [_line(part) for part in breadcrumb if _line(part)]
    if ancestors and ancestors[-1] == heading:
        ancestors.pop()
    if ancestors and space and ancestors[0] == space:
        ancestors.pop(0)
    path = " > ".join([part for part in (space, *ancestors, heading) if part])
    meta = [f"- Path: {path}"]
    key = _line(space_key)
    if space:
        meta.append(f"- Space: {space} ({key})" if key and key != space else f"- Space: {space}")
    if _line(url):
        meta.append(f"- URL: {_line(url)}")
    tags = [_line(label) for label in labels if _line(label)]
    if tags:
        meta.append("- Labels: " + ", ".join(tags))
    if _line(author):
        meta.append(f"- Author: {_line(author)}")
    if _line(editor) and _line(editor) != _line(author):
        meta.append(f"- Last edited by: {_line(editor)}")
    if _line(last_modified):
        meta.append(f"- Last modified: {_line(last_modified)}")
    parts = [f"# {heading}", "\n".join(meta)]
    body = (body_markdown or "").strip("\n")
    if body.strip():
        parts.append(body)
    return "\n\n".join(parts) + "\n"


def content_hash(text: str) -> str:
    """Hex SHA-256 of ``text`` encoded as UTF-8 (lone surrogates kept, never raises)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
