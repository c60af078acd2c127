"""Project files and pipeline files (Index v1 with files): ``POST /api/v1/beta/files``,
``DELETE /api/v1/beta/files/{file_id}``, ``PUT /api/v1/pipelines/{id}/files`` (add files with
``custom_metadata``), ``DELETE /api/v1/pipelines/{id}/files/{file_id}``. A pipeline file is
searchable by the text :mod:`.extract` gets out of it."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .extract import SUFFIXES, extract_text, supported
from .multipart import parse_form
from .retrieve import index_terms
from .router import Params, Route
from .routes_pipelines import pipeline_of, request_project
from .state import SandboxState
from .store import ProjectFile, StoredDocument, now
from .web import HTTPError, empty_response, json_response, not_found, read_json


def _missing(field: str) -> HTTPError:
    return HTTPError(422, [{"type": "missing", "loc": ["body", field], "msg": "Field required"}])


async def create_file(state: SandboxState, request: Request, params: Params) -> Response:
    project_id = request_project(state, request)
    form = parse_form(request.headers.get("content-type", ""), await request.body())
    if form is None or "file" not in form:
        raise _missing("file")
    if "purpose" not in form:
        raise _missing("purpose")
    upload = form["file"]
    name = upload.filename or "upload"
    if not supported(name):
        raise HTTPError(415, f"the sandbox parses only {', '.join(SUFFIXES)} files")
    external = form.get("external_file_id")
    file = ProjectFile(
        id=state.store.new_id(),
        name=name,
        project_id=project_id,
        external_file_id=external.text() if external else None,
        purpose=form["purpose"].text(),
        content=upload.content,
        created_at=now(),
    )
    state.project_files[file.id] = file
    return json_response(file.to_json())


async def delete_file(state: SandboxState, request: Request, params: Params) -> Response:
    if state.project_files.pop(params["file_id"], None) is None:
        raise not_found("File")
    return empty_response()


def _pipeline_file_json(pipeline_id: str, document: StoredDocument) -> dict[str, Any]:
    """A ``PipelineFile`` (its ``id`` and ``file_id`` are the project file's id)."""
    return {
        "id": document.id,
        "file_id": document.id,
        "pipeline_id": pipeline_id,
        "name": document.metadata.get("file_name"),
        "custom_metadata": document.metadata,
        "status": "SUCCESS",
        "created_at": document.updated_at,
        "updated_at": document.updated_at,
    }


async def add_files(state: SandboxState, request: Request, params: Params) -> Response:
    """Body: a JSON array of ``{"file_id", "custom_metadata"?}``; each file is (re)placed."""
    pipeline = pipeline_of(state, params)
    body = await read_json(request)
    if not isinstance(body, list) or not all(
        isinstance(item, dict) and isinstance(item.get("file_id"), str) for item in body
    ):
        raise _missing("file_id")
    added = []
    for item in body:
        file = state.project_files.get(item["file_id"])
        if file is None:
            raise not_found("File")
        metadata = dict(item.get("custom_metadata") or {})
        text = extract_text(file.name, file.content)
        document = StoredDocument(
            id=file.id,
            text=text,
            metadata=metadata,
            excluded_embed_metadata_keys=[],
            excluded_llm_metadata_keys=[],
            page_positions=None,
            updated_at=now(),
            terms=index_terms(text, metadata, ()),
            accepted_at=time.monotonic(),
        )
        pipeline.files[file.id] = document
        state.stats.files_uploaded += 1
        added.append(_pipeline_file_json(pipeline.id, document))
    return json_response(added)


async def remove_file(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    if pipeline.files.pop(params["file_id"], None) is None:
        raise not_found("Pipeline file")
    state.stats.files_deleted += 1
    return empty_response()


ROUTES = [
    Route("POST", "/api/v1/beta/files", create_file),
    Route("DELETE", "/api/v1/beta/files/{file_id}", delete_file),
    Route("PUT", "/api/v1/pipelines/{pipeline_id}/files", add_files),
    Route("DELETE", "/api/v1/pipelines/{pipeline_id}/files/{file_id}", remove_file),
]
