"""`mcp`: serve the indexes to MCP clients (LibreChat and others) over stdio or HTTP."""

from __future__ import annotations

import logging
import sys

import click

from confluence_pipeline.settings import Settings

TRANSPORTS = ("stdio", "streamable-http")
_QUIET = ("mcp", "httpx", "httpx2", "uvicorn", "sse_starlette")


@click.command()
@click.option(
    "--transport",
    type=click.Choice(TRANSPORTS),
    default="stdio",
    show_default=True,
    help="stdio: the client starts this command; streamable-http: serve http://HOST:PORT/mcp.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="HTTP address to bind; beyond loopback needs $CONFLUENCE_PIPELINE_MCP_TOKEN.",
)
@click.option("--port", default=8002, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--index",
    "indexes",
    multiple=True,
    metavar="NAME",
    help="Serve only this index (repeatable, or comma-separated); default: every index.",
)
def mcp(transport: str, host: str, port: int, indexes: tuple[str, ...]) -> None:
    """Serve the indexes to MCP clients: tools search, get_page and list_indexes.

    Over HTTP, $CONFLUENCE_PIPELINE_MCP_TOKEN (when set) must be sent by every request as
    'Authorization: Bearer <token>'. Logs go to stderr.
    """
    from confluence_pipeline.mcp import (
        ConfluencePageFetcher,
        PipelineRetriever,
        build_server,
        check_exposure,
        serve_http,
    )
    from confluence_pipeline.state import StateStore

    settings = Settings.from_env()
    token = settings.mcp_token
    if transport == "streamable-http":
        check_exposure(host, token)
    names = [name.strip() for value in indexes for name in value.split(",") if name.strip()]
    cloud = settings.llamacloud()
    store = StateStore.open(settings.database_url, settings.secret_key())
    retriever = PipelineRetriever(cloud.api_key, base_url=cloud.base_url)
    try:
        for name in names:
            store.registry.get_index(name)  # an unknown name fails now, in one line
        _configure_logging()
        server = build_server(store, retriever, ConfluencePageFetcher(store), indexes=names)
        log = logging.getLogger("confluence_pipeline.mcp")
        served = ", ".join(names) or "every index"
        if transport == "stdio":
            log.info("serving %s over stdio", served)
            server.run("stdio")
        else:
            auth = "bearer token required" if token else "no token (loopback only)"
            log.info("serving %s at http://%s:%d/mcp (%s)", served, _url_host(host), port, auth)
            serve_http(server, host=host, port=port, token=token)
    finally:
        retriever.close()
        store.close()


def _configure_logging() -> None:
    """One line per record on stderr (stdout carries the stdio transport); the SDK's and
    HTTP clients' chatter only from warnings up."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
