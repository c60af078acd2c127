"""What the sync hands to a LlamaCloud sink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where documents go. Upserts are idempotent by document id."""

    def ensure_pipeline(self, name: str) -> str:
        """Creates or reuses the pipeline called ``name``; returns its id."""
        ...

    def upsert(self, pipeline_id: str, documents: Sequence[Document]) -> None: ...

    def delete(self, pipeline_id: str, document_ids: Sequence[str]) -> None:
        """Deletes documents; ids that are already gone are not an error."""
        ...

    def list_document_ids(self, pipeline_id: str) -> set[str]: ...
