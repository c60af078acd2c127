"""Handlers of the v1 CQL search routes (``/rest/api/search``, ``/rest/api/content/search``).

Only current pages are searchable (CQL never returns trashed or purged content). ``limit``
defaults to 25 and is silently capped at 250 (content search with expansions: 200, with a
body: 50); ``next`` is relative to ``/wiki``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import JSONResponse, Response

from . import cql
from .model import PageRecord, Site
from .paging import ApiError, Call, decode_cursor, encode_cursor, next_link, query_limit
from .render import iso, tinyui, webui
from .v1 import BODY_LIMIT, EXPANDED_LIMIT
from .v1_json import Expand, content_json

_MAX_LIMIT = 250


def _matches(call: Call, *, cap: int = _MAX_LIMIT) -> tuple[str, list[PageRecord], int, int]:
    text = call.param("cql")
    if not text or not text.strip():
        raise ApiError(400, "The 'cql' query parameter is required")
    try:
        query = cql.parse(text, call.site)
    except cql.CqlError as exc:
        raise ApiError(400, f"Could not parse cql : {text} ({exc})") from None
    limit = query_limit(call, maximum=cap, clamp=True)
    state = decode_cursor(call)
    offset = state.get("o")
    if offset is None:
        start = call.param("start") or "0"
        if not start.isdigit():
            raise ApiError(400, f"'start' must be a non-negative integer, got {start!r}")
        offset = int(start)
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "'cursor' is not a valid cursor")
    found = [p for p in call.site.pages.values() if p.status == "current" and query.matches(p)]
    return text, query.sort(found), offset, limit


def _links(call: Call, offset: int, limit: int, total: int) -> dict[str, str]:
    path = call.path.removeprefix("/wiki")
    links = {"base": call.base, "context": "/wiki"}
    if offset + limit < total:
        links["next"] = next_link(call, encode_cursor({"o": offset + limit}), limit, path=path)
    query = call.request.url.query
    links["self"] = f"{call.base}{path}" + (f"?{query}" if query else "")
    return links


def search(call: Call) -> Response:
    started = time.perf_counter()
    text, found, offset, limit = _matches(call)
    chunk = found[offset : offset + limit]
    results = [_search_result(call.site, page) for page in chunk]
    return JSONResponse(
        {
            "results": results,
            "start": offset,
            "limit": limit,
            "size": len(results),
            "totalSize": len(found),
            "cqlQuery": text,
            "searchDuration": int((time.perf_counter() - started) * 1000),
            "_links": _links(call, offset, limit, len(found)),
        }
    )


def content_search(call: Call) -> Response:
    """Content objects; ``limit`` is capped at 50 with a body expansion, 200 with others."""
    expand = Expand(call.param("expand"))
    cap = BODY_LIMIT if expand.body else EXPANDED_LIMIT if expand.paths else _MAX_LIMIT
    _, found, offset, limit = _matches(call, cap=cap)
    chunk = found[offset : offset + limit]
    results = [content_json(call.site, page, expand, call.base) for page in chunk]
    return JSONResponse(
        {
            "results": results,
            "start": offset,
            "limit": limit,
            "size": len(results),
            "_links": _links(call, offset, limit, len(found)),
        }
    )


def _search_result(site: Site, page: PageRecord) -> dict[str, Any]:
    space = site.space_of(page)
    url = webui(space, page)
    return {
        "content": {
            "id": str(page.id),
            "type": "page",
            "status": page.status,
            "title": page.title,
            "_links": {
                "webui": url,
                "tinyui": tinyui(page.id),
                "self": f"/rest/api/content/{page.id}",
            },
        },
        "title": page.title,
        "excerpt": f"{page.title} ({space.name})",
        "url": url,
        "resultGlobalContainer": {"title": space.name, "displayUrl": f"/spaces/{space.key}"},
        "breadcrumbs": [],
        "entityType": "content",
        "iconCssClass": "aui-icon content-type-page",
        "lastModified": iso(page.version_ms),
        "friendlyLastModified": iso(page.version_ms)[:10],
        "score": 0.0,
    }
