"""The emulator's in-memory pipelines and documents, rendered in the SDK's response shapes."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from .retrieve import index_terms
from .schemas import DocumentIn

DEFAULT_EMBEDDING_CONFIG: dict[str, Any] = {
    "type": "MANAGED_OPENAI_EMBEDDING",
    "component": {"model_name": "openai-text-embedding-3-small"},
}
DEFAULT_TRANSFORM_CONFIG: dict[str, Any] = {
    "mode": "auto",
    "chunk_size": 1024,
    "chunk_overlap": 200,
}
# Optional pipeline settings kept as sent and echoed back when not null.
ECHOED_SETTINGS = (
    "llama_parse_parameters",
    "preset_retrieval_parameters",
    "metadata_config",
    "sparse_model_config",
    "managed_pipeline_id",
    "embedding_model_config_id",
)
_SUMMARY_KEYS = ("id", "name", "project_id", "pipeline_type", "status", "created_at", "updated_at")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class StoredDocument:
    id: str
    text: str
    metadata: dict[str, Any]
    excluded_embed_metadata_keys: list[str]
    excluded_llm_metadata_keys: list[str]
    page_positions: list[int] | None
    updated_at: str
    terms: frozenset[str]
    accepted_at: float = 0.0
    """``time.monotonic()`` of the upsert: ingestion (and search) starts after the delay."""

    def to_json(self) -> dict[str, Any]:
        """A ``CloudDocument``."""
        return {
            "id": self.id,
            "text": self.text,
            "metadata": self.metadata,
            "excluded_embed_metadata_keys": self.excluded_embed_metadata_keys,
            "excluded_llm_metadata_keys": self.excluded_llm_metadata_keys,
            "page_positions": self.page_positions,
            "status_metadata": {"status": "SUCCESS", "updated_at": self.updated_at},
        }


@dataclass(frozen=True, slots=True)
class ProjectFile:
    id: str
    name: str
    project_id: str
    external_file_id: str | None
    purpose: str
    content: bytes
    created_at: str

    def to_json(self) -> dict[str, Any]:
        """A ``FileCreateResponse``."""
        return {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "external_file_id": self.external_file_id,
            "file_type": self.name.rsplit(".", 1)[-1].lower(),
            "purpose": self.purpose,
            "last_modified_at": self.created_at,
            "expires_at": None,
        }


@dataclass(slots=True)
class StoredPipeline:
    id: str
    name: str
    project_id: str
    pipeline_type: str
    embedding_config: dict[str, Any]
    transform_config: dict[str, Any]
    settings: dict[str, Any]
    created_at: str
    updated_at: str
    synced_at: str | None = None
    documents: dict[str, StoredDocument] = field(default_factory=dict)
    files: dict[str, StoredDocument] = field(default_factory=dict)
    """Pipeline files by file id, as documents of the text extracted from them."""

    def configure(self, body: dict[str, Any]) -> None:
        """Applies the fields present in a create/upsert/update body; null configs mean default."""
        if body.get("name"):
            self.name = body["name"]
        if body.get("pipeline_type"):
            self.pipeline_type = body["pipeline_type"]
        if "embedding_config" in body:
            self.embedding_config = body["embedding_config"] or dict(DEFAULT_EMBEDDING_CONFIG)
        if "transform_config" in body:
            self.transform_config = body["transform_config"] or dict(DEFAULT_TRANSFORM_CONFIG)
        for key in ECHOED_SETTINGS:
            if body.get(key) is not None:
                self.settings[key] = body[key]
        self.updated_at = now()

    def to_json(self) -> dict[str, Any]:
        """A ``Pipeline``."""
        return {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "pipeline_type": self.pipeline_type,
            "embedding_config": self.embedding_config,
            "transform_config": self.transform_config,
            **self.settings,
            "status": "CREATED",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    def summary_json(self) -> dict[str, Any]:
        """A ``PipelineListPaginatedResponse`` item."""
        full = self.to_json()
        return {key: full[key] for key in _SUMMARY_KEYS}

    def ingestion_status(self, ingested: Callable[[float], bool]) -> str:
        """``IN_PROGRESS`` while a document waits for ingestion, else ``SUCCESS`` (or
        ``NOT_STARTED`` for a pipeline never written nor synced)."""
        stored = [*self.documents.values(), *self.files.values()]
        if any(not ingested(doc.accepted_at) for doc in stored):
            return "IN_PROGRESS"
        return "SUCCESS" if stored or self.synced_at else "NOT_STARTED"

    def page(self, skip: int, limit: int) -> list[StoredDocument]:
        """Documents in first-upsert order; an update keeps a document's place."""
        return list(islice(self.documents.values(), skip, skip + limit))

    def upsert(
        self, documents: Iterable[DocumentIn], new_id: Iterator[str]
    ) -> list[StoredDocument]:
        """Creates or replaces each document by id (a missing id gets a new one)."""
        stamp = now()
        stored = []
        for body in documents:
            excluded_embed = body.excluded_embed_metadata_keys or []
            document = StoredDocument(
                id=body.id or next(new_id),
                text=body.text,
                metadata=body.metadata,
                excluded_embed_metadata_keys=excluded_embed,
                excluded_llm_metadata_keys=body.excluded_llm_metadata_keys or [],
                page_positions=body.page_positions,
                updated_at=stamp,
                terms=index_terms(body.text, body.metadata, excluded_embed),
                accepted_at=time.monotonic(),
            )
            self.documents[document.id] = document
            stored.append(document)
        if stored:
            self.updated_at = stamp
        return stored


class Store:
    """Pipelines by id; ids come from a seeded RNG so a seed gives the same ids every run."""

    def __init__(self, project_id: str, seed: int) -> None:
        self.project_id = project_id
        self.pipelines: dict[str, StoredPipeline] = {}
        self._rng = random.Random(seed)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def ids(self) -> Iterator[str]:
        while True:
            yield self.new_id()

    def find(self, name: str, project_id: str) -> StoredPipeline | None:
        for pipeline in self.pipelines.values():
            if pipeline.name == name and pipeline.project_id == project_id:
                return pipeline
        return None

    def create(self, body: dict[str, Any], project_id: str) -> StoredPipeline:
        stamp = now()
        pipeline = StoredPipeline(
            id=self.new_id(),
            name=body["name"],
            project_id=project_id,
            pipeline_type="MANAGED",
            embedding_config=dict(DEFAULT_EMBEDDING_CONFIG),
            transform_config=dict(DEFAULT_TRANSFORM_CONFIG),
            settings={},
            created_at=stamp,
            updated_at=stamp,
        )
        pipeline.configure(body)
        self.pipelines[pipeline.id] = pipeline
        return pipeline
