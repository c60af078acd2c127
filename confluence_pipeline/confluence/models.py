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


@dataclass(frozen=True, slots=True)
class PageScope:
    """What decides whether a page belongs in an index, besides its space: its labels and the
    read restriction on the page itself (inherited ones are computed from the ancestors)."""

    id: str
    labels: tuple[str, ...] = ()
    read_users: tuple[str, ...] = ()
    read_groups: tuple[str, ...] = ()

    @property
    def restricted(self) -> bool:
        return bool(self.read_users or self.read_groups)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a page, as the v2 listing shows it (``url``: its page in the UI, the
    list's ``_links.base`` + ``webuiLink``, else the download link)."""

    id: str
    page_id: str
    title: str
    media_type: str
    file_size: int
    version: int
    url: str


@dataclass(frozen=True, slots=True)
class ChangedPage:
    """A page CQL search reports as modified: where it is and at which version."""

    id: str
    space_key: str
    version: int
