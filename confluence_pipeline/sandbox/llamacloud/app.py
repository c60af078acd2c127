"""The LlamaCloud emulator as one Starlette app: routing, auth, faults and counting."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from ..mangle import BODY_KINDS, DAMAGE_KINDS, damaged
from . import (
    routes_admin,
    routes_directories,
    routes_documents,
    routes_files,
    routes_indexes,
    routes_pipelines,
    routes_retrieve,
)
from .faults import Faults
from .router import Match, Router
from .state import SandboxState
from .store import Store
from .web import HTTPError

_ADMIN_PREFIX = "/_sandbox/"
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_PUBLIC = Router(
    [
        *routes_pipelines.ROUTES,
        *routes_documents.ROUTES,
        *routes_files.ROUTES,
        *routes_retrieve.ROUTES,
        *routes_directories.ROUTES,
        *routes_indexes.ROUTES,
    ]
)
_ADMIN = Router(routes_admin.ROUTES)


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if raw else quote(request.scope["path"])


def _unauthorized(state: SandboxState, request: Request) -> Response | None:
    header = request.headers.get("authorization")
    if header == f"Bearer {state.api_key}":
        return None
    detail = "Not authenticated" if not header else "Invalid authentication token"
    return JSONResponse({"detail": detail}, status_code=401)


async def _call(state: SandboxState, request: Request, match: Match | None) -> Response:
    if match is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if match.route is None:
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405)
    try:
        return await match.route.handler(state, request, match.params)
    except HTTPError as exc:
        return exc.response()


async def _public(state: SandboxState, request: Request, raw_path: str) -> Response:
    match = _PUBLIC.match(request.method, raw_path)
    route = match.route.template if match and match.route else "unmatched"
    state.stats.count_request(f"{request.method} {route}")
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    kind = faults.pick()
    if kind is not None:
        state.stats.faults_injected += 1
        if kind not in DAMAGE_KINDS:
            return faults.status_response(kind)
    if faults.poison and request.method in ("PUT", "POST"):
        poisoned = faults.poisoned(await _json_or_none(request))
        if poisoned is not None:
            return poisoned
    response = _unauthorized(state, request) or await _call(state, request, match)
    if kind == "slow":
        await asyncio.sleep(faults.slow_ms / 1000)
    elif kind in BODY_KINDS and response.status_code == 200:
        response = damaged(response, kind)
    return response


async def _json_or_none(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def create_app(
    *,
    api_key: str = "sandbox-key",
    project_id: str = "sandbox-project",
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    seed: int = 0,
    ingest_delay_ms: int = 0,
) -> Starlette:
    """An in-memory LlamaCloud emulator that the unmodified ``llama-cloud`` SDK can talk to.

    ``latency_ms`` delays and ``fault_rate`` fails (429/500/503) public requests, drawn from
    an RNG seeded with ``seed``; both can be changed at runtime with ``POST /_sandbox/faults``.
    ``ingest_delay_ms`` is how long accepted documents and index syncs take to become
    searchable (``POST /_sandbox/ingestion`` changes it, and switches Index v2 off and on).
    """
    state = SandboxState(
        api_key=api_key,
        project_id=project_id,
        store=Store(project_id, seed),
        faults=Faults(rate=fault_rate, latency_ms=latency_ms, seed=seed),
        ingest_delay_ms=ingest_delay_ms,
    )

    async def dispatch(request: Request) -> Response:
        raw_path = _raw_path(request)
        if raw_path.startswith(_ADMIN_PREFIX):
            return await _call(state, request, _ADMIN.match(request.method, raw_path))
        return await _public(state, request, raw_path)

    return Starlette(routes=[StarletteRoute("/{path:path}", dispatch, methods=_METHODS)])
