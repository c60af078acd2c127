"""Helpers for the fault, crash, soak and concurrency tests: clients that give up fast, faults
switched over HTTP, a sync in a child process that a test can SIGKILL, and the one assertion
that matters: the index holds exactly one document per current page, at its latest version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from confluence_pipeline.confluence import (
    ConfluenceClient,
    RetryPolicy,
    RetryTransport,
    basic_auth,
)
from confluence_pipeline.llamacloud import IndexSink, LlamaCloudSink, document_id, open_sink
from confluence_pipeline.sync.results import SpaceSyncResult
from confluence_pipeline.sync.run import sync_spaces
from confluence_pipeline.sync.spaces import site_id
from confluence_pipeline_tests.world import API_KEY, EMAIL, PROJECT, TOKEN, World

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key"
FAST_RETRY = RetryPolicy(
    base_delay=0.01, max_delay=0.05, total_budget=20, run_budget=60, retry_after_min=0.0
)  # honours the sandbox's millisecond Retry-After values (production clamps them up to 2 s)
READ_TIMEOUT = 0.5


class FakeClock:
    """A sleep that records delays and advances a fake monotonic clock instead of waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def fast_client(
    wiki_url: str, retry: RetryPolicy = FAST_RETRY, clock: FakeClock | None = None
) -> ConfluenceClient:
    """A client whose retries wait milliseconds (or only on ``clock``, which then also times
    the retry budgets) and whose reads time out after 0.5 s."""
    timeout = httpx.Timeout(READ_TIMEOUT, connect=2.0)
    transport = None
    if clock is not None:
        transport = RetryTransport(policy=retry, sleep=clock.sleep, clock=clock.monotonic)
    return ConfluenceClient(
        wiki_url, basic_auth(EMAIL, TOKEN), timeout=timeout, retry=retry, transport=transport
    )


def fast_sink(
    cloud_url: str, max_retries: int = 5, target: str = "pipeline"
) -> LlamaCloudSink | IndexSink:
    return open_sink(
        target, API_KEY, PROJECT, base_url=cloud_url, timeout=READ_TIMEOUT, max_retries=max_retries
    )


def set_faults(url: str, **settings: Any) -> dict[str, Any]:
    """Switches a sandbox's faults at runtime (``POST /_sandbox/faults``)."""
    response = httpx.post(f"{url}/_sandbox/faults", json=settings, timeout=10)
    return dict(response.raise_for_status().json())


def sync_all(world: World, **options: Any) -> dict[str, SpaceSyncResult | Exception]:
    """Every space of the ``docs`` index, in parallel, with fast-failing clients."""
    index = world.index()
    with (
        fast_client(world.wiki_url) as client,
        fast_sink(world.cloud_url, target=index.target) as sink,
    ):
        return sync_spaces(world.store, client, sink, index, world.space_keys, **options)


def current_pages(world: World) -> dict[str, tuple[str, int]]:
    """``{page_id: (space_key, version)}`` of every current page of the world's spaces."""
    pages = {}
    with fast_client(world.wiki_url) as client:  # reads through any faults switched on
        spaces = client.get_spaces(world.space_keys)
        for key in world.space_keys:
            for page in client.iter_pages(spaces[key].id):
                pages[page.id] = (key, page.version)
    return pages


def assert_index_exact(world: World, markers: dict[str, str] | None = None) -> None:
    """One document per current page, under its stable id, with the page's current space and
    version (and its latest ``markers`` text); no other document; the state agrees."""
    expected = current_pages(world)
    index = world.index()
    assert index.connection_id is not None
    scope = site_id(world.store.registry.connection_by_id(index.connection_id))
    documents = world.documents()
    by_page: dict[str, dict[str, Any]] = {}
    for doc_id, doc in documents.items():
        page_id = str(doc["metadata"]["page_id"])
        assert page_id not in by_page, f"two documents for page {page_id}"
        assert doc_id == document_id(scope, page_id)
        by_page[page_id] = doc
    assert set(by_page) == set(expected), (
        f"missing {sorted(set(expected) - set(by_page))[:5]}, "
        f"extra {sorted(set(by_page) - set(expected))[:5]}"
    )
    for page_id, (space, version) in expected.items():
        metadata = by_page[page_id]["metadata"]
        assert (metadata["space_key"], metadata["version"]) == (space, version), page_id
        if markers and page_id in markers:
            assert markers[page_id] in by_page[page_id]["text"], page_id
    recorded = {}
    for space in world.space_keys:
        for page_id, known in world.store.ledger.known_pages(index.id, space).items():
            recorded[page_id] = (space, known.version, known.status)
    assert recorded == {pid: (space, v, "synced") for pid, (space, v) in expected.items()}


class SyncChild:
    """``sync_spaces`` of the ``docs`` index in a child process (``python -m
    confluence_pipeline_tests.sync_child``), to be waited for or killed mid-run."""

    def __init__(self, world: World, spaces: Sequence[str] | None = None) -> None:
        url = world.store.engine.url.render_as_string(hide_password=False)
        command = [sys.executable, "-m", "confluence_pipeline_tests.sync_child", url]
        command += [world.wiki_url, world.cloud_url, ",".join(spaces or world.space_keys)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def kill_when(self, ready: Callable[[], bool], timeout: float = 60) -> bool:
        """SIGKILLs the child as soon as ``ready()`` holds (polled); False if it ended first."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if ready():
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
                return True
            assert time.monotonic() < deadline, "the sync neither finished nor reached the point"
            time.sleep(0.002)
        return False

    def wait(self, timeout: float = 120) -> str:
        """Waits for a clean exit; returns stdout, raises with stderr otherwise."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, stderr[-2000:]
        return stdout


def assert_recorded_are_indexed(world: World) -> None:
    """What must hold at any moment, even right after a crash: every current page the state
    records as synced has its document in the index at that version or newer. (The state may
    lag behind LlamaCloud, never run ahead of it; rows of pages gone from Confluence may
    outlive their documents until the next run deletes them.)"""
    index = world.index()
    current = current_pages(world)
    documents = {str(d["metadata"]["page_id"]): d for d in world.documents().values()}
    for space in world.space_keys:
        for page_id, known in world.store.ledger.known_pages(index.id, space).items():
            if known.status == "synced" and page_id in current:
                assert page_id in documents, f"page {page_id} recorded synced, not indexed"
                assert documents[page_id]["metadata"]["version"] >= known.version, page_id


def grew(read: Callable[[], int], by: int) -> Callable[[], bool]:
    """A condition that holds once ``read()`` has grown by ``by`` from its value now."""
    start = read()
    return lambda: read() - start >= by


def edit_pages(world: World, page_ids: Sequence[str], marker: str) -> dict[str, str]:
    """Gives each page a new body holding ``<marker>-<page id>``; returns those texts."""
    texts = {page_id: f"{marker}-{page_id}" for page_id in page_ids}
    for page_id, text in texts.items():
        world.wiki.edit_page(page_id, f"<h2>Edited</h2><p>{text}</p>")
    return texts
