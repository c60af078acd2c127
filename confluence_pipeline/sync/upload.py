"""The upload step (asset ``llamacloud_uploads``): upsert converted documents, delete the
documents of pages that are gone (unless that would remove more than the index's
``max_delete_fraction`` of the space), record what LlamaCloud accepted, and close the run."""

from __future__ import annotations

from collections.abc import Iterator

from confluence_pipeline.llamacloud import document_id
from confluence_pipeline.llamacloud.models import Sink
from confluence_pipeline.runtime.isolation import Breaker
from confluence_pipeline.state import (
    Action,
    Index,
    PageFailure,
    RunStatus,
    Stage,
    StateStore,
)
from confluence_pipeline.state.models import StagedPage
from confluence_pipeline.sync import upload_batches
from confluence_pipeline.sync.results import PREVIEW_ROWS, Log, PageRow, UploadResult
from confluence_pipeline.sync.spaces import connection_id, site_id

UPLOAD_BATCH = 100


def upload_documents(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    *,
    run_id: int,
    allow_mass_delete: bool = False,
    log: Log = lambda _msg: None,
) -> UploadResult:
    """Sends the space's staged work to LlamaCloud and closes sync run ``run_id``. A document
    LlamaCloud keeps refusing is recorded failed (the next run retries it); when LlamaCloud
    keeps failing altogether the run stops with :class:`CircuitOpen` and the next run picks up
    where it stopped."""
    scope = site_id(store.registry.connection_by_id(connection_id(index)))
    pipeline_id = ensure_pipeline(store, sink, index)
    result = UploadResult(pipeline_id=pipeline_id)
    breaker = Breaker("LlamaCloud")
    _record_staged_failures(store, index, space_key, scope, result)
    _upsert(store, sink, index, space_key, scope, breaker, result, log)
    _delete_gone(store, sink, index, space_key, scope, breaker, allow_mass_delete, result, log)
    store.ledger.update_run(
        run_id,
        pages_deleted=result.deleted,
        pages_failed=result.failed,
        documents_uploaded=result.uploaded,
    )
    problems = _problems(result, index)
    status = RunStatus.PARTIAL if problems else RunStatus.SUCCESS
    store.ledger.finish_run(run_id, status=status, error=problems)
    return result


def ensure_pipeline(store: StateStore, sink: Sink, index: Index) -> str:
    """The index's LlamaCloud pipeline id, creating the pipeline and recording it if needed."""
    if index.pipeline_id is not None:
        return index.pipeline_id
    pipeline_id = sink.ensure_pipeline(index.pipeline_name)
    store.registry.update_index(index.name, pipeline_id=pipeline_id)
    return pipeline_id


def _record_staged_failures(
    store: StateStore, index: Index, space_key: str, scope: str, result: UploadResult
) -> None:
    """Pages whose body could not be fetched or converted are recorded failed."""
    for batch in store.ledger.iter_staged(
        index.id, space_key, action=Action.UPSERT, stage=Stage.FAILED
    ):
        failures = [
            PageFailure(r.page_id, space_key, document_id(scope, r.page_id), r.error or "")
            for r in batch
        ]
        _record_failures(store, index, failures, result)


def _upsert(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    scope: str,
    breaker: Breaker,
    result: UploadResult,
    log: Log,
) -> None:
    converted = store.ledger.iter_staged(
        index.id, space_key, action=Action.UPSERT, stage=Stage.CONVERTED, batch_size=UPLOAD_BATCH
    )
    announced = _announced(store, index, scope, converted)
    batches = upload_batches.upsert_batches(sink, result.pipeline_id, scope, announced, breaker)
    for sent, outcome in batches:
        store.ledger.record_accepted(index.id, outcome.accepted)
        _record_failures(store, index, outcome.failures, result)
        result.uploaded += len(outcome.accepted)
        room = PREVIEW_ROWS - len(result.preview)
        result.preview.extend(
            PageRow(r.page_id, r.title, r.version, r.page_metadata.get("url", ""))
            for r in sent[: max(room, 0)]
        )
        log(f"{space_key}: uploaded {result.uploaded} documents")


def _delete_gone(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    scope: str,
    breaker: Breaker,
    allow_mass_delete: bool,
    result: UploadResult,
    log: Log,
) -> None:
    ledger = store.ledger
    still_here = ledger.known_pages(index.id, space_key)
    gone = [
        (row.page_id, space_key)
        for batch in ledger.iter_staged(
            index.id, space_key, action=Action.DELETE, stage=Stage.FETCHED
        )
        for row in batch
        if row.page_id in still_here
    ]
    if not gone:
        return
    synced = ledger.count_synced(index.id, space_key)
    if not allow_mass_delete and len(gone) > index.max_delete_fraction * synced:
        result.deletions_refused = len(gone)
        log(
            f"{space_key}: refused to delete {len(gone)} of {synced} documents "
            f"(limit {index.max_delete_fraction:.0%}); rerun with --full to allow"
        )
        return
    for outcome in upload_batches.delete_documents(sink, result.pipeline_id, scope, gone, breaker):
        ledger.record_deleted(index.id, outcome.deleted)
        _record_failures(store, index, outcome.failures, result)
        result.deleted += len(outcome.deleted)
    log(f"{space_key}: deleted {result.deleted} documents")


def _announced(
    store: StateStore, index: Index, scope: str, batches: Iterator[list[StagedPage]]
) -> Iterator[list[StagedPage]]:
    """The batches, each recorded as pending before it goes out (see ``record_pending``)."""
    for batch in batches:
        pages = [(r.page_id, r.space_key, document_id(scope, r.page_id)) for r in batch]
        store.ledger.record_pending(index.id, pages)
        yield batch


def _record_failures(
    store: StateStore, index: Index, failures: list[PageFailure], result: UploadResult
) -> None:
    store.ledger.record_failed(index.id, failures)
    result.failed += len(failures)
    result.errors.extend(failure.error for failure in failures)


def _problems(result: UploadResult, index: Index) -> str | None:
    parts = []
    if result.failed:
        parts.append(f"{result.failed} page(s) failed: {result.errors[0]}")
    if result.deletions_refused:
        parts.append(
            f"refused to delete {result.deletions_refused} documents "
            f"(more than {index.max_delete_fraction:.0%} of the space)"
        )
    return "; ".join(parts) or None
