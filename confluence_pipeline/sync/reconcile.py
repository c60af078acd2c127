"""Does the index hold what its spaces hold? Counts and ids of each space's current pages,
reconciled against the documents in LlamaCloud (the state database is not trusted here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confluence_pipeline.confluence import ConfluenceClient
from confluence_pipeline.llamacloud import Sink, document_id
from confluence_pipeline.state import Index, StateStore
from confluence_pipeline.sync.errors import SyncError
from confluence_pipeline.sync.spaces import site_id


@dataclass
class Reconciliation:
    """``missing``: current pages without a document; ``unexpected``: documents of the space
    whose page is not current in it (trashed, deleted, moved away); ``stale``: documents at
    another version than their page. Lists hold page ids (``unexpected``: document ids)."""

    pages: int = 0
    documents: int = 0
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not (self.missing or self.unexpected or self.stale)

    def summary(self) -> str:
        if self.matches:
            return f"{self.pages} pages, {self.documents} documents: they match"
        parts = [
            f"{len(ids)} {name} (e.g. {', '.join(ids[:3])})"
            for name, ids in (
                ("missing", self.missing),
                ("unexpected", self.unexpected),
                ("stale", self.stale),
            )
            if ids
        ]
        return f"{self.pages} pages, {self.documents} documents: " + "; ".join(parts)


def reconcile_index(
    store: StateStore, client: ConfluenceClient, sink: Sink, index: Index
) -> dict[str, Reconciliation]:
    """Each space of the index against the index's documents, listed once: ``ceil(pages /
    250)`` requests per space plus the whole document list. A document belongs to a space by
    its ``space_key`` metadata or by being the document of one of its pages; attachment files
    (metadata ``attachment_id``) are not pages and are left out."""
    target_id = index.target_id()
    if target_id is None or index.connection_id is None:
        raise SyncError(f"index {index.name!r} was never synced: nothing to reconcile")
    scope = site_id(store.registry.connection_by_id(index.connection_id))
    documents = sink.list_documents(target_id)
    spaces = client.get_spaces(index.spaces)
    found = {}
    for space_key in index.spaces:
        space = spaces.get(space_key)
        pages = {page.id: page.version for page in client.iter_pages(space.id)} if space else {}
        found[space_key] = _reconcile(pages, documents, scope, space_key)
    return found


def _reconcile(
    pages: dict[str, int], documents: dict[str, dict[str, Any]], scope: str, space_key: str
) -> Reconciliation:
    expected = {document_id(scope, page_id): page_id for page_id in pages}
    ours = {
        doc_id: meta
        for doc_id, meta in documents.items()
        if doc_id in expected
        or (meta.get("space_key") == space_key and "attachment_id" not in meta)
    }
    return Reconciliation(
        pages=len(pages),
        documents=len(ours),
        missing=sorted(page_id for doc_id, page_id in expected.items() if doc_id not in ours),
        unexpected=sorted(doc_id for doc_id in ours if doc_id not in expected),
        stale=sorted(
            page_id
            for doc_id, page_id in expected.items()
            if doc_id in ours and ours[doc_id].get("version") != pages[page_id]
        ),
    )
