"""The LlamaCloud emulator, driven by the unmodified SDK in strict mode and by raw HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from llama_cloud import LlamaCloud, NotFoundError
from llama_cloud.types import MetadataFiltersParam, PipelineRetrieveResponse
from llama_cloud.types.pipelines import CloudDocumentCreateParam

from confluence_pipeline.sandbox.llamacloud import create_app
from confluence_pipeline.sandbox.server import ServerThread

# The SDK's v1 pipeline/document methods all warn "deprecated" (api-contracts B2).
pytestmark = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

PROJECT = "sandbox-project"
AUTH = {"Authorization": "Bearer sandbox-key"}


@pytest.fixture
def client(llamacloud_sandbox: ServerThread) -> Iterator[LlamaCloud]:
    """The real SDK, validating every response against its models, without retries."""
    with LlamaCloud(
        api_key="sandbox-key",
        base_url=llamacloud_sandbox.url,
        max_retries=0,
        _strict_response_validation=True,
    ) as sdk:
        yield sdk


@pytest.fixture
def http(llamacloud_sandbox: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=llamacloud_sandbox.url, timeout=10) as raw:
        yield raw


def _docs(count: int, start: int = 0) -> list[CloudDocumentCreateParam]:
    return [
        {"id": f"doc-{i:04d}", "text": f"page number {i} about topic{i % 7}", "metadata": {"n": i}}
        for i in range(start, start + count)
    ]


def _pipeline(client: LlamaCloud, name: str = "confluence-eng") -> str:
    return client.pipelines.upsert(name=name, project_id=PROJECT, embedding_config=None).id


def test_sdk_parses_project_and_pipeline_responses(client: LlamaCloud) -> None:
    assert [p.id for p in client.projects.list()] == [PROJECT]
    pipeline = client.pipelines.upsert(
        name="confluence-eng",
        project_id=PROJECT,
        embedding_config=None,
        pipeline_type="MANAGED",
        transform_config={},
        llama_parse_parameters={},
    )
    assert pipeline.embedding_config.type == "MANAGED_OPENAI_EMBEDDING"
    assert pipeline.project_id == PROJECT and pipeline.status == "CREATED"
    assert client.pipelines.get(pipeline.id).name == "confluence-eng"
    listed = client.pipelines.list(project_id=PROJECT, pipeline_name="confluence-eng")
    assert [p.id for p in listed] == [pipeline.id]
    assert client.pipelines.list(project_id=PROJECT, pipeline_name="nope") == []
    assert client.pipelines.get_status(pipeline.id).status == "NOT_STARTED"
    assert client.pipelines.sync.create(pipeline.id).id == pipeline.id
    assert client.pipelines.get_status(pipeline.id).status == "SUCCESS"
    assert client.pipelines.sync.cancel(pipeline.id).id == pipeline.id
    assert client.pipelines.update(pipeline.id, name="confluence-ops").name == "confluence-ops"
    client.pipelines.delete(pipeline.id)
    with pytest.raises(NotFoundError):
        client.pipelines.get(pipeline.id)


def test_pipeline_upsert_is_keyed_by_name_within_the_project(
    client: LlamaCloud, http: httpx.Client
) -> None:
    first = _pipeline(client, "a")
    assert _pipeline(client, "a") == first
    assert _pipeline(client, "b") != first
    unknown_project = http.put(
        "/api/v1/pipelines", params={"project_id": "other"}, json={"name": "a"}, headers=AUTH
    )
    assert unknown_project.status_code == 404
    duplicate = http.post("/api/v1/pipelines", json={"name": "a"}, headers=AUTH)
    assert duplicate.status_code == 409


def test_v2_pipeline_list_pages_with_a_cursor(client: LlamaCloud) -> None:
    names = [f"p{i}" for i in range(5)]
    for name in names:
        _pipeline(client, name)
    pages = client.pipelines.list_paginated(project_id=PROJECT, page_size=2)
    assert [p.name for p in pages] == names
    assert [p.name for p in client.pipelines.list_paginated(project_id=PROJECT, name="p3")] == [
        "p3"
    ]


def test_sdk_parses_document_responses(client: LlamaCloud) -> None:
    pipeline_id = _pipeline(client)
    stored = client.pipelines.documents.upsert(pipeline_id, body=_docs(3))
    assert [d.id for d in stored] == ["doc-0000", "doc-0001", "doc-0002"]
    created = client.pipelines.documents.create(
        pipeline_id, body=[{"text": "no id given", "metadata": {}}]
    )
    assert created[0].id
    document = client.pipelines.documents.get("doc-0001", pipeline_id=pipeline_id)
    assert document.text == "page number 1 about topic1" and document.metadata == {"n": 1}
    status = client.pipelines.documents.get_status("doc-0001", pipeline_id=pipeline_id)
    assert status.status == "SUCCESS"
    counts = client.pipelines.documents.get_status_counts(pipeline_id)
    assert counts.total_count == 4 and counts.counts["SUCCESS"] == 4
    assert set(counts.counts) >= {"NOT_STARTED", "IN_PROGRESS", "ERROR", "CANCELLED"}
    chunks = client.pipelines.documents.get_chunks("doc-0001", pipeline_id=pipeline_id)
    assert chunks[0].text == document.text and chunks[0].extra_info == {"n": 1}
    client.pipelines.documents.sync("doc-0001", pipeline_id=pipeline_id)
    client.pipelines.documents.delete("doc-0001", pipeline_id=pipeline_id)
    with pytest.raises(NotFoundError):
        client.pipelines.documents.get("doc-0001", pipeline_id=pipeline_id)
    with pytest.raises(NotFoundError):
        client.pipelines.documents.delete("doc-0001", pipeline_id=pipeline_id)


def test_auto_pager_walks_every_page_in_stable_order(
    client: LlamaCloud, http: httpx.Client
) -> None:
    pipeline_id = _pipeline(client)
    client.pipelines.documents.upsert(pipeline_id, body=_docs(150))
    client.pipelines.documents.upsert(pipeline_id, body=_docs(100, start=150))
    # An update keeps the document's place.
    client.pipelines.documents.upsert(
        pipeline_id, body=[{"id": "doc-0005", "text": "new", "metadata": {}}]
    )
    http.post("/_sandbox/stats/reset")

    ids = [d.id for d in client.pipelines.documents.list(pipeline_id, limit=100)]

    assert ids == [f"doc-{i:04d}" for i in range(250)]
    stats = http.get("/_sandbox/stats").json()
    assert stats["requests_by_route"] == {
        "GET /api/v1/pipelines/{pipeline_id}/documents/paginated": 3
    }
    page = http.get(
        f"/api/v1/pipelines/{pipeline_id}/documents/paginated",
        params={"skip": 240, "limit": 100},
        headers=AUTH,
    ).json()
    assert (page["offset"], page["limit"], page["total_count"]) == (240, 100, 250)
    assert len(page["documents"]) == 10


def test_wrong_or_missing_api_key_is_401(http: httpx.Client) -> None:
    wrong = http.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Invalid authentication token"}
    assert http.get("/api/v1/projects").status_code == 401


def test_bad_bodies_get_fastapi_style_422(client: LlamaCloud, http: httpx.Client) -> None:
    pipeline_id = _pipeline(client)
    url = f"/api/v1/pipelines/{pipeline_id}/documents"

    missing_text = http.put(url, json=[{"id": "x", "metadata": {}}], headers=AUTH)
    assert missing_text.status_code == 422
    [error] = missing_text.json()["detail"]
    assert (error["loc"], error["msg"], error["type"]) == (
        ["body", 0, "text"],
        "Field required",
        "missing",
    )

    not_a_list = http.put(url, json={"id": "x", "text": "t", "metadata": {}}, headers=AUTH)
    assert not_a_list.status_code == 422 and not_a_list.json()["detail"][0]["loc"] == ["body"]

    malformed = http.put(url, content=b"[{", headers={**AUTH, "Content-Type": "application/json"})
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["type"] == "json_invalid"

    no_query = http.post(f"/api/v1/pipelines/{pipeline_id}/retrieve", json={}, headers=AUTH)
    assert no_query.json()["detail"][0]["loc"] == ["body", "query"]

    bad_skip = http.get(f"{url}/paginated", params={"skip": "x"}, headers=AUTH)
    assert bad_skip.status_code == 422 and bad_skip.json()["detail"][0]["loc"] == ["query", "skip"]
    assert http.get("/_sandbox/pipelines").json()[0]["documents"] == 0


def test_unknown_pipeline_document_or_route_is_404(client: LlamaCloud, http: httpx.Client) -> None:
    pipeline_id = _pipeline(client)
    with pytest.raises(NotFoundError):
        client.pipelines.documents.upsert("no-such-pipeline", body=_docs(1))
    with pytest.raises(NotFoundError):
        client.pipelines.documents.get("no-such-doc", pipeline_id=pipeline_id)
    assert http.get("/api/v1/nothing", headers=AUTH).status_code == 404
    assert http.patch(f"/api/v1/pipelines/{pipeline_id}", headers=AUTH).status_code == 405


def test_ids_in_paths_are_decoded_exactly_once(client: LlamaCloud, http: httpx.Client) -> None:
    pipeline_id = _pipeline(client)
    odd: list[CloudDocumentCreateParam] = [
        {"id": "a:b/c d", "text": "slash", "metadata": {}},
        {"id": "x%3Ay", "text": "pct", "metadata": {}},
    ]
    client.pipelines.documents.upsert(pipeline_id, body=odd)

    # The SDK sends a:b%2Fc%20d, which decodes once to the stored id.
    assert client.pipelines.documents.get("a:b/c d", pipeline_id=pipeline_id).text == "slash"
    assert client.pipelines.documents.get("x%3Ay", pipeline_id=pipeline_id).text == "pct"
    base = f"/api/v1/pipelines/{pipeline_id}/documents"
    assert http.get(f"{base}/x%253Ay", headers=AUTH).status_code == 200
    # A second decoding would turn x%3Ay into x:y; the emulator must not do it.
    assert http.get(f"{base}/x:y", headers=AUTH).status_code == 404
    assert http.get(f"{base}/a%25253Ab%25252Fc", headers=AUTH).status_code == 404


def _source_ids(result: PipelineRetrieveResponse) -> list[str]:
    """The document each node came from (relationship "1" = SOURCE in llama-index)."""
    ids = []
    for hit in result.retrieval_nodes:
        source = (hit.node.relationships or {})["1"]
        assert not isinstance(source, list)
        ids.append(source.node_id)
    return ids


def test_retrieve_ranks_by_term_overlap_with_top_k_and_filters(client: LlamaCloud) -> None:
    pipeline_id = _pipeline(client)
    client.pipelines.documents.upsert(
        pipeline_id,
        body=[
            {
                "id": "runbook",
                "text": "How to restart the billing service",
                "metadata": {"space_key": "OPS", "title": "Runbook"},
            },
            {
                "id": "billing",
                "text": "Billing overview",
                "metadata": {"space_key": "ENG", "title": "Billing"},
            },
            {
                "id": "lunch",
                "text": "Lunch menu",
                "metadata": {"space_key": "ENG", "title": "Food"},
            },
        ],
    )

    result = client.pipelines.retrieve(pipeline_id, query="restart billing service")
    assert _source_ids(result) == ["runbook", "billing"]
    best = result.retrieval_nodes[0]
    assert best.score == 1.0 and best.node.extra_info == {"space_key": "OPS", "title": "Runbook"}
    assert best.class_name == "TextNodeWithScore"

    top_1 = client.pipelines.retrieve(pipeline_id, query="billing", dense_similarity_top_k=1)
    assert len(top_1.retrieval_nodes) == 1

    def texts(filters: MetadataFiltersParam) -> list[str]:
        found = client.pipelines.retrieve(
            pipeline_id, query="billing lunch", search_filters=filters
        )
        return sorted(n.node.text or "" for n in found.retrieval_nodes)

    assert texts({"filters": [{"key": "space_key", "value": "ENG", "operator": "=="}]}) == [
        "Billing overview",
        "Lunch menu",
    ]
    assert texts(
        {"filters": [{"key": "title", "value": ["Runbook", "Food"], "operator": "in"}]}
    ) == [
        "How to restart the billing service",
        "Lunch menu",
    ]
    nested: MetadataFiltersParam = {
        "condition": "and",
        "filters": [
            {"key": "space_key", "value": "ENG", "operator": "=="},
            {"condition": "or", "filters": [{"key": "title", "value": "Food", "operator": "=="}]},
        ],
    }
    assert texts(nested) == ["Lunch menu"]


def _statuses(seed: int, count: int = 40) -> list[int]:
    with ServerThread(create_app(fault_rate=0.5, seed=seed)) as server, httpx.Client() as http:
        return [
            http.get(f"{server.url}/api/v1/projects", headers=AUTH).status_code
            for _ in range(count)
        ]


def test_faults_are_deterministic_for_a_seed() -> None:
    first = _statuses(seed=7)
    assert first == _statuses(seed=7)
    assert {429, 500, 503} <= set(first) and 200 in first
    assert first != _statuses(seed=8)


@pytest.mark.parametrize(
    ("kind", "status", "retry_after"),
    [("429", 429, "1"), ("429-no-retry-after", 429, None), ("500", 500, None), ("503", 503, "1")],
)
def test_fault_kinds_shape_status_and_retry_after(
    http: httpx.Client, kind: str, status: int, retry_after: str | None
) -> None:
    assert http.post("/_sandbox/faults", json={"rate": 1.0, "kinds": [kind]}).status_code == 200
    response = http.get("/api/v1/projects", headers=AUTH)
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    assert "detail" in response.json()


def test_admin_routes_are_never_faulted_nor_counted(client: LlamaCloud, http: httpx.Client) -> None:
    pipeline_id = _pipeline(client)
    client.pipelines.documents.upsert(pipeline_id, body=_docs(2))
    http.post("/_sandbox/faults", json={"rate": 1.0})
    for _ in range(5):
        assert http.get("/_sandbox/pipelines").status_code == 200
    assert http.get(f"/_sandbox/pipelines/{pipeline_id}/documents").json()[1] == {
        "id": "doc-0001",
        "text": "page number 1 about topic1",
        "metadata": {"n": 1},
    }
    stats = http.get("/_sandbox/stats").json()
    assert (stats["requests_total"], stats["documents_upserted"], stats["faults_injected"]) == (
        2,
        2,
        0,
    )
    assert http.get("/api/v1/projects", headers=AUTH).status_code in (429, 500, 503)
    assert http.get("/_sandbox/stats").json()["faults_injected"] == 1
    assert http.post("/_sandbox/stats/reset").json()["requests_total"] == 0
    bad = http.post("/_sandbox/faults", json={"rate": 2})
    assert bad.status_code == 422
    assert http.post("/_sandbox/faults", json={"kinds": ["418"]}).status_code == 422


def test_latency_applies_to_the_public_api_only(http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"rate": 0, "latency_ms": 1000})
    started = time.perf_counter()
    http.get("/api/v1/projects", headers=AUTH)
    assert time.perf_counter() - started >= 1.0
    http.post("/_sandbox/faults", json={"latency_ms": 3_600_000})  # an hour per public request
    assert http.get("/_sandbox/stats", timeout=60).status_code == 200  # admin ones answer at once


def test_ten_thousand_documents_go_in_and_stay_searchable(
    client: LlamaCloud, http: httpx.Client
) -> None:
    pipeline_id = _pipeline(client)
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30
    url = f"/api/v1/pipelines/{pipeline_id}/documents"
    for start in range(0, 10_000, 100):
        batch = [
            {"id": f"cf-site-{i}", "text": f"{text} {i}", "metadata": {"title": f"Page {i}"}}
            for i in range(start, start + 100)
        ]
        assert http.put(url, json=batch, headers=AUTH).status_code == 200
    assert http.get("/_sandbox/pipelines").json()[0]["documents"] == 10_000
    found = client.pipelines.retrieve(pipeline_id, query="page 1234", dense_similarity_top_k=1)
    assert found.retrieval_nodes[0].node.extra_info == {"title": "Page 1234"}
