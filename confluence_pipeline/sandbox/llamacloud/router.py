"""Routes matched on the raw request path, so ids in paths are percent-decoded exactly once.

Matching on the decoded path would split an id holding ``%2F`` into two segments; here every
segment is split first and then unquoted once (``a%25253A`` -> ``a%253A``, ``a%2Fb`` -> ``a/b``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

Params = dict[str, str]
Handler = Callable[[Any, Request, Params], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", tuple(self.template.strip("/").split("/")))

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, raw in zip(self.segments, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not raw:
                    return None
                params[pattern[1:-1]] = unquote(raw)
            elif pattern != raw:
                return None
        return params


@dataclass(frozen=True)
class Match:
    """The route for a request; ``route`` is None when only the method was wrong (405)."""

    route: Route | None
    params: dict[str, str]


class Router:
    """First matching route wins, so literal routes must come before ``{param}`` ones."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = tuple(routes)

    def match(self, method: str, raw_path: str) -> Match | None:
        """The route for ``method`` and ``raw_path``; None when no route has that path (404)."""
        segments = raw_path.strip("/").split("/")
        path_matched = False
        for route in self._routes:
            params = route.match(segments)
            if params is None:
                continue
            if route.method == method:
                return Match(route, params)
            path_matched = True
        return Match(None, {}) if path_matched else None
