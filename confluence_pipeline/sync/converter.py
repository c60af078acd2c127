"""Storage bodies to citable Markdown documents, in a process pool when there are many.

The pool is shared by every conversion of the process (spaces synced in parallel, runs of an
in-process Dagster executor) and started once, on first need.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from confluence_pipeline.markdown import content_hash, render_document, storage_to_markdown
from confluence_pipeline.runtime.parallel import batched

POOL_THRESHOLD = 200
"""Below this many pages a pool costs more to start than it saves."""
CHUNK = 32
"""Pages per task sent to a worker process."""
CRASHED = "conversion failed: the page crashed its converter process"


@dataclass(frozen=True, slots=True)
class ConversionJob:
    key: int
    storage: str
    metadata: dict[str, Any]
    people: dict[str, str] = field(default_factory=dict)
    """Display names of the account ids the page names, where known."""
    jira_url: str = ""
    """The Jira site's base URL (``Settings.jira_url``), so Jira issue keys become links."""


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
        body = storage_to_markdown(job.storage, job.people, job.jira_url)
        text = render_document(
            title=meta.get("title", ""),
            body_markdown=body,
            space_key=meta.get("space_key", ""),
            space_name=meta.get("space_name"),
            url=meta.get("url", ""),
            breadcrumb=meta.get("breadcrumb", ()),
            labels=meta.get("labels", ()),
            author=meta.get("author") or meta.get("author_id"),
            editor=meta.get("editor") or meta.get("editor_id"),
            last_modified=meta.get("last_modified"),
        )
    except Exception as exc:  # one bad page must not stop the space
        return Converted(job.key, None, None, f"conversion failed: {type(exc).__name__}: {exc}")
    return Converted(job.key, text, content_hash(text), None)


def convert_many(jobs: Sequence[ConversionJob]) -> list[Converted]:
    """One worker task: several pages, to keep inter-process traffic low."""
    return [convert(job) for job in jobs]


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _shared_pool(workers: int) -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the caller may run threads (Dagster, httpx pools)
            context = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(workers, mp_context=context)
        return _pool


def _drop_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


class Converter:
    """Converts pages, in input order; uses the shared process pool when ``expected`` is large,
    with at most two tasks per worker in flight (memory stays flat however many pages come).
    A page that kills its worker process fails alone; the pool is restarted for the others."""

    def __init__(self, expected: int, workers: int | None = None) -> None:
        self._workers = workers or os.cpu_count() or 1
        self._use_pool = expected >= POOL_THRESHOLD and self._workers > 1

    def map(self, jobs: Iterable[ConversionJob]) -> Iterator[Converted]:
        if not self._use_pool:
            return map(convert, jobs)
        return self._pooled(jobs)

    def _pooled(self, jobs: Iterable[ConversionJob]) -> Iterator[Converted]:
        window: deque[tuple[list[ConversionJob], Future[list[Converted]]]] = deque()
        for chunk in batched(jobs, CHUNK):
            window.append((chunk, self._submit(chunk)))
            if len(window) >= 2 * self._workers:
                yield from self._collect(*window.popleft())
        while window:
            yield from self._collect(*window.popleft())

    def _submit(self, chunk: list[ConversionJob]) -> Future[list[Converted]]:
        pool = _shared_pool(self._workers)
        try:
            return pool.submit(convert_many, chunk)
        except BrokenProcessPool:
            _drop_pool(pool)
            return _shared_pool(self._workers).submit(convert_many, chunk)

    def _collect(
        self, chunk: list[ConversionJob], future: Future[list[Converted]]
    ) -> list[Converted]:
        try:
            return future.result()
        except BrokenProcessPool:
            return [self._alone(job) for job in chunk]

    def _alone(self, job: ConversionJob) -> Converted:
        pool = _shared_pool(self._workers)
        try:
            return pool.submit(convert, job).result()
        except BrokenProcessPool:
            _drop_pool(pool)
            return Converted(job.key, None, None, CRASHED)

    def close(self) -> None:
        """Nothing to release: the pool is shared and lives as long as the process."""

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
