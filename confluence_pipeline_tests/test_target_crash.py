"""SIGKILL mid-run on the ``index`` target (v2 files), then a rerun: exactly one live file per
page with its latest text, and every page recorded as synced kept a live file throughout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from confluence_pipeline_tests.resilience import (
    SyncChild,
    assert_index_exact,
    current_pages,
    grew,
    set_faults,
    sync_all,
)
from confluence_pipeline_tests.test_crash_recovery import PAGES, _mutate
from confluence_pipeline_tests.world import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", pages_per_space=PAGES) as world:
        world.connect()
        world.create_index(target="index")
        assert all(not isinstance(r, Exception) for r in sync_all(world).values())
        yield world


def _assert_no_page_lost(world: World) -> None:
    """Every current page recorded as synced has a live file at that version or newer (a
    replaced file may still be there beside it until the next run tidies it)."""
    index = world.index()
    [directory] = [i["source_directory_id"] for i in world.cloud.indexes()]
    versions: dict[str, list[int]] = {}
    for file in world.cloud.files(directory):
        versions.setdefault(str(file["metadata"]["page_id"]), []).append(
            int(file["metadata"]["version"])
        )
    current = current_pages(world)
    for space in world.space_keys:
        for page_id, known in world.store.ledger.known_pages(index.id, space).items():
            if known.status == "synced" and page_id in current:
                assert max(versions.get(page_id, [-1])) >= known.version, page_id


@pytest.mark.parametrize("point", ["uploading", "replacing"])
def test_sigkill_mid_run_then_rerun_leaves_one_live_file_per_page(world: World, point: str) -> None:
    markers = _mutate(world, "walrus", edits=150, trash=10)
    set_faults(world.cloud_url, latency_ms=5)
    stat = {"uploading": ("files_uploaded", 100), "replacing": ("files_deleted", 3)}[point]
    ready = grew(lambda: int(world.cloud.stats()[stat[0]]), stat[1])

    child = SyncChild(world)
    assert child.kill_when(ready), f"the sync finished before reaching {point}"

    _assert_no_page_lost(world)
    markers |= _mutate(world, "narwhal", edits=5, trash=2)
    set_faults(world.cloud_url, latency_ms=0)
    results = sync_all(world)

    assert all(not isinstance(r, Exception) for r in results.values()), results
    assert_index_exact(world, markers)
    syncs = world.cloud.stats()["index_syncs"]
    assert sync_all(world) and world.cloud.stats()["index_syncs"] == syncs  # no-op: no sync
