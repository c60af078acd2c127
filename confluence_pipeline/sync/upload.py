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

from confluence_pipeline.confluence import ConfluenceClient
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
from confluence_pipeline.sync.attachments import drop_attachments, sync_attachments
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
    confluence: ConfluenceClient | None = None,
    log: Log = lambda _msg: None,
) -> UploadResult:
    """Sends the space's staged work to LlamaCloud and closes sync run ``run_id``; for an
    index with ``attachments`` on, also the attachments of the pages accepted (in this run, or
    in one that stopped before it got to them; downloaded with ``confluence``, see
    :mod:`.attachments`), before the target is asked to ingest. A document
    LlamaCloud keeps refusing is recorded failed (the next run retries it); when LlamaCloud
    keeps failing altogether the run stops with :class:`CircuitOpen` and the next run picks up
    where it stopped. Waits up to ``searchable_wait`` seconds for the target to have ingested
    the run's writes (0: one status read); ``result.searchable_at`` says when, if it did."""
    pipeline_id = ensure_pipeline(store, sink, index)
    result = UploadResult(pipeline_id=pipeline_id)
    upload = _Upload(store, sink, index, space_key, run_id, result, log)
    upload.record_staged_failures()
    upload.tidy()
    upload.upsert()
    upload.delete_gone(allow_mass_delete=allow_mass_delete)
    if index.attachments and confluence is not None:
        result.attachments = sync_attachments(
            store,
            confluence,
            sink,
            index,
            space_key,
            target_id=pipeline_id,
            site_id=upload.scope,
            allow_mass_delete=allow_mass_delete,
            before_write=upload.before_write,
            log=log,
        )
    elif not index.attachments and store.attachments.known(index.id, space_key):
        result.attachments = drop_attachments(
            store,
            sink,
            index,
            space_key,
            target_id=pipeline_id,
            before_write=upload.before_write,
            log=log,
        )
    upload.commit(searchable_wait)
    store.ledger.update_run(
        run_id,
        pages_deleted=result.deleted,
        pages_failed=result.failed,
        documents_uploaded=result.uploaded,
        searchable_at=result.searchable_at,
    )
    if result.attachments is not None:
        store.ledger.update_run(
            run_id,
            attachments_uploaded=result.attachments.uploaded,
            attachments_deleted=result.attachments.deleted,
            attachments_skipped=result.attachments.skipped,
        )
    problems = _problems(result, index)
    status = RunStatus.PARTIAL if problems else RunStatus.SUCCESS
    store.ledger.finish_run(run_id, status=status, error=problems)
    return result


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


def wait_searchable(sink: Sink, target_id: str, since: datetime, timeout: float) -> bool:
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


