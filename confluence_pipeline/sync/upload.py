"""The upload step (asset ``llamacloud_uploads``): upsert converted documents into the
index's target, delete the documents of pages that are gone (unless that would remove more
than the index's ``max_delete_fraction`` of the space), record what LlamaCloud accepted, ask
the target to ingest (one v2 ``indexes.sync`` per run that wrote), note whether it is
searchable yet, and close the run.

On the ``index`` target an edit uploads a new file, records its id, and only then deletes the
old file, so a page never has zero live files; pages marked ``replacing`` whose run stopped
midway are tidied first (their files listed by ``unique_id``, all but the recorded one
deleted)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import datetime

from confluence_pipeline.llamacloud import LlamaCloudError, document_id
from confluence_pipeline.llamacloud.models import Sink
from confluence_pipeline.runtime.isolation import Breaker
from confluence_pipeline.state import (
    AcceptedPage,
    Action,
    Index,
    PageFailure,
    RunStatus,
    Stage,
    StateStore,
    Target,
)
from confluence_pipeline.state.models import StagedPage, utcnow
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
    searchable_wait: float = 0.0,
    log: Log = lambda _msg: None,
) -> UploadResult:
    """Sends the space's staged work to LlamaCloud and closes sync run ``run_id``. A document
    LlamaCloud keeps refusing is recorded failed (the next run retries it); when LlamaCloud
    keeps failing altogether the run stops with :class:`CircuitOpen` and the next run picks up
    where it stopped. Waits up to ``searchable_wait`` seconds for the target to have ingested
    the run's writes (0: one status read); ``result.searchable_at`` says when, if it did."""
    scope = site_id(store.registry.connection_by_id(connection_id(index)))
    pipeline_id = ensure_pipeline(store, sink, index)
    result = UploadResult(pipeline_id=pipeline_id)
    breaker = Breaker("LlamaCloud")
    writes = _Writes(store, run_id)
    _record_staged_failures(store, index, space_key, scope, result)
    _tidy(store, sink, index, space_key, pipeline_id, writes, log)
    _upsert(store, sink, index, space_key, scope, breaker, result, writes, log)
    _delete_gone(
        store, sink, index, space_key, scope, breaker, allow_mass_delete, result, writes, log
    )
    written_by = utcnow()
    if store.ledger.commit_owed(index.id, space_key):
        sink.commit(pipeline_id)
        store.ledger.commit_paid(index.id, space_key)
        result.index_syncs += 1
    if writes.started or result.index_syncs:
        result.pending_ingestion = result.uploaded + result.deleted
        try:
            searchable = wait_searchable(sink, pipeline_id, written_by, searchable_wait)
        except LlamaCloudError as exc:  # only a status read: `sync --wait` can ask again
            log(f"{space_key}: ingestion status unknown: {exc}")
            searchable = False
        if searchable:
            result.searchable_at, result.pending_ingestion = utcnow(), 0
    else:
        result.searchable_at = written_by  # nothing new to ingest
    store.ledger.update_run(
        run_id,
        pages_deleted=result.deleted,
        pages_failed=result.failed,
        documents_uploaded=result.uploaded,
        searchable_at=result.searchable_at,
    )
    problems = _problems(result, index)
    status = RunStatus.PARTIAL if problems else RunStatus.SUCCESS
    store.ledger.finish_run(run_id, status=status, error=problems)
    return result


def wait_searchable(
    sink: Sink,
    target_id: str,
    since: datetime,
    timeout: float,
) -> bool:
    """Polls the target's ingestion status until what was written by ``since`` is searchable,
    at most ``timeout`` seconds (0: a single read); whether it is."""
    started = time.monotonic()
    delay = 0.05
    while True:
        if sink.searchable(target_id, since):
            return True
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            return False
        time.sleep(min(delay, timeout - elapsed))
        delay = min(delay * 2, 2.0)


class _Writes:
    """Marks the run as owing an ingestion request before its first write to LlamaCloud, so
    a crash after writing still gets its ``indexes.sync`` from the next run."""

    def __init__(self, store: StateStore, run_id: int) -> None:
        self._store, self._run_id = store, run_id
        self.started = False

    def before(self) -> None:
        if not self.started:
            self._store.ledger.owe_commit(self._run_id)
            self.started = True


