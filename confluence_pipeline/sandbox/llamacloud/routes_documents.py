"""Documents of a pipeline: ``/api/v1/pipelines/{pipeline_id}/documents...``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .router import Params, Route
from .routes_pipelines import pipeline_of, status_json
from .routes_retrieve import text_node
from .schemas import DOCUMENTS
from .state import SandboxState
from .store import StoredDocument, StoredPipeline
from .web import empty_response, json_response, not_found, query_int, read_json, validate

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
STATUSES = ("NOT_STARTED", "IN_PROGRESS", "SUCCESS", "ERROR", "PARTIAL_SUCCESS", "CANCELLED")


def _document_of(pipeline: StoredPipeline, params: Params) -> StoredDocument:
    document = pipeline.documents.get(params["document_id"])
    if document is None:
        raise not_found("Document")
    return document


async def upsert_documents(state: SandboxState, request: Request, params: Params) -> Response:
    """PUT and POST alike: create or replace by id (POST on an existing id is undocumented)."""
    pipeline = pipeline_of(state, params)
    documents = validate(DOCUMENTS, await read_json(request), ("body",))
    stored = pipeline.upsert(documents, state.store.ids())
    state.stats.documents_upserted += len(stored)
    return json_response([document.to_json() for document in stored])


async def list_documents(state: SandboxState, request: Request, params: Params) -> Response:
    """One page in stable order; ``offset`` and ``total_count`` let the SDK pager go on."""
    pipeline = pipeline_of(state, params)
    skip = query_int(request, "skip", 0)
    limit = min(query_int(request, "limit", DEFAULT_PAGE_SIZE, minimum=1), MAX_PAGE_SIZE)
    page = pipeline.page(skip, limit)
    return json_response(
        {
            "documents": [document.to_json() for document in page],
            "limit": limit,
            "offset": skip,
            "total_count": len(pipeline.documents),
        }
    )


async def get_document(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(_document_of(pipeline_of(state, params), params).to_json())


async def delete_document(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    del pipeline.documents[_document_of(pipeline, params).id]
    state.stats.documents_deleted += 1
    return empty_response()


async def document_status(state: SandboxState, request: Request, params: Params) -> Response:
    document = _document_of(pipeline_of(state, params), params)
    status = "SUCCESS" if state.ingested(document.accepted_at) else "IN_PROGRESS"
    return json_response(status_json(status, document.id, document.updated_at))


async def document_chunks(state: SandboxState, request: Request, params: Params) -> Response:
    """One chunk per document: the whole text."""
    pipeline = pipeline_of(state, params)
    return json_response([text_node(pipeline, _document_of(pipeline, params))])


async def sync_document(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(_document_of(pipeline_of(state, params), params).to_json())


async def status_counts(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    total = len(pipeline.documents)
    counts = {status: 0 for status in STATUSES}
    counts["SUCCESS"] = sum(state.ingested(d.accepted_at) for d in pipeline.documents.values())
    counts["IN_PROGRESS"] = total - counts["SUCCESS"]
    return json_response({"pipeline_id": pipeline.id, "counts": counts, "total_count": total})


_DOCS = "/api/v1/pipelines/{pipeline_id}/documents"
ROUTES = [
    Route("PUT", _DOCS, upsert_documents),
    Route("POST", _DOCS, upsert_documents),
    Route("GET", f"{_DOCS}/paginated", list_documents),
    Route("GET", f"{_DOCS}/status-counts", status_counts),
    Route("GET", f"{_DOCS}/{{document_id}}", get_document),
    Route("DELETE", f"{_DOCS}/{{document_id}}", delete_document),
    Route("GET", f"{_DOCS}/{{document_id}}/status", document_status),
    Route("GET", f"{_DOCS}/{{document_id}}/chunks", document_chunks),
    Route("POST", f"{_DOCS}/{{document_id}}/sync", sync_document),
]
