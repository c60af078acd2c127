"""The Confluence Cloud emulator as a Starlette app.

Every public route is served under both URL shapes, ``/wiki/...`` (API token, Basic auth) and
``/ex/confluence/{cloudid}/wiki/...`` (OAuth gateway), by the same handler. Each public request
passes, in order: stats, the points budget (a 429 once spent), injected latency, poisoned
pages, injected fault, authentication, handler (whose answer a damage fault then delays or
breaks); the budget then charges it and adds its rate-limit headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..mangle import BODY_KINDS, damaged
from . import attachments, people, search, v1, v2
from .admin import admin_routes
from .auth import Authenticator
from .budget import PointsBudget
from .content import build_site
from .faults import Faults, Stats
from .oauth import oauth_routes
from .oauth_grants import Grants
from .paging import ApiError, Call, error_response
from .state import SandboxState

GATEWAY_PREFIX = "/ex/confluence/{cloudid}"

_PUBLIC: tuple[tuple[str, Callable[[Call], Response]], ...] = (
    ("/api/v2/spaces", v2.list_spaces),
    ("/api/v2/spaces/{id}", v2.get_space),
    ("/api/v2/spaces/{id}/pages", v2.space_pages),
    ("/api/v2/pages", v2.pages),
    ("/api/v2/pages/{id}", v2.get_page),
    ("/api/v2/pages/{id}/labels", v2.page_labels),
    ("/api/v2/pages/{id}/ancestors", v2.page_ancestors),
    ("/api/v2/pages/{id}/children", v2.page_children),
    ("/rest/api/search", search.search),
    ("/rest/api/content/search", search.content_search),
    ("/rest/api/user/bulk", people.bulk_users),
    *v1.ROUTES,  # after content/search, which content/{id} would shadow
)


def create_app(
    *,
    spaces: int = 3,
    pages_per_space: int = 50,
    seed: int = 0,
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    access_token_ttl: float = 3600.0,
    oauth_extra_sites: int = 0,
    points_per_hour: int = 0,
) -> Starlette:
    """A Confluence Cloud emulator holding ``spaces`` x ``pages_per_space`` generated pages
    (homepages included), deterministic from ``seed``. ``app.state.sandbox`` is its
    :class:`SandboxState`, ``app.state.oauth`` its OAuth server's :class:`Grants` (client
    ``sandbox-client-id`` / ``sandbox-client-secret``; access tokens live
    ``access_token_ttl`` seconds; ``oauth_extra_sites`` more sites are listed). A
    ``points_per_hour`` above 0 meters every credential against that hourly budget
    (:mod:`.budget`)."""
    state = SandboxState(
        site=build_site(spaces=spaces, pages_per_space=pages_per_space, seed=seed),
        faults=Faults(seed=seed, rate=fault_rate, latency_ms=latency_ms),
        stats=Stats(),
        auth=Authenticator(),
        budget=PointsBudget(points_per_hour),
    )
    routes: list[BaseRoute] = []
    for sub, handler in (*attachments.handlers(state.attachments), *_PUBLIC):
        endpoint = _public(state, f"GET /wiki{sub}", handler, v1=sub.startswith("/rest/"))
        routes.append(Route(f"/wiki{sub}", endpoint, methods=["GET"]))
        routes.append(Route(f"{GATEWAY_PREFIX}/wiki{sub}", endpoint, methods=["GET"]))
    routes.append(Route("/_edge/tenant_info", _tenant_info(state), methods=["GET"]))
    routes.extend(admin_routes(state))
    grants = Grants(access_token_ttl=access_token_ttl)
    state.auth.bearer_check = grants.access_ok
    routes.extend(oauth_routes(state, grants, extra_sites=oauth_extra_sites))
    app = Starlette(
        routes=routes,
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.sandbox = state
    app.state.oauth = grants
    return app


def _public(
    state: SandboxState, route: str, handler: Callable[[Call], Response], *, v1: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        refusal = state.budget.refusal()
        if refusal is not None:
            response = error_response(429, "rate limit exceeded", v1=v1, headers=refusal)
        else:
            response = await _serve(state, request, handler, v1=v1)
            content_type = response.headers.get("content-type", "")
            budget = state.budget.charge(response.status_code, content_type, bytes(response.body))
            response.headers.update(budget)
        state.stats.record(route, response.status_code, len(response.body))
        return response

    return endpoint


async def _serve(
    state: SandboxState, request: Request, handler: Callable[[Call], Response], *, v1: bool
) -> Response:
    faults = state.faults
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.poisoned(_named_pages(request)):
        state.stats.faults_injected += 1
        return error_response(500, "this page cannot be read (poisoned)", v1=v1, headers={})
    fault = faults.pick()
    state.stats.faults_injected += fault is not None
    if fault is not None and fault.status:
        return error_response(fault.status, None, v1=v1, headers=fault.headers or {})
    response = _answer(state, request, handler, v1=v1)
    if fault is not None and fault.kind == "slow":
        await asyncio.sleep(faults.slow_ms / 1000)
    elif fault is not None and fault.kind in BODY_KINDS and response.status_code == 200:
        response = damaged(response, fault.kind)
    return response


def _named_pages(request: Request) -> list[str]:
    ids = request.query_params.get("id", "").split(",")
    return [*ids, request.path_params.get("id", "")]


def _answer(
    state: SandboxState, request: Request, handler: Callable[[Call], Response], *, v1: bool
) -> Response:
    cloud_id = request.path_params.get("cloudid")
    refusal = state.auth.refusal(request, gateway=cloud_id is not None)
    if refusal is not None:
        return error_response(401, refusal, v1=v1, headers={"WWW-Authenticate": "Basic"})
    root = str(request.base_url).rstrip("/")
    path = request.url.path
    if cloud_id is not None:
        if cloud_id != state.site.cloud_id:
            return error_response(404, f"no site with cloud id {cloud_id}", v1=v1, headers={})
        prefix = f"/ex/confluence/{cloud_id}"
        root += prefix
        path = path.removeprefix(prefix)
    call = Call(request=request, site=state.site, base=f"{root}/wiki", path=path)
    try:
        return handler(call)
    except ApiError as exc:
        return error_response(exc.status, exc.detail, v1=v1, headers=exc.headers)


def _tenant_info(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    """``GET /_edge/tenant_info``: the cloud id, no auth needed (counted and faultable)."""

    def handler(call: Call) -> Response:
        return JSONResponse({"cloudId": call.site.cloud_id})

    async def endpoint(request: Request) -> Response:
        response: Response
        fault = state.faults.pick()
        if fault is not None and fault.status:
            response = error_response(fault.status, None, v1=False, headers=fault.headers or {})
        else:
            call = Call(request=request, site=state.site, base="", path=request.url.path)
            response = handler(call)
        state.stats.record("GET /_edge/tenant_info", response.status_code, len(response.body))
        return response

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    v1 = "/rest/" in request.url.path
    return error_response(status, None, v1=v1, headers={})
