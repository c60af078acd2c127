"""The same sync on both LlamaCloud targets: ``pipeline`` (v1 documents) and ``index`` (v2
files in a directory under an index), over real HTTP, read back through the SDK."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_cloud import LlamaCloud

from confluence_pipeline.llamacloud import TargetUnavailable
from confluence_pipeline_tests.world import API_KEY, World, make_world

pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
TARGETS = ["pipeline", "index"]


@pytest.fixture(params=TARGETS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}") as world:
        world.connect()
        world.create_index(target=request.param)
        yield world


def _writes(world: World) -> tuple[int, int, int, int, int]:
    stats = world.cloud.stats()
    keys = ("documents_upserted", "documents_deleted", "files_uploaded", "files_deleted")
    return (*(stats[key] for key in keys), stats["index_syncs"])


def _search(world: World, query: str, space_key: str | None = None) -> list[str]:
    """Texts of the hits, through the SDK's own search of the index's target."""
    index = world.index()
    with LlamaCloud(api_key=API_KEY, base_url=world.cloud_url, max_retries=0) as sdk:
        if index.target == "index":
            filters = {"space_key": {"operator": "eq", "value": space_key}} if space_key else None
            found = sdk.retrieval.retrieve(
                index_id=str(index.v2_index_id), query=query, custom_filters=filters, top_k=100
            )
            return [hit.content for hit in found.results]
        search = (
            {"filters": [{"key": "space_key", "value": space_key, "operator": "=="}]}
            if space_key
            else None
        )
        nodes = sdk.pipelines.retrieve(
            str(index.pipeline_id),
            query=query,
            search_filters=search,  # type: ignore[arg-type]
            dense_similarity_top_k=100,
        ).retrieval_nodes
        return [node.node.text or "" for node in nodes]


def test_full_sync_then_noop_costs_no_writes(world: World) -> None:
    space = world.space_keys[0]
    result = world.sync(space)
    assert result.upload.uploaded == 30
    docs = world.documents()
    assert len(docs) == 30
    sample = next(iter(docs.values()))
    for key in ("page_id", "space_key", "title", "url", "version", "breadcrumb"):
        assert key in sample["metadata"], key
    if world.index().target == "index":
        assert all(doc["display_name"].endswith(".md") for doc in docs.values())
        assert all(doc["external_file_id"] == doc["metadata"]["page_id"] for doc in docs.values())
        assert _writes(world)[2:] == (30, 0, 1)  # one index sync for the run

    wiki_before, writes_before = world.wiki.stats()["requests_total"], _writes(world)
    again = world.sync(space)

    assert (again.upload.uploaded, again.upload.deleted, again.upload.index_syncs) == (0, 0, 0)
    assert _writes(world) == writes_before
    assert world.wiki.stats()["requests_total"] - wiki_before <= math.ceil(30 / 250) + 2
    assert again.upload.searchable_at is not None


def test_edit_replaces_the_page_and_search_finds_only_the_new_text(world: World) -> None:
    space = world.space_keys[0]
    world.sync(space)
    page_id = world.page_ids(space)[3]
    world.wiki.edit_page(page_id, "<p>before: quokka-old-41</p>")
    world.sync(space)
    assert any("quokka-old-41" in text for text in _search(world, "quokka-old-41"))
    version = world.wiki.edit_page(page_id, "<p>after: quokka-new-42</p>")

    result = world.sync(space)

    assert (result.plan.changed, result.upload.uploaded) == (1, 1)
    docs = [d for d in world.documents().values() if d["metadata"]["page_id"] == page_id]
    assert len(docs) == 1 and "quokka-new-42" in docs[0]["text"]
    assert docs[0]["metadata"]["version"] == version
    assert any("quokka-new-42" in text for text in _search(world, "quokka new 42"))
    assert not any("quokka-old-41" in text for text in _search(world, "quokka old 41"))


def test_trash_and_move_delete_the_page_from_its_old_place(world: World) -> None:
    first, second = world.space_keys
    world.sync(first)
    world.sync(second)
    trashed, moved = world.page_ids(first)[5], world.page_ids(first)[2]
    world.wiki.trash_page(trashed)
    world.wiki.move_page(moved, second)

    world.sync(second)
    world.sync(first)

    pages = [d["metadata"]["page_id"] for d in world.documents().values()]
    assert trashed not in pages and pages.count(moved) == 1
    [doc] = [d for d in world.documents().values() if d["metadata"]["page_id"] == moved]
    assert doc["metadata"]["space_key"] == second
    assert len(world.documents()) == 59


def test_space_filter_restricts_search_results(world: World) -> None:
    first, second = world.space_keys
    for space in (first, second):
        page = world.wiki.create_page(space, f"Marker {space}", "<p>capybara-shared</p>")
        assert page
        world.sync(space)

    everywhere = _search(world, "capybara-shared")
    only_first = _search(world, "capybara-shared", space_key=first)

    assert len(everywhere) == 2 and len(only_first) == 1


def test_accepted_is_not_searchable_until_ingested(world: World) -> None:
    space = world.space_keys[0]
    world.cloud.set_ingestion(delay_ms=3_600_000)
    page = world.wiki.create_page(space, "Slow page", "<p>armadillo-77</p>")

    result = world.sync(space)

    assert result.upload.uploaded == 31 and result.upload.searchable_at is None
    assert result.upload.pending_ingestion == 31
    assert not _search(world, "armadillo-77")
    run = world.store.ledger.history(world.index().id)[0]
    assert run.searchable_at is None
    world.cloud.set_ingestion(delay_ms=0)
    assert _search(world, "armadillo-77") and page


def test_a_plan_without_index_v2_is_refused_naming_the_pipeline_target(world: World) -> None:
    world.cloud.set_ingestion(v2_enabled=False)
    if world.index().target == "pipeline":
        assert world.sync(world.space_keys[0]).upload.uploaded == 30
        return
    with pytest.raises(TargetUnavailable, match="--target pipeline"):
        world.sync(world.space_keys[0])
    assert world.index().v2_index_id is None
    assert world.cloud.directories() == []


def test_indexes_made_before_targets_existed_are_on_the_pipeline_target(state_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from confluence_pipeline.state import StateStore
    from confluence_pipeline.state.db import _MIGRATIONS, create_state_engine

    engine = create_state_engine(state_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO indexes (name, spaces, interval_minutes, enabled, pipeline_name, "
                "pipeline_id, max_delete_fraction, created_at, updated_at) VALUES ('old', "
                "'[\"ENG\"]', 60, true, 'confluence-old', 'p-1', 0.5, :now, :now)"
            ),
            {"now": "2026-01-01T00:00:00+00:00"},
        )
    engine.dispose()

    store = StateStore.open(state_url, "test-secret-key")
    try:
        old = store.registry.get_index("old")
        assert (old.target, old.target_id(), old.v2_index_id) == ("pipeline", "p-1", None)
    finally:
        store.close()
