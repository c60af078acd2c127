"""The index reconciled against the space: missing, unexpected and stale documents are found
from Confluence and LlamaCloud themselves, and the Dagster check reports them per partition."""

from __future__ import annotations

import dagster as dg
import pytest

from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.checks import index_matches_space
from confluence_pipeline.defs.partitions import partition_key, register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.llamacloud import Document
from confluence_pipeline.sync.reconcile import reconcile_index
from confluence_pipeline.sync.spaces import site_id
from confluence_pipeline_tests.world import World

pytestmark = pytest.mark.sandbox(pages_per_space=20)


def _break_the_index(world: World, space: str) -> tuple[str, str, str]:
    """Deletes one document behind the pipeline's back, adds an orphan, edits a page."""
    index = world.index()
    assert index.pipeline_id is not None and index.connection_id is not None
    scope = site_id(world.store.registry.connection_by_id(index.connection_id))
    lost, edited = world.page_ids(space)[2:4]
    orphan = f"cf-{scope}-999999"
    with world.sink() as sink:
        sink.delete(index.pipeline_id, [f"cf-{scope}-{lost}"])
        sink.upsert(index.pipeline_id, [Document(orphan, "ghost", {"space_key": space})])
    world.wiki.edit_page(edited, "<p>changed after the sync</p>")
    return lost, orphan, edited


def test_reconciliation_finds_missing_unexpected_and_stale_documents(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    world.sync(world.space_keys[1])
    with world.client() as client, world.sink() as sink:
        clean = reconcile_index(world.store, client, sink, world.index())
        lost, orphan, edited = _break_the_index(world, space)
        broken = reconcile_index(world.store, client, sink, world.index())

    assert clean[world.space_keys[1]].matches and broken[world.space_keys[1]].matches
    clean, broken = clean[space], broken[space]

    assert clean.matches and (clean.pages, clean.documents) == (20, 20)
    assert (broken.missing, broken.unexpected, broken.stale) == ([lost], [orphan], [edited])
    assert not broken.matches and "1 missing" in broken.summary()


@pytest.mark.slow
def test_index_matches_space_check_per_partition(world: World) -> None:
    space = world.space_keys[0]
    resources = {
        "state": StateResource(),
        "confluence": ConfluenceResource(),
        "llamacloud": LlamaCloudResource(),
    }
    with dg.instance_for_test() as instance:
        register_partitions(instance, ["docs"], world.space_keys)
        for key in world.space_keys:
            synced = dg.materialize(
                sync_assets,
                partition_key=partition_key("docs", key),
                resources=resources,
                instance=instance,
            )
            checks = {e.check_name for e in synced.get_asset_check_evaluations()}
            assert synced.success and "index_matches_space" not in checks

        def check() -> dg.AssetCheckEvaluation:  # what "Execute" on the check does in the UI
            result = dg.materialize(
                [*sync_assets, index_matches_space],
                selection=dg.AssetSelection.checks(index_matches_space),
                resources=resources,
                instance=instance,
            )
            [evaluation] = result.get_asset_check_evaluations()
            return evaluation

        good = check()
        _break_the_index(world, space)
        bad = check()

    assert good.passed and good.metadata["partitions"].value == 2
    assert not bad.passed and f"docs|{space}" in (bad.description or "")
    assert {name: bad.metadata[name].value for name in ("missing", "unexpected", "stale")} == {
        "missing": 1,
        "unexpected": 1,
        "stale": 1,
    }
