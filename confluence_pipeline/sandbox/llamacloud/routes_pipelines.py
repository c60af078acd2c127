"""Projects and pipelines: ``/api/v1/projects``, ``/api/v1/pipelines``, ``/api/v2/pipelines``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .router import Params, Route
from .schemas import PIPELINE, PIPELINE_UPDATE, body_fields
from .state import SandboxState
from .store import StoredPipeline, now
from .web import (
    HTTPError,
    cursor_page,
    empty_response,
    json_response,
    not_found,
    read_json,
    validate,
)

ORGANIZATION_ID = "sandbox-org"


def _project_json(state: SandboxState) -> dict[str, Any]:
    return {
        "id": state.project_id,
        "name": "Default",
        "organization_id": ORGANIZATION_ID,
        "is_default": True,
    }


def request_project(state: SandboxState, request: Request) -> str:
    """The ``project_id`` query parameter (default: the sandbox project); unknown ids are 404."""
    project_id = request.query_params.get("project_id") or state.project_id
    if project_id != state.project_id:
        raise not_found("Project")
    return project_id


def pipeline_of(state: SandboxState, params: Params) -> StoredPipeline:
    pipeline = state.store.pipelines.get(params["pipeline_id"])
    if pipeline is None:
        raise not_found("Pipeline")
    return pipeline


async def list_projects(state: SandboxState, request: Request, params: Params) -> Response:
    name = request.query_params.get("project_name")
    projects = [_project_json(state)]
    return json_response([p for p in projects if name in (None, "", p["name"])])


async def get_project(state: SandboxState, request: Request, params: Params) -> Response:
    """The sandbox project (``LlamaCloudIndex(project_id=...)`` and ``name=`` resolve it)."""
    if params["project_id"] != state.project_id:
        raise not_found("Project")
    return json_response(_project_json(state))


async def upsert_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    project_id = request_project(state, request)
    body = body_fields(validate(PIPELINE, await read_json(request), ("body",)))
    pipeline = state.store.find(body["name"], project_id)
    if pipeline is None:
        pipeline = state.store.create(body, project_id)
    else:
        pipeline.configure(body)
    return json_response(pipeline.to_json())


async def create_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    project_id = request_project(state, request)
    body = body_fields(validate(PIPELINE, await read_json(request), ("body",)))
    if state.store.find(body["name"], project_id) is not None:
        raise HTTPError(409, f"Pipeline with name {body['name']!r} already exists in project")
    return json_response(state.store.create(body, project_id).to_json())


def _matching(state: SandboxState, request: Request, name_param: str) -> list[StoredPipeline]:
    project_id = request_project(state, request)
    name = request.query_params.get(name_param)
    return [
        pipeline
        for pipeline in state.store.pipelines.values()
        if pipeline.project_id == project_id and name in (None, "", pipeline.name)
    ]


async def list_pipelines(state: SandboxState, request: Request, params: Params) -> Response:
    pipelines = _matching(state, request, "pipeline_name")
    return json_response([pipeline.to_json() for pipeline in pipelines])


async def list_pipelines_v2(state: SandboxState, request: Request, params: Params) -> Response:
    """Cursor pages: ``next_page_token`` is the offset of the next page, null on the last."""
    pipelines = _matching(state, request, "name")
    return json_response(cursor_page(request, [pipeline.summary_json() for pipeline in pipelines]))


async def get_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(pipeline_of(state, params).to_json())


async def update_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    body = body_fields(validate(PIPELINE_UPDATE, await read_json(request), ("body",)))
    clash = state.store.find(body["name"], pipeline.project_id) if body.get("name") else None
    if clash is not None and clash is not pipeline:
        raise HTTPError(409, f"Pipeline with name {body['name']!r} already exists in project")
    pipeline.configure(body)
    return json_response(pipeline.to_json())


async def delete_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    del state.store.pipelines[pipeline_of(state, params).id]
    return empty_response()


def status_json(status: str, job_id: str, effective_at: str | None) -> dict[str, Any]:
    """A ``ManagedIngestionStatusResponse``."""
    return {
        "status": status,
        "job_id": job_id,
        "deployment_date": None,
        "effective_at": effective_at,
        "error": None,
    }


async def pipeline_status(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    status = pipeline.ingestion_status(state.ingested)
    return json_response(status_json(status, pipeline.id, pipeline.updated_at))


async def sync_pipeline(state: SandboxState, request: Request, params: Params) -> Response:
    """Ingestion is instantaneous here, so a sync only records when it ran."""
    pipeline = pipeline_of(state, params)
    pipeline.synced_at = now()
    return json_response(pipeline.to_json())


async def cancel_sync(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(pipeline_of(state, params).to_json())


ROUTES = [
    Route("GET", "/api/v1/projects", list_projects),
    Route("GET", "/api/v1/projects/{project_id}", get_project),
    Route("PUT", "/api/v1/pipelines", upsert_pipeline),
    Route("POST", "/api/v1/pipelines", create_pipeline),
    Route("GET", "/api/v1/pipelines", list_pipelines),
    Route("GET", "/api/v2/pipelines", list_pipelines_v2),
    Route("GET", "/api/v1/pipelines/{pipeline_id}", get_pipeline),
    Route("PUT", "/api/v1/pipelines/{pipeline_id}", update_pipeline),
    Route("DELETE", "/api/v1/pipelines/{pipeline_id}", delete_pipeline),
    Route("GET", "/api/v1/pipelines/{pipeline_id}/status", pipeline_status),
    Route("POST", "/api/v1/pipelines/{pipeline_id}/sync", sync_pipeline),
    Route("POST", "/api/v1/pipelines/{pipeline_id}/sync/cancel", cancel_sync),
]
