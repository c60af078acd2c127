"""Storage bodies to citable Markdown documents, in a process pool when there are many."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluence_pipeline.markdown import content_hash, render_document, storage_to_markdown

POOL_THRESHOLD = 200
"""Below this many pages a pool costs more to start than it saves."""


@dataclass(frozen=True, slots=True)
class ConversionJob:
    key: int
    storage: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Converted:
    key: int
    markdown: str | None
    content_hash: str | None
    error: str | None


def convert(job: ConversionJob) -> Converted:
    """Converts one page; any failure is returned as ``error`` rather than raised."""
    meta = job.metadata
    try:
        body = storage_to_markdown(job.storage)
        text = render_document(
            title=meta.get("title", ""),
            body_markdown=body,
            space_key=meta.get("space_key", ""),
            space_name=meta.get("space_name"),
            url=meta.get("url", ""),
            breadcrumb=meta.get("breadcrumb", ()),
            labels=meta.get("labels", ()),
            author=meta.get("author_id"),
            last_modified=meta.get("last_modified"),
        )
    except Exception as exc:  # one bad page must not stop the space
        return Converted(job.key, None, None, f"conversion failed: {type(exc).__name__}: {exc}")
    return Converted(job.key, text, content_hash(text), None)


class Converter:
    """Converts batches of pages; starts a process pool on first use if ``expected`` is large."""

    def __init__(self, expected: int, workers: int | None = None) -> None:
        self._workers = workers or os.cpu_count() or 1
        self._use_pool = expected >= POOL_THRESHOLD and self._workers > 1
        self._pool: ProcessPoolExecutor | None = None

    def map(self, jobs: Iterable[ConversionJob]) -> Iterator[Converted]:
        if not self._use_pool:
            return map(convert, jobs)
        if self._pool is None:
            # spawn, not fork: the caller may run threads (Dagster, httpx pools)
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._pool.map(convert, jobs, chunksize=8)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
