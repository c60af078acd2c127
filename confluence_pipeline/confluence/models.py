"""Typed records of the Confluence Cloud REST v2 objects this project reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Space:
    id: str
    key: str
    name: str
    homepage_id: str | None


@dataclass(frozen=True, slots=True)
class PageSummary:
    """A page as listed without its body. ``last_modified`` is ``version.createdAt`` (v2 has no
    lastModified field); ``url`` is the list's ``_links.base`` + the page's ``_links.webui``."""

    id: str
    space_id: str
    title: str
    status: str
    parent_id: str | None
    version: int
    last_modified: str
    author_id: str | None
    url: str
    editor_id: str | None = None
    """Who made the current version (``version.authorId``)."""


@dataclass(frozen=True, slots=True)
class Page:
    """A page with its storage-format body."""

    summary: PageSummary
    storage: str
