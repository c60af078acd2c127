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
    pipeline_id = ensure_pipeline(store, sink, index)
    upload = _Upload(store, sink, index, space_key, UploadResult(pipeline_id=pipeline_id), log)
    upload.record_staged_failures()
    upload.upsert()
    upload.delete_gone(allow_mass_delete=allow_mass_delete)
    result = upload.result
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


class _Upload:
    """The upload of one space's staged work; counts go to ``result``."""

    def __init__(
        self,
        store: StateStore,
        sink: Sink,
        index: Index,
        space_key: str,
        result: UploadResult,
        log: Log,
    ) -> None:
        self.store, self.sink, self.index, self.space_key = store, sink, index, space_key
        self.result, self.log = result, log
        self.scope = site_id(store.registry.connection_by_id(connection_id(index)))
        self.breaker = Breaker("LlamaCloud")

    def record_staged_failures(self) -> None:
        """Pages whose body could not be fetched or converted are recorded failed."""
        for batch in self._staged(Action.UPSERT, Stage.FAILED):
            self._record_failures(
                [
                    PageFailure(r.page_id, self.space_key, self._document_id(r), r.error or "")
                    for r in batch
                ]
            )

    def upsert(self) -> None:
        result = self.result
        announced = self._announced(self._staged(Action.UPSERT, Stage.CONVERTED, UPLOAD_BATCH))
        batches = upload_batches.upsert_batches(
            self.sink, result.pipeline_id, self.scope, announced, self.breaker
        )
        for sent, outcome in batches:
            self.store.ledger.record_accepted(self.index.id, outcome.accepted)
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
        for outcome in upload_batches.delete_documents(
            self.sink, result.pipeline_id, self.scope, gone, self.breaker
        ):
            ledger.record_deleted(self.index.id, outcome.deleted)
            self._record_failures(outcome.failures)
            result.deleted += len(outcome.deleted)
        self.log(f"{space_key}: deleted {result.deleted} documents")

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
    if result.deletions_refused:
        parts.append(
            f"refused to delete {result.deletions_refused} documents "
            f"(more than {index.max_delete_fraction:.0%} of the space)"
        )
    return "; ".join(parts) or None
