"""Launching sync runs from Python (the CLI and the demo run the same job as the UI)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dagster as dg

from confluence_pipeline.defs.assets import sync_job
from confluence_pipeline.defs.failures import step_failure
from confluence_pipeline.defs.partitions import partition_key, register_partitions
from confluence_pipeline.defs.tags import ALLOW_MASS_DELETE_TAG, FULL_SYNC_TAG, run_tags
from confluence_pipeline.state import Index


@dataclass(frozen=True, slots=True)
class LaunchedRun:
    space: str
    dagster_run_id: str
    success: bool
    error: str | None


def run_sync(
    instance: dg.DagsterInstance,
    definitions: dg.Definitions,
    index: Index,
    spaces: Sequence[str],
    *,
    full: bool = False,
    allow_mass_delete: bool = False,
    on_start: Callable[[str], None] = lambda _space: None,
    log_level: str = "CRITICAL",
) -> list[LaunchedRun]:
    """Runs the sync job in-process, one run per space, recorded in ``instance``. The full
    event log is there; the console shows only events at ``log_level`` and above (by default
    none: a failure comes back as :attr:`LaunchedRun.error`)."""
    register_partitions(instance, [index.name], list(index.spaces))
    job = definitions.resolve_job_def(sync_job.name)
    outcomes = []
    for space in spaces:
        on_start(space)
        tags = run_tags(index.name, space)
        if full:
            tags[FULL_SYNC_TAG] = "true"
        if allow_mass_delete:
            tags[ALLOW_MASS_DELETE_TAG] = "true"
        result = job.execute_in_process(
            partition_key=partition_key(index.name, space),
            instance=instance,
            tags=tags,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            raise_on_error=False,
        )
        outcomes.append(
            LaunchedRun(
                space=space,
                dagster_run_id=result.run_id,
                success=result.success,
                error=None if result.success else step_failure(result.all_events) or "run failed",
            )
        )
    return outcomes