class _Upload:
    """The upload of one space's staged work; counts go to ``result``."""

    def __init__(
        self,
        store: StateStore,
        sink: Sink,
        index: Index,
        space_key: str,
        run_id: int,
        result: UploadResult,
        log: Log,
    ) -> None:
        self.store, self.sink, self.index, self.space_key = store, sink, index, space_key
        self.run_id, self.result, self.log = run_id, result, log
        self.scope = site_id(store.registry.connection_by_id(connection_id(index)))
        self.breaker = Breaker("LlamaCloud")
        self.wrote = False

    def record_staged_failures(self) -> None:
        """Pages whose body could not be fetched or converted are recorded failed."""
        for batch in self._staged(Action.UPSERT, Stage.FAILED):
            self._record_failures(
                [
                    PageFailure(r.page_id, self.space_key, self._document_id(r), r.error or "")
                    for r in batch
                ]
            )

    def tidy(self) -> None:
        """Deletes stored copies of pages whose last upload or replacement did not finish, all
        but the recorded one (a page whose upload never got recorded keeps none: it is staged
        again and uploaded anew)."""
        unfinished = self.store.ledger.replacing_pages(self.index.id, self.space_key)
        if not unfinished:
            return
        if self.sink.target == Target.INDEX:
            self.before_write()
        removed = 0
        for page in unfinished:
            keep = page.file_id if page.synced else None
            removed += self.sink.remove_leftovers(self.result.pipeline_id, page.document_id, keep)
        self.store.ledger.done_replacing(self.index.id, [page.page_id for page in unfinished])
        if removed:
            self.log(f"{self.space_key}: removed {removed} leftover copies")

    def upsert(self) -> None:
        result = self.result
        announced = self._announced(self._staged(Action.UPSERT, Stage.CONVERTED, UPLOAD_BATCH))
        batches = upload_batches.upsert_batches(
            self.sink, result.pipeline_id, self.scope, announced, self.breaker
        )
        for sent, outcome in batches:
            if self.index.attachments:  # noted before the pages are recorded: never lost
                ids = {page.page_id for page in outcome.accepted}
                metadata = {r.page_id: r.page_metadata for r in sent if r.page_id in ids}
                self.store.attachments.queue(self.index.id, self.space_key, metadata)
            self._record_replaced(outcome.accepted)
            self._record_failures(outcome.failures)
            result.uploaded += len(outcome.accepted)
            room = PREVIEW_ROWS - len(result.preview)
            result.preview.extend(
                PageRow(r.page_id, r.title, r.version, r.page_metadata.get("url", ""))
                for r in sent[: max(room, 0)]
            )
            self.log(f"{self.space_key}: uploaded {result.uploaded} documents")

    def delete_gone(self, *, allow_mass_delete: bool) -> None:
        ledger, result, space_key = self.store.ledger, self.result, self.space_key
        still_here = ledger.known_pages(self.index.id, space_key)
        gone = [
            (row.page_id, space_key)
            for batch in self._staged(Action.DELETE, Stage.FETCHED)
            for row in batch
            if row.page_id in still_here
        ]
        if not gone:
            return
        synced = ledger.count_synced(self.index.id, space_key)
        limit = self.index.max_delete_fraction
        if not allow_mass_delete and len(gone) > limit * synced:
            result.deletions_refused = len(gone)
            self.log(
                f"{space_key}: refused to delete {len(gone)} of {synced} documents "
                f"(limit {limit:.0%}); rerun with --full to allow"
            )
            return
        self.before_write()
        stored = ledger.file_ids(self.index.id, [page_id for page_id, _ in gone])
        for outcome in upload_batches.delete_documents(
            self.sink, result.pipeline_id, self.scope, gone, self.breaker, stored
        ):
            ledger.record_deleted(self.index.id, outcome.deleted)
            self._record_failures(outcome.failures)
            result.deleted += len(outcome.deleted)
        self.log(f"{space_key}: deleted {result.deleted} documents")

    def commit(self, searchable_wait: float) -> None:
        """Asks the target to ingest when this run, or a run that died, wrote (v2: one
        ``indexes.sync``), then reads once (or for ``searchable_wait`` s) whether it did."""
        result, ledger = self.result, self.store.ledger
        written_by = utcnow()
        if ledger.commit_owed(self.index.id, self.space_key):
            self.sink.commit(result.pipeline_id)
            ledger.commit_paid(self.index.id, self.space_key)
            result.index_syncs += 1
        if not (self.wrote or result.index_syncs):
            result.searchable_at = written_by  # nothing new to ingest
            return
        result.pending_ingestion = result.uploaded + result.deleted
        try:
            searchable = wait_searchable(self.sink, result.pipeline_id, written_by, searchable_wait)
        except LlamaCloudError as exc:  # only a status read: `sync --wait` can ask again
            self.log(f"{self.space_key}: ingestion status unknown: {exc}")
            searchable = False
        if searchable:
            result.searchable_at, result.pending_ingestion = utcnow(), 0

    def before_write(self) -> None:
        """Marks the run as owing an ingestion request before its first write, so a crash
        after writing still gets its ``indexes.sync`` from the next run."""
        if not self.wrote:
            self.store.ledger.owe_commit(self.run_id)
            self.wrote = True

    def _record_replaced(self, accepted: list[AcceptedPage]) -> None:
        """Records the accepted pages with their new stored copy, then deletes the copies they
        replace (v2 files); a page whose old copy could not be deleted stays ``replacing``."""
        ledger, index_id = self.store.ledger, self.index.id
        if self.sink.target != Target.INDEX:  # a pipeline replaces a document in place
            ledger.record_accepted(index_id, accepted)
            return
        old = ledger.file_ids(index_id, [page.page_id for page in accepted])
        pages = [
            dataclasses.replace(page, replacing=old.get(page.page_id) not in (None, page.file_id))
            for page in accepted
        ]
        ledger.record_accepted(index_id, pages)
        stale = {page.document_id: old[page.page_id] for page in pages if page.replacing}
        if not stale:
            return
        try:
            self.sink.delete(self.result.pipeline_id, list(stale), stored_ids=stale)
        except LlamaCloudError as exc:
            self.log(f"could not delete {len(stale)} replaced files (the next run will): {exc}")
            return
        ledger.done_replacing(index_id, [page.page_id for page in pages if page.replacing])

    def _staged(
        self, action: Action, stage: Stage, batch_size: int = 100
    ) -> Iterator[list[StagedPage]]:
        return self.store.ledger.iter_staged(
            self.index.id, self.space_key, action=action, stage=stage, batch_size=batch_size
        )

    def _document_id(self, row: StagedPage) -> str:
        return document_id(self.scope, row.page_id)

    def _announced(self, batches: Iterator[list[StagedPage]]) -> Iterator[list[StagedPage]]:
        """The batches, each recorded as pending before it goes out (see ``record_pending``)."""
        for batch in batches:
            self.before_write()
            pages = [(r.page_id, r.space_key, self._document_id(r)) for r in batch]
            self.store.ledger.record_pending(self.index.id, pages)
            yield batch

    def _record_failures(self, failures: list[PageFailure]) -> None:
        self.store.ledger.record_failed(self.index.id, failures)
        self.result.failed += len(failures)
        self.result.errors.extend(failure.error for failure in failures)


def _problems(result: UploadResult, index: Index) -> str | None:
    parts = []
    if result.failed:
        parts.append(f"{result.failed} page(s) failed: {result.errors[0]}")
    attachments = result.attachments
    if attachments is not None and attachments.failed:
        parts.append(f"{attachments.failed} attachment(s) failed: {attachments.errors[0]}")
    if attachments is not None and attachments.deletions_refused:
        parts.append(f"refused to delete {attachments.deletions_refused} attachment files")
    if result.deletions_refused:
        parts.append(
            f"refused to delete {result.deletions_refused} documents "
            f"(more than {index.max_delete_fraction:.0%} of the space)"
        )
    return "; ".join(parts) or None
