"""Bad days, over real HTTP: every fault kind of both emulators, switched at runtime; pages and
documents that keep failing; outages that must stop a run quickly without losing anything."""

from __future__ import annotations

import pytest

from confluence_pipeline.confluence import ConfluenceError, RetryPolicy
from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline.sync.results import SpaceSyncResult
from confluence_pipeline.sync.run import sync_spaces
from confluence_pipeline.sync.spaces import site_id
from confluence_pipeline_tests.resilience import (
    FakeClock,
    assert_index_exact,
    current_pages,
    fast_client,
    fast_sink,
    set_faults,
    sync_all,
)
from confluence_pipeline_tests.world import World

CONFLUENCE_KINDS = ["429_retry_after", "429", "500", "503", "slow", "truncated", "malformed"]
LLAMACLOUD_KINDS = ["429", "429-no-retry-after", "500", "503", "slow", "truncated", "malformed"]


pytestmark = pytest.mark.sandbox(pages_per_space=40)


@pytest.fixture(autouse=True)
def _pipeline_exists(world: World) -> None:
    """The pipeline exists before any fault is switched on."""
    with world.sink() as sink:
        pipeline_id = sink.ensure_pipeline(world.index().pipeline_name)
    world.store.registry.update_index("docs", pipeline_id=pipeline_id)


def _ok(results: dict[str, SpaceSyncResult | Exception]) -> list[SpaceSyncResult]:
    errors = {key: r for key, r in results.items() if isinstance(r, Exception)}
    assert not errors, errors
    return [r for r in results.values() if isinstance(r, SpaceSyncResult)]


@pytest.mark.parametrize("kind", CONFLUENCE_KINDS)
def test_confluence_fault_kind_is_retried_to_a_complete_sync(world: World, kind: str) -> None:
    set_faults(world.wiki_url, rate=0.4, kinds=[kind], slow_ms=1000, retry_after=0.02)

    results = _ok(sync_all(world))

    assert sum(r.upload.uploaded for r in results) == 80
    assert world.wiki.stats()["faults_injected"] > 0
    assert_index_exact(world)


@pytest.mark.parametrize("kind", LLAMACLOUD_KINDS)
def test_llamacloud_fault_kind_is_retried_to_a_complete_sync(world: World, kind: str) -> None:
    set_faults(world.cloud_url, rate=0.4, kinds=[kind], slow_ms=1000, retry_after=0.02, seed=1)

    results = _ok(sync_all(world))

    assert sum(r.upload.uploaded for r in results) == 80
    assert world.cloud.stats()["faults_injected"] > 0
    assert_index_exact(world)


def test_faults_switched_on_in_the_middle_of_a_run_are_absorbed(world: World) -> None:
    switched: list[str] = []

    def switch_on(message: str) -> None:  # called by the sync between its steps
        if "pages listed" in message and not switched:
            switched.append(message)
            set_faults(world.wiki_url, rate=0.3, kinds=CONFLUENCE_KINDS, slow_ms=800)
            set_faults(world.cloud_url, rate=0.3, kinds=LLAMACLOUD_KINDS, retry_after=0.02)

    _ok(sync_all(world, log=switch_on))

    assert switched
    assert world.wiki.stats()["faults_injected"] + world.cloud.stats()["faults_injected"] > 0
    assert_index_exact(world)


def test_a_page_that_cannot_be_fetched_fails_alone_and_is_retried_next_run(world: World) -> None:
    space = world.space_keys[0]
    bad = world.page_ids(space)[7]
    set_faults(world.wiki_url, poison=[bad])

    first = _ok(sync_all(world))

    by_space = {r.space.key: r for r in first}
    assert (by_space[space].plan.fetch_failed, by_space[space].upload.failed) == (1, 1)
    assert by_space[space].upload.uploaded == 39
    run = world.store.ledger.history(world.index().id, limit=2)
    failed_run = next(r for r in run if r.space_key == space)
    assert (failed_run.status, failed_run.pages_failed) == ("partial", 1)
    assert f"fetch of page {bad} failed" in (failed_run.error or "")
    assert world.store.ledger.known_pages(world.index().id, space)[bad].status == "failed"
    assert len(world.documents()) == 79

    set_faults(world.wiki_url, poison=[])
    again = _ok(sync_all(world))

    assert sum(r.upload.uploaded for r in again) == 1
    assert_index_exact(world)


