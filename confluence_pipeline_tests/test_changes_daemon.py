"""The change sensor under a real ``dagster-daemon``: its watermark, stored in the instance as
the sensor's cursor, survives a restart of the daemon."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorType

from confluence_pipeline.defs.sensors import CHANGES_INTERVAL_ENV
from confluence_pipeline.defs.tags import PAGES_TAG
from confluence_pipeline.sync import changes
from confluence_pipeline_tests.dagster_processes import daemon, wait_until
from confluence_pipeline_tests.world import World

pytestmark = [pytest.mark.slow, pytest.mark.sandbox(spaces=2, pages_per_space=4)]
TIMEOUT_S = 300


def _cursor(instance: dg.DagsterInstance) -> str | None:
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.instigator_name == "confluence_changes_sensor" and state.instigator_data:
            return getattr(state.instigator_data, "cursor", None)
    return None


def _watermark(instance: dg.DagsterInstance) -> datetime | None:
    watches = changes.load_watches(_cursor(instance))
    return next(iter(watches.values())).watermark if watches else None


def test_the_watermark_survives_a_daemon_restart(world: World, tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    world.store.registry.update_index("docs", interval_minutes=10080)
    for space in world.space_keys:
        world.sync(space)  # the interval sensor has nothing due
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LLAMA_CLOUD_", "CONFLUENCE_", "DAGSTER_"))
    }
    env.update(world.environment(), DAGSTER_HOME=str(home), **{CHANGES_INTERVAL_ENV: "1"})
    instance = dg.DagsterInstance.from_config(str(home))
    with instance:
        with daemon(env, home / "daemon-1.log") as first:
            wait_until(
                lambda: first.check_alive() or _watermark(instance),
                timeout=TIMEOUT_S,
                what="the change sensor's first tick",
            )
        stored = _watermark(instance)
        assert stored is not None

        space = world.space_keys[0]
        page = world.page_ids(space)[1]
        world.wiki.edit_page(page, "<p>edited while the daemon was down</p>")

        with daemon(env, home / "daemon-2.log") as second:
            [record] = wait_until(
                lambda: (
                    second.check_alive()
                    or _finished(instance.get_run_records(dg.RunsFilter(tags={PAGES_TAG: page})))
                ),
                timeout=TIMEOUT_S,
                what="the change run",
            )
        # the run's key carries the watermark the first daemon stored: the second one went on
        # from it (starting afresh, it would have requested nothing at its first tick)
        run = record.dagster_run
        assert run.tags["dagster/run_key"] == f"changes|docs|{space}|{stored.isoformat()}"
        assert run.status == dg.DagsterRunStatus.SUCCESS
    texts = "\n".join(doc["text"] for doc in world.documents().values())
    assert "edited while the daemon was down" in texts


def _finished(records: list[dg.RunRecord]) -> list[dg.RunRecord] | None:
    return records if records and all(r.dagster_run.is_finished for r in records) else None
