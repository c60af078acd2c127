"""The sensor that replaces the old service's 5-minute scheduler."""

from datetime import UTC, datetime

import dagster as dg

from confluence_pipeline.defs.assets import sync_job
from confluence_pipeline.defs.partitions import (
    index_partitions,
    partition_key,
    space_partitions,
)
from confluence_pipeline.defs.resources import StateResource
from confluence_pipeline.defs.tags import run_tags
from confluence_pipeline.state import Index


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
        "last successful sync. Run keys carry the interval slot, so no tick launches twice."
    ),
)
def sync_due_sensor(context: dg.SensorEvaluationContext, state: StateResource) -> dg.SensorResult:
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
        for space in index.spaces:
            if _due(index, last_success.get((index.id, space)), now):
                run_requests.append(
                    dg.RunRequest(
                        run_key=f"{index.name}|{space}|{slot}",
                        partition_key=partition_key(index.name, space),
                        tags=run_tags(index.name, space, index.owners),
                    )
                )
    return dg.SensorResult(run_requests=run_requests, dynamic_partitions_requests=requests)
