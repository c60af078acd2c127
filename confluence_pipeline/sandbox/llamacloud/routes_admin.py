"""``/_sandbox/...``: JSON for tests and demos; no auth, never faulted, not counted."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .router import Params, Route
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


ROUTES = [
    Route("GET", "/_sandbox/stats", stats),
    Route("POST", "/_sandbox/stats/reset", reset_stats),
    Route("GET", "/_sandbox/faults", get_faults),
    Route("POST", "/_sandbox/faults", faults),
    Route("GET", "/_sandbox/pipelines", pipelines),
    Route("GET", "/_sandbox/pipelines/{pipeline_id}/documents", documents),
]
