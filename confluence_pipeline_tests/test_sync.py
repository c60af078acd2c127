"""Incremental sync of (index, space) pairs over real HTTP against both sandboxes."""

from __future__ import annotations

import math

import pytest

from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline_tests.world import World


@pytest.mark.slow
@pytest.mark.sandbox(pages_per_space=300)
def test_full_sync_pages_past_250_and_noop_resync_is_cheap(world_db: World) -> None:
    expected = {}
    for space in world_db.space_keys:
        result = world_db.sync(space)
        assert result.upload.uploaded == 300
        expected.update({page_id: space for page_id in world_db.page_ids(space)})
    docs = world_db.documents()
    assert len(docs) == 600
    by_page = {doc["metadata"]["page_id"]: doc for doc in docs.values()}
    assert set(by_page) == set(expected)
    sample = next(iter(docs.values()))
    for key in ("page_id", "space_key", "title", "url", "version", "last_modified"):
        assert sample["metadata"][key], key
    assert all(doc_id.startswith("cf-") for doc_id in docs)

    wiki_before, cloud_before = world_db.wiki.stats(), world_db.cloud.stats()
    for space in world_db.space_keys:
        result = world_db.sync(space)
        assert (result.plan.unchanged, result.upload.uploaded) == (300, 0)
    requests = world_db.wiki.stats()["requests_total"] - wiki_before["requests_total"]
    assert requests <= 2 * (math.ceil(300 / 250) + 2)
    assert world_db.cloud.stats()["documents_upserted"] == cloud_before["documents_upserted"]
    runs = world_db.store.ledger.history(world_db.index().id)
    assert [r.status for r in runs] == ["success"] * 4


def test_edit_resync_updates_exactly_that_document(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    page_id = world.page_ids(space)[3]
    version = world.wiki.edit_page(page_id, "<p>rewritten: zebra-marker-42</p>")
    upserted = world.cloud.stats()["documents_upserted"]

    result = world.sync(space)

    assert (result.plan.changed, result.upload.uploaded) == (1, 1)
    assert world.cloud.stats()["documents_upserted"] == upserted + 1
    doc = next(d for d in world.documents().values() if d["metadata"]["page_id"] == page_id)
    assert "zebra-marker-42" in doc["text"]
    assert doc["metadata"]["version"] == version


def test_trashed_page_leaves_the_index(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    page_id = world.page_ids(space)[5]
    world.wiki.trash_page(page_id)

    result = world.sync(space)

    assert result.upload.deleted == 1
    assert page_id not in {d["metadata"]["page_id"] for d in world.documents().values()}
    assert len(world.documents()) == 29


def test_new_page_is_added(world: World) -> None:
    space = world.space_keys[1]
    world.sync(space)
    page_id = world.wiki.create_page(space, "Fresh page", "<h2>Intro</h2><p>okapi-99</p>")

    result = world.sync(space)

    assert (result.plan.new, result.upload.uploaded) == (1, 1)
    doc = next(d for d in world.documents().values() if d["metadata"]["page_id"] == page_id)
    assert "okapi-99" in doc["text"] and "Fresh page" in doc["text"]


def test_page_moved_between_spaces_is_indexed_once_under_its_new_space(world: World) -> None:
    first, second = world.space_keys
    world.sync(first)
    world.sync(second)
    page_id = world.page_ids(first)[2]
    world.wiki.move_page(page_id, second)

    world.sync(second)
    world.sync(first)

    docs = [d for d in world.documents().values() if d["metadata"]["page_id"] == page_id]
    assert [d["metadata"]["space_key"] for d in docs] == [second]
    assert len(world.documents()) == 60


def test_mass_deletion_is_refused_unless_allowed(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    for page_id in world.page_ids(space)[:20]:
        world.wiki.trash_page(page_id)

    refused = world.sync(space)
    assert (refused.upload.deleted, refused.upload.deletions_refused) == (0, 20)
    assert len(world.documents()) == 30
    assert world.store.ledger.history(world.index().id)[0].status == "partial"

    allowed = world.sync(space, allow_mass_delete=True)
    assert allowed.upload.deleted == 20
    assert len(world.documents()) == 10


def test_space_not_in_the_index_is_refused(world: World) -> None:
    with pytest.raises(SyncError, match="not configured for index 'docs'"):
        world.sync("NOPE")


def test_full_resync_reuploads_everything(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    result = world.sync(space, full=True)
    assert (result.plan.changed, result.upload.uploaded) == (30, 30)
    assert len(world.documents()) == 30
