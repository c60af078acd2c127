"""The emulator's Index v2 data: directories of files, indexes over them, and index syncs.

A file is searchable once an index sync that saw it has finished ingesting: ``indexes.sync``
takes a snapshot of the directory's live files, which replaces the searchable set when the
ingestion delay has passed (so an edited page is found by its old text until then, never by
both, and by its new text after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .retrieve import index_terms
from .store import now


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    directory_id: str
    project_id: str
    display_name: str
    unique_id: str
    external_file_id: str | None
    file_id: str
    metadata: dict[str, Any]
    text: str
    created_at: str
    terms: frozenset[str]

    def to_json(self) -> dict[str, Any]:
        """A ``FileUploadResponse`` / ``FileListResponse`` / ``FileGetResponse``."""
        return {
            "id": self.id,
            "directory_id": self.directory_id,
            "display_name": self.display_name,
            "project_id": self.project_id,
            "unique_id": self.unique_id,
            "external_file_id": self.external_file_id,
            "file_id": self.file_id,
            "metadata": self.metadata,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "deleted_at": None,
            "download_url": None,
        }


@dataclass(slots=True)
class StoredDirectory:
    id: str
    name: str
    project_id: str
    description: str | None
    created_at: str
    updated_at: str
    files: dict[str, StoredFile] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A ``Directory*Response``."""
        return {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "description": self.description,
            "connector_subscription_id": None,
            "system_metadata": None,
            "type": "user",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": None,
            "expires_at": None,
        }

    def add(self, file: StoredFile) -> None:
        self.files[file.id] = file
        self.updated_at = now()


@dataclass(slots=True)
class _PendingSync:
    requested_at: float
    files: tuple[StoredFile, ...]


@dataclass(slots=True)
class StoredIndex:
    id: str
    name: str
    project_id: str
    source_directory_id: str
    description: str | None
    created_at: str
    updated_at: str
    last_synced_at: str | None = None
    searchable: tuple[StoredFile, ...] = ()
    pending: list[_PendingSync] = field(default_factory=list)

    def request_sync(self, files: tuple[StoredFile, ...], requested_at: float) -> None:
        self.pending.append(_PendingSync(requested_at, files))

    def settle(self, ingested: Callable[[float], bool]) -> None:
        """Publishes the newest sync whose ingestion is over (syncs finish in order);
        ``ingested(requested_at)`` says whether one requested then is done."""
        while self.pending and ingested(self.pending[0].requested_at):
            self.searchable = self.pending.pop(0).files
            self.last_synced_at = now()

    def to_json(self, *, expand_sync: bool) -> dict[str, Any]:
        """An ``Index*Response``; ``sync_in_progress`` only with ``expand=sync_in_progress``."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "source_directory_id": self.source_directory_id,
            "output_directory_id": f"out-{self.id}",
            "export_config_id": f"export-{self.id}",
            "sync_config_id": f"sync-{self.id}",
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_synced_at": self.last_synced_at,
            "last_exported_at": self.last_synced_at,
            "metadata": {},
        }
        if expand_sync:
            data["sync_in_progress"] = bool(self.pending)
        return data


def new_file(
    directory: StoredDirectory,
    *,
    id: str,
    file_id: str,
    display_name: str,
    unique_id: str,
    external_file_id: str | None,
    metadata: dict[str, Any],
    text: str,
) -> StoredFile:
    return StoredFile(
        id=id,
        directory_id=directory.id,
        project_id=directory.project_id,
        display_name=display_name,
        unique_id=unique_id,
        external_file_id=external_file_id,
        file_id=file_id,
        metadata=metadata,
        text=text,
        created_at=now(),
        terms=index_terms(text, metadata, ()),
    )


@dataclass
class V2Store:
    """Directories and indexes by id; ``v2_enabled`` False makes ``/api/v1/indexes`` and
    retrieval answer 403, as on a plan without Index v2."""

    directories: dict[str, StoredDirectory] = field(default_factory=dict)
    indexes: dict[str, StoredIndex] = field(default_factory=dict)
    v2_enabled: bool = True
