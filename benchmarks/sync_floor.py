"""The floor of a full sync: each step it cannot avoid, timed alone with this project's own
clients against the same sandboxes (spaces in parallel, as the pipeline runs them).

- listing: every space's v2 page listing without bodies (250 per request, cursor after cursor);
- bodies: every page's storage body, 250 ids per request;
- conversion: every body to a Markdown document, in the conversion process pool;
- uploads: every document upserted into a fresh LlamaCloud pipeline, in the sink's batches.

Their sum is the floor of a sync that runs the steps one after the other; the largest of them
the floor of one that overlaps them perfectly. No state database, no change detection, no
people lookups, no scope pass: what is left is the work itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from confluence_pipeline.confluence import ConfluenceClient, basic_auth
from confluence_pipeline.confluence.models import Page
from confluence_pipeline.llamacloud import Document, open_sink
from confluence_pipeline.sync.converter import ConversionJob, Converter

EMAIL, TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"
T = TypeVar("T")


def _timed(step: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def measure_floor(wiki_url: str, cloud_url: str, space_keys: list[str]) -> dict[str, float]:
    """Seconds of each step alone (``listing``, ``bodies``, ``conversion``, ``uploads``)."""
    with (
        ConfluenceClient(wiki_url, basic_auth(EMAIL, TOKEN)) as client,
        ThreadPoolExecutor(len(space_keys)) as pool,
    ):
        spaces = client.get_spaces(space_keys)

        def listing() -> list[list[str]]:
            lists = pool.map(lambda k: [p.id for p in client.iter_pages(spaces[k].id)], space_keys)
            return list(lists)

        ids, listing_s = _timed(listing)

        def bodies() -> list[Page]:
            return [page for pages in pool.map(client.get_pages, ids) for page in pages]

        pages, bodies_s = _timed(bodies)
    jobs = [
        ConversionJob(n, page.storage, {"title": page.summary.title})
        for n, page in enumerate(pages)
    ]

    def conversion() -> list[str]:
        with Converter(len(jobs)) as converter:
            return [done.markdown or "" for done in converter.map(jobs)]

    texts, conversion_s = _timed(conversion)
    documents = [
        Document(f"floor-{page.summary.id}", text, {"title": page.summary.title})
        for page, text in zip(pages, texts, strict=True)
    ]
    with open_sink("pipeline", API_KEY, PROJECT, base_url=cloud_url) as sink:
        pipeline_id = sink.ensure_pipeline("floor-bench")
        _, uploads_s = _timed(lambda: sink.upsert(pipeline_id, documents))
    return {
        "listing": listing_s,
        "bodies": bodies_s,
        "conversion": conversion_s,
        "uploads": uploads_s,
    }
