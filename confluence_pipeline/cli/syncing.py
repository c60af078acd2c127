"""`sync` and `history`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from confluence_pipeline.cli.context import dagster_instance, llamacloud_sink, open_state
from confluence_pipeline.cli.output import (
    StepProgress,
    console,
    debugging,
    fail,
    print_json,
    print_table,
)
from confluence_pipeline.errors import PipelineError
from confluence_pipeline.settings import Settings
from confluence_pipeline.state import Index, StateStore, SyncRun
from confluence_pipeline.state.models import utcnow
from confluence_pipeline.sync.connections import open_client
from confluence_pipeline.sync.probe import settle_spaces

if TYPE_CHECKING:
    from confluence_pipeline.defs.launch import LaunchedRun

HISTORY_COLUMNS = [
    "index",
    "space",
    "status",
    "started",
    "seconds",
    "listed",
    "new",
    "changed",
    "unchanged",
    "deleted",
    "failed",
    "uploaded",
    "searchable_at",
    "error",
]


def history_rows(store: StateStore, runs: list[SyncRun]) -> list[list[object]]:
    names = {i.id: i.name for i in store.registry.list_indexes()}
    return [
        [
            names.get(r.index_id, f"#{r.index_id}"),
            r.space_key,
            r.status,
            r.started_at,
            round((r.finished_at - r.started_at).total_seconds(), 2) if r.finished_at else None,
            r.pages_listed,
            r.pages_new,
            r.pages_changed,
            r.pages_unchanged,
            r.pages_deleted,
            r.pages_failed,
            r.documents_uploaded,
            r.searchable_at,
            (r.error or "")[:120] or None,
        ]
        for r in runs
    ]


def _why(outcome: LaunchedRun, run: SyncRun | None) -> str:
    """Why a run failed: the sync's own account (a refused deletion, a missing space) where it
    recorded one, else the failed Dagster step's error."""
    return (run.error if run is not None and run.error else outcome.error) or "run failed"


def _note(outcome: LaunchedRun, run: SyncRun | None) -> str:
    if not outcome.success or run is None:
        return _why(outcome, run)
    uploaded, deleted, failed = run.documents_uploaded, run.pages_deleted, run.pages_failed
    note = f"{uploaded} uploaded, {deleted} deleted, {failed} failed"
    if run.attachments_uploaded is not None:
        note += (
            f"; attachments: {run.attachments_uploaded} uploaded, "
            f"{run.attachments_deleted} deleted, {run.attachments_skipped} skipped"
        )
    return note


