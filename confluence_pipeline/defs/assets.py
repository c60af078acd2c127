"""The four assets of a sync, each partitioned by (index, space)."""

import contextlib
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import Space
from confluence_pipeline.defs.partitions import index_space_partitions, split_partition_key
from confluence_pipeline.defs.resources import ConfluenceResource, LlamaCloudResource, StateResource
from confluence_pipeline.defs.tags import ALLOW_MASS_DELETE_TAG, FULL_SYNC_TAG, PAGES_TAG
from confluence_pipeline.runtime import allocator
from confluence_pipeline.state import Index, RegistryError, StateStore
from confluence_pipeline.sync.connections import usage_summary
from confluence_pipeline.sync.convert import convert_pages
from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline.sync.named import plan_named_pages
from confluence_pipeline.sync.plan import plan_pages
from confluence_pipeline.sync.results import AttachmentResult, PageRow
from confluence_pipeline.sync.run import recording_failure
from confluence_pipeline.sync.spaces import (
    check_partition,
    connection_id,
    recorded_space,
    resolve_space,
)
from confluence_pipeline.sync.upload import upload_documents

GROUP = "confluence_sync"
OWNERS = ["team:platform"]
CONFLUENCE_POOL = "confluence"
"""Steps that call Confluence share this Dagster pool, so all runs together stay within what
the site allows (set its limit in the instance's ``concurrency`` settings)."""
RECONCILE = "index_matches_space"  # the check itself is in checks.py


@dataclass
class _Step:
    store: StateStore
    index: Index
    space_key: str
    run_id: int
    full: bool
    started: float
    page_ids: list[str]
    """The only pages to sync (the change sensor's runs); [] = the whole space."""


@contextlib.contextmanager
def _step(context: dg.AssetExecutionContext, state: StateResource) -> Iterator[_Step]:
    """Opens state, loads the partition's index and sync-run row; a failure inside is recorded
    on the run row and surfaces as one clear line."""
    allocator.tune()
    index_name, space_key = split_partition_key(context.partition_key)
    full = context.run.tags.get(FULL_SYNC_TAG) == "true"
    named = [] if full else [p for p in context.run.tags.get(PAGES_TAG, "").split(",") if p]
    with state.open() as store:
        try:
            index = store.registry.get_index(index_name)
            check_partition(index, space_key)
        except (SyncError, RegistryError) as exc:
            raise dg.Failure(str(exc)) from None
        run_id = store.ledger.start_run(
            index.id, space_key, dagster_run_id=context.run.run_id, full=full
        )
        try:
            with recording_failure(store, run_id):
                yield _Step(store, index, space_key, run_id, full, time.monotonic(), named)
        except SyncError as exc:
            raise dg.Failure(str(exc)) from None


def _preview(rows: list[PageRow], total: int) -> dg.MetadataValue:
    """A Markdown table of the first changed pages (title linking to Confluence, id, version);
    says how many of ``total`` it shows when it shows fewer."""
    if not rows:
        return dg.MetadataValue.md("_no pages_")
    frame = pd.DataFrame(
        [{"page": f"[{r.title}]({r.url})", "id": r.page_id, "version": r.version} for r in rows]
    )
    note = f"\n\n_first {len(rows)} of {total} pages_" if total > len(rows) else ""
    return dg.MetadataValue.md(frame.to_markdown(index=False) + note)


def _space(step: _Step, client: ConfluenceClient) -> Space:
    """The partition's space: resolved again, except in a run naming its pages when it is
    recorded already (a change run saves that request)."""
    if step.page_ids and step.store.registry.get_space(connection_id(step.index), step.space_key):
        return recorded_space(step.store, step.index, step.space_key)
    return resolve_space(step.store, client, step.index, step.space_key)


def _seconds(step: _Step) -> float:
    return round(time.monotonic() - step.started, 3)


def _usage(step: _Step, client: ConfluenceClient) -> dict[str, int]:
    """Confluence requests and points of this step, and of its connection this hour."""
    return usage_summary(step.store, step.index.connection_id, client)


