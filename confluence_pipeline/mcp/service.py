"""The tools' behaviour, free of MCP: which indexes are served, search with the state's guard
against a lagging index, live pages, index status. Failures raise :class:`ToolRefusal` (or
another PipelineError) with a message written for the model that called the tool."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.mcp.models import (
    IndexesOutput,
    IndexInfo,
    PageOutput,
    SearchOutput,
    SearchResult,
)
from confluence_pipeline.mcp.pages import PageFetcher, parse_page_ref
from confluence_pipeline.mcp.retrieval import Hit, Retriever, target_of
from confluence_pipeline.state import Index, PageStatus, StateStore
from confluence_pipeline.state.models import SyncedPage

MAX_TOP_K = 50
MAX_FETCH = 100
"""Chunks asked of the index at most: results dropped as stale or filtered out locally
(labels) are made up for by asking for more than ``top_k``."""
EXCERPT_CHARS = 600
_WORD = re.compile(r"\w+")
_HEADER = re.compile(r"\A# [^\n]*\n\n(?:- [^\n]*\n)+\n?")
"""The heading and metadata list ``render_document`` puts before a page's body."""
_IN_CHUNKS = 500


class ToolRefusal(PipelineError):
    """A tool call refused or unanswerable as asked; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class _Record:
    space_key: str
    status: str
    version: int

    def searchable(self, space_key: str) -> bool:
        """Whether a document of this page in ``space_key`` still stands for a live page:
        synced there, or synced before and only its latest update failed."""
        if self.space_key != space_key:
            return False
        return self.status == PageStatus.SYNCED or (
            self.status == PageStatus.FAILED and self.version > 0
        )


class ConfluenceTools:
    """The tools over one state database; ``index_names`` limits the indexes served (None:
    every index, as the registry lists them at each call)."""

    def __init__(
        self,
        store: StateStore,
        retriever: Retriever,
        fetcher: PageFetcher,
        *,
        index_names: Collection[str] | None = None,
    ) -> None:
        self._store = store
        self._retriever = retriever
        self._fetcher = fetcher
        self._names = frozenset(index_names) if index_names else None

    # indexes
    def indexes(self) -> list[Index]:
        """The indexes served, by name."""
        found = self._store.registry.list_indexes()
        return [index for index in found if self._names is None or index.name in self._names]

    def resolve_index(self, name: str | None) -> Index:
        """Index ``name``; without a name, the only index served."""
        indexes = self.indexes()
        names = ", ".join(index.name for index in indexes) or "none"
        if name is None:
            if len(indexes) == 1:
                return indexes[0]
            if not indexes:
                raise ToolRefusal("no index is served here yet: nothing can be searched")
            raise ToolRefusal(
                f"several indexes are served here ({names}): pass `index` with one of them"
            )
        for index in indexes:
            if index.name == name:
                return index
        raise ToolRefusal(f"unknown index {name!r}: the indexes served here are {names}")

    def list_indexes(self) -> IndexesOutput:
        ledger = self._store.ledger
        last = ledger.last_success()
        infos = []
        for index in self.indexes():
            documents = sum(
                ledger.status_counts(index.id, space).get(PageStatus.SYNCED, 0)
                for space in index.spaces
            )
            infos.append(
                IndexInfo(
                    name=index.name,
                    spaces=list(index.spaces),
                    target=target_of(index),
                    documents=documents,
                    pending_ingestion=ledger.pending_ingestion(index.id),
                    last_successful_sync={
                        space: _iso(last.get((index.id, space))) for space in index.spaces
                    },
                )
            )
        return IndexesOutput(indexes=infos)

    # search
    def search(
        self,
        query: str,
        *,
        index: str | None = None,
        spaces: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        top_k: int = 8,
    ) -> SearchOutput:
        if not query.strip():
            raise ToolRefusal("query is empty: say what to look for, in a few words")
        if not 1 <= top_k <= MAX_TOP_K:
            raise ToolRefusal(f"top_k must be between 1 and {MAX_TOP_K}")
        target = self.resolve_index(index)
        chosen = self._spaces(target, spaces)
        wanted_labels = {label.strip().lower() for label in labels or () if label.strip()}
        fetch = min(MAX_FETCH, top_k * 6 if wanted_labels else top_k * 2 + 4)
        hits = self._retriever.retrieve(target, query, top_k=fetch, filters={"space_key": chosen})
        records = self._records(target.id, _page_ids(hits))
        results: list[SearchResult] = []
        seen: set[str] = set()
        stale = 0
        for hit in hits:
            meta = hit.metadata
            page_id, space_key = str(meta.get("page_id") or ""), str(meta.get("space_key") or "")
            if not page_id or page_id in seen:
                continue
            record = records.get(page_id)
            if space_key not in target.spaces or not record or not record.searchable(space_key):
                stale += 1
                seen.add(page_id)
                continue
            if space_key not in chosen or (wanted_labels and not _has_label(meta, wanted_labels)):
                continue
            seen.add(page_id)
            results.append(_result(len(results) + 1, hit, page_id, space_key, query))
            if len(results) == top_k:
                break
        return SearchOutput(index=target.name, results=results, stale_dropped=stale)

    def _spaces(self, index: Index, spaces: Sequence[str] | None) -> list[str]:
        if not spaces:
            return list(index.spaces)
        keys = list(dict.fromkeys(key.strip() for key in spaces if key.strip()))
        unknown = [key for key in keys if key not in index.spaces]
        if unknown or not keys:
            raise ToolRefusal(
                f"space {', '.join(unknown) or '(empty)'} is not in index {index.name!r}; "
                f"its spaces are {', '.join(index.spaces)}"
            )
        return keys

    def _records(self, index_id: int, page_ids: Sequence[str]) -> dict[str, _Record]:
        """What the state knows of these pages in the index (one query per 500 ids)."""
        found: dict[str, _Record] = {}
        with Session(self._store.engine) as session:
            for start in range(0, len(page_ids), _IN_CHUNKS):
                rows = session.execute(
                    select(
                        SyncedPage.page_id,
                        SyncedPage.space_key,
                        SyncedPage.status,
                        SyncedPage.version,
                    ).where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id.in_(page_ids[start : start + _IN_CHUNKS]),
                    )
                )
                for page_id, space_key, status, version in rows:
                    found[page_id] = _Record(space_key, status, version)
        return found

    # pages
    def get_page(self, page: str) -> PageOutput:
        ref = parse_page_ref(page)
        indexes = [index for index in self.indexes() if index.connection_id is not None]
        if not indexes:
            raise ToolRefusal("no index with a Confluence connection is served here")
        if ref.host is not None:
            indexes = [i for i in indexes if self._site_host(i) == ref.host]
            if not indexes:
                raise ToolRefusal(f"{ref.host} is not the Confluence site of any index served here")
        outside = False
        for connection_id, group in self._by_connection(indexes, ref.page_id):
            spaces = list(dict.fromkeys(space for index in group for space in index.spaces))
            live = self._fetcher.fetch(connection_id, ref.page_id, spaces)
            if live is None:
                continue
            if live.space_key is None:
                outside = True
                continue
            if live.status != "current" or live.markdown is None:
                raise ToolRefusal(f"page {ref.page_id} is {live.status} in Confluence")
            owner = next(index for index in group if live.space_key in index.spaces)
            return PageOutput(
                page_id=live.page_id,
                title=live.title,
                url=live.url,
                space_key=live.space_key,
                index=owner.name,
                version=live.version,
                last_modified=live.last_modified,
                markdown=live.markdown,
            )
        if outside:
            raise ToolRefusal(
                f"page {ref.page_id} is outside the spaces of the indexes served here: refused"
            )
        raise ToolRefusal(
            f"no page {ref.page_id} on the Confluence site of the indexes served here "
            "(or it is not visible to their connection)"
        )

    def _site_host(self, index: Index) -> str | None:
        assert index.connection_id is not None
        connection = self._store.registry.connection_by_id(index.connection_id)
        host = urlsplit(connection.site_url).hostname
        return host.lower() if host else None

    def _by_connection(
        self, indexes: Iterable[Index], page_id: str
    ) -> list[tuple[int, list[Index]]]:
        """The indexes grouped by connection; connections whose indexes synced the page
        first, so a page is usually fetched once."""
        groups: dict[int, list[Index]] = {}
        for index in indexes:
            assert index.connection_id is not None
            groups.setdefault(index.connection_id, []).append(index)
        known = {
            connection_id
            for connection_id, group in groups.items()
            if any(self._records(index.id, [page_id]) for index in group)
        }
        return sorted(groups.items(), key=lambda item: item[0] not in known)


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _page_ids(hits: Iterable[Hit]) -> list[str]:
    ids = (str(hit.metadata.get("page_id") or "") for hit in hits)
    return list(dict.fromkeys(page_id for page_id in ids if page_id))


def _labels(meta: Mapping[str, Any]) -> set[str]:
    raw = meta.get("labels")
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return {str(item).strip().lower() for item in items if str(item).strip()}


def _has_label(meta: Mapping[str, Any], wanted: set[str]) -> bool:
    return bool(_labels(meta) & wanted)


def _result(citation: int, hit: Hit, page_id: str, space_key: str, query: str) -> SearchResult:
    meta = hit.metadata
    return SearchResult(
        citation=citation,
        title=str(meta.get("title") or "Untitled"),
        url=str(meta.get("url") or ""),
        space_key=space_key,
        page_id=page_id,
        breadcrumb=_breadcrumb(meta.get("breadcrumb")),
        last_modified=str(meta["last_modified"]) if meta.get("last_modified") else None,
        version=_int(meta.get("version")),
        score=round(hit.score, 4),
        excerpt=excerpt(hit.text, query),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _breadcrumb(value: Any) -> str:
    if isinstance(value, list):
        return " > ".join(str(part) for part in value if part)
    return str(value or "")


def excerpt(text: str, query: str, limit: int = EXCERPT_CHARS) -> str:
    """The passage of ``text`` around the first word of ``query`` it contains (the page's
    heading and metadata list left out), at most ``limit`` characters, cut at spaces."""
    body = _HEADER.sub("", text, count=1).strip() or text.strip()
    body = " ".join(body.split())
    if len(body) <= limit:
        return body
    lowered = body.lower()
    positions = [
        match.start()
        for word in dict.fromkeys(_WORD.findall(query.lower()))
        if len(word) > 2 and (match := re.search(rf"\b{re.escape(word)}\b", lowered))
    ]
    first = min(positions, default=0)
    start = max(0, first - limit // 4)
    if start:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = start + limit
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start else "") + body[start:end] + ("…" if end < len(body) else "")
