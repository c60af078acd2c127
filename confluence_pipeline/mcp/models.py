"""What the tools return: pydantic models (their JSON schemas are the tools' output schemas,
their dumps the ``structuredContent``) and the text renderings a model reads."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SearchResult(BaseModel):
    citation: int = Field(description="The number to cite this result by, as [n].")
    title: str = Field(description="The Confluence page title.")
    url: str = Field(description="The page's URL in Confluence: link it when citing.")
    space_key: str = Field(description="Key of the Confluence space holding the page.")
    page_id: str = Field(description="Confluence page id: pass it to get_page for the full page.")
    breadcrumb: str = Field(description="Where the page sits: Space > Parent > ... (ancestors).")
    last_modified: str | None = Field(description="When the indexed version was last edited.")
    version: int | None = Field(description="The page version that was indexed.")
    score: float = Field(description="Relevance score from the index; higher is better.")
    excerpt: str = Field(description="The matching passage of the page, as indexed.")


class SearchOutput(BaseModel):
    index: str = Field(description="The index searched.")
    results: list[SearchResult] = Field(description="Best first, one per page.")
    stale_dropped: int = Field(
        description="Results left out because the page was deleted, trashed or moved out of "
        "the index since it was indexed."
    )


class PageOutput(BaseModel):
    page_id: str
    title: str
    url: str
    space_key: str
    index: str = Field(description="The index whose spaces hold the page.")
    version: int = Field(description="The page's current version in Confluence.")
    last_modified: str = Field(description="When the current version was made.")
    markdown: str = Field(description="The page's current content, converted as the sync does.")


class IndexInfo(BaseModel):
    name: str
    spaces: list[str] = Field(description="Confluence space keys the index covers.")
    target: str = Field(
        description="Where the index lives in LlamaCloud: 'pipeline' (v1) or 'index' (v2)."
    )
    documents: int = Field(description="Pages synced into the index, per the state database.")
    pending_ingestion: int | None = Field(
        description="Documents the latest syncs wrote that LlamaCloud has not yet reported "
        "searchable (0: everything synced is searchable)."
    )
    last_successful_sync: dict[str, str | None] = Field(
        description="Per space key: when its last successful sync finished (ISO 8601, UTC); "
        "null if it never synced."
    )


class IndexesOutput(BaseModel):
    indexes: list[IndexInfo]


def render_search(output: SearchOutput) -> str:
    """Numbered citations ``[n] Title — URL``, each with its place, date and excerpt."""
    if not output.results:
        note = f" ({output.stale_dropped} stale results left out)" if output.stale_dropped else ""
        return f'No results in index "{output.index}" for this query{note}.'
    lines = [f'{len(output.results)} results from index "{output.index}"; cite them as [n].']
    for result in output.results:
        details = [result.breadcrumb or result.space_key]
        if result.version is not None:
            details.append(f"version {result.version}")
        if result.last_modified:
            details.append(f"modified {result.last_modified}")
        lines += [
            "",
            f"[{result.citation}] {result.title} — {result.url}",
            " · ".join(details),
            result.excerpt,
        ]
    return "\n".join(lines)


def render_indexes(output: IndexesOutput) -> str:
    if not output.indexes:
        return "No index is served here yet (create one with `confluence-pipeline index create`)."
    lines = []
    for index in output.indexes:
        synced = ", ".join(
            f"{space} {when or 'never'}" for space, when in index.last_successful_sync.items()
        )
        pending = "unknown" if index.pending_ingestion is None else str(index.pending_ingestion)
        lines.append(
            f"{index.name}: spaces {', '.join(index.spaces)}; target {index.target}; "
            f"{index.documents} documents; pending ingestion {pending}; last synced: {synced}"
        )
    return "\n".join(lines)
