"""Handlers of the REST v1 content and space routes that the common readers call
(LlamaIndex ``ConfluenceReader``, LangChain ``ConfluenceLoader``, ``atlassian-python-api``).

v1 pages with ``start``/``limit`` (``limit`` silently capped: 50 with a body expansion, 200
with other expansions, 1000 without; ``start`` above 100,000 is refused); ``_links.next`` is
relative to ``/wiki``. On the OAuth gateway shape these deprecated routes answer 410 Gone, as
Confluence Cloud does; Basic auth on the site URL still works.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from .model import PageRecord
from .paging import ApiError, Call, path_id
from .v1_json import Expand, content_json, label_json, listing, restriction_json, space_json

BODY_LIMIT = 50
EXPANDED_LIMIT = 200
PLAIN_LIMIT = 1000
MAX_START = 100_000
_STATUSES = ("current", "trashed", "archived", "draft", "historical", "any")
_EMPTY_CHILD_TYPES = ("attachment", "comment", "folder", "blogpost", "whiteboard", "database")


def _v1_only_on_site(call: Call) -> None:
    if call.request.path_params.get("cloudid") is not None:
        raise ApiError(410, "GoneException: This deprecated endpoint has been removed")


def _int_param(call: Call, name: str, default: int) -> int:
    raw = call.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"'{name}' must be an integer, got {raw!r}") from None


def _window(call: Call, expand: Expand, *, default: int = 25) -> tuple[int, int]:
    """``start`` and the capped ``limit`` of a v1 list request."""
    start = _int_param(call, "start", 0)
    if start < 0:
        raise ApiError(400, f"'start' must not be negative, got {start}")
    if start > MAX_START:
        raise ApiError(400, "BadRequestException: Start of this size is no longer supported")
    cap = BODY_LIMIT if expand.body else EXPANDED_LIMIT if expand.paths else PLAIN_LIMIT
    return start, max(1, min(_int_param(call, "limit", default), cap))


def _page(
    call: Call, results: list[dict[str, Any]], start: int, limit: int, total: int, *, flag: bool
) -> JSONResponse:
    """The v1 list envelope; ``next`` carries the request's filters (and ``next=true`` where
    Confluence adds it)."""
    path = call.path.removeprefix("/wiki")
    query = call.request.url.query
    links = {"base": call.base, "context": "/wiki"}
    if start + limit < total:
        kept = [
            (k, v)
            for k, v in call.request.query_params.multi_items()
            if k not in ("start", "limit", "next")
        ]
        paging = [("next", "true")] if flag else []
        paging += [("limit", str(limit)), ("start", str(start + limit))]
        links["next"] = f"{path}?{urlencode(paging + kept)}"
    links["self"] = f"{call.base}{path}" + (f"?{query}" if query else "")
    return JSONResponse(listing(results, start=start, limit=limit, links=links))


def _status_filter(call: Call, default: str) -> set[str]:
    raw = call.param("status") or default
    statuses = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = statuses - set(_STATUSES)
    if unknown:
        raise ApiError(400, f"'status' must be one of {', '.join(_STATUSES)}; got {raw!r}")
    if "any" in statuses:
        statuses |= {"current", "trashed"}
    return statuses


def list_content(call: Call) -> Response:
    """``GET /rest/api/content?spaceKey=&type=page&status=&title=&expand=&start=&limit=``."""
    _v1_only_on_site(call)
    site = call.site
    expand = Expand(call.param("expand"))
    start, limit = _window(call, expand)
    kind = call.param("type") or "page"
    if kind not in ("page", "blogpost"):
        raise ApiError(400, f"'type' must be page or blogpost, got {kind!r}")
    statuses = _status_filter(call, "current")
    title = call.param("title")
    key = call.param("spaceKey")
    if key is not None:
        space = site.space_by_key.get(key)
        ids = space.page_ids if space is not None else []
    else:
        ids = site.order
    found = [
        page
        for page_id in ids
        if (page := site.pages[page_id]).status in statuses
        and (title is None or page.title == title)
        and kind == "page"
    ]
    chunk = [content_json(site, p, expand, call.base) for p in found[start : start + limit]]
    return _page(call, chunk, start, limit, len(found), flag=True)


def _content(call: Call, *, statuses: set[str]) -> PageRecord:
    page = call.site.pages.get(path_id(call))
    if page is None or page.status not in statuses:
        raise ApiError(404, "No content found with id")
    return page


def get_content(call: Call) -> Response:
    """``GET /rest/api/content/{id}``: current pages unless ``status`` says otherwise; without
    ``expand``, ``space,history,version`` are expanded."""
    _v1_only_on_site(call)
    page = _content(call, statuses=_status_filter(call, "current"))
    version = call.param("version")
    if version is not None and version != str(page.version):
        raise ApiError(404, "the sandbox keeps only the latest version of a page")
    raw = call.param("expand")
    expand = Expand(raw if raw is not None else "space,history,version")
    return JSONResponse(content_json(call.site, page, expand, call.base))


def child_content(call: Call) -> Response:
    """``GET /rest/api/content/{id}/child/{type}``: child pages in position order; the other
    child types exist but are always empty here."""
    _v1_only_on_site(call)
    page = _content(call, statuses={"current"})
    kind = call.request.path_params["type"]
    expand = Expand(call.param("expand"))
    start, limit = _window(call, expand)
    if kind == "page":
        kids = [k for k in call.site.children(page) if k.status == "current"]
    elif kind in _EMPTY_CHILD_TYPES:
        kids = []
    else:
        raise ApiError(400, f"unknown child type {kind!r}")
    chunk = [content_json(call.site, k, expand, call.base) for k in kids[start : start + limit]]
    return _page(call, chunk, start, limit, len(kids), flag=False)


def content_labels(call: Call) -> Response:
    """``GET /rest/api/content/{id}/label?prefix=&start=&limit=`` (default limit 200)."""
    _v1_only_on_site(call)
    page = _content(call, statuses={"current", "trashed", "archived"})
    start, limit = _window(call, Expand(None), default=200)
    prefix = call.param("prefix")
    names = sorted(page.labels) if prefix in (None, "", "global") else []
    chunk = [label_json(call.site, name) for name in names[start : start + limit]]
    return _page(call, chunk, start, limit, len(names), flag=False)


def content_restrictions(call: Call) -> Response:
    """``GET /rest/api/content/{id}/restriction/byOperation``: the page's own restrictions
    (only read restrictions exist in the sandbox)."""
    _v1_only_on_site(call)
    page = _content(call, statuses={"current", "trashed", "archived"})
    body: dict[str, Any] = {
        operation: restriction_json(call.site, page, operation, call.base)
        for operation in ("read", "update")
    }
    body["_links"] = {"base": call.base, "context": "/wiki"}
    return JSONResponse(body)


def operation_restrictions(call: Call) -> Response:
    """``GET /rest/api/content/{id}/restriction/byOperation/{operation}`` (read|update)."""
    _v1_only_on_site(call)
    page = _content(call, statuses={"current", "trashed", "archived"})
    operation = call.request.path_params["operation"]
    if operation not in ("read", "update"):
        raise ApiError(400, f"unknown operation {operation!r}")
    body = restriction_json(call.site, page, operation, call.base)
    body["_links"].update(base=call.base, context="/wiki")
    return JSONResponse(body)


def list_spaces(call: Call) -> Response:
    """``GET /rest/api/space?spaceKey=&type=&status=&expand=&start=&limit=``."""
    _v1_only_on_site(call)
    expand = Expand(call.param("expand"))
    start, limit = _window(call, expand)
    keys = {
        k.strip() for raw in call.request.query_params.getlist("spaceKey") for k in raw.split(",")
    }
    kind, status = call.param("type"), call.param("status")
    spaces = [
        space
        for space in sorted(call.site.spaces.values(), key=lambda s: s.key)
        if (not keys or space.key in keys)
        and kind in (None, space.type)
        and status in (None, space.status)
    ]
    chunk = [space_json(call.site, s, expand, call.base) for s in spaces[start : start + limit]]
    return _page(call, chunk, start, limit, len(spaces), flag=True)


def get_space(call: Call) -> Response:
    """``GET /rest/api/space/{key}?expand=``; 404 for an unknown key."""
    _v1_only_on_site(call)
    space = call.site.space_by_key.get(call.request.path_params["key"])
    if space is None:
        raise ApiError(404, "No space with key")
    return JSONResponse(space_json(call.site, space, Expand(call.param("expand")), call.base))


ROUTES = (
    ("/rest/api/content", list_content),
    ("/rest/api/content/{id}", get_content),
    ("/rest/api/content/{id}/child/{type}", child_content),
    ("/rest/api/content/{id}/label", content_labels),
    ("/rest/api/content/{id}/restriction/byOperation", content_restrictions),
    ("/rest/api/content/{id}/restriction/byOperation/{operation}", operation_restrictions),
    ("/rest/api/space", list_spaces),
    ("/rest/api/space/{key}", get_space),
)
