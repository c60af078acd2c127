"""Restricted pages and per-index filters, over real HTTP against both sandboxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline_tests.world import World, make_world

USER = "557058:restricted-reader"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", spaces=1, pages_per_space=12) as world:
        world.connect()
        world.create_index()
        yield world


def _pages(world: World) -> dict[str, dict[str, object]]:
    return {str(doc["metadata"]["page_id"]): doc for doc in world.documents().values()}


def _relist(world: World, space: str) -> None:
    """Restriction and label changes bump no version: a cheap probe cannot see them, so they
    wait for the next full listing (forced here by an unrelated edit)."""
    nudge = world.page_ids(space)[-1]
    world.wiki.edit_page(nudge, "<p>nudged</p>")


def _tree(world: World) -> tuple[str, str, str, str]:
    """A parent, its child and grandchild, and an unrelated page (all new, in space 0)."""
    space = world.space_keys[0]
    parent = world.wiki.create_page(space, "Parent", "<p>parent</p>")
    child = world.wiki.create_page(space, "Child", "<p>child</p>", parent_id=parent)
    grandchild = world.wiki.create_page(space, "Grandchild", "<p>g</p>", parent_id=child)
    other = world.wiki.create_page(space, "Other", "<p>other</p>")
    return parent, child, grandchild, other


def test_restricted_page_is_left_out_then_deleted_then_back(world: World) -> None:
    space = world.space_keys[0]
    parent, child, grandchild, other = _tree(world)
    world.wiki.restrict(other, users=[USER])
    result = world.sync(space)
    assert result.plan.restricted == 1
    docs = _pages(world)
    assert other not in docs and {parent, child, grandchild} <= set(docs)
    assert "restricted" not in docs[parent]["metadata"]

    world.wiki.restrict(parent, groups=["finance"])  # no version bump
    assert world.sync(space).plan.listing_skipped  # seen at the next full listing
    _relist(world, space)
    result = world.sync(space)
    assert result.plan.restricted == 4 and result.upload.deleted == 3
    assert not {parent, child, grandchild, other} & set(_pages(world))

    world.wiki.restrict(parent)  # lifted
    world.wiki.restrict(other)
    _relist(world, space)
    result = world.sync(space)
    assert result.plan.restricted == 0 and result.plan.new == 4
    assert {parent, child, grandchild, other} <= set(_pages(world))


def test_include_restricted_carries_the_chain_in_metadata(world: World) -> None:
    space = world.space_keys[0]
    parent, child, grandchild, other = _tree(world)
    world.store.registry.update_index("docs", include_restricted=True)
    world.wiki.restrict(parent, groups=["finance"])
    world.wiki.restrict(child, users=[USER])
    world.sync(space)
    docs = _pages(world)
    meta = docs[grandchild]["metadata"]
    assert meta["restricted"] is True
    assert meta["read_users"] == [USER] and meta["read_groups"] == ["finance"]
    assert docs[parent]["metadata"]["read_users"] == []
    assert docs[other]["metadata"]["restricted"] is False

    world.wiki.restrict(child)  # lifted: same version, new metadata
    _relist(world, space)
    result = world.sync(space)
    assert result.plan.changed == 3  # child, grandchild, the nudged page
    assert _pages(world)[grandchild]["metadata"]["read_users"] == []


def test_restrictions_and_labels_cost_one_search_per_200_pages(tmp_path: Path) -> None:
    with make_world(f"sqlite:///{tmp_path / 's.db'}", spaces=1, pages_per_space=450) as world:
        world.connect()
        world.create_index()
        world.sync(world.space_keys[0])
        routes = world.wiki.stats()["requests_by_route"]
        searches = {r: n for r, n in routes.items() if "content/search" in r}
        assert sum(searches.values()) == 3, routes  # ceil(450 / 200)
        assert not [r for r in routes if "restriction" in r or "label" in r], routes
        docs = world.documents()
        assert all(doc["metadata"]["labels"] for doc in docs.values())


def test_oauth_connection_without_restriction_scopes_fails_closed(world: World) -> None:
    world.store.registry.add_connection(
        name="sandbox",
        site_url=world.wiki_url,
        cloud_id="x",
        auth_kind="oauth",
        secret="{}",
        scopes=["read:page:confluence", "read:space:confluence", "offline_access"],
        replace=True,
    )
    with pytest.raises(SyncError, match="cannot read page restrictions"):
        world.sync(world.space_keys[0])
    world.store.registry.update_index("docs", include_restricted=True)
    result = world.sync(world.space_keys[0])
    assert result.upload.uploaded == 12


def test_label_filters_and_pages_moving_between_them(world: World) -> None:
    space = world.space_keys[0]
    parent, child, _grandchild, other = _tree(world)
    world.wiki.set_labels(parent, ["zz-runbook"])
    world.wiki.set_labels(child, ["zz-runbook", "zz-draft"])
    world.store.registry.update_index("docs", labels=["zz-runbook"], exclude_labels=["zz-draft"])
    result = world.sync(space)
    assert set(_pages(world)) == {parent}
    assert _pages(world)[parent]["metadata"]["labels"] == ["zz-runbook"]
    assert result.plan.filtered == result.plan.listed - 1

    world.wiki.set_labels(other, ["zz-runbook"])  # moves in
    world.wiki.set_labels(parent, ["zz-runbook", "zz-draft"])  # moves out
    _relist(world, space)
    result = world.sync(space)
    assert set(_pages(world)) == {other}
    assert result.upload.deleted == 1


def test_under_filter_takes_whole_subtrees(world: World) -> None:
    space = world.space_keys[0]
    parent, child, grandchild, other = _tree(world)
    world.store.registry.update_index("docs", under=[child])
    world.sync(space)
    assert set(_pages(world)) == {child, grandchild}

    world.store.registry.update_index("docs", under=[parent, other])
    world.sync(space)
    assert set(_pages(world)) == {parent, child, grandchild, other}

    world.store.registry.update_index("docs", under=[other])
    result = world.sync(space, allow_mass_delete=True)
    assert set(_pages(world)) == {other} and result.upload.deleted == 3


def test_cql_filter_and_mass_deletion_guard(world: World) -> None:
    space = world.space_keys[0]
    _parent, child, _grandchild, other = _tree(world)
    world.sync(space)
    assert len(_pages(world)) == 16
    world.store.registry.update_index("docs", cql='title = "Other" or label = "keep"')
    result = world.sync(space)  # would delete 15 of 16: refused
    assert result.upload.deletions_refused == 15 and len(_pages(world)) == 16
    world.wiki.set_labels(child, ["keep"])
    result = world.sync(space, allow_mass_delete=True)
    assert set(_pages(world)) == {other, child}


def test_bad_cql_is_refused_before_anything_changes(world: World) -> None:
    from confluence_pipeline.sync.scope import check_cql

    with world.client() as client:
        check_cql(client, world.space_keys, 'label = "ok"')
        with pytest.raises(SyncError, match="CQL clause"):
            check_cql(client, world.space_keys, "label === nonsense (")
