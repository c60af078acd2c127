"""`index migrate` between the two LlamaCloud targets: complete, checked, resumable."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluence_pipeline.llamacloud import LlamaCloudError, TargetUnavailable
from confluence_pipeline.sync.migrate import MigrationError, MigrationResult, migrate_index
from confluence_pipeline_tests.resilience import (
    ROOT,
    SyncChild,
    assert_index_exact,
    edit_pages,
    fast_client,
    fast_sink,
    grew,
    set_faults,
    sync_all,
)
from confluence_pipeline_tests.world import World, make_world

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")


@pytest.fixture(params=["pipeline", "index"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", pages_per_space=60) as world:
        world.connect()
        world.create_index(target=request.param)
        assert all(not isinstance(r, Exception) for r in sync_all(world).values())
        yield world


def _other(target: str) -> str:
    return "index" if target == "pipeline" else "pipeline"


def _migrate(world: World, to: str, **options: bool) -> MigrationResult:
    index = world.index()
    with (
        fast_client(world.wiki_url) as client,
        fast_sink(world.cloud_url, target=index.target) as source,
        fast_sink(world.cloud_url, target=to) as dest,
    ):
        return migrate_index(world.store, client, source, dest, index, **options)


def _old_target_is_gone(world: World, old: str) -> None:
    if old == "pipeline":
        assert world.cloud.pipelines() == []
    else:
        assert world.cloud.indexes() == [] and world.cloud.directories() == []


def test_migrate_moves_every_page_then_deletes_the_old_target(world: World) -> None:
    old = world.index().target
    markers = edit_pages(world, world.page_ids(world.space_keys[0])[:3], "heron")
    sync_all(world)
    bodies = world.wiki.stats()["requests_by_route"].get("GET /wiki/api/v2/pages", 0)

    result = _migrate(world, _other(old))

    assert world.index().target == _other(old) and world.index().migrating_to is None
    assert_index_exact(world, markers)
    _old_target_is_gone(world, old)
    refetched = world.wiki.stats()["requests_by_route"].get("GET /wiki/api/v2/pages", 0) - bodies
    if old == "pipeline":  # the pipeline gives its texts back: nothing fetched again
        assert (result.copied_from_source, result.fetched, refetched) == (120, 0, 0)
    else:
        assert result.fetched == 120 and refetched >= 1
    after = world.cloud.stats()
    results = sync_all(world)  # the index syncs on its new target, with nothing to do
    assert all(r.upload.uploaded == 0 for r in results.values() if not isinstance(r, Exception))
    assert world.cloud.stats()["index_syncs"] == after["index_syncs"]


def _stored_copies(world: World, target: str) -> int:
    if target == "pipeline":
        [pipeline] = world.cloud.pipelines()
        return int(pipeline["documents"])
    [directory] = world.cloud.directories()
    return int(directory["files"])


def test_keep_old_keeps_the_old_target(world: World) -> None:
    old = world.index().target
    # a v2 upload that outlived the tests' 0.5 s read timeout on a loaded machine is sent
    # again by the SDK: the old directory may hold a spare copy, so compare before and after
    before = _stored_copies(world, old)
    assert before >= 120

    _migrate(world, _other(old), keep_old=True)

    assert _stored_copies(world, old) == before
    assert world.index().target == _other(old)


def test_bad_migrations_change_nothing(world: World) -> None:
    target = world.index().target
    with pytest.raises(MigrationError, match=f"already on the {target} target"):
        _migrate(world, target)
    if target == "pipeline":
        world.cloud.set_ingestion(v2_enabled=False)
        with pytest.raises(TargetUnavailable, match="--target pipeline"):
            _migrate(world, "index")
        assert world.cloud.directories() == []
    index = world.index()
    assert (index.target, index.migrating_to, index.target_id(_other(target))) == (
        target,
        None,
        None,
    )


def test_failed_migration_leaves_the_index_syncing_on_its_old_target(world: World) -> None:
    old = world.index().target
    set_faults(world.cloud_url, rate=1.0, kinds=["500"], retry_after=0.01)
    with pytest.raises(LlamaCloudError):
        index = world.index()
        with (
            fast_client(world.wiki_url) as client,
            fast_sink(world.cloud_url, target=old, max_retries=0) as source,
            fast_sink(world.cloud_url, target=_other(old), max_retries=0) as dest,
        ):
            migrate_index(world.store, client, source, dest, index)
    set_faults(world.cloud_url, rate=0.0)
    assert (world.index().target, world.index().migrating(), world.index().migrating_to) == (
        old,
        False,
        None,
    )
    markers = edit_pages(world, world.page_ids(world.space_keys[1])[:2], "ibis")
    sync_all(world)
    assert_index_exact(world, markers)


def test_migration_killed_halfway_resumes_to_exactly_the_page_set(world: World) -> None:
    old = world.index().target
    to = _other(old)
    written = "files_uploaded" if to == "index" else "documents_upserted"
    set_faults(world.cloud_url, latency_ms=5)
    ready = grew(lambda: int(world.cloud.stats()[written]), 30 if to == "index" else 1)
    url = world.store.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "confluence_pipeline_tests.migrate_child", url]
    child = SyncChild.__new__(SyncChild)
    child.process = subprocess.Popen(
        [*command, world.wiki_url, world.cloud_url, to],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.kill_when(ready), "the migration finished before it was killed"
    assert world.index().target == old and world.index().migrating()
    set_faults(world.cloud_url, latency_ms=0)

    _migrate(world, to)

    assert world.index().target == to
    assert_index_exact(world)
    _old_target_is_gone(world, old)
