"""Sync of one (index, space) in four steps, each one asset: resolve the space, plan the pages
(list without bodies, diff versions, fetch changed bodies), convert them to Markdown, upload
them and delete what is gone. Work between steps travels through the state database, and a
page's version is recorded only once LlamaCloud accepted its document, so a crash at any point
means the next run redoes exactly the unfinished part."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from confluence_pipeline import allocator, uploads
from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import Space
from confluence_pipeline.conversion import ConversionJob, Converter
from confluence_pipeline.isolation import Breaker, CircuitOpen
from confluence_pipeline.llamacloud import document_id
from confluence_pipeline.llamacloud.models import Sink
from confluence_pipeline.results import (
    PREVIEW_ROWS,
    ConvertResult,
    Log,
    PageRow,
    SpaceSyncResult,
    UploadResult,
)
from confluence_pipeline.staging import plan_pages
from confluence_pipeline.state import Connection, Index, StateStore

UPLOAD_BATCH = 100
PARALLEL_SPACES = 8
"""Spaces synced at once by ``sync_spaces``; the client caps requests in flight anyway."""


class SyncError(Exception):
    """A sync cannot proceed; the message is one line for the user."""


def site_id(connection: Connection) -> str:
    """The id that scopes document ids: the cloud id, else the site's host name."""
    return connection.cloud_id or (urlsplit(connection.site_url).hostname or connection.site_url)


def check_partition(index: Index, space_key: str) -> None:
    """Refuses a (index, space) pair that the index does not declare."""
    if space_key not in index.spaces:
        raise SyncError(
            f"space {space_key!r} is not configured for index {index.name!r} "
            f"(its spaces: {', '.join(index.spaces)})"
        )
    if index.connection_id is None:
        raise SyncError(f"index {index.name!r} has no connection; set one with `index update`")


@contextlib.contextmanager
def recording_failure(store: StateStore, run_id: int) -> Iterator[None]:
    """Marks the sync run failed, with the error's message, if the block raises. A service
    that kept failing (:class:`CircuitOpen`) surfaces as a :class:`SyncError`."""
    try:
        yield
    except CircuitOpen as exc:
        message = f"{exc}; what was not done is retried by the next run"
        store.ledger.finish_run(run_id, status="failed", error=message[:2000])
        raise SyncError(message) from None
    except BaseException as exc:
        store.ledger.finish_run(run_id, status="failed", error=str(exc)[:2000] or repr(exc))
        raise


def resolve_space(
    store: StateStore, client: ConfluenceClient, index: Index, space_key: str
) -> Space:
    """Looks the space up by key and records its id, name and homepage in state."""
    check_partition(index, space_key)
    space = client.get_spaces([space_key]).get(space_key)
    if space is None:
        raise SyncError(f"space {space_key!r} not found on the site, or not visible to this login")
    store.registry.record_space(
        _connection_id(index),
        key=space.key,
        space_id=space.id,
        name=space.name,
        homepage_id=space.homepage_id,
    )
    return space


def recorded_space(store: StateStore, index: Index, space_key: str) -> Space:
    """The space as resolved by ``resolve_space``; refuses if it never was."""
    check_partition(index, space_key)
    row = store.registry.get_space(_connection_id(index), space_key)
    if row is None:
        raise SyncError(
            f"space {space_key!r} not resolved yet: materialize confluence_spaces first"
        )
    return Space(id=row.space_id, key=row.key, name=row.name, homepage_id=row.homepage_id)


