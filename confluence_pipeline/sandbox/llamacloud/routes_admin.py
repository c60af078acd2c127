"""``/_sandbox/...``: JSON for tests and demos; no auth, never faulted, not counted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .router import Params, Route
from .routes_directories import directory_of
from .routes_pipelines import pipeline_of
from .state import SandboxState
from .web import HTTPError, json_response, read_json


async def stats(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(state.stats.to_json())


async def reset_stats(state: SandboxState, request: Request, params: Params) -> Response:
    state.stats.reset()
    return json_response(state.stats.to_json())


async def faults(state: SandboxState, request: Request, params: Params) -> Response:
    """Body ``{"rate", "kinds"?, "latency_ms"?, "retry_after"?, "seed"?}``; returns the settings."""
    settings = await read_json(request)
    if not isinstance(settings, dict):
        raise HTTPError(422, "expected a JSON object")
    try:
        state.faults.configure(settings)
    except (TypeError, ValueError) as exc:
        raise HTTPError(422, str(exc)) from None
    return json_response(state.faults.to_json())


async def get_faults(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(state.faults.to_json())


async def pipelines(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(
        [
            {"id": pipeline.id, "name": pipeline.name, "documents": len(pipeline.documents)}
            for pipeline in state.store.pipelines.values()
        ]
    )


async def documents(state: SandboxState, request: Request, params: Params) -> Response:
    pipeline = pipeline_of(state, params)
    return json_response(
        [
            {"id": document.id, "text": document.text, "metadata": document.metadata}
            for document in pipeline.documents.values()
        ]
    )


async def pipeline_files(state: SandboxState, request: Request, params: Params) -> Response:
    """The pipeline's files: id, extracted text and custom metadata; and the project files
    still stored (``stored``: whether the project file behind it still exists)."""
    pipeline = pipeline_of(state, params)
    return json_response(
        [
            {
                "id": file.id,
                "text": file.text,
                "metadata": file.metadata,
                "stored": file.id in state.project_files,
            }
            for file in pipeline.files.values()
        ]
    )


async def project_files(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response([{"id": f.id, "name": f.name} for f in state.project_files.values()])


async def ingestion(state: SandboxState, request: Request, params: Params) -> Response:
    """Body ``{"delay_ms"?, "v2_enabled"?}``: the ingestion delay (both targets) and whether
    the plan offers Index v2 (off: ``/api/v1/indexes`` and v2 retrieval answer 403)."""
    settings = await read_json(request)
    if not isinstance(settings, dict):
        raise HTTPError(422, "expected a JSON object")
    delay = settings.get("delay_ms", state.ingest_delay_ms)
    if not isinstance(delay, int) or delay < 0:
        raise HTTPError(422, "delay_ms must be an integer >= 0")
    state.ingest_delay_ms = delay
    state.v2.v2_enabled = bool(settings.get("v2_enabled", state.v2.v2_enabled))
    return await get_ingestion(state, request, params)


async def get_ingestion(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response({"delay_ms": state.ingest_delay_ms, "v2_enabled": state.v2.v2_enabled})


async def directories(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(
        [{"id": d.id, "name": d.name, "files": len(d.files)} for d in state.v2.directories.values()]
    )


async def directory_files(state: SandboxState, request: Request, params: Params) -> Response:
    directory = directory_of(state, params)
    return json_response(
        [
            {
                "id": file.id,
                "unique_id": file.unique_id,
                "external_file_id": file.external_file_id,
                "display_name": file.display_name,
                "text": file.text,
                "metadata": file.metadata,
            }
            for file in directory.files.values()
        ]
    )


async def indexes(state: SandboxState, request: Request, params: Params) -> Response:
    return json_response(
        [
            {"id": i.id, "name": i.name, "source_directory_id": i.source_directory_id}
            for i in state.v2.indexes.values()
        ]
    )


ROUTES = [
    Route("GET", "/_sandbox/stats", stats),
    Route("POST", "/_sandbox/stats/reset", reset_stats),
    Route("GET", "/_sandbox/faults", get_faults),
    Route("POST", "/_sandbox/faults", faults),
    Route("GET", "/_sandbox/pipelines", pipelines),
    Route("GET", "/_sandbox/pipelines/{pipeline_id}/documents", documents),
    Route("GET", "/_sandbox/pipelines/{pipeline_id}/files", pipeline_files),
    Route("GET", "/_sandbox/files", project_files),
    Route("GET", "/_sandbox/ingestion", get_ingestion),
    Route("POST", "/_sandbox/ingestion", ingestion),
    Route("GET", "/_sandbox/directories", directories),
    Route("GET", "/_sandbox/directories/{directory_id}/files", directory_files),
    Route("GET", "/_sandbox/indexes", indexes),
]
