"""The sensors that schedule syncs: the interval sensor (the old service's 5-minute scheduler,
and the safety net) and the change sensor (edits within about two minutes)."""

import os
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from confluence_pipeline.defs.assets import sync_job
from confluence_pipeline.defs.partitions import (
    index_partitions,
    partition_key,
    space_partitions,
)
from confluence_pipeline.defs.resources import ConfluenceResource, StateResource
from confluence_pipeline.defs.tags import PAGES_TAG, run_tags
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.state import Index
from confluence_pipeline.sync import changes, probe

CHANGE_RUN_CONFIG: dict[str, Any] = {"execution": {"config": {"in_process": {}}}}
"""A change run handles a few pages: its steps run in the run's own process, sparing the
seconds of starting a process per step."""
CHANGES_INTERVAL_ENV = "CONFLUENCE_PIPELINE_CHANGES_INTERVAL"
"""Seconds between ticks of the change sensor (read when the definitions load; default 30)."""


def _due(index: Index, last: datetime | None, now: datetime) -> bool:
    if last is None:
        return True
    return (now - last).total_seconds() >= index.interval_minutes * 60


@dg.sensor(
    job=sync_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Each tick: registers (index, space) partitions from the index registry, removes stale "
        "ones, and requests a sync of each enabled pair whose interval has elapsed since its "
        "last successful sync, unless the change probe (2 requests) shows the space as that "
        "sync left it: then it records an unchanged sync and starts no run. Run keys carry the "
        "interval slot, so no tick launches twice."
    ),
)
def sync_due_sensor(
    context: dg.SensorEvaluationContext, state: StateResource, confluence: ConfluenceResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    with state.open() as store:
        indexes = store.registry.list_indexes()
        last_success = store.ledger.last_success()

    wanted = {
        index_partitions.name: [i.name for i in indexes],
        space_partitions.name: list(dict.fromkeys(s for i in indexes for s in i.spaces)),
    }
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    for name, keys in wanted.items():
        assert name is not None
        known = set(context.instance.get_dynamic_partitions(name))
        if added := [key for key in keys if key not in known]:
            requests.append(dg.AddDynamicPartitionsRequest(name, added))
        if stale := sorted(known - set(keys)):
            requests.append(dg.DeleteDynamicPartitionsRequest(name, stale))

    run_requests = []
    for index in indexes:
        if not index.enabled or index.connection_id is None or index.migrating(now):
            continue  # a migrating index syncs again once `index migrate` is done
        slot = int(now.timestamp() // (index.interval_minutes * 60))
        due = [s for s in index.spaces if _due(index, last_success.get((index.id, s)), now)]
        settled = _settle_unchanged(state, confluence, index, due)
        for space in due:
            if space in settled:
                context.log.info(f"{index.name}|{space}: unchanged, no run needed")
            else:
                run_requests.append(
                    dg.RunRequest(
                        run_key=f"{index.name}|{space}|{slot}",
                        partition_key=partition_key(index.name, space),
                        tags=run_tags(index.name, space, index.owners),
                    )
                )
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=requests)


def _settle_unchanged(
    state: StateResource, confluence: ConfluenceResource, index: Index, spaces: list[str]
) -> set[str]:
    """The due spaces that need no run (:func:`probe.settle_unchanged` records them). Any
    error leaves them all to their runs, which report it."""
    if not spaces or index.connection_id is None:
        return set()
    try:
        with state.open() as store, confluence.tick_client(store, index.connection_id) as c:
            return set(probe.settle_spaces(store, c, index, spaces))
    except PipelineError:
        return set()


def _changes_interval() -> int:
    raw = os.environ.get(CHANGES_INTERVAL_ENV, "").strip()
    try:
        seconds = int(raw) if raw else 30
    except ValueError:
        raise ValueError(f"{CHANGES_INTERVAL_ENV} must be whole seconds, got {raw!r}") from None
    if seconds < 1:
        raise ValueError(f"{CHANGES_INTERVAL_ENV} must be at least 1, got {seconds}")
    return seconds


@dg.sensor(
    job=sync_job,
    minimum_interval_seconds=_changes_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Each tick, per connection: one CQL query for pages modified since the watermark "
        "(minus a 5-minute overlap) and, once a minute, the head of the trash; requests a run "
        "of each (index, space) with changed or trashed pages, naming just those pages. Run "
        "keys carry the watermark, which lives in this sensor's cursor (sync/changes.py)."
    ),
)
def confluence_changes_sensor(
    context: dg.SensorEvaluationContext, state: StateResource, confluence: ConfluenceResource
) -> dg.SensorResult:
    now = datetime.now(UTC)
    watches = changes.load_watches(context.cursor)
    with state.open() as store:
        owners = {index.name: index.owners for index in store.registry.list_indexes()}
        polled = changes.poll(store, lambda cid: confluence.tick_client(store, cid), watches, now)
    for error in polled.errors:
        context.log.warning(f"change sensor: {error}")
    run_requests = []
    for change in polled.changes:
        tags = run_tags(change.index, change.space, owners.get(change.index))
        if change.page_ids:
            tags[PAGES_TAG] = ",".join(change.page_ids)
        run_requests.append(
            dg.RunRequest(
                run_key=f"changes|{change.index}|{change.space}|{change.since}",
                partition_key=partition_key(change.index, change.space),
                tags=tags,
                run_config=CHANGE_RUN_CONFIG if change.page_ids else {},
            )
        )
    partitions = _missing_partitions(
        context.instance, [(change.index, change.space) for change in polled.changes]
    )
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=partitions,
        cursor=changes.dump_watches(polled.watches),
    )


def _missing_partitions(
    instance: dg.DagsterInstance, pairs: list[tuple[str, str]]
) -> list[dg.AddDynamicPartitionsRequest]:
    """Registers what the interval sensor has not yet (an index created a moment ago)."""
    requests = []
    for definition, keys in (
        (index_partitions, [index for index, _ in pairs]),
        (space_partitions, [space for _, space in pairs]),
    ):
        assert definition.name is not None
        known = set(instance.get_dynamic_partitions(definition.name))
        if missing := [key for key in dict.fromkeys(keys) if key not in known]:
            requests.append(dg.AddDynamicPartitionsRequest(definition.name, missing))
    return requests
