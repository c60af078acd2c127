"""People by name: authors, last editors and mentions resolve to display names in batches,
through the state's cache; a name that cannot be had shows the id and never fails a page."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from confluence_pipeline.confluence import ConfluenceClient, ConfluenceUnavailable
from confluence_pipeline.sandbox.confluence.people import PRIVATE_ACCOUNT, display_name
from confluence_pipeline_tests.world import World, make_world

LOOKUP_ROUTE = "GET /wiki/rest/api/user/bulk"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(f"sqlite:///{tmp_path / 'state.db'}", spaces=2, pages_per_space=25) as world:
        world.connect()
        world.create_index()
        yield world


def _lookups(world: World) -> int:
    return int(world.wiki.stats()["requests_by_route"].get(LOOKUP_ROUTE, 0))


def test_documents_name_people_and_hold_no_account_ids(world: World) -> None:
    space = world.space_keys[0]

    result = world.sync(space)

    docs = list(world.documents().values())
    assert len(docs) == 25
    for doc in docs:
        meta = doc["metadata"]
        assert meta["author"] == display_name(meta["author_id"])
        assert f"- Author: {meta['author']}" in doc["text"]
        assert "@user(" not in doc["text"]
    assert any("Owner: @" in doc["text"] for doc in docs)
    assert result.plan.names_looked_up > 0
    assert result.plan.name_requests == math.ceil(result.plan.names_looked_up / 200)
    assert _lookups(world) == result.plan.name_requests
    assert result.conversion.names_missing == 0


def test_a_later_sync_looks_up_only_new_ids(world: World) -> None:
    first, second = world.space_keys
    world.sync(first)
    before = _lookups(world)

    again = world.sync(second)  # the generated site reuses the same dozen accounts

    assert again.plan.names_looked_up == 0 and again.plan.name_requests == 0
    assert _lookups(world) == before
    assert all(doc["metadata"]["author"] for doc in world.documents().values())


def test_a_private_profile_shows_its_id_and_is_counted(world: World) -> None:
    space = world.space_keys[0]
    page_id = world.wiki.create_page(
        space,
        "Escalations",
        f'<p>Ask <ac:link><ri:user ri:account-id="{PRIVATE_ACCOUNT}" /></ac:link> first.</p>',
    )

    result = world.sync(space)

    [doc] = [d for d in world.documents().values() if d["metadata"]["page_id"] == page_id]
    assert f"@user({PRIVATE_ACCOUNT})" in doc["text"]
    assert result.conversion.names_missing == 1
    assert result.upload.failed == 0
    assert world.store.people.cached([PRIVATE_ACCOUNT]) == {PRIVATE_ACCOUNT: None}


def test_a_failed_lookup_never_fails_a_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(self: ConfluenceClient, account_ids: object) -> dict[str, str]:
        raise ConfluenceUnavailable("GET /wiki/rest/api/user/bulk -> 503")

    monkeypatch.setattr(ConfluenceClient, "display_names", unavailable)  # the one edge case
    space = world.space_keys[0]

    result = world.sync(space)

    assert result.upload.uploaded == 25 and result.upload.failed == 0
    assert result.conversion.names_missing > 0
    docs = list(world.documents().values())
    assert all(doc["metadata"]["author"] is None for doc in docs)
    assert all(f"- Author: {doc['metadata']['author_id']}" in doc["text"] for doc in docs)
    assert world.store.people.cached([docs[0]["metadata"]["author_id"]]) == {}
