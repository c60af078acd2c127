"""Sync of one (index, space) in four steps, each one asset: resolve the space, plan the pages
(list without bodies, diff versions, fetch changed bodies), convert them to Markdown, upload
them and delete what is gone. Work between steps travels through the state database, and a
page's version is recorded only once LlamaCloud accepted its document, so a crash at any point
means the next run redoes exactly the unfinished part."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.confluence.models import Page, PageSummary, Space
from confluence_pipeline.conversion import ConversionJob, Converter
from confluence_pipeline.llamacloud import LlamaCloudError, document_id
from confluence_pipeline.llamacloud.models import Document, Sink
from confluence_pipeline.state import AcceptedPage, Connection, Index, StateStore

BODY_BATCH = 250
UPLOAD_BATCH = 100
PREVIEW_ROWS = 10

Log = Callable[[str], None]


class SyncError(Exception):
    """A sync cannot proceed; the message is one line for the user."""


@dataclass
class PageRow:
    """A line of the previews shown in run metadata and the CLI summary."""

    page_id: str
    title: str
    version: int
    url: str


@dataclass
class PlanResult:
    listed: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    to_delete: int = 0
    fetched: int = 0
    vanished: int = 0
    preview: list[PageRow] = field(default_factory=list)


@dataclass
class ConvertResult:
    converted: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class UploadResult:
    pipeline_id: str = ""
    uploaded: int = 0
    deleted: int = 0
    failed: int = 0
    deletions_refused: int = 0
    errors: list[str] = field(default_factory=list)
    preview: list[PageRow] = field(default_factory=list)


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
    """Marks the sync run failed, with the error's message, if the block raises."""
    try:
        yield
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


