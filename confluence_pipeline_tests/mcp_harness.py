"""Driving the MCP server through the SDK's own client: over streamable HTTP (the server on a
free port, in a thread or a subprocess) and over stdio (a `confluence-pipeline mcp` child)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult

from confluence_pipeline.mcp import ConfluencePageFetcher, PipelineRetriever, build_server
from confluence_pipeline.mcp.http import http_app, uvicorn_config
from confluence_pipeline.sandbox.server import free_port
from confluence_pipeline_tests.world import API_KEY, World

BIN = Path(sys.executable).parent
_READY_TIMEOUT_S = 60.0


def world_server(world: World, indexes: list[str] | None = None) -> MCPServer[Any]:
    """The server over the world's state, its LlamaCloud sandbox and its Confluence."""
    retriever = PipelineRetriever(API_KEY, base_url=world.cloud_url)
    return build_server(world.store, retriever, ConfluencePageFetcher(world.store), indexes=indexes)


class HttpServerThread:
    """``http_app`` served by uvicorn (lifespan on: the SDK's session manager) on a thread."""

    def __init__(self, server: MCPServer[Any], token: str | None = None) -> None:
        self.port = free_port()
        app = http_app(server, host="127.0.0.1", token=token)
        self._server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port))
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="mcp-http")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def __enter__(self) -> HttpServerThread:
        self._thread.start()
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("MCP HTTP server did not start")
            time.sleep(0.005)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_READY_TIMEOUT_S)


@contextlib.asynccontextmanager
async def http_session(
    url: str, *, token: str | None = None, statuses: list[int] | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized SDK session over streamable HTTP; ``statuses`` collects every HTTP
    status the client saw."""

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, event_hooks={"response": [record]}) as client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@contextlib.asynccontextmanager
async def stdio_session(
    command: str, args: list[str], env: dict[str, str], *, stderr: Path | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized SDK session with ``command`` (a console script of this venv) started
    over stdio, as a client would; its stderr (the server's log) into ``stderr``."""
    params = StdioServerParameters(command=str(BIN / command), args=args, env=env)
    with open(stderr or os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    # the text block is the rendering; the structured content must survive JSON as sent
    return dict(json.loads(json.dumps(result.structured_content)))


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def wait_for_port(port: int, process_alive: Any = None) -> None:
    """Polls until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + 120
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process_alive is not None and not process_alive():
            raise RuntimeError("the server process exited")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on port {port}")
        time.sleep(0.05)
