"""The change sensor against the sandboxes: edits, creates and trashes start runs of just their
partitions, naming just their pages; a quiet site costs one request a tick and starts nothing;
the clock-skew overlap; runs that name their pages; the per-index full-listing bound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from confluence_pipeline.cli import cli
from confluence_pipeline.confluence import ConfluenceError
from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.defs.sensors import CHANGE_RUN_CONFIG, confluence_changes_sensor
from confluence_pipeline.defs.tags import PAGES_TAG
from confluence_pipeline.sync import changes
from confluence_pipeline.sync.probe import full_listing_due, listing_offset
from confluence_pipeline_tests.world import World

pytestmark = pytest.mark.sandbox(spaces=2, pages_per_space=8)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def synced(world: World, instance: dg.DagsterInstance) -> World:
    """The world with both spaces synced and the sensor's first tick done (its cursor in
    ``world.cursor``)."""
    for space in world.space_keys:
        world.sync(space)
    register_partitions(instance, ["docs"], world.space_keys)
    first = _tick(instance, None)
    assert first.run_requests == []  # a first tick only starts the watermark
    world.cursor = first.cursor  # type: ignore[attr-defined]
    return world


def _tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"state": StateResource(), "confluence": ConfluenceResource()},
    )
    result = confluence_changes_sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def _next(world: World, instance: dg.DagsterInstance) -> dg.SensorResult:
    """Another tick from the world's cursor, which it then advances."""
    result = _tick(instance, world.cursor)  # type: ignore[attr-defined]
    world.cursor = result.cursor  # type: ignore[attr-defined]
    return result


def _requests(world: World) -> int:
    return int(world.wiki.stats()["requests_total"])


def _named(result: dg.SensorResult) -> dict[str, list[str]]:
    return {str(r.partition_key): r.tags[PAGES_TAG].split(",") for r in result.run_requests}


def _watermark(cursor: str | None) -> datetime:
    [watch] = changes.load_watches(cursor).values()
    return watch.watermark


def _trash_due(cursor: str | None) -> str:
    """The cursor as it will be a minute later, when the trash head is read again."""
    watches = changes.load_watches(cursor)
    for watch in watches.values():
        assert watch.trash_checked is not None
        watch.trash_checked -= changes.TRASH_EVERY
    return changes.dump_watches(watches)


def _materialize(instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        sync_assets,
        partition_key=str(request.partition_key),
        tags=dict(request.tags),
        resources={
            "state": StateResource(),
            "confluence": ConfluenceResource(),
            "llamacloud": LlamaCloudResource(),
        },
        instance=instance,
    )


def _texts(world: World) -> str:
    return "\n".join(doc["text"] for doc in world.documents().values())


def test_quiet_site_requests_no_runs_for_one_request_per_tick(
    synced: World, instance: dg.DagsterInstance
) -> None:
    for _ in range(3):
        before = _requests(synced)
        result = _next(synced, instance)
        assert result.run_requests == []
        assert _requests(synced) - before == 1  # the CQL query; the trash head is not due


def test_edits_and_creates_start_one_run_per_partition_naming_their_pages(
    synced: World, instance: dg.DagsterInstance
) -> None:
    first, second = synced.space_keys
    started_from = _watermark(synced.cursor)  # type: ignore[attr-defined]
    burst = synced.page_ids(first)[:5]
    for page_id in burst:
        synced.wiki.edit_page(page_id, "<p>burst edit</p>")
    created = synced.wiki.create_page(first, "Brand new", "<p>fresh page</p>")
    other = synced.page_ids(second)[0]
    synced.wiki.edit_page(other, "<p>other space</p>")

    result = _next(synced, instance)

    assert _named(result) == {
        f"docs|{first}": sorted([*burst, created], key=int),
        f"docs|{second}": [other],
    }
    assert {r.run_key for r in result.run_requests} == {
        f"changes|docs|{space}|{started_from.isoformat()}" for space in (first, second)
    }
    assert all(r.run_config == CHANGE_RUN_CONFIG for r in result.run_requests)  # in-process
    # the next tick sees the same edits inside its overlap and requests nothing again
    assert _next(synced, instance).run_requests == []


