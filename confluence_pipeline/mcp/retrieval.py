"""Retrieval from an index's LlamaCloud target, behind a small interface.

A :class:`Retriever` answers a query for one index with scored chunks and their document
metadata. Filters are ``{metadata field: allowed values}`` (the ``in`` operator), the one
shape both LlamaCloud APIs express: v1 pipelines as ``search_filters``, v2 indexes as
``retrieval.retrieve(index_id=, query=, top_k=, custom_filters={field: {"operator": "in",
"value": [...]}})``. :class:`PipelineRetriever` serves both, by the index's target. What an
API cannot filter (a list-valued field such as labels) is filtered by the caller.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import llama_cloud
from llama_cloud.types.metadata_filters_param import FilterMetadataFilter, MetadataFiltersParam

from confluence_pipeline.errors import PipelineError
from confluence_pipeline.llamacloud.errors import from_sdk
from confluence_pipeline.runtime.tls import verifying_context
from confluence_pipeline.state import Index, Target

_ERRORS = (llama_cloud.LlamaCloudError, httpx.HTTPError, ValueError)
_CONNECT_TIMEOUT_S = 5.0

Filters = Mapping[str, Sequence[str]]
"""``{metadata field: values}``: a chunk passes when its field holds one of the values."""


class RetrievalError(PipelineError):
    """The index cannot be searched (no target yet, LlamaCloud refused or unreachable)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk: its text, its document's metadata, its score (higher is better)."""

    text: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)


class Retriever(Protocol):
    def retrieve(self, index: Index, query: str, *, top_k: int, filters: Filters) -> list[Hit]:
        """At most ``top_k`` chunks of ``index`` for ``query``, best first, passing
        ``filters``. Raises RetrievalError."""
        ...


def target_of(index: Index) -> str:
    """The index's LlamaCloud target: ``pipeline`` (v1) or ``index`` (v2)."""
    return str(index.target or Target.PIPELINE)


def pipeline_filters(filters: Filters) -> MetadataFiltersParam | None:
    """``filters`` as v1 ``MetadataFilters``: every field ``in`` its values, all required."""
    specs: list[FilterMetadataFilter] = [
        {"key": key, "operator": "in", "value": list(values)} for key, values in filters.items()
    ]
    return {"filters": specs, "condition": "and"} if specs else None


@contextmanager
def _deprecated_v1_api() -> Iterator[None]:
    # The SDK marks every v1 pipeline method @deprecated; the v1 retrieve is still the API of
    # pipelines (see llamacloud/sink.py). Silence exactly that warning around our calls.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="deprecated", category=DeprecationWarning)
        yield


def index_filters(filters: Filters) -> dict[str, Any] | None:
    """``filters`` as v2 ``custom_filters``: every field ``in`` its values, all required."""
    return {
        key: {"operator": "in", "value": list(values)} for key, values in filters.items()
    } or None


class PipelineRetriever:
    """Retrieval from an index's target through the official SDK: v1 managed pipelines
    (``POST /api/v1/pipelines/{id}/retrieve``) or v2 indexes (``POST /api/v1/retrieval/
    retrieve``); one client, safe to share across threads."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        self._api_key = api_key
        self._client = llama_cloud.LlamaCloud(
            api_key=api_key,
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT_S)),
            max_retries=max_retries,
            http_client=llama_cloud.DefaultHttpxClient(verify=verifying_context()),
        )

    def retrieve(self, index: Index, query: str, *, top_k: int, filters: Filters) -> list[Hit]:
        if target_of(index) == Target.INDEX:
            return self._from_index(index, query, top_k=top_k, filters=filters)
        if not index.pipeline_id:
            raise RetrievalError(
                f"index {index.name!r} has no LlamaCloud pipeline yet: "
                f"run `confluence-pipeline sync {index.name}` first"
            )
        search_filters = pipeline_filters(filters)
        try:
            with _deprecated_v1_api():
                # the raw body: the SDK's models of 20 nodes cost more CPU than the retrieval
                response = self._client.pipelines.with_raw_response.retrieve(
                    index.pipeline_id,
                    query=query,
                    dense_similarity_top_k=top_k,
                    search_filters=search_filters,
                )
                body = response.json()
        except _ERRORS as exc:
            operation = f"retrieval from the pipeline of index {index.name!r}"
            raise RetrievalError(str(from_sdk(exc, operation, secrets=(self._api_key,)))) from None
        return _hits(body, index.name)[:top_k]

    def _from_index(self, index: Index, query: str, *, top_k: int, filters: Filters) -> list[Hit]:
        if not index.v2_index_id:
            raise RetrievalError(
                f"index {index.name!r} has no LlamaCloud index yet: "
                f"run `confluence-pipeline sync {index.name}` first"
            )
        try:
            found = self._client.retrieval.retrieve(
                index_id=index.v2_index_id,
                query=query,
                top_k=top_k,
                custom_filters=index_filters(filters),
            )
        except _ERRORS as exc:
            operation = f"retrieval from the LlamaCloud index of {index.name!r}"
            raise RetrievalError(str(from_sdk(exc, operation, secrets=(self._api_key,)))) from None
        return [
            Hit(
                text=result.content,
                score=result.rerank_score
                if result.rerank_score is not None
                else result.score or 0.0,
                metadata=dict(result.metadata or {}),
            )
            for result in found.results[:top_k]
        ]

    def close(self) -> None:
        self._client.close()


def _first(*scores: float | None) -> float:
    """The first score given (the reranker's before the hybrid search's), else 0."""
    return next((score for score in scores if score is not None), 0.0)


def _hits(body: object, index_name: str) -> list[Hit]:
    """The ``retrieval_nodes`` of a ``PipelineRetrieveResponse`` body."""
    nodes = body.get("retrieval_nodes") if isinstance(body, dict) else None
    if not isinstance(nodes, list):
        raise RetrievalError(
            f"LlamaCloud retrieval from the pipeline of index {index_name!r} failed: "
            "unexpected response from the server"
        )
    hits = []
    for item in nodes:
        node = item.get("node") if isinstance(item, dict) else None
        if not isinstance(node, dict):
            continue
        metadata = node.get("extra_info") or node.get("metadata") or {}
        score = item.get("score")
        hits.append(
            Hit(
                text=str(node.get("text") or ""),
                score=float(score) if isinstance(score, int | float) else 0.0,
                metadata=dict(metadata) if isinstance(metadata, dict) else {},
            )
        )
    return hits
