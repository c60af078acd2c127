"""Runs at once: two partitions of one index synced by two processes on PostgreSQL, pages
moving between them meanwhile; and the cap on requests in flight inside one run."""

from __future__ import annotations

import threading

import httpx
import pytest

from confluence_pipeline.confluence import ConfluenceClient, RetryTransport, basic_auth
from confluence_pipeline.sync.results import SpaceSyncResult
from confluence_pipeline.sync.run import sync_spaces
from confluence_pipeline_tests.resilience import (
    FAST_RETRY,
    SyncChild,
    assert_index_exact,
    edit_pages,
    fast_sink,
    set_faults,
)
from confluence_pipeline_tests.world import EMAIL, TOKEN, World

pytestmark = pytest.mark.sandbox(pages_per_space=120)


@pytest.mark.slow
@pytest.mark.parametrize(
    "state_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_two_partitions_synced_at_once_by_two_processes(world_db: World) -> None:
    first, second = world_db.space_keys
    set_faults(world_db.wiki_url, latency_ms=5)
    runs = [SyncChild(world_db, [first]), SyncChild(world_db, [second])]  # fresh index: both create
    for run in runs:  # its pipeline, stage, record and close run rows at the same time
        run.wait()
    assert_index_exact(world_db)
    assert len(world_db.cloud.pipelines()) == 1

    movers = world_db.page_ids(first)[10:14]
    for page_id in movers:
        world_db.wiki.move_page(page_id, second)
    markers = edit_pages(world_db, world_db.page_ids(first)[20:60], "otter")
    markers |= edit_pages(world_db, world_db.page_ids(second)[20:60], "heron")
    runs = [SyncChild(world_db, [second]), SyncChild(world_db, [first])]  # the movers: new to one,
    for run in runs:  # gone from the other, whichever records them first
        run.wait()

    assert_index_exact(world_db, markers)
    history = world_db.store.ledger.history(world_db.index().id, limit=10)
    assert {run.status for run in history} == {"success"}


class _InFlight(httpx.BaseTransport):
    """A real HTTP transport that remembers the most requests it ever had in flight."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=100))
        self._lock = threading.Lock()
        self.now = self.most = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            response = self._inner.handle_request(request)
            response.read()
            return response
        finally:
            with self._lock:
                self.now -= 1


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_requests_in_flight_stay_within_the_client_cap(world_db: World) -> None:
    set_faults(world_db.wiki_url, latency_ms=20)
    counting = _InFlight()
    client = ConfluenceClient(
        world_db.wiki_url,
        basic_auth(EMAIL, TOKEN),
        transport=RetryTransport(counting, policy=FAST_RETRY),
        max_connections=1,
    )

    with client, fast_sink(world_db.cloud_url) as sink:  # two spaces at once, one request at a time
        results = sync_spaces(
            world_db.store, client, sink, world_db.index(), world_db.space_keys, parallel=2
        )

    assert all(isinstance(r, SpaceSyncResult) for r in results.values())
    assert counting.most == 1
    assert_index_exact(world_db)
