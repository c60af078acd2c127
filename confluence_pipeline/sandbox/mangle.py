"""Fault kinds shared by both emulators that damage a good response instead of replacing it.

``slow``: the answer comes after ``slow_ms`` (set it beyond the client's read timeout);
``truncated``: the JSON body cut in half, status 200, a consistent ``Content-Length`` (a proxy
that gave up mid-body); ``malformed``: a 200 whose ``application/json`` body is an HTML page.
"""

from __future__ import annotations

from starlette.responses import Response

BODY_KINDS = ("truncated", "malformed")
DAMAGE_KINDS = ("slow", *BODY_KINDS)
_HTML = b"<html><body><h1>502 Bad Gateway</h1>upstream sent an invalid response</body></html>"


def damaged(response: Response, kind: str) -> Response:
    """``response`` with its body damaged as ``kind`` says (``truncated``/``malformed``)."""
    body = bytes(response.body)
    if kind == "truncated":
        body = body[: max(1, len(body) // 2)]
    elif kind == "malformed":
        body = _HTML
    else:
        raise ValueError(f"not a body fault: {kind}")
    return Response(body, status_code=200, media_type="application/json")
