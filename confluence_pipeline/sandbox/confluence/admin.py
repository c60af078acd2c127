"""Admin routes for tests and demos: JSON, no auth, never faulted, not counted in the stats.

``GET /_sandbox/spaces``, ``POST /_sandbox/pages``, ``GET|PUT|DELETE /_sandbox/pages/{id}``
(``PUT`` takes ``storage``, ``title`` and ``modified_at``, an ISO-8601 stamp for the edit),
``POST /_sandbox/pages/{id}/move|purge|restore``, ``PUT /_sandbox/pages/{id}/labels``
(``{"labels": [..]}``), ``PUT /_sandbox/pages/{id}/restrictions``
(``{"read": {"users": [account ids], "groups": [names]}}``),
``POST /_sandbox/pages/{id}/attachments`` (``{"filename", "media_type", "content_base64"}``;
the same file name again is a new version), ``DELETE /_sandbox/attachments/{id}``,
``GET /_sandbox/media/requests`` (headers the media host received), ``GET /_sandbox/stats``,
``POST /_sandbox/stats/reset``, ``GET|POST /_sandbox/faults``, ``GET|POST
/_sandbox/rate-limit`` (the points budget: ``{"points_per_hour", "window_seconds",
"retry_after", "retry_after_header", "advance_seconds", "reset", "spend"}``, see
:mod:`.budget`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .attachments import attachment_id
from .model import PageRecord, SiteError
from .paging import ApiError
from .render import iso
from .state import SandboxState

Handler = Callable[[Request, SandboxState], Awaitable[Any]]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise SiteError(400, "body must be a JSON object") from None
    if not isinstance(data, dict):
        raise SiteError(400, "body must be a JSON object")
    return data


def _text(data: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise SiteError(400, f"'{name}' must be a string")
    return value


def _page_id(request: Request) -> int:
    raw = request.path_params["id"]
    if not raw.isdigit():
        raise SiteError(400, f"page id must be a number, got {raw!r}")
    return int(raw)


def _brief(page: PageRecord) -> dict[str, Any]:
    return {"id": str(page.id), "version": page.version, "status": page.status}


async def list_spaces(request: Request, state: SandboxState) -> Any:
    site = state.site
    return [
        {
            "key": space.key,
            "id": str(space.id),
            "name": space.name,
            "pages": sum(site.pages[i].status == "current" for i in space.page_ids),
        }
        for space in site.spaces.values()
    ]


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SiteError(400, f"'{name}' must be a list of strings")
    return value


async def create_page(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    parent = _text(data, "parent_id", required=False)
    if parent is not None and not parent.isdigit():
        raise SiteError(400, "'parent_id' must be a page id")
    page = state.site.create_page(
        space_key=_text(data, "space_key", required=True) or "",
        title=_text(data, "title", required=True) or "",
        storage=_text(data, "storage", required=True) or "",
        now_ms=_now_ms(),
        parent_id=int(parent) if parent is not None else None,
    )
    return {"id": str(page.id), "version": page.version}


async def get_page(request: Request, state: SandboxState) -> Any:
    site = state.site
    page = site.page(_page_id(request))
    space = site.space_of(page)
    return {
        "id": str(page.id),
        "space_key": space.key,
        "space_id": str(space.id),
        "title": page.title,
        "version": page.version,
        "version_created_at": iso(page.version_ms),
        "status": page.status,
        "parent_id": str(page.parent_id) if page.parent_id is not None else None,
        "labels": list(page.labels),
        "read": {"users": list(page.read_users), "groups": list(page.read_groups)},
        "storage": site.storage(page),
    }


async def edit_page(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    page = state.site.edit_page(
        _page_id(request),
        title=_text(data, "title", required=False),
        storage=_text(data, "storage", required=False),
        now_ms=_stamp(data) or _now_ms(),
    )
    return {"id": str(page.id), "version": page.version}


def _stamp(data: dict[str, Any]) -> int | None:
    """``modified_at`` (ISO-8601 with a zone) as epoch ms: an edit stamped at another moment,
    e.g. by a server whose clock runs behind the caller's."""
    value = _text(data, "modified_at", required=False)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SiteError(400, f"'modified_at' is not ISO-8601: {value!r}") from None
    if moment.tzinfo is None:
        raise SiteError(400, "'modified_at' needs a time zone (e.g. Z)")
    return int(moment.timestamp() * 1000)


