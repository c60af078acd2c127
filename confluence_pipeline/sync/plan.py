"""The planning step (asset ``confluence_pages``): list the space, diff versions with the
state, stage the bodies of new and changed pages (fetched in parallel batches; a page that
cannot be fetched fails alone) with breadcrumbs from the listing, and stage the deletion of
pages that are gone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluence_pipeline.confluence import ConfluenceAuthError, ConfluenceClient, ConfluenceError
from confluence_pipeline.confluence.models import Page, PageSummary, Space
from confluence_pipeline.markdown import mentioned_accounts
from confluence_pipeline.runtime.isolation import Breaker, isolate_failures
from confluence_pipeline.runtime.parallel import batched, bounded_map
from confluence_pipeline.state import (
    Action,
    Index,
    KnownPage,
    PageStatus,
    Stage,
    StagedWork,
    StateStore,
)
from confluence_pipeline.sync import people, probe
from confluence_pipeline.sync.results import PREVIEW_ROWS, Log, PageRow, PlanResult
from confluence_pipeline.sync.scope import Scope, can_read_restrictions, check_scopes, compute_scope
from confluence_pipeline.sync.spaces import connection_id

BODY_BATCH = 250
FETCH_WORKERS = 4
MAX_BODY_BYTES = 20 * 1024 * 1024
"""A storage body larger than this (UTF-8 bytes) is recorded as a failed page, never converted:
a hostile or runaway page must not exhaust the worker's memory or time."""


def plan_pages(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    space: Space,
    *,
    run_id: int,
    full: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    log: Log = lambda _msg: None,
) -> PlanResult:
    """Lists the space without bodies, stages bodies of new or changed pages and the deletion
    of pages that are gone; pages moved to another space of the index are handed over to it.
    With ``full`` every page counts as changed. A body over ``max_body_bytes`` is staged as a
    failed page with the reason instead (:func:`body_too_large`). When a cheap probe shows
    nothing changed since the last complete sync, the listing is skipped (see
    :mod:`confluence_pipeline.sync.probe`)."""
    ledger = store.ledger
    ledger.clear_staged(index.id, space.key)
    connection = store.registry.connection_by_id(connection_id(index))
    check_scopes(index, connection)
    if not full and probe.unchanged_since_last_sync(store, client, index, space, run_id=run_id):
        unchanged = ledger.count_synced(index.id, space.key)
        log(f"{space.key}: unchanged since the last sync ({unchanged} pages), listing skipped")
        ledger.update_run(run_id, pages_listed=0, pages_unchanged=unchanged)
        return PlanResult(unchanged=unchanged, listing_skipped=True)
    known = ledger.known_pages(index.id, space.key)
    everything = {page.id: page for page in client.iter_pages(space.id)}
    readable = can_read_restrictions(connection)
    scope = compute_scope(client, index, space, everything, readable=readable, log=log)
    listing = {pid: page for pid, page in everything.items() if pid not in scope.excluded}
    result = PlanResult(
        listed=len(everything), restricted=scope.restricted, filtered=scope.filtered
    )
    log(
        f"{space.key}: {len(everything)} pages listed ({scope.restricted} restricted and "
        f"{scope.filtered} filtered out), {len(known)} known"
    )

    todo = select_changed(listing.values(), known, scope, result, full=full)

    gone = [page_id for page_id in known if page_id not in everything]
    left_scope = [page_id for page_id in known if page_id in scope.excluded]
    breadcrumbs = Breadcrumbs(everything, space)
    stage_work(
        store,
        client,
        index,
        space,
        todo,
        gone,
        breadcrumbs,
        scope,
        result,
        run_id=run_id,
        out_of_scope=left_scope,
        max_body_bytes=max_body_bytes,
        log=log,
    )
    return result


def select_changed(
    pages: Iterable[PageSummary],
    known: Mapping[str, KnownPage],
    scope: Scope,
    result: PlanResult,
    *,
    full: bool = False,
) -> list[PageSummary]:
    """The pages to (re)upload: new ones, and known ones at another version, not synced, or
    with other scope metadata (all with ``full``); counts them in ``result``."""
    todo: list[PageSummary] = []
    for page in pages:
        previous = known.get(page.id)
        if previous is None:
            result.new += 1
        elif (
            full
            or previous.status != PageStatus.SYNCED
            or previous.version != page.version
            or previous.scope_hash != scope.hash(page.id)
        ):
            result.changed += 1
        else:
            result.unchanged += 1
            continue
        todo.append(page)
    result.preview = [PageRow(p.id, p.title, p.version, p.url) for p in todo[:PREVIEW_ROWS]]
    return todo


