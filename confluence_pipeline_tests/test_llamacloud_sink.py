"""LlamaCloudSink against the LlamaCloud emulator over real HTTP, through the real SDK."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from llama_cloud import LlamaCloud

from confluence_pipeline.llamacloud import (
    Document,
    LlamaCloudAuthError,
    LlamaCloudError,
    LlamaCloudSink,
    document_id,
    pipeline_name,
)
from confluence_pipeline.sandbox.server import ServerThread, free_port

CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
DOCUMENTS_ROUTE = "PUT /api/v1/pipelines/{pipeline_id}/documents"
LIST_ROUTE = "GET /api/v1/pipelines/{pipeline_id}/documents/paginated"


@pytest.fixture
def admin(llamacloud_sandbox: ServerThread) -> Iterator[httpx.Client]:
    """The emulator's ``/_sandbox`` routes."""
    with httpx.Client(base_url=f"{llamacloud_sandbox.url}/_sandbox", timeout=10) as client:
        yield client


@pytest.fixture
def sink(llamacloud_sandbox: ServerThread) -> Iterator[LlamaCloudSink]:
    with LlamaCloudSink(
        "sandbox-key", "sandbox-project", base_url=llamacloud_sandbox.url, timeout=10
    ) as lc_sink:
        yield lc_sink


def _pages(count: int, *, start: int = 0, word: str = "draft") -> list[Document]:
    return [
        Document(
            id=document_id(CLOUD_ID, str(7_700_000 + i)),
            text=f"# Page {i}\n\nThis {word} page explains topic {i}.",
            metadata={"title": f"Page {i}", "space_key": "ENG", "version": 1},
        )
        for i in range(start, start + count)
    ]


def _stored(admin: httpx.Client, pipeline_id: str) -> dict[str, dict[str, Any]]:
    return {doc["id"]: doc for doc in admin.get(f"/pipelines/{pipeline_id}/documents").json()}


def _routes(admin: httpx.Client) -> dict[str, int]:
    return dict(admin.get("/stats").json()["requests_by_route"])


def test_ensure_pipeline_creates_once_and_reuses(sink: LlamaCloudSink, admin: httpx.Client) -> None:
    first = sink.ensure_pipeline("confluence-eng")

    assert sink.ensure_pipeline("confluence-eng") == first
    assert sink.ensure_pipeline("confluence-ops") != first
    assert sorted(p["name"] for p in admin.get("/pipelines").json()) == [
        "confluence-eng",
        "confluence-ops",
    ]


def test_upsert_sends_batches_of_batch_size(sink: LlamaCloudSink, admin: httpx.Client) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    admin.post("/stats/reset")

    sink.upsert(pipeline_id, _pages(250))

    assert _routes(admin) == {DOCUMENTS_ROUTE: 3}
    assert admin.get("/stats").json()["documents_upserted"] == 250
    assert len(_stored(admin, pipeline_id)) == 250


def test_upsert_also_splits_batches_by_bytes(
    llamacloud_sandbox: ServerThread, admin: httpx.Client
) -> None:
    big = [Document(id=f"doc-{i}", text="x" * 3_000, metadata={}) for i in range(10)]
    huge = Document(id="doc-huge", text="y" * 20_000, metadata={})
    with LlamaCloudSink(
        "sandbox-key", "sandbox-project", base_url=llamacloud_sandbox.url, max_batch_bytes=10_000
    ) as small_batches:
        pipeline_id = small_batches.ensure_pipeline("confluence-eng")
        admin.post("/stats/reset")

        small_batches.upsert(pipeline_id, [*big, huge])

    # Three ~3 kB documents fit in 10 kB: 10 documents take 4 requests, the huge one goes alone.
    assert _routes(admin) == {DOCUMENTS_ROUTE: 5}
    assert len(_stored(admin, pipeline_id)) == 11


def test_reupsert_is_idempotent_and_updates_text(sink: LlamaCloudSink, admin: httpx.Client) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    sink.upsert(pipeline_id, _pages(120))

    sink.upsert(pipeline_id, _pages(120))
    sink.upsert(pipeline_id, _pages(1, start=5, word="published"))

    stored = _stored(admin, pipeline_id)
    assert len(stored) == 120
    assert "published" in stored[document_id(CLOUD_ID, "7700005")]["text"]
    assert "draft" in stored[document_id(CLOUD_ID, "7700006")]["text"]
    assert sink.list_document_ids(pipeline_id) == {page.id for page in _pages(120)}


def test_delete_removes_documents_and_skips_those_already_gone(
    sink: LlamaCloudSink, admin: httpx.Client
) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    pages = _pages(5)
    sink.upsert(pipeline_id, pages)

    sink.delete(pipeline_id, [pages[0].id, pages[1].id, "cf-never-existed"])
    sink.delete(pipeline_id, [pages[0].id])

    assert sink.list_document_ids(pipeline_id) == {page.id for page in pages[2:]}
    assert admin.get("/stats").json()["documents_deleted"] == 2


def test_list_document_ids_walks_every_page(sink: LlamaCloudSink, admin: httpx.Client) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    sink.upsert(pipeline_id, _pages(250))
    admin.post("/stats/reset")

    ids = sink.list_document_ids(pipeline_id)

    assert ids == {page.id for page in _pages(250)}
    assert _routes(admin) == {LIST_ROUTE: 3}
    assert sink.list_document_ids(sink.ensure_pipeline("confluence-empty")) == set()