def test_named_run_syncs_just_those_pages_and_skips_recorded_versions(
    synced: World, instance: dg.DagsterInstance
) -> None:
    first = synced.space_keys[0]
    edited = synced.page_ids(first)[3]
    synced.wiki.edit_page(edited, "<p>the edited words</p>")
    created = synced.wiki.create_page(first, "Created", "<p>the created words</p>")
    [request] = _next(synced, instance).run_requests
    assert request.tags[PAGES_TAG] == ",".join(sorted([edited, created], key=int))
    index_id = synced.index().id
    listed_at = synced.store.ledger.last_listing(index_id, first)

    before = _requests(synced)
    result = _materialize(instance, request)
    cost = _requests(synced) - before

    pages = result.asset_materializations_for_node("confluence_pages")[0].metadata
    assert (pages["pages_named"].value, pages["pages_new"].value) == (2, 1)
    assert (pages["pages_changed"].value, pages["pages_listed"].value) == (1, 0)
    # no full listing: the weekly one stays due when it was
    assert synced.store.ledger.last_listing(index_id, first) == listed_at
    uploads = result.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    assert uploads["documents_uploaded"].value == 2
    assert "the edited words" in _texts(synced) and "the created words" in _texts(synced)
    # named pages, ancestors (one chain each: both sit under the homepage), their titles,
    # the narrowed scope search, the two bodies: no listing of the space's 9 pages
    assert cost <= 6, cost

    again = _materialize(instance, request)  # the same pages, now recorded at their versions
    uploads = again.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    assert uploads["documents_uploaded"].value == 0


def test_a_trashed_page_leaves_the_index_by_the_next_trash_check(
    synced: World, instance: dg.DagsterInstance
) -> None:
    first = synced.space_keys[0]
    doomed = synced.page_ids(first)[2]
    doc_count = len(synced.documents())
    synced.wiki.trash_page(doomed)

    assert _next(synced, instance).run_requests == []  # within the minute: not read yet
    synced.cursor = _trash_due(synced.cursor)  # type: ignore[attr-defined]
    before = _requests(synced)
    result = _next(synced, instance)
    assert _requests(synced) - before == 2  # the CQL query and one read of the trash head
    assert _named(result) == {f"docs|{first}": [doomed]}

    before = _requests(synced)
    _materialize(instance, result.run_requests[0])
    # the page (gone), whether it moved to another space of the index (no), and nothing of
    # the rest of the space: no scope search over it
    assert _requests(synced) - before == 2
    assert len(synced.documents()) == doc_count - 1
    assert not any(doc["metadata"]["page_id"] == doomed for doc in synced.documents().values())

    synced.cursor = _trash_due(synced.cursor)  # type: ignore[attr-defined]
    assert _next(synced, instance).run_requests == []  # known at the head now


def test_an_edit_stamped_before_the_watermark_is_caught_by_the_overlap(
    synced: World, instance: dg.DagsterInstance
) -> None:
    """Confluence's clock may run behind ours, and its search index lags: an edit it stamps a
    little before our watermark still comes back; one far behind the overlap does not."""
    first = synced.space_keys[0]
    watermark = _watermark(synced.cursor)  # type: ignore[attr-defined]
    behind, far_behind = synced.page_ids(first)[1:3]
    stamp = (watermark - timedelta(minutes=2)).isoformat()
    synced.wiki.edit_page(behind, "<p>skewed</p>", modified_at=stamp)
    old = (watermark - changes.OVERLAP - timedelta(minutes=3)).isoformat()
    synced.wiki.edit_page(far_behind, "<p>too old</p>", modified_at=old)

    result = _next(synced, instance)

    assert _named(result) == {f"docs|{first}": [behind]}


def test_unreadable_cursor_starts_afresh_and_disabled_indexes_are_not_watched(
    synced: World, instance: dg.DagsterInstance
) -> None:
    assert _tick(instance, "not json").run_requests == []
    synced.store.registry.update_index("docs", enabled=False)
    synced.wiki.edit_page(synced.page_ids(synced.space_keys[0])[0], "<p>paused</p>")
    before = _requests(synced)
    assert _next(synced, instance).run_requests == []
    assert _requests(synced) == before  # no enabled index: nothing to ask


def test_changes_cql_is_relative_to_the_server_clock_and_escapes_space_keys() -> None:
    now = datetime(2026, 10, 1, 12, 0, 30, tzinfo=UTC)
    cql = changes.changes_cql(['EN"G', "OPS"], now - timedelta(minutes=5, seconds=30), now)
    assert cql == (
        'type = page and space in ("EN\\"G", "OPS") and lastmodified >= now("-6m")'
        " order by lastmodified asc"
    )