def ensure_pipeline(store: StateStore, sink: Sink, index: Index) -> str:
    """The id of the index's LlamaCloud target (pipeline, or v2 index), creating it and
    recording it if needed."""
    known = index.target_id(sink.target)
    if known is not None:
        return known
    target_id = sink.ensure_target(index.pipeline_name)
    field = "v2_index_id" if sink.target == Target.INDEX else "pipeline_id"
    store.registry.update_index(index.name, **{field: target_id})
    return target_id


def _tidy(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    target_id: str,
    writes: _Writes,
    log: Log,
) -> None:
    """Deletes stored copies of pages whose last upload or replacement did not finish, all
    but the recorded one (a page whose upload never got recorded keeps none: it is staged
    again and uploaded anew)."""
    unfinished = store.ledger.replacing_pages(index.id, space_key)
    if not unfinished:
        return
    if sink.target == Target.INDEX:
        writes.before()
    removed = 0
    for page in unfinished:
        keep = page.file_id if page.synced else None
        removed += sink.remove_leftovers(target_id, page.document_id, keep)
    store.ledger.done_replacing(index.id, [page.page_id for page in unfinished])
    if removed:
        log(f"{space_key}: removed {removed} leftover copies of {len(unfinished)} pages")


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
    writes: _Writes,
    log: Log,
) -> None:
    converted = store.ledger.iter_staged(
        index.id, space_key, action=Action.UPSERT, stage=Stage.CONVERTED, batch_size=UPLOAD_BATCH
    )
    announced = _announced(store, index, scope, converted, writes)
    batches = upload_batches.upsert_batches(sink, result.pipeline_id, scope, announced, breaker)
    for sent, outcome in batches:
        _record_replaced(store, sink, index, result.pipeline_id, outcome.accepted, log)
        _record_failures(store, index, outcome.failures, result)
        result.uploaded += len(outcome.accepted)
        room = PREVIEW_ROWS - len(result.preview)
        result.preview.extend(
            PageRow(r.page_id, r.title, r.version, r.page_metadata.get("url", ""))
            for r in sent[: max(room, 0)]
        )
        log(f"{space_key}: uploaded {result.uploaded} documents")


def _record_replaced(
    store: StateStore,
    sink: Sink,
    index: Index,
    target_id: str,
    accepted: list[AcceptedPage],
    log: Log,
) -> None:
    """Records the accepted pages with their new stored copy, then deletes the copies they
    replace (v2 files); a page whose old copy could not be deleted stays ``replacing``."""
    if sink.target != Target.INDEX:  # a pipeline replaces a document in place
        store.ledger.record_accepted(index.id, accepted)
        return
    old = store.ledger.file_ids(index.id, [page.page_id for page in accepted])
    pages = [
        dataclasses.replace(page, replacing=old.get(page.page_id) not in (None, page.file_id))
        for page in accepted
    ]
    store.ledger.record_accepted(index.id, pages)
    stale = {page.document_id: old[page.page_id] for page in pages if page.replacing}
    if not stale:
        return
    try:
        sink.delete(target_id, list(stale), stored_ids=stale)
    except LlamaCloudError as exc:
        log(f"could not delete {len(stale)} replaced files (the next run will): {exc}")
        return
    store.ledger.done_replacing(index.id, [page.page_id for page in pages if page.replacing])


def _delete_gone(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    scope: str,
    breaker: Breaker,
    allow_mass_delete: bool,
    result: UploadResult,
    writes: _Writes,
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
    writes.before()
    stored = ledger.file_ids(index.id, [page_id for page_id, _ in gone])
    deletions = upload_batches.delete_documents(
        sink, result.pipeline_id, scope, gone, breaker, stored
    )
    for outcome in deletions:
        ledger.record_deleted(index.id, outcome.deleted)
        _record_failures(store, index, outcome.failures, result)
        result.deleted += len(outcome.deleted)
    log(f"{space_key}: deleted {result.deleted} documents")


def _announced(
    store: StateStore,
    index: Index,
    scope: str,
    batches: Iterator[list[StagedPage]],
    writes: _Writes,
) -> Iterator[list[StagedPage]]:
    """The batches, each recorded as pending before it goes out (see ``record_pending``)."""
    for batch in batches:
        writes.before()
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
