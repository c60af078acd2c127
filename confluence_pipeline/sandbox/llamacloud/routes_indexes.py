"""Index v2: ``/api/v1/indexes...`` (create, list, get, delete, sync) and
``POST /api/v1/retrieval/retrieve``; both answer 403 while the plan switch is off."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .retrieve import FilterError, check_filters, matches, ranked, terms
from .router import Params, Route
from .routes_directories import directory_of
from .routes_pipelines import request_project
from .state import SandboxState
from .store import now
from .v2_store import StoredIndex
from .web import HTTPError, cursor_page, empty_response, json_response, not_found, read_json

PLAN_DETAIL = "Index (v2) is not available on your plan"
MAX_TOP_K = 500
DEFAULT_TOP_K = 10
_OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_OPERATORS |= {"in": "in", "nin": "nin"}


def _plan(state: SandboxState) -> None:
    if not state.v2.v2_enabled:
        raise HTTPError(403, PLAN_DETAIL)


def _index_of(state: SandboxState, params: Params) -> StoredIndex:
    _plan(state)
    index = state.v2.indexes.get(params["index_id"])
    if index is None:
        raise not_found("Index")
    index.settle(state.ingested)
    return index


def _expand_sync(request: Request) -> bool:
    return "sync_in_progress" in request.query_params.getlist("expand")


async def create_index(state: SandboxState, request: Request, params: Params) -> Response:
    _plan(state)
    project_id = request_project(state, request)
    body = await read_json(request)
    if not isinstance(body, dict) or not body.get("source_directory_id"):
        raise HTTPError(
            422,
            [{"type": "missing", "loc": ["body", "source_directory_id"], "msg": "Field required"}],
        )
    directory = directory_of(state, {"directory_id": str(body["source_directory_id"])})
    stamp = now()
    index = StoredIndex(
        id=state.store.new_id(),
        name=body.get("name") or directory.name,
        project_id=project_id,
        source_directory_id=directory.id,
        description=body.get("description"),
        created_at=stamp,
        updated_at=stamp,
    )
    state.v2.indexes[index.id] = index
    return json_response(index.to_json(expand_sync=False))


async def list_indexes(state: SandboxState, request: Request, params: Params) -> Response:
    _plan(state)
    project_id = request_project(state, request)
    source = request.query_params.get("source_directory_id")
    found = []
    for index in state.v2.indexes.values():
        if index.project_id == project_id and source in (None, "", index.source_directory_id):
            index.settle(state.ingested)
            found.append(index.to_json(expand_sync=False))
    return json_response(cursor_page(request, found))


async def get_index(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(_index_of(state, params).to_json(expand_sync=_expand_sync(request)))


async def delete_index(state: SandboxState, request: Request, params: Params) -> Response:
    del state.v2.indexes[_index_of(state, params).id]
    return empty_response()


async def sync_index(state: SandboxState, request: Request, params: Params) -> Response:
    """Snapshots the source directory's files; they become searchable after the delay."""
    index = _index_of(state, params)
    directory = state.v2.directories.get(index.source_directory_id)
    files = tuple(directory.files.values()) if directory else ()
    index.request_sync(files, time.monotonic())
    index.settle(state.ingested)
    state.stats.index_syncs += 1
    return json_response({"id": index.id, "status": "SYNC_REQUESTED"})


def _filters(custom: Any) -> dict[str, Any] | None:
    """``custom_filters`` (``{key: {operator, value}}`` or a list of range bounds per key) as
    the ``MetadataFilters`` the v1 matcher understands; unknown operators are a 422."""
    if not custom:
        return None
    if not isinstance(custom, dict):
        raise HTTPError(422, "custom_filters must be an object")
    specs = []
    for key, spec in custom.items():
        if spec is None:
            continue
        for bound in spec if isinstance(spec, list) else [spec]:
            operator = bound.get("operator") if isinstance(bound, dict) else None
            if operator not in _OPERATORS or "value" not in bound:
                raise HTTPError(422, f"unsupported filter on {key!r}: {bound!r}")
            specs.append({"key": key, "operator": _OPERATORS[operator], "value": bound["value"]})
    filters = {"filters": specs, "condition": "and"}
    try:
        check_filters(filters)
    except FilterError as exc:
        raise HTTPError(422, str(exc)) from None
    return filters


async def retrieve(state: SandboxState, request: Request, params: Params) -> Response:
    """Chunks (one per file) of the index's searchable files, ranked by term overlap."""
    _plan(state)
    body = await read_json(request)
    if not isinstance(body, dict) or not body.get("index_id") or "query" not in body:
        raise HTTPError(
            422, [{"type": "missing", "loc": ["body", "query"], "msg": "Field required"}]
        )
    index = _index_of(state, {"index_id": str(body["index_id"])})
    filters = _filters(body.get("custom_filters"))
    top_k = min(int(body.get("top_k") or DEFAULT_TOP_K), MAX_TOP_K)
    found = ranked(
        terms(str(body["query"])),
        [(file.terms, file) for file in index.searchable],
        keep=lambda file: matches(filters, file.metadata),
        cutoff=float(body.get("score_threshold") or 0.0),
        top_k=top_k,
    )
    results = [
        {
            "content": file.text,
            "metadata": file.metadata,
            "score": value,
            "rerank_score": None,
            "static_fields": {
                "chunk_index": 0,
                "chunk_start_char": 0,
                "chunk_end_char": len(file.text),
                "parsed_directory_file_id": file.id,
            },
        }
        for value, file in found
    ]
    return json_response({"results": results})


_INDEXES = "/api/v1/indexes"
ROUTES = [
    Route("POST", _INDEXES, create_index),
    Route("GET", _INDEXES, list_indexes),
    Route("GET", f"{_INDEXES}/{{index_id}}", get_index),
    Route("DELETE", f"{_INDEXES}/{{index_id}}", delete_index),
    Route("POST", f"{_INDEXES}/{{index_id}}/sync", sync_index),
    Route("POST", "/api/v1/retrieval/retrieve", retrieve),
]
