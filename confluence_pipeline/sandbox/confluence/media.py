"""The media host that attachment downloads are redirected to, served on a port of its own.

Like Atlassian's media API it expects the signed URL alone: a request carrying an
``Authorization`` header is refused (401), as is a bad or stale token (403). Every request's
headers are recorded (``GET /_sandbox/media/requests`` on the Confluence emulator).
"""

from __future__ import annotations

import hmac

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .state import SandboxState


def create_media_app(state: SandboxState) -> Starlette:
    """The media host over ``state``'s attachments; set ``state.attachments.media_url`` to
    its URL once it is served."""
    store = state.attachments

    async def serve(request: Request) -> Response:
        state.media_requests.append(dict(request.headers))
        if "authorization" in request.headers:
            return JSONResponse({"error": "credentials are not accepted here"}, status_code=401)
        raw = request.path_params["id"]
        record = store.by_id.get(int(raw)) if raw.isdigit() else None
        token = request.query_params.get("token", "")
        if record is None or not hmac.compare_digest(token, store.token(record)):
            return JSONResponse({"error": "invalid or expired link"}, status_code=403)
        return Response(record.content, media_type=record.media_type)

    return Starlette(routes=[Route("/file/{id}/{name:path}", serve, methods=["GET"])])