def _attachment_metadata(result: AttachmentResult | None) -> dict[str, Any]:
    """``attachments_*`` counts (``attachments_enabled: False`` alone when they are off)."""
    if result is None:
        return {"attachments_enabled": False}
    counts = {f"attachments_{name}": value for name, value in vars(result).items()}
    del counts["attachments_errors"]
    return {"attachments_enabled": True, **counts}


def _upload_checks() -> list[dg.AssetCheckSpec]:
    """The checks of ``llamacloud_uploads``, partitioned like it so the UI shows a result per
    (index, space); partitioned checks are a Dagster preview, whose warning is silenced here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            dg.AssetCheckSpec(
                "uploads_succeeded",
                asset="llamacloud_uploads",
                partitions_def=index_space_partitions,
                description="Every changed page of the partition was accepted by LlamaCloud.",
            ),
            dg.AssetCheckSpec(
                "no_mass_deletion",
                asset="llamacloud_uploads",
                blocking=True,
                partitions_def=index_space_partitions,
                description=(
                    "The sync did not refuse to delete more than the index's max_delete_fraction "
                    "of the space's documents (a refused run needs --full or --allow-mass-delete)."
                ),
            ),
            dg.AssetCheckSpec(
                "documents_searchable",
                asset="llamacloud_uploads",
                partitions_def=index_space_partitions,
                description=(
                    "LlamaCloud had ingested the run's documents (searchable, not just accepted) "
                    "by the end of the step; a warning while ingestion is still running "
                    "(`confluence-pipeline sync --wait` waits for it)."
                ),
            ),
        ]


@dg.asset(
    partitions_def=index_space_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags={"stage": "extract"},
    kinds={"confluence"},
    pool=CONFLUENCE_POOL,
    description=(
        "The Confluence space of the partition, resolved by key: id, name, homepage "
        "(sync/spaces.py)."
    ),
)
def confluence_spaces(
    context: dg.AssetExecutionContext, state: StateResource, confluence: ConfluenceResource
) -> dg.MaterializeResult:
    with _step(context, state) as step, confluence.client_for(step.store, step.index) as client:
        space = _space(step, client)
        usage = _usage(step, client)
    return dg.MaterializeResult(
        metadata={
            "space_id": space.id,
            "space_name": space.name,
            "homepage_id": space.homepage_id or "",
            "duration_s": _seconds(step),
            **usage,
        }
    )


@dg.asset(
    partitions_def=index_space_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags={"stage": "extract"},
    kinds={"confluence"},
    pool=CONFLUENCE_POOL,
    deps=[confluence_spaces],
    description=(
        "Every current page of the space, listed without bodies; bodies of new or changed "
        "pages are staged in the state database, pages gone from the space staged for deletion "
        "(sync/plan.py, with the change probe of sync/probe.py)."
    ),
)
def confluence_pages(
    context: dg.AssetExecutionContext, state: StateResource, confluence: ConfluenceResource
) -> dg.MaterializeResult:
    with _step(context, state) as step, confluence.client_for(step.store, step.index) as client:
        space = recorded_space(step.store, step.index, step.space_key)
        if step.page_ids:
            plan = plan_named_pages(
                step.store,
                client,
                step.index,
                space,
                step.page_ids,
                run_id=step.run_id,
                log=context.log.info,
            )
        else:
            plan = plan_pages(
                step.store,
                client,
                step.index,
                space,
                run_id=step.run_id,
                full=step.full,
                log=context.log.info,
            )
        usage = _usage(step, client)
    return dg.MaterializeResult(
        metadata={
            "pages_named": len(step.page_ids),
            "pages_listed": plan.listed,
            "pages_new": plan.new,
            "pages_changed": plan.changed,
            "pages_unchanged": plan.unchanged,
            "pages_to_delete": plan.to_delete,
            "pages_moved_away": plan.moved_away,
            "bodies_fetched": plan.fetched,
            "fetch_failures": plan.fetch_failed,
            "listing_skipped": plan.listing_skipped,
            "names_looked_up": plan.names_looked_up,
            "name_lookup_requests": plan.name_requests,
            "duration_s": _seconds(step),
            "changed_pages": _preview(plan.preview, plan.new + plan.changed),
            **usage,
        }
    )


@dg.asset(
    partitions_def=index_space_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags={"stage": "transform"},
    kinds={"python", "markdown"},
    deps=[confluence_pages],
    description=(
        "Staged page bodies converted to Markdown documents with citation metadata "
        "(sync/convert.py)."
    ),
)
def markdown_documents(
    context: dg.AssetExecutionContext, state: StateResource
) -> dg.MaterializeResult:
    with _step(context, state) as step:
        result = convert_pages(step.store, step.index, step.space_key, log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "documents_converted": result.converted,
            "conversion_failures": result.failed,
            "people_shown_as_ids": result.names_missing,
            "first_error": result.errors[0] if result.errors else "",
            "duration_s": _seconds(step),
        }
    )


@dg.asset(
    partitions_def=index_space_partitions,
    group_name=GROUP,
    owners=OWNERS,
    tags={"stage": "load"},
    kinds={"llamaindex"},
    deps=[markdown_documents],
    description=(
        "Documents upserted into the index's LlamaCloud target (a v1 pipeline, or files in "
        "the directory of a v2 index) and documents of deleted pages removed; page versions "
        "are recorded only after LlamaCloud accepted them (sync/upload.py); with attachments "
        "on, the attachments of those pages as files (sync/attachments.py)."
    ),
    check_specs=_upload_checks(),
)
def llamacloud_uploads(
    context: dg.AssetExecutionContext,
    state: StateResource,
    llamacloud: LlamaCloudResource,
    confluence: ConfluenceResource,
) -> dg.MaterializeResult:
    with (
        _step(context, state) as step,
        llamacloud.sink(step.index.target) as sink,
        contextlib.ExitStack() as stack,
    ):
        allow = step.full or context.run.tags.get(ALLOW_MASS_DELETE_TAG) == "true"
        # attachments are downloaded from Confluence here; no client at all when they are off
        client = (
            stack.enter_context(confluence.client_for(step.store, step.index))
            if step.index.attachments
            else None
        )
        result = upload_documents(
            step.store,
            sink,
            step.index,
            step.space_key,
            run_id=step.run_id,
            allow_mass_delete=allow,
            searchable_wait=llamacloud.searchable_wait_seconds,
            confluence=client,
            log=context.log.info,
        )
    searchable_at = result.searchable_at.isoformat() if result.searchable_at else ""
    return dg.MaterializeResult(
        metadata={
            "target": step.index.target,
            "pipeline_id": result.pipeline_id,
            "documents_uploaded": result.uploaded,
            "documents_deleted": result.deleted,
            "index_syncs": result.index_syncs,
            "pending_ingestion": result.pending_ingestion,
            "searchable_at": searchable_at,
            "pages_failed": result.failed,
            "deletions_refused": result.deletions_refused,
            "first_error": result.errors[0] if result.errors else "",
            "duration_s": _seconds(step),
            "uploaded_pages": _preview(result.preview, result.uploaded),
            **_attachment_metadata(result.attachments),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="uploads_succeeded",
                passed=result.failed == 0,
                metadata={"pages_failed": result.failed},
                description=result.errors[0] if result.errors else None,
            ),
            dg.AssetCheckResult(
                check_name="no_mass_deletion",
                passed=result.deletions_refused == 0,
                metadata={"deletions_refused": result.deletions_refused},
                description=(
                    f"refused to delete {result.deletions_refused} documents; rerun with --full"
                    if result.deletions_refused
                    else None
                ),
            ),
            dg.AssetCheckResult(
                check_name="documents_searchable",
                passed=result.searchable_at is not None,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "pending_ingestion": result.pending_ingestion,
                    "searchable_at": searchable_at,
                },
                description=(
                    None
                    if result.searchable_at
                    else f"{result.pending_ingestion} documents accepted, not yet searchable"
                ),
            ),
        ],
    )


sync_assets = [confluence_spaces, confluence_pages, markdown_documents, llamacloud_uploads]

sync_job = dg.define_asset_job(
    "confluence_sync",
    # the reconciliation check reads the whole index: it runs on demand, not in every sync
    selection=dg.AssetSelection.assets(*sync_assets)
    - dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("llamacloud_uploads"), RECONCILE)),
    description="Sync one (index, space) partition: resolve, plan, convert, upload.",
)