def plan_pages(
    store: StateStore,
    client: ConfluenceClient,
    index: Index,
    space: Space,
    *,
    run_id: int,
    full: bool = False,
    log: Log = lambda _msg: None,
) -> PlanResult:
    """Lists the space without bodies, stages bodies of new or changed pages and the deletion
    of pages that are gone. With ``full`` every page counts as changed."""
    ledger = store.ledger
    ledger.clear_staged(index.id, space.key)
    known = ledger.known_pages(index.id, space.key)
    listing = {page.id: page for page in client.iter_pages(space.id)}
    result = PlanResult(listed=len(listing))
    log(f"{space.key}: {len(listing)} pages listed, {len(known)} known")

    todo: list[PageSummary] = []
    for page in listing.values():
        previous = known.get(page.id)
        if previous is None:
            result.new += 1
        elif full or previous.status != "synced" or previous.version != page.version:
            result.changed += 1
        else:
            result.unchanged += 1
            continue
        todo.append(page)
    result.preview = [PageRow(p.id, p.title, p.version, p.url) for p in todo[:PREVIEW_ROWS]]

    gone = [page_id for page_id in known if page_id not in listing]
    ledger.stage(
        index.id,
        [_staged(page_id, space.key, action="delete", stage="fetched") for page_id in gone],
    )
    result.to_delete = len(gone)

    breadcrumbs = _Breadcrumbs(listing, space)
    batches = [todo[i : i + BODY_BATCH] for i in range(0, len(todo), BODY_BATCH)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for pages in pool.map(lambda batch: client.get_pages([p.id for p in batch]), batches):
            ledger.stage(index.id, [_staged_body(page, space, breadcrumbs) for page in pages])
            result.fetched += len(pages)
            log(f"{space.key}: fetched {result.fetched}/{len(todo)} changed pages")
    result.vanished = len(todo) - result.fetched
    ledger.update_run(
        run_id,
        pages_listed=result.listed,
        pages_new=result.new,
        pages_changed=result.changed,
        pages_unchanged=result.unchanged,
    )
    return result


def convert_pages(
    store: StateStore, index: Index, space_key: str, *, log: Log = lambda _msg: None
) -> ConvertResult:
    """Converts every fetched page of the space to a Markdown document."""
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
    accepted, and closes the sync run."""
    ledger = store.ledger
    connection = store.registry.connection_by_id(_connection_id(index))
    scope = site_id(connection)
    pipeline_id = index.pipeline_id or sink.ensure_pipeline(index.pipeline_name)
    if pipeline_id != index.pipeline_id:
        store.registry.update_index(index.name, pipeline_id=pipeline_id)
    result = UploadResult(pipeline_id=pipeline_id)

    for batch in ledger.iter_staged(index.id, space_key, action="upsert", stage="failed"):
        ledger.record_failed(
            index.id,
            [(r.page_id, space_key, document_id(scope, r.page_id), r.error or "") for r in batch],
        )
        result.failed += len(batch)
        result.errors.extend(r.error or "" for r in batch)

    for batch in ledger.iter_staged(
        index.id, space_key, action="upsert", stage="converted", batch_size=UPLOAD_BATCH
    ):
        accepted, failures = _upload_batch(sink, pipeline_id, scope, batch)
        ledger.record_accepted(index.id, accepted)
        ledger.record_failed(index.id, failures)
        result.uploaded += len(accepted)
        result.failed += len(failures)
        result.errors.extend(f[3] for f in failures)
        room = PREVIEW_ROWS - len(result.preview)
        result.preview.extend(
            PageRow(r.page_id, r.title, r.version, r.page_metadata.get("url", ""))
            for r in batch[: max(room, 0)]
        )
        log(f"{space_key}: uploaded {result.uploaded} documents")

    still_here = ledger.known_pages(index.id, space_key)
    gone = [
        row.page_id
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
        sink.delete(pipeline_id, [document_id(scope, page_id) for page_id in gone])
        ledger.record_deleted(index.id, gone)
        result.deleted = len(gone)
        log(f"{space_key}: deleted {len(gone)} documents")

    ledger.update_run(
        run_id,
        pages_deleted=result.deleted,
        pages_failed=result.failed,
        documents_uploaded=result.uploaded,
    )
    problems = _problems(result, index)
    ledger.finish_run(run_id, status="partial" if problems else "success", error=problems)
    return result


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


def _upload_batch(
    sink: Sink, pipeline_id: str, scope: str, batch: Sequence[Any]
) -> tuple[list[AcceptedPage], list[tuple[str, str, str, str]]]:
    """Upserts a batch; if LlamaCloud rejects it, retries its documents one by one so that a
    single bad document fails alone."""
    documents = [
        Document(
            id=document_id(scope, row.page_id),
            text=row.markdown or "",
            metadata=_document_metadata(row.page_metadata),
        )
        for row in batch
    ]
    try:
        sink.upsert(pipeline_id, documents)
        return [_accepted(row, doc.id) for row, doc in zip(batch, documents, strict=True)], []
    except LlamaCloudError:
        if len(batch) == 1:
            raise
    accepted: list[AcceptedPage] = []
    failures: list[tuple[str, str, str, str]] = []
    for row, doc in zip(batch, documents, strict=True):
        try:
            sink.upsert(pipeline_id, [doc])
            accepted.append(_accepted(row, doc.id))
        except LlamaCloudError as exc:
            failures.append((row.page_id, row.space_key, doc.id, f"upload failed: {exc}"))
    return accepted, failures


def _accepted(row: Any, doc_id: str) -> AcceptedPage:
    return AcceptedPage(
        page_id=row.page_id,
        space_key=row.space_key,
        title=row.title,
        version=row.version,
        content_hash=row.content_hash or "",
        document_id=doc_id,
    )


_METADATA_KEYS = (
    "page_id",
    "space_key",
    "space_name",
    "title",
    "url",
    "version",
    "last_modified",
    "author_id",
    "breadcrumb",
)


def _document_metadata(staged: dict[str, Any]) -> dict[str, Any]:
    meta = {key: staged.get(key) for key in _METADATA_KEYS}
    meta["breadcrumb"] = " > ".join(staged.get("breadcrumb") or ())
    return meta


def _connection_id(index: Index) -> int:
    if index.connection_id is None:
        raise SyncError(f"index {index.name!r} has no connection")
    return index.connection_id


def _staged(page_id: str, space_key: str, **values: Any) -> dict[str, Any]:
    return {"page_id": page_id, "space_key": space_key, "page_metadata": {}, **values}


def _staged_body(page: Page, space: Space, breadcrumbs: _Breadcrumbs) -> dict[str, Any]:
    summary = page.summary
    return _staged(
        summary.id,
        space.key,
        action="upsert",
        stage="fetched",
        version=summary.version,
        title=summary.title,
        storage=page.storage,
        page_metadata={
            "page_id": summary.id,
            "space_key": space.key,
            "space_name": space.name,
            "title": summary.title,
            "url": summary.url,
            "version": summary.version,
            "last_modified": summary.last_modified,
            "author_id": summary.author_id,
            "breadcrumb": breadcrumbs.path(summary),
        },
    )


class _Breadcrumbs:
    """Ancestor titles of listed pages, from the listing itself (no extra requests)."""

    def __init__(self, listing: dict[str, PageSummary], space: Space) -> None:
        self._listing = listing
        self._space_name = space.name

    def path(self, page: PageSummary) -> list[str]:
        titles: list[str] = []
        seen = {page.id}
        parent = self._listing.get(page.parent_id or "")
        while parent is not None and parent.id not in seen:
            titles.append(parent.title)
            seen.add(parent.id)
            parent = self._listing.get(parent.parent_id or "")
        return [self._space_name, *reversed(titles)]


@dataclass
class SpaceSyncResult:
    space: Space
    plan: PlanResult
    conversion: ConvertResult
    upload: UploadResult


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