def test_wrong_api_key_raises_one_line_error_without_the_key(
    llamacloud_sandbox: ServerThread,
) -> None:
    key = "llx-very-secret-key-123"
    bad_sink = LlamaCloudSink(key, "sandbox-project", base_url=llamacloud_sandbox.url)
    with bad_sink, pytest.raises(LlamaCloudAuthError) as caught:
        bad_sink.ensure_pipeline("confluence-eng")

    message = str(caught.value)
    assert key not in message and "\n" not in message
    assert "ensure pipeline 'confluence-eng'" in message and "401" in message
    assert caught.value.status_code == 401


def test_unreachable_server_raises_llamacloud_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    lost = LlamaCloudSink("k", "sandbox-project", base_url=url, max_retries=0)
    with lost, pytest.raises(LlamaCloudError, match="connection error") as caught:
        lost.list_document_ids("p1")
    assert caught.value.status_code is None


def test_faults_at_runtime_still_converge_thanks_to_sdk_retries(
    sink: LlamaCloudSink, admin: httpx.Client
) -> None:
    # Retry-After is honoured (0.05 s here); 500 and bare 429 take the SDK's exponential backoff.
    faults = {
        "rate": 0.3,
        "kinds": ["429", "503", "500", "429-no-retry-after"],
        "retry_after": 0.05,
    }
    assert admin.post("/faults", json={**faults, "seed": 3}).status_code == 200

    pipeline_id = sink.ensure_pipeline("confluence-eng")
    sink.upsert(pipeline_id, _pages(300))
    sink.delete(pipeline_id, [page.id for page in _pages(3)])
    ids = sink.list_document_ids(pipeline_id)

    assert ids == {page.id for page in _pages(297, start=3)}
    assert len(admin.get("/pipelines").json()) == 1
    assert admin.get("/stats").json()["faults_injected"] > 0


def test_persistent_failure_names_the_rejected_batch(
    llamacloud_sandbox: ServerThread, admin: httpx.Client
) -> None:
    with LlamaCloudSink(
        "sandbox-key", "sandbox-project", base_url=llamacloud_sandbox.url, max_retries=1
    ) as flaky:
        pipeline_id = flaky.ensure_pipeline("confluence-eng")
        admin.post("/faults", json={"rate": 1.0, "kinds": ["503"], "retry_after": 0.01})
        pages = _pages(150)

        with pytest.raises(LlamaCloudError) as caught:
            flaky.upsert(pipeline_id, pages)

    message = str(caught.value)
    assert f"100 documents {pages[0].id}..{pages[99].id}" in message
    assert "HTTP 503" in message and pipeline_id in message
    assert caught.value.status_code == 503
    assert caught.value.document_ids == tuple(page.id for page in pages[:100])


def test_unsafe_document_id_is_refused_before_any_request(
    sink: LlamaCloudSink, admin: httpx.Client
) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    admin.post("/stats/reset")

    with pytest.raises(LlamaCloudError, match="a/b"):
        sink.upsert(pipeline_id, [*_pages(2), Document(id="a/b", text="t")])

    assert admin.get("/stats").json()["requests_total"] == 0


def test_uploaded_documents_are_found_by_sdk_retrieve(
    sink: LlamaCloudSink, llamacloud_sandbox: ServerThread
) -> None:
    pipeline_id = sink.ensure_pipeline("confluence-eng")
    sink.upsert(pipeline_id, _pages(20))
    sink.upsert(
        pipeline_id,
        [Document(id="cf-x-1", text="How to rotate the flux capacitor", metadata={"title": "Ops"})],
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with LlamaCloud(
            api_key="sandbox-key", base_url=llamacloud_sandbox.url, _strict_response_validation=True
        ) as client:
            result = client.pipelines.retrieve(pipeline_id, query="capacitor")

    [hit] = result.retrieval_nodes
    assert hit.node.text == "How to rotate the flux capacitor"
    assert hit.node.extra_info == {"title": "Ops"}


def test_sink_calls_emit_no_deprecation_warning(sink: LlamaCloudSink) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline_id = sink.ensure_pipeline("confluence-eng")
        sink.upsert(pipeline_id, _pages(3))
        sink.delete(pipeline_id, [_pages(1)[0].id, "cf-gone"])
        sink.list_document_ids(pipeline_id)

    assert [w for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_document_id_keeps_safe_ids_and_replaces_odd_characters() -> None:
    assert document_id(CLOUD_ID, "7700526") == f"cf-{CLOUD_ID}-7700526"
    assert document_id("acme.atlassian.net", "12/3 4") == "cf-acme-atlassian-net-12-3-4"
    assert document_id("site:é", "a_b") == "cf-site---a_b"
    with pytest.raises(ValueError):
        document_id("", "1")


@pytest.mark.parametrize(
    ("index_name", "expected"),
    [
        ("eng", "confluence-eng"),
        ("Engineering Docs", "confluence-engineering-docs"),
        ("  Ops/Runbooks_2024!! ", "confluence-ops-runbooks-2024"),
        ("Café Crème", "confluence-cafe-creme"),
    ],
)
def test_pipeline_name_slugs_the_index_name(index_name: str, expected: str) -> None:
    assert pipeline_name(index_name) == expected


def test_pipeline_name_is_never_empty_and_stays_short_and_stable() -> None:
    for odd in ("!!!", "日本語", "", "x" * 200, "y" * 200):
        name = pipeline_name(odd)
        assert re.fullmatch(r"confluence-[a-z0-9]+(-[a-z0-9]+)*", name), name
        assert len(name) <= 80 and pipeline_name(odd) == name
    assert pipeline_name("!!!") != pipeline_name("???")
    assert pipeline_name("x" * 200) != pipeline_name("x" * 201)
