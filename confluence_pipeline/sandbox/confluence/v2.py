"""Handlers of the REST v2 routes (spaces, pages, labels, ancestors, children)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.responses import JSONResponse, Response

from .model import PageRecord, SpaceRecord
from .paging import (
    ApiError,
    Call,
    after_id_page,
    decode_cursor,
    encode_cursor,
    next_link,
    offset_page,
    path_id,
    query_choice,
    query_limit,
    query_list,
    v2_list,
)
from .render import (
    LIST_BODY_FORMATS,
    PAGE_BODY_FORMATS,
    child_json,
    label_json,
    page_json,
    space_json,
)

R = TypeVar("R")

PAGE_STATUSES = ("current", "archived", "deleted", "trashed")
DEFAULT_PAGE_STATUSES = ("current", "archived")
_PAGE_SORTS = {
    "id": lambda p: p.id,
    "created-date": lambda p: p.created_ms,
    "modified-date": lambda p: max(p.version_ms, p.status_ms),
    "title": lambda p: p.title,
}
_SPACE_SORTS = {"id": lambda s: s.id, "key": lambda s: s.key, "name": lambda s: s.name}


def _sort_param(call: Call, fields: dict[str, Callable[[Any], Any]]) -> str:
    allowed = [f for name in fields for f in (name, f"-{name}")]
    return query_choice(call, "sort", allowed, "id") or "id"


def _listing(
    call: Call,
    ids: list[int],
    accept: Callable[[int], R | None],
    sort: str,
    sort_keys: dict[str, Callable[[R], Any]],
    render: Callable[[R], dict[str, Any]],
    limit: int,
) -> JSONResponse:
    """Pages through ``ids`` (ascending) keeping accepted records: keyset cursors for ``id``
    order, offset cursors for the other orders."""
    state = decode_cursor(call)
    cursor: str | None = None
    if sort == "id":
        after = state.get("a")
        if after is not None and not isinstance(after, int):
            raise ApiError(400, "'cursor' is not a valid cursor")
        items, last = after_id_page(ids, after, accept, limit)
        cursor = encode_cursor({"a": last}) if last is not None else None
    else:
        offset = state.get("o", 0)
        if not isinstance(offset, int) or offset < 0:
            raise ApiError(400, "'cursor' is not a valid cursor")
        field = sort.lstrip("-")
        matching = [r for i in ids if (r := accept(i)) is not None]
        key = sort_keys[field]
        matching.sort(key=lambda r: (key(r), sort_keys["id"](r)), reverse=sort.startswith("-"))
        items, nxt = offset_page(matching, offset, limit)
        cursor = encode_cursor({"o": nxt}) if nxt is not None else None
    next_url = next_link(call, cursor, limit) if cursor is not None else None
    return v2_list(call, [render(r) for r in items], next_url)


def list_spaces(call: Call) -> Response:
    site = call.site
    ids = query_list(call, "ids", numeric=True)
    keys = query_list(call, "keys")
    types = query_list(
        call, "type", allowed=("global", "personal", "collaboration", "knowledge_base")
    )
    statuses = query_list(call, "status", allowed=("current", "archived"))
    sort = _sort_param(call, _SPACE_SORTS)
    limit = query_limit(call)
    id_set = {int(i) for i in ids} if ids is not None else None

    def accept(space_id: int) -> SpaceRecord | None:
        space = site.spaces[space_id]
        if id_set is not None and space.id not in id_set:
            return None
        if keys is not None and space.key not in keys:
            return None
        if types is not None and space.type not in types:
            return None
        if statuses is not None and space.status not in statuses:
            return None
        return space

    return _listing(call, sorted(site.spaces), accept, sort, _SPACE_SORTS, space_json, limit)


def get_space(call: Call) -> Response:
    space = call.site.spaces.get(path_id(call))
    if space is None:
        raise ApiError(404)
    return JSONResponse(space_json(space))


def _page_filters(call: Call, *, space_ids: set[int] | None) -> Callable[[int], PageRecord | None]:
    site = call.site
    statuses = set(query_list(call, "status", allowed=PAGE_STATUSES) or DEFAULT_PAGE_STATUSES)
    title = call.param("title")
    root_only = query_choice(call, "depth", ("all", "root"), "all") == "root"

    def accept(page_id: int) -> PageRecord | None:
        page = site.pages.get(page_id)
        if page is None or page.status not in statuses:
            return None
        if space_ids is not None and page.space_id not in space_ids:
            return None
        if title is not None and page.title != title:
            return None
        if root_only and page.parent_id in site.pages:
            return None
        return page

    return accept


def _page_renderer(call: Call) -> Callable[[PageRecord], dict[str, Any]]:
    body_format = query_choice(call, "body-format", LIST_BODY_FORMATS, None)
    return lambda page: page_json(call.site, page, body_format=body_format)


def space_pages(call: Call) -> Response:
    space = call.site.spaces.get(path_id(call))
    accept = _page_filters(call, space_ids=None)
    render = _page_renderer(call)
    sort = _sort_param(call, _PAGE_SORTS)
    limit = query_limit(call)
    if space is None:
        raise ApiError(404)
    return _listing(call, space.page_ids, accept, sort, _PAGE_SORTS, render, limit)


def pages(call: Call) -> Response:
    site = call.site
    ids = query_list(call, "id", numeric=True)
    space_ids = query_list(call, "space-id", numeric=True, maximum=100)
    space_set = {int(s) for s in space_ids} if space_ids is not None else None
    accept = _page_filters(call, space_ids=space_set)
    render = _page_renderer(call)
    sort = _sort_param(call, _PAGE_SORTS)
    limit = query_limit(call)
    if ids is not None:
        candidates = sorted({int(i) for i in ids})
    elif space_set is not None:
        spaces = [site.spaces[s].page_ids for s in sorted(space_set) if s in site.spaces]
        candidates = list(heapq.merge(*spaces))
    else:
        candidates = site.order
    return _listing(call, candidates, accept, sort, _PAGE_SORTS, render, limit)


def _page_or_404(call: Call) -> PageRecord:
    page = call.site.pages.get(path_id(call))
    if page is None:
        raise ApiError(404)
    return page


def get_page(call: Call) -> Response:
    page = _page_or_404(call)
    body_format = query_choice(call, "body-format", PAGE_BODY_FORMATS, None)
    statuses = query_list(
        call, "status", allowed=("current", "archived", "trashed", "deleted", "draft", "historical")
    )
    if statuses is not None and page.status not in statuses:
        raise ApiError(404)
    version = call.param("version")
    if version is not None and version != str(page.version):
        raise ApiError(404, "the sandbox keeps only the latest version of a page")
    return JSONResponse(page_json(call.site, page, body_format=body_format, base=call.base))


def page_labels(call: Call) -> Response:
    page = _page_or_404(call)
    limit = query_limit(call)
    state = decode_cursor(call)
    offset = state.get("o", 0)
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "'cursor' is not a valid cursor")
    prefixes = query_list(call, "prefix", allowed=("global", "my", "team", "system"))
    names = sorted(page.labels) if prefixes is None or "global" in prefixes else []
    chunk, nxt = offset_page(names, offset, limit)
    next_url = next_link(call, encode_cursor({"o": nxt}), limit) if nxt is not None else None
    return v2_list(call, [label_json(call.site, name) for name in chunk], next_url)


def page_ancestors(call: Call) -> Response:
    """Highest ancestor first; with more than ``limit`` ancestors the nearest ``limit`` are
    returned (call again with the first id to climb further). No paging links."""
    page = _page_or_404(call)
    limit = query_limit(call)
    chain = call.site.ancestors(page)[-limit:]
    results = [{"id": str(a.id), "type": "page"} for a in chain]
    return JSONResponse({"results": results, "_links": {"base": call.base}})


def page_children(call: Call) -> Response:
    page = _page_or_404(call)
    limit = query_limit(call)
    state = decode_cursor(call)
    offset = state.get("o", 0)
    if not isinstance(offset, int) or offset < 0:
        raise ApiError(400, "'cursor' is not a valid cursor")
    kids = [k for k in call.site.children(page) if k.status in DEFAULT_PAGE_STATUSES]
    chunk, nxt = offset_page(kids, offset, limit)
    next_url = next_link(call, encode_cursor({"o": nxt}), limit) if nxt is not None else None
    return v2_list(call, [child_json(k) for k in chunk], next_url)
