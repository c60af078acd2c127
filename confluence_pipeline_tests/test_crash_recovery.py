"""SIGKILL at any point of a run, then a rerun: exactly the right index contents, no lost
update, no duplicate, no page recorded as synced that is not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from confluence_pipeline_tests.resilience import (
    SyncChild,
    assert_index_exact,
    assert_recorded_are_indexed,
    edit_pages,
    grew,
    set_faults,
    sync_all,
)
from confluence_pipeline_tests.world import World

PAGES = 180  # per space: under the process-pool threshold, two upload batches when edited

pytestmark = [pytest.mark.slow, pytest.mark.sandbox(pages_per_space=PAGES)]


@pytest.fixture(autouse=True)
def _synced(world_db: World) -> None:
    assert all(not isinstance(r, Exception) for r in sync_all(world_db).values())


def _kill_points(world: World) -> dict[str, Callable[[], bool]]:
    def route(name: str) -> Callable[[], int]:
        return lambda: world.wiki.stats()["requests_by_route"].get(name, 0)

    return {
        "planning": grew(route("GET /wiki/api/v2/spaces/{id}/pages"), 1),
        "fetching": grew(route("GET /wiki/api/v2/pages"), 1),
        "uploading": grew(lambda: world.cloud.stats()["documents_upserted"], 100),
        "deleting": grew(lambda: world.cloud.stats()["documents_deleted"], 3),
    }


def _mutate(world: World, marker: str, edits: int, trash: int) -> dict[str, str]:
    first, second = world.space_keys
    texts: dict[str, str] = {}
    for space in world.space_keys:
        ids = world.page_ids(space)
        texts |= edit_pages(world, ids[1 : 1 + edits], marker)
        for page_id in ids[-trash:]:
            world.wiki.trash_page(page_id)
        new = world.wiki.create_page(space, f"New in {space} ({marker})", f"<p>{marker}-new</p>")
        texts[new] = f"{marker}-new"
    world.wiki.move_page(world.page_ids(first)[-1], second)
    return texts


@pytest.mark.parametrize(
    ("point", "state_url"),
    [
        ("planning", "sqlite"),
        ("fetching", "sqlite"),
        ("uploading", "sqlite"),
        ("deleting", "sqlite"),
        pytest.param("uploading", "postgresql", marks=pytest.mark.postgres),
        pytest.param("deleting", "postgresql", marks=pytest.mark.postgres),
    ],
    indirect=["state_url"],
)
def test_sigkill_mid_run_then_rerun_converges_exactly(world_db: World, point: str) -> None:
    markers = _mutate(world_db, "walrus", edits=150, trash=10)
    set_faults(world_db.wiki_url, latency_ms=5)
    set_faults(world_db.cloud_url, latency_ms=5)
    ready = _kill_points(world_db)[point]

    child = SyncChild(world_db)
    assert child.kill_when(ready), f"the sync finished before reaching {point}"

    assert_recorded_are_indexed(world_db)
    markers |= _mutate(world_db, "narwhal", edits=5, trash=2)  # edits after the crash win
    set_faults(world_db.wiki_url, latency_ms=0)
    set_faults(world_db.cloud_url, latency_ms=0)
    results = sync_all(world_db)

    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert_index_exact(world_db, markers)
    statuses = [run.status for run in world_db.store.ledger.history(world_db.index().id, limit=50)]
    assert "interrupted" in statuses and "running" not in statuses
