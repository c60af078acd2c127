"""Pages fetched live from Confluence and converted exactly as the sync converts them."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import Page, Space
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.settings import Settings
from confluence_pipeline.state import StateStore
from confluence_pipeline.sync import people
from confluence_pipeline.sync.connections import open_quick_client
from confluence_pipeline.sync.converter import ConversionJob, convert
from confluence_pipeline.sync.plan import page_metadata

_PAGE_ID = re.compile(r"^[0-9]{1,30}$")
_PATH_ID = re.compile(r"/pages/(?:edit-v2/|edit/)?([0-9]{1,30})(?:/|$)")
_SHOWN = 120


class PageRefError(PipelineError):
    """What was given is neither a page id nor a Confluence page URL."""


@dataclass(frozen=True, slots=True)
class PageRef:
    page_id: str
    host: str | None = None
    """The URL's host name, when a URL was given."""


def parse_page_ref(ref: str) -> PageRef:
    """A page id (digits), or a Confluence URL with ``/pages/<id>`` in its path or a
    ``pageId=<id>`` query parameter. Raises PageRefError."""
    text = ref.strip()
    if _PAGE_ID.match(text):
        return PageRef(text)
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.hostname:
        match = _PATH_ID.search(parts.path)
        ids = parse_qs(parts.query).get("pageId", [])
        if match:
            return PageRef(match.group(1), parts.hostname.lower())
        if ids and _PAGE_ID.match(ids[0]):
            return PageRef(ids[0], parts.hostname.lower())
    shown = text if len(text) <= _SHOWN else f"{text[:_SHOWN]}..."
    raise PageRefError(
        f"{shown!r} is not a page id or a Confluence page URL: give the numeric id, a URL "
        "like https://SITE/wiki/spaces/KEY/pages/<id>/Title, or one with ?pageId=<id>"
    )


@dataclass(frozen=True, slots=True)
class LivePage:
    """A page as Confluence serves it now. ``space_key`` is None when the page's space is not
    one of those asked about; ``markdown`` is set only for a current page of such a space."""

    page_id: str
    title: str
    url: str
    status: str
    version: int
    last_modified: str
    space_key: str | None
    space_name: str | None
    markdown: str | None = None


class PageFetcher(Protocol):
    def fetch(self, connection_id: int, page_id: str, spaces: Collection[str]) -> LivePage | None:
        """Page ``page_id`` through connection ``connection_id``, its Markdown converted when
        it is current and in one of ``spaces``; None when the site has no such page visible
        to the connection. Raises PipelineError (Confluence or credentials failing)."""
        ...


class ConversionError(PipelineError):
    """The page's body could not be converted to Markdown."""


class ConfluencePageFetcher:
    """The production :class:`PageFetcher`: the connection's credentials (API token or OAuth,
    refreshed as the sync refreshes them), interactive timeouts, people named through the
    state's cache, breadcrumbs from the page's ancestors."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def fetch(self, connection_id: int, page_id: str, spaces: Collection[str]) -> LivePage | None:
        connection = self._store.registry.connection_by_id(connection_id)
        with open_quick_client(self._store, connection) as client:
            page = client.get_page(page_id)
            if page is None:
                return None
            space = self._space_of(client, connection_id, page.summary.space_id, spaces)
            summary = page.summary
            live = LivePage(
                page_id=summary.id,
                title=summary.title,
                url=summary.url,
                status=summary.status,
                version=summary.version,
                last_modified=summary.last_modified,
                space_key=space.key if space else None,
                space_name=space.name if space else None,
            )
            if space is None or summary.status != "current":
                return live
            markdown = self._convert(client, page, space)
        return replace(live, markdown=markdown)

    def _space_of(
        self,
        client: ConfluenceClient,
        connection_id: int,
        space_id: str,
        keys: Collection[str],
    ) -> Space | None:
        """The space among ``keys`` whose id is ``space_id``: from the spaces the sync
        recorded, else asked of the site (one request)."""
        for key in keys:
            row = self._store.registry.get_space(connection_id, key)
            if row is not None and row.space_id == space_id:
                return Space(row.space_id, row.key, row.name, row.homepage_id)
        for space in client.get_spaces(list(keys)).values():
            if space.id == space_id:
                return space
        return None

    def _convert(self, client: ConfluenceClient, page: Page, space: Space) -> str:
        """The page's document text, built as the sync builds it (``sync.plan.staged_body``
        metadata, ``sync.convert`` names, ``sync.converter.convert``)."""
        summary = page.summary
        breadcrumb = [space.name, *self._ancestor_titles(client, summary.id)]
        staged = page_metadata(page, space, breadcrumb)
        ids = people.account_ids(staged)
        people.resolve_names(self._store, client, ids)
        metadata, page_names = people.named(staged, people.known_names(self._store, ids))
        jira_url = Settings.from_env().jira_url
        done = convert(ConversionJob(0, page.storage, metadata, page_names, jira_url))
        if done.markdown is None:
            raise ConversionError(f"page {summary.id}: {done.error}")
        return done.markdown

    @staticmethod
    def _ancestor_titles(client: ConfluenceClient, page_id: str) -> list[str]:
        """Titles of the page's current ancestors, highest first (two requests)."""
        ancestors = client.get_ancestors(page_id)
        if not ancestors:
            return []
        titles = {page.id: page.title for page in client.find_pages(ancestors)}
        return [titles[ancestor] for ancestor in ancestors if ancestor in titles]
