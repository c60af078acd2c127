"""The old service's approach, as the benchmark's baseline: every run lists every page of every
space *with* its body, one request after the other, converts each body with plain
``markdownify``, and upserts one document per request through the official SDK (or, batched,
``batch`` documents per request, as a straightforward implementation would). Nothing is
remembered between runs, so nothing is skipped, and trashed pages are never deleted."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import llama_cloud
import markdownify

EMAIL, TOKEN = "demo@example.com", "sandbox-token"
API_KEY, PROJECT = "sandbox-key", "sandbox-project"


def _paged(http: httpx.Client, url: str | None, params: dict[str, Any] | None) -> Iterator[Any]:
    while url:
        body = http.get(url, params=params).raise_for_status().json()
        yield from body["results"]
        url, params = body["_links"].get("next"), None


def run_baseline(wiki_url: str, cloud_url: str, *, pipeline: str, batch: int = 1) -> float:
    """One sync of every space, ``batch`` documents per upsert; returns its seconds."""
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    cloud = llama_cloud.LlamaCloud(api_key=API_KEY, base_url=cloud_url)
    pipeline_id = cloud.pipelines.upsert(name=pipeline, project_id=PROJECT).id
    pending: list[dict[str, Any]] = []
    with httpx.Client(base_url=wiki_url, auth=(EMAIL, TOKEN), timeout=60) as http:
        for space in list(_paged(http, "/wiki/api/v2/spaces", {"limit": 250})):
            listing = f"/wiki/api/v2/spaces/{space['id']}/pages"
            params = {"limit": 250, "body-format": "storage"}
            for page in _paged(http, listing, params):
                text = markdownify.markdownify(page["body"]["storage"]["value"])
                document = {
                    "id": f"baseline-{page['id']}",
                    "text": f"# {page['title']}\n\n{text}",
                    "metadata": {"title": page["title"], "space_key": space["key"]},
                }
                pending.append(document)
                if len(pending) >= batch:
                    cloud.pipelines.documents.upsert(pipeline_id, body=pending)
                    pending = []
    if pending:
        cloud.pipelines.documents.upsert(pipeline_id, body=pending)
    cloud.close()
    return time.perf_counter() - started
