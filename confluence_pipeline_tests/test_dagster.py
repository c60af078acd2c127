"""The Dagster layer: materialize a partition, asset checks, and the scheduling sensor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from confluence_pipeline.definitions import defs
from confluence_pipeline.defs.assets import sync_assets
from confluence_pipeline.defs.partitions import register_partitions
from confluence_pipeline.defs.resources import (
    ConfluenceResource,
    LlamaCloudResource,
    StateResource,
)
from confluence_pipeline.defs.sensors import sync_due_sensor
from confluence_pipeline.state import RunStatus
from confluence_pipeline.state.models import MIGRATION_STALE
from confluence_pipeline.state.models import Index as IndexRow
from confluence_pipeline.sync import probe
from confluence_pipeline_tests.world import World


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def _resources() -> dict[str, object]:
    return {
        "state": StateResource(),
        "confluence": ConfluenceResource(),
        "llamacloud": LlamaCloudResource(),
    }


def _url(world: World) -> str:
    return world.store.engine.url.render_as_string(hide_password=False)


def _materialize(world: World, instance: dg.DagsterInstance, key: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        sync_assets,
        partition_key=key,
        resources=_resources(),
        instance=instance,
        raise_on_error=False,
    )


def test_pages_accepted_but_not_yet_searchable_warn_on_the_index_target(
    world: World, instance: dg.DagsterInstance
) -> None:
    world.store.registry.update_index("docs", target="index")
    world.cloud.set_ingestion(delay_ms=3_600_000)
    register_partitions(instance, ["docs"], world.space_keys)

    result = _materialize(world, instance, f"docs|{world.space_keys[0]}")

    assert result.success
    uploads = result.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    assert (uploads["target"].value, uploads["index_syncs"].value) == ("index", 1)
    assert (uploads["pending_ingestion"].value, uploads["searchable_at"].value) == (30, "")
    [check] = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "documents_searchable"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN


def test_definitions_load_with_four_assets_one_job_three_sensors() -> None:
    repo = defs.get_repository_def()
    assert {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()} == {
        "confluence_spaces",
        "confluence_pages",
        "markdown_documents",
        "llamacloud_uploads",
    }
    assert defs.resolve_job_def("confluence_sync") is not None
    assert sorted(s.name for s in repo.sensor_defs) == [
        "confluence_changes_sensor",
        "sync_due_sensor",
        "sync_failure_alert",
    ]


@pytest.mark.slow  # two in-process runs of the whole job
def test_materialize_one_partition_uploads_its_pages(
    world: World, instance: dg.DagsterInstance
) -> None:
    space = world.space_keys[0]
    register_partitions(instance, ["docs"], world.space_keys)

    result = _materialize(world, instance, f"docs|{space}")

    assert result.success
    uploads = result.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    assert uploads["documents_uploaded"].value == 30
    pages = result.asset_materializations_for_node("confluence_pages")[0].metadata
    assert (pages["pages_listed"].value, pages["pages_new"].value) == (30, 30)
    assert "|" in pages["changed_pages"].value  # a Markdown table preview
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {
        "uploads_succeeded": True,
        "no_mass_deletion": True,
        "documents_searchable": True,
    }
    assert uploads["searchable_at"].value and uploads["pending_ingestion"].value == 0
    assert len(world.documents()) == 30
    run = world.store.ledger.run_for(result.run_id)
    assert run is not None and run.status == "success"

    again = _materialize(world, instance, f"docs|{space}")
    uploads = again.asset_materializations_for_node("llamacloud_uploads")[0].metadata
    assert uploads["documents_uploaded"].value == 0


def test_unconfigured_pair_fails_at_once_with_a_clear_message(
    world: World, instance: dg.DagsterInstance
) -> None:
    register_partitions(instance, ["docs"], [*world.space_keys, "OTHER"])
    requests_before = world.wiki.stats()["requests_total"]

    result = _materialize(world, instance, "docs|OTHER")

    assert not result.success
    failure = result.get_step_failure_events()[0]
    assert failure.step_key == "confluence_spaces"
    assert "space 'OTHER' is not configured for index 'docs'" in str(
        failure.step_failure_data.error.message
    )
    assert world.wiki.stats()["requests_total"] == requests_before


@pytest.mark.slow  # two in-process runs of the whole job
def test_blocked_mass_deletion_fails_the_blocking_check(
    world: World, instance: dg.DagsterInstance
) -> None:
    space = world.space_keys[0]
    register_partitions(instance, ["docs"], world.space_keys)
    assert _materialize(world, instance, f"docs|{space}").success
    for page_id in world.page_ids(space)[:25]:
        world.wiki.trash_page(page_id)

    result = _materialize(world, instance, f"docs|{space}")

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["no_mass_deletion"].passed
    assert len(world.documents()) == 30


def _evaluate(world: World, instance: dg.DagsterInstance, cursor: str | None = None):  # type: ignore[no-untyped-def]
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"state": StateResource(), "confluence": ConfluenceResource()},
    )
    return sync_due_sensor(context)


def test_sensor_registers_partitions_and_requests_only_due_pairs(
    world: World, instance: dg.DagsterInstance
) -> None:
    first, second = world.space_keys
    world.store.registry.create_index(
        name="paused", spaces=[first], pipeline_name="p", enabled=False
    )
    done = world.store.ledger.start_run(world.index().id, first, dagster_run_id=None, full=False)
    world.store.ledger.finish_run(done, status="success")

    result = _evaluate(world, instance)

    added = {
        r.partitions_def_name: set(r.partition_keys) for r in result.dynamic_partitions_requests
    }
    assert added == {"index": {"docs", "paused"}, "space": {first, second}}
    assert [r.partition_key for r in result.run_requests] == [f"docs|{second}"]
    assert result.run_requests[0].tags["confluence_pipeline/partition"] == f"docs|{second}"

    again = _evaluate(world, instance)
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in result.run_requests]


def test_sensor_removes_partitions_of_deleted_indexes(
    world: World, instance: dg.DagsterInstance
) -> None:
    register_partitions(instance, ["docs", "gone"], [*world.space_keys, "OLD"])

    result = _evaluate(world, instance)

    removed = {
        r.partitions_def_name: set(r.partition_keys)
        for r in result.dynamic_partitions_requests
        if isinstance(r, dg.DeleteDynamicPartitionsRequest)
    }
    assert removed == {"index": {"gone"}, "space": {"OLD"}}


def test_sensor_waits_while_a_migration_runs(world: World, instance: dg.DagsterInstance) -> None:
    beat = datetime.now(UTC)
    world.store.registry.update_index("docs", migrating_to="index", migration_heartbeat=beat)
    assert _evaluate(world, instance).run_requests == []

    stale = beat - MIGRATION_STALE - timedelta(seconds=1)  # a migration killed long ago
    world.store.registry.update_index("docs", migration_heartbeat=stale)
    assert len(_evaluate(world, instance).run_requests) == len(world.space_keys)


def test_sensor_starts_no_run_for_a_due_space_the_probe_shows_unchanged(
    world: World, instance: dg.DagsterInstance
) -> None:
    first, second = world.space_keys
    register_partitions(instance, ["docs"], world.space_keys)
    for space in world.space_keys:
        assert _materialize(world, instance, f"docs|{space}").success
    index, ledger = world.index(), world.store.ledger
    hours_ago = datetime.now(UTC) - timedelta(hours=2)  # both due: the interval is 60 minutes
    for space in world.space_keys:
        run = ledger.previous_run(index.id, space)
        assert run is not None
        ledger.update_run(run.id, started_at=hours_ago, finished_at=hours_ago)
    with world.store.engine.begin() as connection:  # and the index was created before that
        connection.execute(sa.update(IndexRow).values(updated_at=hours_ago - timedelta(hours=1)))
    world.wiki.edit_page(world.page_ids(second)[0], "<p>edited since</p>")
    before = world.wiki.stats()["requests_total"]

    result = _evaluate(world, instance)

    assert [r.partition_key for r in result.run_requests] == [f"docs|{second}"]
    assert world.wiki.stats()["requests_total"] - before <= 2 * 2  # the probe's reads, no listing
    settled = ledger.previous_run(index.id, first)
    assert settled is not None and settled.dagster_run_id is None
    assert (settled.status, settled.pages_unchanged) == ("success", 30)
    assert _evaluate(world, instance).run_requests == result.run_requests  # not due again


def test_a_failed_run_since_the_last_listing_keeps_the_space_from_settling(
    world: World, instance: dg.DagsterInstance
) -> None:
    space = world.space_keys[0]
    register_partitions(instance, ["docs"], world.space_keys)
    assert _materialize(world, instance, f"docs|{space}").success
    index, ledger = world.index(), world.store.ledger
    failed = ledger.start_run(index.id, space, dagster_run_id="a", full=False)  # a change run
    ledger.finish_run(failed, status=RunStatus.FAILED, error="its pages were not synced")
    later = ledger.start_run(index.id, space, dagster_run_id="b", full=False)
    ledger.finish_run(later, status=RunStatus.SUCCESS)
    ledger.update_run(later, searchable_at=datetime.now(UTC))

    with world.client() as client:
        assert probe.settle_unchanged(world.store, client, index, space) is None
        assert _materialize(world, instance, f"docs|{space}").success  # lists the space again
        assert probe.settle_unchanged(world.store, client, index, space) is not None