def test_a_document_llamacloud_keeps_refusing_fails_alone(world: World) -> None:
    space = world.space_keys[1]
    page = world.page_ids(space)[3]
    scope = site_id(world.store.registry.connection_by_id(world.index().connection_id or 0))
    bad = f"cf-{scope}-{page}"
    set_faults(world.cloud_url, poison=[bad], retry_after=0.01)

    results = {r.space.key: r for r in _ok(sync_all(world))}

    assert (results[space].upload.uploaded, results[space].upload.failed) == (39, 1)
    assert bad in results[space].upload.errors[0]
    assert world.store.ledger.known_pages(world.index().id, space)[page].status == "failed"
    set_faults(world.cloud_url, poison=[])
    _ok(sync_all(world))
    assert_index_exact(world)


def test_llamacloud_outage_stops_the_run_quickly_and_the_next_run_catches_up(
    world: World,
) -> None:
    set_faults(world.cloud_url, rate=1.0, kinds=["503"], retry_after=0.01)

    with fast_client(world.wiki_url) as client, fast_sink(world.cloud_url, 2) as sink:
        results = sync_spaces(world.store, client, sink, world.index(), world.space_keys)

    for error in results.values():
        assert isinstance(error, SyncError)
        assert "LlamaCloud failed 8 requests in a row" in str(error)
        assert "retried by the next run" in str(error)
    assert world.cloud.stats()["requests_total"] <= 2 * 8 * 3 + 8  # bounded, not per page
    assert {r.status for r in world.store.ledger.history(world.index().id)} == {"failed"}

    set_faults(world.cloud_url, rate=0)
    _ok(sync_all(world))
    assert_index_exact(world)


def test_confluence_outage_mid_listing_deletes_nothing(world: World) -> None:
    _ok(sync_all(world))
    documents = len(world.documents())
    set_faults(world.wiki_url, rate=1.0, kinds=["500"])

    results = sync_all(world, full=True)

    for error in results.values():
        assert isinstance(error, ConfluenceError)
        assert "-> 500" in str(error) and "attempts" in str(error)
    assert len(world.documents()) == documents
    set_faults(world.wiki_url, rate=0)
    assert_index_exact(world)


def test_retries_stop_when_the_run_budget_is_spent(world: World) -> None:
    policy = RetryPolicy(base_delay=0.01, run_budget=1.0)
    clock = FakeClock()
    with fast_client(world.wiki_url, retry=policy, clock=clock) as client:
        set_faults(world.wiki_url, rate=1.0, kinds=["429"])  # no Retry-After: short backoffs
        with pytest.raises(ConfluenceError):
            client.get_spaces(world.space_keys)
        assert len(clock.delays) == policy.max_attempts - 1  # retried while the budget lasted
        set_faults(world.wiki_url, kinds=["429_retry_after"], retry_after=2)
        requests = world.wiki.stats()["requests_total"]

        with pytest.raises(ConfluenceError) as err:
            client.get_spaces(world.space_keys)

    assert "429" in str(err.value)
    assert len(clock.delays) == policy.max_attempts - 1  # a 2 s wait does not fit a 1 s budget
    assert world.wiki.stats()["requests_total"] - requests == 1  # so no retry either


def test_pages_moved_trashed_and_edited_between_runs_converge(world: World) -> None:
    _ok(sync_all(world))
    first, second = world.space_keys
    moved, trashed, edited = world.page_ids(first)[4:7]
    world.wiki.move_page(moved, second)
    world.wiki.trash_page(trashed)
    world.wiki.edit_page(edited, "<p>tapir-7</p>")

    results = {r.space.key: r for r in _ok(sync_all(world))}

    assert results[first].plan.moved_away + results[second].plan.new >= 1
    assert results[first].upload.deleted == 1
    assert_index_exact(world, {edited: "tapir-7"})
    assert current_pages(world)[moved][0] == second
