"""Streamable HTTP at the edge: a bearer-token guard and a request log around the SDK's app,
served by uvicorn at ``http://HOST:PORT/mcp``.

Without a token the server binds only to loopback; any other host needs
``CONFLUENCE_PIPELINE_MCP_TOKEN``, which every request must then carry as
``Authorization: Bearer <token>`` (else 401, and the request never reaches the SDK)."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import time
import uuid
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.mcp.server import REQUEST_ID_HEADER

log = logging.getLogger("confluence_pipeline.mcp.http")
MCP_PATH = "/mcp"
TOKEN_ENV = "CONFLUENCE_PIPELINE_MCP_TOKEN"
MIN_TOKEN_LENGTH = 16


class ExposureError(PipelineError):
    """The HTTP server would be reachable beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuses a non-loopback ``host`` without a token, and a token too short to be one."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ExposureError(
            f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_LENGTH} random characters "
            "(e.g. `openssl rand -hex 32`)"
        )
    if token is None and not is_loopback(host):
        raise ExposureError(
            f"--host {host} serves MCP beyond this machine: set {TOKEN_ENV} (clients send "
            "it as 'Authorization: Bearer <token>'), or keep the default --host 127.0.0.1"
        )


class BearerGuard:
    """ASGI middleware: gives every HTTP request an id (``X-Request-Id``, replacing any the
    client sent), checks ``Authorization: Bearer <token>`` when a token is set (401 with
    nothing served otherwise) and logs method, path, status and time; never a header value
    or a body."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self._app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        headers = [
            (name, value)
            for name, value in scope.get("headers", [])
            if name.lower() != REQUEST_ID_HEADER.encode()
        ]
        headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                extra = [(b"x-request-id", request_id.encode())]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            if self._authorized(headers):
                await self._app({**scope, "headers": headers}, receive, send_with_id)
            else:
                await _unauthorized(send_with_id)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            method, path = scope.get("method", "?"), scope.get("path", "?")
            log.info(
                "http request=%s %s %s -> %s in %.1f ms", request_id, method, path, status, elapsed
            )

    def _authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        if self._token is None:
            return True
        for name, value in headers:
            if name.lower() == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    return hmac.compare_digest(credentials.strip(), self._token)
        return False


async def _unauthorized(send: Send) -> None:
    body = json.dumps(
        {"error": "unauthorized", "detail": "send Authorization: Bearer <token>"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="confluence-pipeline"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_app(server: MCPServer[Any], *, host: str, token: str | None) -> ASGIApp:
    """The SDK's streamable HTTP app (at :data:`MCP_PATH`) behind :class:`BearerGuard`.
    Run its lifespan: it starts the SDK's session manager."""
    return BearerGuard(server.streamable_http_app(streamable_http_path=MCP_PATH, host=host), token)


def uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, lifespan="on", log_level="warning", access_log=False
    )


def serve_http(server: MCPServer[Any], *, host: str, port: int, token: str | None) -> None:
    """Serves until SIGINT or SIGTERM. Call :func:`check_exposure` first."""
    app = http_app(server, host=host, token=token)
    uvicorn.Server(uvicorn_config(app, host, port)).run()
