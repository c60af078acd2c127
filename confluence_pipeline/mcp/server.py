"""The MCP server: tools ``search``, ``get_page`` and ``list_indexes`` over the official SDK's
``MCPServer``. Built from its dependencies by :func:`build_server`; the transport (stdio or
streamable HTTP) and its authentication are chosen at the edge (``confluence-pipeline mcp``,
:mod:`confluence_pipeline.mcp.http`)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection
from typing import Annotated, Any, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.mcp.models import (
    IndexesOutput,
    PageOutput,
    SearchOutput,
    render_indexes,
    render_search,
)
from confluence_pipeline.mcp.pages import PageFetcher
from confluence_pipeline.mcp.retrieval import Retriever
from confluence_pipeline.mcp.service import MAX_TOP_K, ConfluenceTools
from confluence_pipeline.state import StateStore

log = logging.getLogger("confluence_pipeline.mcp")
REQUEST_ID_HEADER = "x-request-id"
T = TypeVar("T")

INSTRUCTIONS = """\
Search and read this organization's Confluence pages, kept in sync in LlamaCloud indexes.
Use `search` first for questions that internal documentation may answer; answer from the
excerpts and cite each fact as [n] with the page title and URL. Use `get_page` for the full,
current text of one page (a result's page_id, or a Confluence link the user gives). Use
`list_indexes` to see which indexes and spaces exist and how fresh they are."""

SEARCH = """\
Search the Confluence pages of an index and return the most relevant passages, best first,
each with a citation number [n], title, URL, space, breadcrumb (where the page sits), the
indexed version and its date, and an excerpt.

Use it for any question internal documentation may answer: how-tos, runbooks, designs,
decisions, policies, team and project pages. Ask in natural language or with distinctive
keywords; search again with other words if nothing fits. Answer only from the excerpts and
cite every fact as [n] with its URL. An excerpt is part of a page as it was last synced: when
it is cut short, or the answer must be current, call get_page with the result's page_id.
Deleted, trashed or moved pages are left out even when the index still holds them.

Arguments:
- query: what to look for.
- index: the index to search (names from list_indexes); may be left out when only one
  index is served.
- spaces: Confluence space keys (e.g. ["ENG", "OPS"]) to restrict the search to; each must
  be a space of the index. Leave out to search all of its spaces.
- labels: keep only pages carrying at least one of these Confluence labels (e.g.
  ["runbook"]); pages without labels in the index are then left out.
- top_k: how many results to return, 1-50 (default 8)."""

GET_PAGE = """\
Fetch one Confluence page's full, current content as Markdown, live from Confluence (so it
includes edits made since the last sync), with its title, URL, space, version and date.

Use it when a search excerpt is not enough, when the answer must reflect the page as it is
now, or when the user gives a Confluence link or page id. Only pages in the spaces of the
indexes served here can be read; others are refused.

Arguments:
- page: a numeric page id (a search result's page_id, e.g. "163845") or a Confluence page URL
  (https://SITE/wiki/spaces/KEY/pages/<id>/Title or .../viewpage.action?pageId=<id>)."""

LIST_INDEXES = """\
List the Confluence indexes this server searches: each one's name, Confluence space keys,
LlamaCloud target, number of synced pages, documents still being ingested (null when the
target does not tell), and when each space last synced successfully.

Use it to pick `index` and `spaces` for search, or to tell the user how fresh the content is."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def build_server(
    store: StateStore,
    retriever: Retriever,
    fetcher: PageFetcher,
    *,
    indexes: Collection[str] | None = None,
) -> MCPServer[Any]:
    """The MCP server over ``store``'s indexes (only those named in ``indexes``, if given),
    searching through ``retriever`` and reading live pages through ``fetcher``."""
    tools = ConfluenceTools(store, retriever, fetcher, index_names=indexes)
    server: MCPServer[Any] = MCPServer(
        "confluence-pipeline",
        title="Confluence search",
        instructions=INSTRUCTIONS,
        middleware=[log_requests],
    )

    @server.tool(description=SEARCH, annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="What to look for.", min_length=1)],
        index: Annotated[
            str | None, Field(description="Index name (see list_indexes); optional if one.")
        ] = None,
        spaces: Annotated[
            list[str] | None, Field(description="Only these space keys of the index.")
        ] = None,
        labels: Annotated[
            list[str] | None, Field(description="Only pages with at least one of these labels.")
        ] = None,
        top_k: Annotated[
            int, Field(description="How many results (1-50).", ge=1, le=MAX_TOP_K)
        ] = 8,
    ) -> Annotated[CallToolResult, SearchOutput]:
        output = _answer(
            lambda: tools.search(query, index=index, spaces=spaces, labels=labels, top_k=top_k)
        )
        return _result(render_search(output), output)

    @server.tool(description=GET_PAGE, annotations=READ_ONLY)
    def get_page(
        page: Annotated[str, Field(description="A page id or a Confluence page URL.")],
    ) -> Annotated[CallToolResult, PageOutput]:
        output = _answer(lambda: tools.get_page(page))
        heading = f"{output.title} — {output.url} (space {output.space_key}, "
        heading += f"version {output.version}, modified {output.last_modified})"
        return _result(f"{heading}\n\n{output.markdown}", output)

    @server.tool(description=LIST_INDEXES, annotations=READ_ONLY)
    def list_indexes() -> Annotated[CallToolResult, IndexesOutput]:
        output = _answer(tools.list_indexes)
        return _result(render_indexes(output), output)

    return server


def _answer(call: Callable[[], T]) -> T:
    """Runs a tool's work; the product's own errors become tool errors with their message."""
    try:
        return call()
    except PipelineError as exc:
        raise ToolError(str(exc)) from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ToolError(f"state database: {detail}") from None


def _result(text: str, output: SearchOutput | PageOutput | IndexesOutput) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=output.model_dump(mode="json"),
    )


async def log_requests(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Logs each request (never its arguments): request id, method, tool, outcome, time."""
    if ctx.request_id is None:
        return await call_next(ctx)
    headers = getattr(ctx.request, "headers", None)
    request_id = (headers.get(REQUEST_ID_HEADER) if headers is not None else None) or _new_id()
    tool = ctx.params.get("name") if ctx.method == "tools/call" and ctx.params else None
    what = f"{ctx.method} {tool}" if isinstance(tool, str) else ctx.method
    started = time.perf_counter()
    outcome = "failed"
    try:
        result = await call_next(ctx)
        outcome = "tool error" if isinstance(result, dict) and result.get("isError") else "ok"
        return result
    finally:
        elapsed = (time.perf_counter() - started) * 1000
        log.info("mcp request=%s %s: %s in %.1f ms", request_id, what, outcome, elapsed)


def _new_id() -> str:
    return uuid.uuid4().hex[:16]