@click.command()
@click.argument("name")
@click.option("--space", "spaces", multiple=True, help="Only this space (repeatable).")
@click.option("--full", is_flag=True, help="Re-upload every page and allow mass deletion.")
@click.option(
    "--allow-mass-delete", is_flag=True, help="Allow deleting more than the index's share."
)
@click.option("--wait", is_flag=True, help="Wait until the synced pages are searchable.")
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds --wait waits for ingestion.",
)
def sync(
    name: str,
    spaces: tuple[str, ...],
    full: bool,
    allow_mass_delete: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Sync an index now: a Dagster run (shown in the UI) for each space that changed."""
    Settings.from_env().llamacloud()  # missing variables fail before any run starts
    with open_state() as store:
        index = _after_migration(store, store.registry.get_index(name))
        unknown = [s for s in spaces if s not in index.spaces]
        if unknown:
            raise fail(
                f"space {', '.join(unknown)} is not in index {name!r} "
                f"(its spaces: {', '.join(index.spaces)})"
            )
        started = time.monotonic()
        targets = list(spaces) or index.spaces
        with StepProgress(name, targets) as progress:
            settled = {} if full else _settle_unchanged(store, index, targets, progress)
            launch = [space for space in targets if space not in settled]
            outcomes = _launch(store, index, launch, progress, full, allow_mass_delete)
        found = {o.space: store.ledger.run_for(o.dagster_run_id) for o in outcomes}
        found.update(settled)
        runs = [run for space in targets if (run := found.get(space)) is not None]
        if wait:
            runs = _wait_searchable(store, index, runs, timeout)
        print_table(
            f"Sync of {name} ({time.monotonic() - started:.1f} s)",
            HISTORY_COLUMNS,
            history_rows(store, runs),
        )
    failed = [(o, found.get(o.space)) for o in outcomes if not o.success]
    if failed:
        first, run = failed[0]
        others = f" (and {len(failed) - 1} more space(s))" if len(failed) > 1 else ""
        raise fail(
            f"sync of {name} / {first.space} failed: {_why(first, run)}{others}; "
            f"`confluence-pipeline history {name}` lists the runs"
        )


def _settle_unchanged(
    store: StateStore, index: Index, spaces: list[str], progress: StepProgress
) -> dict[str, SyncRun]:
    """The spaces that need no run because the change probe (2 requests each) shows them as
    their last complete sync left them; each is recorded as a finished no-op run. Anything
    unexpected leaves the space to its run, which reports it properly."""
    if index.connection_id is None:
        return {}
    try:
        connection = store.registry.connection_by_id(index.connection_id)
        with open_client(store, connection) as client:
            settled = settle_spaces(store, client, index, spaces)
    except PipelineError:
        return {}
    for space, run in settled.items():
        progress.done(space, True, f"unchanged ({run.pages_unchanged} pages), no run")
    return settled


def _launch(
    store: StateStore,
    index: Index,
    spaces: list[str],
    progress: StepProgress,
    full: bool,
    allow_mass_delete: bool,
) -> list[LaunchedRun]:
    """One Dagster run per space, in this process and recorded in the instance the UI shows.
    Dagster is imported only here: a sync with nothing to run never loads it."""
    if not spaces:
        return []
    from confluence_pipeline.definitions import defs
    from confluence_pipeline.defs.launch import run_sync

    outcomes = []
    with dagster_instance() as instance:
        for space in spaces:
            [outcome] = run_sync(
                instance,
                defs,
                index,
                [space],
                full=full,
                allow_mass_delete=allow_mass_delete,
                on_start=progress.start,
                log_level="INFO" if debugging() else "CRITICAL",
            )
            outcomes.append(outcome)
            run = store.ledger.run_for(outcome.dagster_run_id)
            progress.done(space, outcome.success, _note(outcome, run))
    return outcomes


def _after_migration(store: StateStore, index: Index) -> Index:
    """The index once no `index migrate` is moving it (a dead migration stops counting)."""
    if index.migrating():
        console.print(f"waiting for the migration of {index.name} to finish", markup=False)
    while index.migrating():
        time.sleep(1.0)
        index = store.registry.get_index(index.name)
    return index


def _wait_searchable(
    store: StateStore, index: Index, runs: list[SyncRun], timeout: float
) -> list[SyncRun]:
    """Waits until LlamaCloud has ingested what the runs wrote (one status read per poll),
    records when, and returns the runs as recorded; fails after ``timeout`` seconds."""
    pending = [r for r in runs if r.searchable_at is None and r.finished_at is not None]
    index = store.registry.get_index(index.name)
    target_id = index.target_id()
    if not pending or target_id is None:
        return runs
    since = max(r.finished_at for r in pending if r.finished_at is not None)
    from confluence_pipeline.sync.upload import wait_searchable  # the SDK, only when waiting

    with llamacloud_sink(index.target) as sink, StepProgress(name_of(index), ["ingestion"]) as bar:
        bar.start("ingestion")
        searchable = wait_searchable(sink, target_id, since, timeout)
        bar.done("ingestion", searchable, "searchable" if searchable else "still ingesting")
    if not searchable:
        raise fail(
            f"{index.name}: the synced pages were accepted but are not searchable after "
            f"{timeout:g} s (LlamaCloud is still ingesting; see `history`)"
        )
    now = utcnow()
    for run in pending:
        store.ledger.update_run(run.id, searchable_at=now)
    return [store.ledger.run_for(r.dagster_run_id) or r for r in runs if r.dagster_run_id]


def name_of(index: Index) -> str:
    return f"{index.name} ({index.target})"


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def history(name: str | None, as_json: bool, limit: int) -> None:
    """Past syncs, newest first."""
    with open_state() as store:
        index_id = store.registry.get_index(name).id if name else None
        runs = store.ledger.history(index_id, limit=limit)
        rows = history_rows(store, runs)
    if as_json:
        print_json([dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in rows])
        return
    print_table("Sync history", HISTORY_COLUMNS, rows)