def convert_pages(
    store: StateStore, index: Index, space_key: str, *, log: Log = lambda _msg: None
) -> ConvertResult:
    """Converts every fetched page of the space to a Markdown document."""
    allocator.tune()
    ledger = store.ledger
    expected = ledger.count_staged(index.id, space_key).get(("upsert", "fetched"), 0)
    result = ConvertResult()
    with Converter(expected) as converter:
        for batch in ledger.iter_staged(
            index.id, space_key, action="upsert", stage="fetched", batch_size=400
        ):
            jobs = [ConversionJob(row.id, row.storage or "", row.page_metadata) for row in batch]
            updates: list[dict[str, Any]] = []
            for done in converter.map(jobs):
                if done.error is None:
                    result.converted += 1
                    updates.append(
                        {
                            "id": done.key,
                            "stage": "converted",
                            "markdown": done.markdown,
                            "content_hash": done.content_hash,
                        }
                    )
                else:
                    result.failed += 1
                    result.errors.append(done.error)
                    updates.append({"id": done.key, "stage": "failed", "error": done.error})
            ledger.save_converted(updates)
            log(f"{space_key}: converted {result.converted + result.failed}/{expected} pages")
    return result


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
    """Upserts converted documents, deletes documents of pages that are gone (unless that would
    remove more than the index's ``max_delete_fraction`` of the space), records what LlamaCloud
    accepted, and closes the sync run. A document LlamaCloud keeps refusing is recorded failed
    (the next run retries it); when LlamaCloud keeps failing altogether the run stops with a
    :class:`SyncError` and the next run picks up where it stopped."""
    allocator.tune()
    ledger = store.ledger
    connection = store.registry.connection_by_id(_connection_id(index))
    scope = site_id(connection)
    pipeline_id = index.pipeline_id or sink.ensure_pipeline(index.pipeline_name)
    if pipeline_id != index.pipeline_id:
        store.registry.update_index(index.name, pipeline_id=pipeline_id)
    result = UploadResult(pipeline_id=pipeline_id)

    for batch in ledger.iter_staged(index.id, space_key, action="upsert", stage="failed"):
        failures = [
            (r.page_id, space_key, document_id(scope, r.page_id), r.error or "") for r in batch
        ]
        _record_failures(store, index, failures, result)

    breaker = Breaker("LlamaCloud")
    converted = ledger.iter_staged(
        index.id, space_key, action="upsert", stage="converted", batch_size=UPLOAD_BATCH
    )
    announced = _announced(store, index, scope, converted)
    for sent, outcome in uploads.upsert_batches(sink, pipeline_id, scope, announced, breaker):
        ledger.record_accepted(index.id, outcome.done)
        _record_failures(store, index, outcome.failures, result)
        result.uploaded += len(outcome.done)
        room = PREVIEW_ROWS - len(result.preview)
        result.preview.extend(
            PageRow(r.page_id, r.title, r.version, r.page_metadata.get("url", ""))
            for r in sent[: max(room, 0)]
        )
        log(f"{space_key}: uploaded {result.uploaded} documents")

    still_here = ledger.known_pages(index.id, space_key)
    gone = [
        (row.page_id, space_key)
        for batch in ledger.iter_staged(index.id, space_key, action="delete", stage="fetched")
        for row in batch
        if row.page_id in still_here
    ]
    synced = ledger.count_synced(index.id, space_key)
    if gone and not allow_mass_delete and len(gone) > index.max_delete_fraction * synced:
        result.deletions_refused = len(gone)
        log(
            f"{space_key}: refused to delete {len(gone)} of {synced} documents "
            f"(limit {index.max_delete_fraction:.0%}); rerun with --full to allow"
        )
    elif gone:
        for outcome in uploads.delete_documents(sink, pipeline_id, scope, gone, breaker):
            ledger.record_deleted(index.id, outcome.done)
            _record_failures(store, index, outcome.failures, result)
            result.deleted += len(outcome.done)
        log(f"{space_key}: deleted {result.deleted} documents")

    ledger.update_run(
        run_id,
        pages_deleted=result.deleted,
        pages_failed=result.failed,
        documents_uploaded=result.uploaded,
    )
    problems = _problems(result, index)
    ledger.finish_run(run_id, status="partial" if problems else "success", error=problems)
    return result


def _announced(
    store: StateStore, index: Index, scope: str, batches: Iterator[list[Any]]
) -> Iterator[list[Any]]:
    """The batches, each recorded as pending before it goes out (see ``record_pending``)."""
    for batch in batches:
        pages = [(r.page_id, r.space_key, document_id(scope, r.page_id)) for r in batch]
        store.ledger.record_pending(index.id, pages)
        yield batch


def _record_failures(
    store: StateStore, index: Index, failures: list[uploads.Failure], result: UploadResult
) -> None:
    store.ledger.record_failed(index.id, failures)
    result.failed += len(failures)
    result.errors.extend(failure[3] for failure in failures)


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


def _connection_id(index: Index) -> int:
    if index.connection_id is None:
        raise SyncError(f"index {index.name!r} has no connection")
    return index.connection_id


def sync_space(
    store: StateStore,
    client: ConfluenceClient,
    sink: Sink,
    index: Index,
    space_key: str,
    *,
    full: bool = False,
    allow_mass_delete: bool = False,
    dagster_run_id: str | None = None,
    log: Log = lambda _msg: None,
) -> SpaceSyncResult:
    """All four steps in one call, without Dagster (tests, benchmarks, scripts)."""
    run_id = store.ledger.start_run(index.id, space_key, dagster_run_id=dagster_run_id, full=full)
    with recording_failure(store, run_id):
        space = resolve_space(store, client, index, space_key)
        plan = plan_pages(store, client, index, space, run_id=run_id, full=full, log=log)
        conversion = convert_pages(store, index, space_key, log=log)
        upload = upload_documents(
            store,
            sink,
            index,
            space_key,
            run_id=run_id,
            allow_mass_delete=allow_mass_delete or full,
            log=log,
        )
    return SpaceSyncResult(space, plan, conversion, upload)


def sync_spaces(
    store: StateStore,
    client: ConfluenceClient,
    sink: Sink,
    index: Index,
    space_keys: Sequence[str],
    *,
    parallel: int = PARALLEL_SPACES,
    full: bool = False,
    allow_mass_delete: bool = False,
    log: Log = lambda _msg: None,
) -> dict[str, SpaceSyncResult | Exception]:
    """Syncs several spaces of an index, ``parallel`` at a time, without Dagster (the client
    caps the requests in flight to the site; conversions share one process pool). A space that
    fails does not stop the others: its exception is returned in its place."""
    allocator.tune()
    if index.pipeline_id is None:
        pipeline_id = sink.ensure_pipeline(index.pipeline_name)
        index = store.registry.update_index(index.name, pipeline_id=pipeline_id)

    def one(space_key: str) -> SpaceSyncResult | Exception:
        try:
            return sync_space(
                store,
                client,
                sink,
                index,
                space_key,
                full=full,
                allow_mass_delete=allow_mass_delete,
                log=log,
            )
        except Exception as exc:  # reported per space; the others go on
            return exc

    with ThreadPoolExecutor(max(1, parallel), thread_name_prefix="space") as pool:
        return dict(zip(space_keys, pool.map(one, space_keys), strict=True))
