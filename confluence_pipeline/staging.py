"""Pages to staged rows: bodies fetched in parallel batches (a page that cannot be fetched
fails alone), breadcrumbs taken from the listing, citation metadata for the converter."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluence_pipeline.confluence import ConfluenceAuthError, ConfluenceClient, ConfluenceError
from confluence_pipeline.confluence.models import Page, PageSummary, Space
from confluence_pipeline.isolation import Breaker, isolate_failures
from confluence_pipeline.parallel import batched, bounded_map

BODY_BATCH = 250
FETCH_WORKERS = 4


def fetch_bodies(
    client: ConfluenceClient, todo: Sequence[PageSummary], breaker: Breaker
) -> Iterator[tuple[list[Page], list[tuple[PageSummary, Exception]]]]:
    """Bodies of ``todo`` in batches of 250 ids, ``FETCH_WORKERS`` batches in flight; yields
    per batch the pages found and ``(page, error)`` for each page that failed on its own.
    Pages the server leaves out (trashed or purged since the listing) are in neither."""

    def fetch(batch: list[PageSummary]) -> tuple[list[Page], list[tuple[PageSummary, Exception]]]:
        def attempt(chunk: list[PageSummary]) -> list[Page]:
            return client.get_pages([page.id for page in chunk])

        done, failed = isolate_failures(
            batch, attempt, breaker=breaker, errors=ConfluenceError, fatal=ConfluenceAuthError
        )
        return [page for pages in done for page in pages], failed

    with ThreadPoolExecutor(FETCH_WORKERS, thread_name_prefix="fetch") as pool:
        yield from bounded_map(pool, fetch, batched(todo, BODY_BATCH), in_flight=FETCH_WORKERS)


def staged(page_id: str, space_key: str, **values: Any) -> dict[str, Any]:
    """A ``staged_pages`` row of the space."""
    return {"page_id": page_id, "space_key": space_key, "page_metadata": {}, **values}


def staged_failure(page: PageSummary, space_key: str, error: Exception) -> dict[str, Any]:
    """A page whose body could not be fetched: the upload step records it failed."""
    message = f"fetch of page {page.id} failed: {error}"
    return staged(
        page.id,
        space_key,
        action="upsert",
        stage="failed",
        version=page.version,
        title=page.title,
        error=message,
    )


def staged_body(page: Page, space: Space, breadcrumbs: Breadcrumbs) -> dict[str, Any]:
    """A fetched page, ready for conversion, with the metadata its document will carry."""
    summary = page.summary
    return staged(
        summary.id,
        space.key,
        action="upsert",
        stage="fetched",
        version=summary.version,
        title=summary.title,
        storage=page.storage,
        page_metadata={
            "page_id": summary.id,
            "space_key": space.key,
            "space_name": space.name,
            "title": summary.title,
            "url": summary.url,
            "version": summary.version,
            "last_modified": summary.last_modified,
            "author_id": summary.author_id,
            "breadcrumb": breadcrumbs.path(summary),
        },
    )


class Breadcrumbs:
    """Ancestor titles of listed pages, from the listing itself (no extra requests)."""

    def __init__(self, listing: dict[str, PageSummary], space: Space) -> None:
        self._listing = listing
        self._space_name = space.name

    def path(self, page: PageSummary) -> list[str]:
        titles: list[str] = []
        seen = {page.id}
        parent = self._listing.get(page.parent_id or "")
        while parent is not None and parent.id not in seen:
            titles.append(parent.title)
            seen.add(parent.id)
            parent = self._listing.get(parent.parent_id or "")
        return [self._space_name, *reversed(titles)]
