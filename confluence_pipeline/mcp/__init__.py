"""An MCP server over the indexes: ``search``, ``get_page`` and ``list_indexes`` for chat
clients such as LibreChat (``confluence-pipeline mcp``). Drives the domain code directly; no
Dagster."""

from confluence_pipeline.mcp.http import check_exposure, http_app, serve_http
from confluence_pipeline.mcp.pages import ConfluencePageFetcher, LivePage, PageFetcher
from confluence_pipeline.mcp.retrieval import Hit, PipelineRetriever, RetrievalError, Retriever
from confluence_pipeline.mcp.server import build_server
from confluence_pipeline.mcp.service import ConfluenceTools, ToolRefusal

__all__ = [
    "ConfluencePageFetcher",
    "ConfluenceTools",
    "Hit",
    "LivePage",
    "PageFetcher",
    "PipelineRetriever",
    "RetrievalError",
    "Retriever",
    "ToolRefusal",
    "build_server",
    "check_exposure",
    "http_app",
    "serve_http",
]