async def set_labels(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    page = state.site.set_labels(_page_id(request), _strings(data.get("labels"), "labels"))
    return {"id": str(page.id), "labels": list(page.labels)}


async def set_restrictions(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    read = data.get("read") or {}
    if not isinstance(read, dict):
        raise SiteError(400, "'read' must be an object")
    page = state.site.set_read_restrictions(
        _page_id(request),
        users=_strings(read.get("users"), "read.users"),
        groups=_strings(read.get("groups"), "read.groups"),
    )
    return {"id": str(page.id), "read": {"users": page.read_users, "groups": page.read_groups}}


async def add_attachment(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    try:
        encoded = _text(data, "content_base64", required=True) or ""
        content = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise SiteError(400, "'content_base64' is not base64") from None
    record = state.attachments.put(
        state.site,
        _page_id(request),
        title=_text(data, "filename", required=True) or "",
        media_type=_text(data, "media_type", required=True) or "",
        content=content,
        now_ms=_now_ms(),
    )
    return {"id": f"att{record.id}", "version": record.version}


async def delete_attachment(request: Request, state: SandboxState) -> Any:
    try:
        number = attachment_id(request.path_params["id"])
    except ApiError as exc:
        raise SiteError(400, exc.detail or "bad attachment id") from None
    state.attachments.delete(number)
    return {"id": request.path_params["id"], "deleted": True}


async def media_requests(request: Request, state: SandboxState) -> Any:
    return state.media_requests


async def trash_page(request: Request, state: SandboxState) -> Any:
    return _brief(state.site.trash_page(_page_id(request), _now_ms()))


async def restore_page(request: Request, state: SandboxState) -> Any:
    return _brief(state.site.restore_page(_page_id(request), _now_ms()))


async def move_page(request: Request, state: SandboxState) -> Any:
    data = await _body(request)
    page = state.site.move_page(
        _page_id(request),
        space_key=_text(data, "space_key", required=True) or "",
        now_ms=_now_ms(),
    )
    return {"id": str(page.id), "version": page.version, "space_id": str(page.space_id)}


async def purge_page(request: Request, state: SandboxState) -> Any:
    page_id = _page_id(request)
    state.site.purge_page(page_id)
    return {"id": str(page_id), "purged": True}


async def stats(request: Request, state: SandboxState) -> Any:
    return state.stats.snapshot()


async def reset_stats(request: Request, state: SandboxState) -> Any:
    state.stats.reset()
    return state.stats.snapshot()


async def get_faults(request: Request, state: SandboxState) -> Any:
    return state.faults.settings()


async def set_faults(request: Request, state: SandboxState) -> Any:
    names = ("rate", "kinds", "latency_ms", "slow_ms", "poison", "retry_after")
    await _configure(request, state.faults.configure, names)
    return state.faults.settings()


async def get_rate_limit(request: Request, state: SandboxState) -> Any:
    return state.budget.settings()


async def set_rate_limit(request: Request, state: SandboxState) -> Any:
    names = (
        "points_per_hour",
        "window_seconds",
        "retry_after",
        "retry_after_header",
        "advance_seconds",
        "reset",
        "spend",
    )
    await _configure(request, state.budget.configure, names)
    return state.budget.settings()


async def _configure(
    request: Request, configure: Callable[..., None], names: tuple[str, ...]
) -> None:
    """Calls ``configure`` with the body's values of ``names`` (None where absent); a bad value
    is a 400."""
    data = await _body(request)
    try:
        configure(**{name: data.get(name) for name in names})
    except (TypeError, ValueError) as exc:
        raise SiteError(400, str(exc)) from None


def _endpoint(handler: Handler, state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request, state))
        except SiteError as exc:
            return _error(exc.status, str(exc))

    return endpoint


def admin_routes(state: SandboxState) -> list[Route]:
    table: list[tuple[str, str, Handler]] = [
        ("GET", "/_sandbox/spaces", list_spaces),
        ("POST", "/_sandbox/pages", create_page),
        ("GET", "/_sandbox/pages/{id}", get_page),
        ("PUT", "/_sandbox/pages/{id}", edit_page),
        ("DELETE", "/_sandbox/pages/{id}", trash_page),
        ("POST", "/_sandbox/pages/{id}/restore", restore_page),
        ("PUT", "/_sandbox/pages/{id}/labels", set_labels),
        ("PUT", "/_sandbox/pages/{id}/restrictions", set_restrictions),
        ("POST", "/_sandbox/pages/{id}/move", move_page),
        ("POST", "/_sandbox/pages/{id}/attachments", add_attachment),
        ("DELETE", "/_sandbox/attachments/{id}", delete_attachment),
        ("GET", "/_sandbox/media/requests", media_requests),
        ("POST", "/_sandbox/pages/{id}/purge", purge_page),
        ("GET", "/_sandbox/stats", stats),
        ("POST", "/_sandbox/stats/reset", reset_stats),
        ("GET", "/_sandbox/faults", get_faults),
        ("POST", "/_sandbox/faults", set_faults),
        ("GET", "/_sandbox/rate-limit", get_rate_limit),
        ("POST", "/_sandbox/rate-limit", set_rate_limit),
    ]
    return [Route(path, _endpoint(fn, state), methods=[method]) for method, path, fn in table]