def test_full_listing_falls_due_once_per_period_at_each_pairs_own_offset(world: World) -> None:
    index = world.index()
    assert index.full_listing_hours == 168
    period = 168 * 3600
    offsets = {listing_offset("docs", f"S{n}", period) for n in range(20)}
    assert len(offsets) == 20 and max(offsets) - min(offsets) > period / 2  # spread out

    offset = listing_offset("docs", "ENG", period)
    slot = datetime.fromtimestamp(offset, UTC) + timedelta(seconds=period * 3000)
    assert full_listing_due(index, "ENG", None, slot)
    assert full_listing_due(index, "ENG", slot - timedelta(seconds=1), slot + timedelta(hours=1))
    assert not full_listing_due(index, "ENG", slot, slot + timedelta(hours=167))
    assert full_listing_due(index, "ENG", slot, slot + timedelta(hours=168))


def test_full_listing_hours_is_set_by_cli_and_yaml_and_shown(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["index", "update", "docs", "--full-listing-hours", "24"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(cli, ["index", "list", "--json"])
    assert json.loads(shown.output)[0]["full_listing_hours"] == 24

    spec = tmp_path / "indexes.yaml"
    keys = ", ".join(world.space_keys)
    spec.write_text(f"indexes:\n  - name: docs\n    spaces: [{keys}]\n    full_listing_hours: 6\n")
    done = runner.invoke(cli, ["index", "apply", str(spec), "--no-verify"])
    assert done.exit_code == 0, done.output
    assert world.index().full_listing_hours == 6

    refused = runner.invoke(cli, ["index", "update", "docs", "--full-listing-hours", "0"])
    assert refused.exit_code != 0  # the console script prints this as its one-line error
    assert "full listing hours must be a whole number from 1 to 8760" in str(refused.exception)
    assert world.index().full_listing_hours == 6


def test_sandbox_cql_now_and_the_trash_listing_behave_like_confluence(world: World) -> None:
    first = world.space_keys[0]
    edited, trashed, older = world.page_ids(first)[:3]
    world.wiki.edit_page(edited, "<p>now</p>")
    world.wiki.trash_page(older)
    world.wiki.trash_page(trashed)  # trashed last: first in the listing
    with world.client() as client:
        space_id = client.get_spaces([first])[first].id
        recent = client.changed_pages('type = page and lastmodified >= now("-2m")')
        assert [(p.id, p.space_key) for p in recent] == [(edited, first)]
        removed = list(client.removed_pages([space_id], limit=1))
        assert [(p.id, p.status) for p in removed] == [(trashed, "trashed"), (older, "trashed")]
        with pytest.raises(ConfluenceError, match="bad now"):
            list(client.changed_pages('type = page and lastmodified >= now("yesterday")'))


def test_a_connection_that_refuses_keeps_its_watermark_and_blocks_no_other(
    synced: World, instance: dg.DagsterInstance
) -> None:
    registry = synced.store.registry
    registry.add_connection(
        name="revoked",
        site_url=synced.wiki_url,
        cloud_id=None,
        auth_kind="api_token",
        email="demo@example.com",
        secret="a-revoked-token",
    )
    registry.create_index(
        name="other", spaces=[synced.space_keys[1]], pipeline_name="p", connection="revoked"
    )
    revoked = registry.get_connection("revoked").id
    assert _next(synced, instance).run_requests == []  # the new connection's watermark starts
    started = changes.load_watches(synced.cursor)[revoked]  # type: ignore[attr-defined]
    page = synced.page_ids(synced.space_keys[0])[0]
    synced.wiki.edit_page(page, "<p>still seen</p>")

    result = _next(synced, instance)  # its CQL query is refused (401)

    assert _named(result) == {f"docs|{synced.space_keys[0]}": [page]}
    assert changes.load_watches(result.cursor)[revoked] == started


def test_the_tick_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from confluence_pipeline.defs import sensors

    assert confluence_changes_sensor.minimum_interval_seconds == 30
    monkeypatch.setenv(sensors.CHANGES_INTERVAL_ENV, "5")
    assert sensors._changes_interval() == 5
    for bad in ("soon", "0"):
        monkeypatch.setenv(sensors.CHANGES_INTERVAL_ENV, bad)
        with pytest.raises(ValueError, match="CONFLUENCE_PIPELINE_CHANGES_INTERVAL must"):
            sensors._changes_interval()
