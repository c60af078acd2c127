"""Request parsing, error bodies and cursor paging shared by the public routes."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

from .model import Site

T = TypeVar("T")

_TITLES = {
    400: ("BAD_REQUEST", "Bad Request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not Found"),
    405: ("METHOD_NOT_ALLOWED", "Method Not Allowed"),
    409: ("CONFLICT", "Conflict"),
    410: ("GONE", "Gone"),
    429: ("TOO_MANY_REQUESTS", "Too Many Requests"),
    500: ("INTERNAL_SERVER_ERROR", "Internal Server Error"),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable"),
}


class ApiError(Exception):
    """Raised by handlers; rendered as a v2 (or v1) error body with ``status``."""

    def __init__(self, status: int, detail: str | None = None, **headers: str) -> None:
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail
        self.headers = {k.replace("_", "-"): v for k, v in headers.items()}


def error_response(status: int, detail: str | None, *, v1: bool, headers: dict[str, str]) -> Any:
    """v2: ``{"errors":[{status,code,title,detail}]}``; v1: ``{statusCode,data,message,reason}``."""
    code, title = _TITLES.get(status, ("ERROR", "Error"))
    if v1:
        body: dict[str, Any] = {
            "statusCode": status,
            "data": {
                "authorized": status not in (401, 403),
                "valid": status != 400,
                "errors": [],
                "successful": False,
            },
            "message": detail or title,
            "reason": title,
        }
    else:
        body = {"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass(slots=True)
class Call:
    """One public request: the site, the ``_links.base`` to answer with, and the request path
    as seen below the site root (always starting with ``/wiki``)."""

    request: Request
    site: Site
    base: str
    path: str

    def param(self, name: str) -> str | None:
        return self.request.query_params.get(name)


def path_id(call: Call, name: str = "id") -> int:
    raw = call.request.path_params[name]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, f"'{name}' must be a number, got {raw!r}")
    return int(raw)


def query_limit(call: Call, *, default: int = 25, maximum: int = 250, clamp: bool = False) -> int:
    raw = call.param("limit")
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, f"'limit' must be an integer, got {raw!r}") from None
    if clamp:
        return max(1, min(limit, maximum))
    if not 1 <= limit <= maximum:
        raise ApiError(400, f"'limit' must be between 1 and {maximum}, got {limit}")
    return limit


def query_list(
    call: Call,
    name: str,
    *,
    maximum: int = 250,
    allowed: Iterable[str] | None = None,
    numeric: bool = False,
) -> list[str] | None:
    """A comma-separated (or repeated) filter; None when absent. Bad values -> 400."""
    raws = call.request.query_params.getlist(name)
    if not raws:
        return None
    values = [v.strip() for raw in raws for v in raw.split(",") if v.strip()]
    if len(values) > maximum:
        raise ApiError(400, f"'{name}' accepts at most {maximum} values, got {len(values)}")
    allowed_set = set(allowed) if allowed is not None else None
    for value in values:
        if numeric and not value.isdigit():
            raise ApiError(400, f"'{name}' values must be numbers, got {value!r}")
        if allowed_set is not None and value not in allowed_set:
            choices = ", ".join(sorted(allowed_set))
            raise ApiError(400, f"'{name}' must be one of {choices}; got {value!r}")
    return values


def query_choice(call: Call, name: str, allowed: Iterable[str], default: str | None) -> str | None:
    value = call.param(name)
    if value is None:
        return default
    if value not in set(allowed):
        raise ApiError(400, f"'{name}' must be one of {', '.join(allowed)}; got {value!r}")
    return value


def encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(call: Call) -> dict[str, Any]:
    """The decoded ``cursor`` parameter, ``{}`` when absent; malformed -> 400."""
    raw = call.param("cursor")
    if not raw:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise ApiError(400, "'cursor' is not a valid cursor") from None
    if not isinstance(state, dict):
        raise ApiError(400, "'cursor' is not a valid cursor")
    return state


def next_link(call: Call, cursor: str, limit: int, *, path: str | None = None) -> str:
    """The request's own path and filters with a new cursor and limit."""
    params = [(k, v) for k, v in call.request.query_params.multi_items() if k not in _PAGING]
    params += [("cursor", cursor), ("limit", str(limit))]
    return f"{path or call.path}?{urlencode(params)}"


_PAGING = {"cursor", "limit", "start"}


def after_id_page(
    ids: list[int], after: int | None, accept: Callable[[int], T | None], limit: int
) -> tuple[list[T], int | None]:
    """Keyset paging over ascending ``ids``: up to ``limit`` accepted items after ``after``,
    plus the id to continue after (None on the last page)."""
    start = 0 if after is None else bisect.bisect_right(ids, after)
    items: list[T] = []
    last: int | None = None
    for position in range(start, len(ids)):
        item = accept(ids[position])
        if item is None:
            continue
        if len(items) == limit:
            return items, last
        items.append(item)
        last = ids[position]
    return items, None


def offset_page(items: list[T], offset: int, limit: int) -> tuple[list[T], int | None]:
    chunk = items[offset : offset + limit]
    return chunk, (offset + limit if offset + limit < len(items) else None)


def v2_list(call: Call, results: list[dict[str, Any]], next_url: str | None) -> JSONResponse:
    """``{"results", "_links": {"next"?, "base"}}`` plus the ``Link`` header when there is more."""
    links: dict[str, str] = {}
    headers = {}
    if next_url is not None:
        links["next"] = next_url
        headers["Link"] = f'<{next_url}>; rel="next"'
    links["base"] = call.base
    return JSONResponse({"results": results, "_links": links}, headers=headers)
