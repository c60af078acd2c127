"""``POST /api/v1/pipelines/{pipeline_id}/retrieve``: lexical search in the SDK's node shape."""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .retrieve import FilterError, check_filters, matches, ranked, terms
from .router import Params, Route
from .routes_pipelines import pipeline_of
from .schemas import RETRIEVE
from .state import SandboxState
from .store import StoredDocument, StoredPipeline
from .web import HTTPError, json_response, read_json, validate

DEFAULT_TOP_K = 30
_NODE_NAMESPACE = uuid.UUID("6f1c5d3e-2a4b-4c8d-9e0f-1a2b3c4d5e6f")


def text_node(pipeline: StoredPipeline, document: StoredDocument) -> dict[str, Any]:
    """A ``TextNode`` for the one chunk of ``document`` (keys ``id_`` and ``extra_info``)."""
    return {
        "id_": str(uuid.uuid5(_NODE_NAMESPACE, f"{pipeline.id}/{document.id}")),
        "text": document.text,
        "extra_info": document.metadata,
        "excluded_embed_metadata_keys": document.excluded_embed_metadata_keys,
        "excluded_llm_metadata_keys": document.excluded_llm_metadata_keys,
        "start_char_idx": 0,
        "end_char_idx": len(document.text),
        # "1" is SOURCE and "4" DOCUMENT in llama-index: the node points at its document.
        "relationships": {"1": {"node_id": document.id, "node_type": "4", "metadata": {}}},
        "metadata_template": "{key}: {value}",
        "metadata_seperator": "\n",
        "text_template": "{metadata_str}\n\n{content}",
        "mimetype": "text/plain",
        "class_name": "TextNode",
    }


async def retrieve(state: SandboxState, request: Request, params: Params) -> Response:
    """Documents sharing words with the query, best first; score = share of query words found."""
    started = time.perf_counter()
    pipeline = pipeline_of(state, params)
    body = validate(RETRIEVE, await read_json(request), ("body",))
    try:
        check_filters(body.search_filters)
    except FilterError as exc:
        raise HTTPError(422, str(exc)) from None
    top_k = body.dense_similarity_top_k or DEFAULT_TOP_K
    if body.enable_reranking and body.rerank_top_n:
        top_k = min(top_k, body.rerank_top_n)
    found = ranked(
        terms(body.query),
        [(doc.terms, doc) for doc in (*pipeline.documents.values(), *pipeline.files.values())],
        keep=lambda doc: (
            state.ingested(doc.accepted_at) and matches(body.search_filters, doc.metadata)
        ),
        cutoff=body.dense_similarity_cutoff or 0.0,
        top_k=top_k,
    )
    nodes = [
        {"node": text_node(pipeline, doc), "score": value, "class_name": "TextNodeWithScore"}
        for value, doc in found
    ]
    return json_response(
        {
            "pipeline_id": pipeline.id,
            "retrieval_nodes": nodes,
            "image_nodes": [],
            "page_figure_nodes": [],
            "metadata": {},
            "retrieval_latency": {"dense": time.perf_counter() - started},
        }
    )


ROUTES = [Route("POST", "/api/v1/pipelines/{pipeline_id}/retrieve", retrieve)]
