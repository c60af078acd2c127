"""Cheap answers for the planning step, before the expensive listing: has the space changed
at all since the last complete sync, and which pages missing from a listing merely moved to
another indexed space."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from confluence_pipeline.confluence import ConfluenceClient, ConfluenceError
from confluence_pipeline.confluence.models import Space
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.state import Index, PageStatus, RunStatus, StateStore, SyncRun
from confluence_pipeline.sync.scope import check_scopes
from confluence_pipeline.sync.spaces import connection_id, recorded_space


def full_listing_due(
    index: Index, space_key: str, listed_at: datetime | None, now: datetime
) -> bool:
    """Whether the space must be listed completely, however quiet it looks: it never was, or
    not since its last slot began. Slots are ``index.full_listing_hours`` long and each
    (index, space) has its own fixed offset inside them (a hash of the pair), so the full
    listings of many spaces spread over the period instead of landing together."""
    if listed_at is None:
        return True
    period = index.full_listing_hours * 3600
    slot_start = now - timedelta(
        seconds=(now.timestamp() - listing_offset(index.name, space_key, period)) % period
    )
    return listed_at < slot_start


def listing_offset(index_name: str, space_key: str, period_seconds: int) -> int:
    """Seconds into each period at which the pair's full listing falls due (stable across
    processes and restarts)."""
    digest = hashlib.sha256(f"{index_name}|{space_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % period_seconds


def unchanged_since_last_sync(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    space: Space,
    *,
    run_id: int | None,
) -> bool:
    """True only when two reads (2 requests, a few hundred bytes) show the space as the last
    complete sync left it, so the full listing (``ceil(pages / 250)`` requests) can be skipped.

    All of these must hold: the partition's previous run succeeded, as did every run since its
    last full listing, and that listing is not due (:func:`full_listing_due`, from the index's
    ``full_listing_hours``); every page
    recorded for the space is ``synced``; the most recently modified current page is
    recorded at its version (catches edits, new pages, moves in that bump the version); and
    CQL counts as many current pages as are recorded (catches trashed, deleted and moved-out
    pages), or as many as the last full listing saw (an index that leaves restricted or
    filtered-out pages out). Any error, or a search index lagging behind, means "changed":
    the caller lists the space. What the probe cannot see (one page trashed while another
    is restored without a new version; restriction and label changes, which bump no
    version) waits for the next full listing.
    """
    ledger = store.ledger
    previous = ledger.previous_run(index.id, space.key, before=run_id)
    if previous is None or previous.status != RunStatus.SUCCESS:
        return False
    listed_at = ledger.last_listing(index.id, space.key)
    if listed_at is None or full_listing_due(index, space.key, listed_at, datetime.now(UTC)):
        return False
    if index.updated_at is not None and index.updated_at >= listed_at:
        return False  # its filters or restricted-page policy may have changed since
    if ledger.failed_since(index.id, space.key, listed_at, before=run_id):
        return False  # e.g. a change run that failed: its pages may be recorded as before
    statuses = ledger.status_counts(index.id, space.key)
    if set(statuses) - {PageStatus.SYNCED}:
        return False
    try:
        count = client.count_pages(space.key)
        listed = ledger.last_listed_count(index.id, space.key)
        if count not in (statuses.get(PageStatus.SYNCED, 0), listed):
            return False
        latest = client.latest_page(space.id)
    except ConfluenceError:
        return False
    if latest is None:
        return count == 0
    known = ledger.known_pages(index.id, space.key).get(latest.id)
    if known is None:  # left out by the index (restricted, filtered) when last listed?
        return _before(latest.last_modified, listed_at)
    return known.version == latest.version


def settle_unchanged(
    store: StateStore, client: ConfluenceClient, index: Index, space_key: str
) -> SyncRun | None:
    """Lets a sync skip its run altogether (no Dagster run, no listing): when the probe shows
    the space as its last complete sync left it, with that sync's documents searchable and
    nothing owed to LlamaCloud, records a finished no-op run and returns it. None means a run
    must look closer, including every case where that run would fail (scopes, a space never
    resolved)."""
    ledger = store.ledger
    previous = ledger.previous_run(index.id, space_key)
    if previous is None or previous.searchable_at is None:
        return None
    try:
        check_scopes(index, store.registry.connection_by_id(connection_id(index)))
        space = recorded_space(store, index, space_key)
    except PipelineError:
        return None
    if ledger.commit_owed(index.id, space_key) or not unchanged_since_last_sync(
        store, client, index, space, run_id=None
    ):
        return None
    return ledger.record_unchanged(
        index.id, space_key, unchanged=ledger.count_synced(index.id, space_key)
    )


def settle_spaces(
    store: StateStore, client: ConfluenceClient, index: Index, spaces: Sequence[str]
) -> dict[str, SyncRun]:
    """:func:`settle_unchanged` for each of ``spaces``: those that need no run, with the
    unchanged runs recorded for them."""
    settled = {}
    for space in spaces:
        if (run := settle_unchanged(store, client, index, space)) is not None:
            settled[space] = run
    return settled


def _before(timestamp: str, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")) < moment
    except ValueError:
        return False


def moved_within_index(
    store: StateStore, client: ConfluenceClient, index: Index, space: Space, gone: Sequence[str]
) -> dict[str, str]:
    """Of the pages recorded under ``space`` but missing from its listing, those now current
    in another space of the index, as ``{page_id: space_key}`` (one request per 250 pages).
    A failed lookup returns {}: the pages are then deleted here and re-added there."""
    if not gone or index.connection_id is None:
        return {}
    others = {}
    for key in index.spaces:
        row = store.registry.get_space(index.connection_id, key)
        if key != space.key and row is not None:
            others[row.space_id] = key
    if not others:
        return {}
    try:
        found = client.find_pages(gone)
    except ConfluenceError:
        return {}
    return {page.id: others[page.space_id] for page in found if page.space_id in others}