def stage_work(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    space: Space,
    todo: Sequence[PageSummary],
    gone: Sequence[str],
    breadcrumbs: Breadcrumbs,
    scope: Scope,
    result: PlanResult,
    *,
    run_id: int,
    out_of_scope: Sequence[str] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
    log: Log = lambda _msg: None,
) -> None:
    """Stages the bodies of ``todo`` (fetched in parallel batches) and the deletion of
    ``gone`` pages (except those now current in another space of the index, which are handed
    over to it) and of ``out_of_scope`` ones; names the people the bodies mention; records
    the counts on the run."""
    ledger = store.ledger
    with ThreadPoolExecutor(1, thread_name_prefix="locate") as locate:  # while bodies come
        moving = locate.submit(probe.moved_within_index, store, client, index, space, gone)
        named: set[str] = set()
        for pages, failed in fetch_bodies(client, todo, Breaker("Confluence")):
            rows = [staged_failure(page, space.key, error) for page, error in failed]
            for fetched in pages:
                too_large = body_too_large(
                    _body_bytes(fetched.storage, max_body_bytes), max_body_bytes
                )
                if too_large is None:
                    body = staged_body(fetched, space, breadcrumbs, scope)
                    named.update(people.account_ids(body.page_metadata))
                    rows.append(body)
                else:
                    rows.append(staged_refusal(fetched.summary, space.key, too_large))
                    result.too_large += 1
            ledger.stage(index.id, rows)
            result.fetched += len(pages)
            result.fetch_failed += len(failed)
            log(f"{space.key}: fetched {result.fetched}/{len(todo)} changed pages")
        moved = moving.result()
    lookup = people.resolve_names(store, client, named)
    result.names_looked_up, result.name_requests = lookup.looked_up, lookup.requests
    if lookup.error:
        log(f"{space.key}: {lookup.error}")
    if moved:
        ledger.reassign(index.id, moved, space.key)
        log(f"{space.key}: {len(moved)} pages moved to other spaces of the index")
    gone = [page_id for page_id in gone if page_id not in moved] + list(out_of_scope)
    ledger.stage(
        index.id,
        [StagedWork(page_id, space.key, Action.DELETE, Stage.FETCHED) for page_id in gone],
    )
    result.to_delete, result.moved_away = len(gone), len(moved)
    ledger.update_run(
        run_id,
        pages_listed=result.listed,
        pages_new=result.new,
        pages_changed=result.changed,
        pages_unchanged=result.unchanged,
    )


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


def body_too_large(size: int, limit: int = MAX_BODY_BYTES) -> str | None:
    """``"page body is 21.0 MB, over the 20 MB limit"`` when ``size`` (bytes) exceeds
    ``limit``, else None."""
    if size <= limit:
        return None
    return f"page body is {_size(size, exact=False)}, over the {_size(limit)} limit"


def _size(size: int, *, exact: bool = True) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = round(size / scale, 1)
            return f"{value:g} {unit}" if exact else f"{value:.1f} {unit}"
    return f"{size} bytes"


def _body_bytes(storage: str, limit: int) -> int:
    """The UTF-8 size of ``storage``, encoded only when its length could exceed ``limit``."""
    return len(storage) if len(storage) * 4 <= limit else len(storage.encode("utf-8"))


def staged_refusal(page: PageSummary, space_key: str, reason: str) -> StagedWork:
    """A page refused before conversion (its body is too large): recorded failed, with no body."""
    return _failed(page, space_key, f"page {page.id}: {reason}")


def staged_failure(page: PageSummary, space_key: str, error: Exception) -> StagedWork:
    """A page whose body could not be fetched: the upload step records it failed."""
    return _failed(page, space_key, f"fetch of page {page.id} failed: {error}")


def _failed(page: PageSummary, space_key: str, error: str) -> StagedWork:
    return StagedWork(
        page.id,
        space_key,
        Action.UPSERT,
        Stage.FAILED,
        version=page.version,
        title=page.title,
        error=error,
    )


def staged_body(
    page: Page, space: Space, breadcrumbs: Breadcrumbs, scope: Scope | None = None
) -> StagedWork:
    """A fetched page, ready for conversion, with the metadata its document will carry
    (labels and, for indexes that include restricted pages, the restrictions; and the hash
    of those, recorded once the document is accepted)."""
    summary = page.summary
    extra = dict(scope.metadata.get(summary.id, {})) if scope is not None else {}
    if scope is not None:
        extra["scope_hash"] = scope.hash(summary.id)
    return StagedWork(
        summary.id,
        space.key,
        Action.UPSERT,
        Stage.FETCHED,
        version=summary.version,
        title=summary.title,
        storage=page.storage,
        page_metadata={**page_metadata(page, space, breadcrumbs.path(summary)), **extra},
    )


def page_metadata(page: Page, space: Space, breadcrumb: list[str]) -> dict[str, Any]:
    """The citation metadata of a page's document (before people are named)."""
    summary = page.summary
    return {
        "page_id": summary.id,
        "space_key": space.key,
        "space_name": space.name,
        "title": summary.title,
        "url": summary.url,
        "version": summary.version,
        "last_modified": summary.last_modified,
        "author_id": summary.author_id,
        "editor_id": summary.editor_id,
        "mentions": mentioned_accounts(page.storage),
        "breadcrumb": breadcrumb,
    }


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
