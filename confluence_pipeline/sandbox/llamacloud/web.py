"""HTTP helpers shared by the route modules: errors, JSON bodies, query parameters."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_T = TypeVar("_T")


class HTTPError(Exception):
    """Ends a request with ``{"detail": detail}`` and ``status``, as FastAPI does."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = headers

    def response(self) -> Response:
        return JSONResponse({"detail": self.detail}, status_code=self.status, headers=self.headers)


def not_found(what: str) -> HTTPError:
    return HTTPError(404, f"{what} not found")


def json_response(data: Any, status: int = 200) -> Response:
    return JSONResponse(data, status_code=status)


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status)


def _detail(error: Any, loc_prefix: tuple[str | int, ...]) -> dict[str, Any]:
    """One pydantic error in FastAPI's 422 shape (``ctx`` dropped: it may hold exceptions)."""
    return {
        "type": error["type"],
        "loc": [*loc_prefix, *error["loc"]],
        "msg": error["msg"],
        "input": error.get("input"),
    }


def validate(adapter: TypeAdapter[_T], data: Any, loc_prefix: tuple[str | int, ...]) -> _T:
    """Validates ``data``; a failure becomes a 422 whose ``loc`` starts with ``loc_prefix``."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise HTTPError(422, [_detail(error, loc_prefix) for error in errors]) from None


async def read_json(request: Request) -> Any:
    """The request body as JSON; malformed JSON is a 422 ``json_invalid``, as in FastAPI."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        position = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        raise HTTPError(
            422,
            [
                {
                    "type": "json_invalid",
                    "loc": ["body", position],
                    "msg": "JSON decode error",
                    "input": {},
                }
            ],
        ) from None


_INT = TypeAdapter(int)


def query_int(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    """An integer query parameter; unparsable or below ``minimum`` is a 422."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = validate(_INT, raw, ("query", name))
    if value < minimum:
        raise HTTPError(
            422,
            [
                {
                    "type": "greater_than_equal",
                    "loc": ["query", name],
                    "msg": f"Input should be greater than or equal to {minimum}",
                    "input": raw,
                }
            ],
        )
    return value


def cursor_page(request: Request, items: list[Any], *, default_size: int = 50) -> dict[str, Any]:
    """One ``PaginatedCursor`` page of ``items`` (already JSON): ``page_token`` is an offset,
    ``next_page_token`` null on the last page."""
    page_size = query_int(request, "page_size", default_size, minimum=1)
    start = query_int(request, "page_token", 0)
    end = start + page_size
    return {"items": items[start:end], "next_page_token": str(end) if end < len(items) else None}
