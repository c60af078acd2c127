"""Upserts and deletions of one space's documents: parallel batches, each failure isolated to
the document that caused it, and a breaker that stops the run when LlamaCloud is down."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from confluence_pipeline.llamacloud import LlamaCloudAuthError, LlamaCloudError, document_id
from confluence_pipeline.llamacloud.models import Document, Sink
from confluence_pipeline.runtime.isolation import Breaker, isolate_failures
from confluence_pipeline.runtime.parallel import batched, bounded_map
from confluence_pipeline.state import AcceptedPage, PageFailure, Target
from confluence_pipeline.state.models import StagedPage

WORKERS = 4
"""Upsert requests of one space in flight at once."""
DELETE_WORKERS = 8
"""Delete requests of one space in flight at once (the API deletes one document per call)."""
DELETE_BATCH = 25


@dataclass
class Upserted:
    """What one upsert batch came to: pages LlamaCloud accepted and pages that failed."""

    accepted: list[AcceptedPage] = field(default_factory=list)
    failures: list[PageFailure] = field(default_factory=list)


@dataclass
class Deleted:
    """What one delete batch came to: ids of pages whose document is gone, and failures."""

    deleted: list[str] = field(default_factory=list)
    failures: list[PageFailure] = field(default_factory=list)


def upsert_batches(
    sink: Sink,
    pipeline_id: str,
    scope: str,
    batches: Iterable[Sequence[StagedPage]],
    breaker: Breaker,
) -> Iterator[tuple[Sequence[StagedPage], Upserted]]:
    """Upserts batches of converted staged rows, ``WORKERS`` at a time; yields, in order, each
    batch with the :class:`AcceptedPage` records of its accepted rows and its failures."""
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="upsert") as pool:

        def upsert(batch: Sequence[StagedPage]) -> tuple[Sequence[StagedPage], Upserted]:
            return batch, _upsert_batch(sink, pipeline_id, scope, batch, breaker)

        yield from bounded_map(pool, upsert, batches, in_flight=WORKERS)


def delete_documents(
    sink: Sink,
    pipeline_id: str,
    scope: str,
    gone: list[tuple[str, str]],
    breaker: Breaker,
    stored: Mapping[str, str | None] | None = None,
) -> Iterator[Deleted]:
    """Deletes the documents of ``(page_id, space_key)`` pairs (by their ``stored`` copy, by
    page id, where known), ``DELETE_WORKERS`` requests at a time; yields per batch the page ids
    whose document is gone and the failures."""
    stored = stored or {}
    with ThreadPoolExecutor(DELETE_WORKERS, thread_name_prefix="delete") as pool:

        def delete(batch: list[tuple[str, str]]) -> Deleted:
            def attempt(chunk: list[tuple[str, str]]) -> list[str]:
                ids = {document_id(scope, page_id): stored.get(page_id) for page_id, _ in chunk}
                sink.delete(pipeline_id, list(ids), stored_ids=ids)
                return [page_id for page_id, _ in chunk]

            done, failed = isolate_failures(
                batch, attempt, breaker=breaker, errors=LlamaCloudError, fatal=LlamaCloudAuthError
            )
            failures = [
                PageFailure(page_id, space, document_id(scope, page_id), f"delete failed: {exc}")
                for (page_id, space), exc in failed
            ]
            return Deleted([page_id for ids in done for page_id in ids], failures)

        size = min(DELETE_BATCH, max(1, math.ceil(len(gone) / DELETE_WORKERS)))  # all busy
        yield from bounded_map(pool, delete, batched(gone, size), in_flight=DELETE_WORKERS)


def _upsert_batch(
    sink: Sink, pipeline_id: str, scope: str, batch: Sequence[StagedPage], breaker: Breaker
) -> Upserted:
    documents = {
        row.page_id: Document(
            id=document_id(scope, row.page_id),
            text=row.markdown or "",
            metadata=document_metadata(row.page_metadata),
        )
        for row in batch
    }

    stored: dict[str, str] = {}

    def attempt(chunk: list[StagedPage]) -> list[StagedPage]:
        stored.update(sink.upsert(pipeline_id, [documents[row.page_id] for row in chunk]))
        return chunk

    # A v2 upload adds a file per document: retrying halves of a batch would store some twice.
    groups = [[row] for row in batch] if sink.target == Target.INDEX else [list(batch)]
    done: list[list[StagedPage]] = []
    failed: list[tuple[StagedPage, Exception]] = []
    for group in groups:
        went, refused = isolate_failures(
            group, attempt, breaker=breaker, errors=LlamaCloudError, fatal=LlamaCloudAuthError
        )
        done += went
        failed += refused
    files = stored if sink.target == Target.INDEX else {}
    accepted = [_accepted(row, documents[row.page_id].id, files) for rows in done for row in rows]
    failures = [
        PageFailure(row.page_id, row.space_key, documents[row.page_id].id, f"upload failed: {exc}")
        for row, exc in failed
    ]
    return Upserted(accepted, failures)


def _accepted(row: StagedPage, doc_id: str, files: Mapping[str, str]) -> AcceptedPage:
    return AcceptedPage(
        page_id=row.page_id,
        space_key=row.space_key,
        title=row.title,
        version=row.version,
        content_hash=row.content_hash or "",
        document_id=doc_id,
        scope_hash=row.page_metadata.get("scope_hash"),
        file_id=files.get(doc_id),
    )


_METADATA_KEYS = (
    "page_id",
    "space_key",
    "space_name",
    "title",
    "url",
    "version",
    "last_modified",
    "author",
    "author_id",
    "editor",
    "breadcrumb",
)
_OPTIONAL_KEYS = ("labels", "restricted", "read_users", "read_groups")
"""Sent only when the planning step set them (restrictions only for indexes that include
restricted pages)."""


def document_metadata(staged: dict[str, Any]) -> dict[str, Any]:
    """The LlamaCloud metadata of a page: citation fields, breadcrumb joined with `` > ``."""
    meta = {key: staged.get(key) for key in _METADATA_KEYS}
    meta["breadcrumb"] = " > ".join(staged.get("breadcrumb") or ())
    meta.update({key: staged[key] for key in _OPTIONAL_KEYS if key in staged})
    return meta
