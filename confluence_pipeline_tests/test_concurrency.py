"""Runs at once: two partitions of one index synced by two processes on PostgreSQL, pages
moving between them meanwhile; and the cap on requests in flight inside one run."""

from __future__ import annotations

import threading
from collections.abc import Iterator

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
from confluence_pipeline_tests.world import EMAIL, TOKEN, World, make_world


@pytest.fixture
def world(state_url: str) -> Iterator[World]:
    with make_world(state_url, spaces=2, pages_per_space=120) as world:
        world.connect()
        world.create_index()
        yield world


@pytest.mark.slow
@pytest.mark.parametrize(
    "state_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_two_partitions_synced_at_once_by_two_processes(world: World) -> None:
    first, second = world.space_keys
    set_faults(world.wiki_url, latency_ms=5)
    runs = [SyncChild(world, [first]), SyncChild(world, [second])]  # fresh index: both create
    for run in runs:  # its pipeline, stage, record and close run rows at the same time
        run.wait()
    assert_index_exact(world)
    assert len(world.cloud.pipelines()) == 1

    movers = world.page_ids(first)[10:14]
    for page_id in movers:
        world.wiki.move_page(page_id, second)
    markers = edit_pages(world, world.page_ids(first)[20:60], "otter")
    markers |= edit_pages(world, world.page_ids(second)[20:60], "heron")
    runs = [SyncChild(world, [second]), SyncChild(world, [first])]  # the movers: new to one,
    for run in runs:  # gone from the other, whichever records them first
        run.wait()

    assert_index_exact(world, markers)
    history = world.store.ledger.history(world.index().id, limit=10)
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
def test_requests_in_flight_stay_within_the_client_cap(world: World) -> None:
    set_faults(world.wiki_url, latency_ms=20)
    counting = _InFlight()
    client = ConfluenceClient(
        world.wiki_url,
        basic_auth(EMAIL, TOKEN),
        transport=RetryTransport(counting, policy=FAST_RETRY),
        max_connections=1,
    )

    with client, fast_sink(world.cloud_url) as sink:  # two spaces at once, one request at a time
        results = sync_spaces(
            world.store, client, sink, world.index(), world.space_keys, parallel=2
        )

    assert all(isinstance(r, SpaceSyncResult) for r in results.values())
    assert counting.most == 1
    assert_index_exact(world)
