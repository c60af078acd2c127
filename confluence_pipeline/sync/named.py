"""The planning step for a run that names its pages (the change sensor's runs): look at just
those pages instead of listing the space, with the same scope rules and version comparison.

Cost: one request for the named pages (current ones, any space, 250 per request), one per
page for its ancestors plus one for their titles (breadcrumbs, inherited restrictions), the
scope searches narrowed to those ids, and bodies of the pages that really changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import PageSummary, Space
from confluence_pipeline.state import Index, StateStore
from confluence_pipeline.sync.plan import Breadcrumbs, select_changed, stage_work
from confluence_pipeline.sync.results import Log, PlanResult
from confluence_pipeline.sync.scope import can_read_restrictions, check_scopes, compute_scope
from confluence_pipeline.sync.spaces import connection_id


def plan_named_pages(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    space: Space,
    page_ids: Sequence[str],
    *,
    run_id: int,
    log: Log = lambda _msg: None,
) -> PlanResult:
    """Stages the named pages of ``space`` that are new or changed, and the deletion of named
    pages the index holds that are no longer current here (trashed, archived, purged, left
    out by the scope rules; moved to another space of the index: handed over to it). Pages
    named but not in the space, and unchanged ones, cost nothing further."""
    ledger = store.ledger
    ledger.clear_staged(index.id, space.key)
    connection = store.registry.connection_by_id(connection_id(index))
    check_scopes(index, connection)
    wanted = list(dict.fromkeys(page_ids))
    here = {p.id: p for p in client.find_pages(wanted) if p.space_id == space.id}
    listing = {**_ancestors(client, here), **here}
    readable = can_read_restrictions(connection)
    scope = compute_scope(
        client, index, space, listing, readable=readable, only_listed=True, log=log
    )
    known = ledger.known_pages(index.id, space.key)
    kept = [page for pid, page in here.items() if pid not in scope.excluded]
    result = PlanResult()  # listed stays 0: this run is no full listing (see probe.py)
    todo = select_changed(kept, known, scope, result)
    gone = [pid for pid in wanted if pid in known and pid not in here]
    left_scope = [pid for pid in here if pid in known and pid in scope.excluded]
    log(
        f"{space.key}: {len(wanted)} named pages, {len(here)} current here, {len(todo)} to "
        f"upload, {len(gone) + len(left_scope)} to delete or hand over"
    )
    stage_work(
        store,
        client,
        index,
        space,
        todo,
        gone,
        Breadcrumbs(listing, space),
        scope,
        result,
        run_id=run_id,
        out_of_scope=left_scope,
        log=log,
    )
    return result


def _ancestors(client: ConfluenceClient, pages: dict[str, PageSummary]) -> dict[str, PageSummary]:
    """The current ancestors of ``pages`` as listed summaries (their parents give the chains
    that breadcrumbs and inherited restrictions need); one request per page whose parent's
    chain is not known yet, one more for all their summaries."""
    ids: list[str] = []
    for page in pages.values():
        parent = page.parent_id
        if parent is None or parent in pages or parent in ids:
            continue
        ids.extend(a for a in client.get_ancestors(page.id) if a not in pages and a not in ids)
    return {p.id: p for p in client.find_pages(list(dict.fromkeys(ids)))} if ids else {}
