"""What the sync hands to a LlamaCloud sink, and what every target's sink offers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


class Sink(Protocol):
    """Where documents go: a v1 pipeline (``target == "pipeline"``) or a v2 index over a
    directory of files (``"index"``). ``target_id`` is the pipeline id or the v2 index id."""

    target: str

    def check_available(self) -> None:
        """Raises TargetUnavailable when the plan does not offer this target."""
        ...

    def ensure_target(self, name: str) -> str:
        """Creates or reuses the pipeline (or directory and index) called ``name``; its id."""
        ...

    def upsert(self, target_id: str, documents: Sequence[Document]) -> dict[str, str]:
        """Stores ``documents``; returns each one's stored id (a v2 directory file id) by
        document id. A v2 upsert adds a file: the caller deletes the one it replaces."""
        ...

    def delete(
        self,
        target_id: str,
        document_ids: Sequence[str],
        *,
        stored_ids: Mapping[str, str | None] | None = None,
    ) -> None:
        """Deletes documents (by stored id where known); already gone is not an error."""
        ...

    def upload_file(
        self,
        target_id: str,
        document_id: str,
        file: tuple[str, bytes, str],
        metadata: Mapping[str, Any],
    ) -> str:
        """Stores a file (``(name, content, media type)``) for LlamaCloud to parse, tagged
        ``document_id``; returns its stored id. A new version is a new file: the caller
        deletes the one it replaces."""
        ...

    def delete_file(self, target_id: str, stored_id: str) -> None:
        """Deletes a file stored by :meth:`upload_file`; already gone is not an error."""
        ...

    def remove_leftovers(self, target_id: str, document_id: str, keep: str | None) -> int:
        """Deletes every stored copy of the document except ``keep``; how many went."""
        ...

    def commit(self, target_id: str) -> None:
        """Asks the target to ingest what changed (v2: one ``indexes.sync``)."""
        ...

    def searchable(self, target_id: str, since: datetime) -> bool:
        """Whether everything written up to ``since`` has been ingested (one cheap read)."""
        ...

    def list_document_ids(self, target_id: str) -> set[str]: ...

    def list_documents(self, target_id: str) -> dict[str, dict[str, Any]]:
        """Metadata of every stored document, by document id."""
        ...

    def list_texts(self, target_id: str) -> dict[str, Document]: ...

    def delete_target(self, target_id: str) -> None: ...

    def close(self) -> None: ...
