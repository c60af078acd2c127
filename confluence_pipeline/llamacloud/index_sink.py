"""The ``index`` target (Index v2): each document is a ``<title-slug>.md`` file in a directory,
under an index over that directory, through the official SDK.

A document's id is its file's ``unique_id``; re-upserting it adds a new file (a new directory
file id) which the caller records before deleting the old one, so a page always has a live
file. Files become searchable after an ``indexes.sync`` (:meth:`IndexSink.commit`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import llama_cloud

from .base import SDK_ERRORS, SdkSink
from .errors import LlamaCloudError
from .models import Document
from .sink import slug

PAGE_SIZE = 100
_SCALARS = (str, int, float, bool)


class TargetUnavailable(LlamaCloudError):
    """The LlamaCloud plan does not offer Index v2 (``/api/v1/indexes`` answers 403)."""


def flat_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata as v2 accepts it: str, int, float, bool, None or list[str] values; lists of
    other things become lists of str, anything else its JSON (or ``str``)."""
    flat: dict[str, Any] = {}
    for key, value in metadata.items():
        if value is None or isinstance(value, _SCALARS):
            flat[key] = value
        elif isinstance(value, list | tuple):
            flat[key] = [v if isinstance(v, str) else json.dumps(v, default=str) for v in value]
        elif isinstance(value, dict):
            flat[key] = json.dumps(value, default=str, sort_keys=True)
        else:
            flat[key] = str(value)
    return flat


def file_name(document: Document) -> str:
    """``<title-slug>.md`` (the document id when it has no title)."""
    return f"{slug(str(document.metadata.get('title') or document.id))}.md"


class IndexSink(SdkSink):
    """A ``Sink`` writing files into the directory of a LlamaCloud index (Index v2)."""

    target = "index"

    @functools.cached_property
    def _directories(self) -> dict[str, str]:
        """The source directory of each index this sink has met, by index id."""
        return {}

    def _plan_error(self, exc: Exception, operation: str) -> LlamaCloudError:
        if isinstance(exc, llama_cloud.PermissionDeniedError):
            return TargetUnavailable(
                f"LlamaCloud refused Index v2 ({operation}: HTTP 403): this plan does not offer "
                "the `index` target; use --target pipeline",
                operation=operation,
                status_code=403,
            )
        return self._error(exc, operation)

    def check_available(self) -> None:
        """Raises TargetUnavailable when ``GET /api/v1/indexes`` is refused (403)."""
        try:
            self._client.indexes.list(project_id=self._project_id, page_size=1)
        except SDK_ERRORS as exc:
            raise self._plan_error(exc, "list indexes") from None

    def ensure_target(self, name: str) -> str:
        """The id of the index called ``name`` over the directory called ``name``, both
        created when missing (the index first checked, so a plan without v2 creates nothing)."""
        self.check_available()
        try:
            directory = next(
                (
                    d.id
                    for d in self._client.beta.directories.list(
                        name=name, project_id=self._project_id
                    )
                    if d.name == name
                ),
                None,
            )
            if directory is None:
                directory = self._client.beta.directories.create(
                    name=name,
                    project_id=self._project_id,
                    description="Confluence pages kept in sync by confluence-pipeline",
                ).id
            found = self._client.indexes.list(
                project_id=self._project_id, source_directory_id=directory
            )
            index = next((i.id for i in found if i.source_directory_id == directory), None)
            if index is None:
                index = self._client.indexes.create(
                    source_directory_id=directory, name=name, project_id=self._project_id
                ).id
        except SDK_ERRORS as exc:
            raise self._plan_error(exc, f"ensure index {name!r}") from None
        self._directories[index] = directory
        return index

    def directory_id(self, index_id: str) -> str:
        """The index's source directory (asked once per sink)."""
        if index_id not in self._directories:
            try:
                index = self._client.indexes.get(index_id, project_id=self._project_id)
            except SDK_ERRORS as exc:
                raise self._plan_error(exc, f"get index {index_id}") from None
            self._directories[index_id] = index.source_directory_id
        return self._directories[index_id]

    def upsert(self, index_id: str, documents: Sequence[Document]) -> dict[str, str]:
        """Uploads each document as a new ``.md`` file (``unique_id`` = document id,
        ``external_file_id`` = its ``page_id``); returns the new directory file ids.

        Raises LlamaCloudError naming the first refused document; earlier ones are stored.
        """
        directory = self.directory_id(index_id)
        stored = {}
        for document in documents:
            metadata = flat_metadata(document.metadata)
            try:
                file = self._client.beta.directories.files.upload(
                    directory,
                    upload_file=(file_name(document), document.text.encode(), "text/markdown"),
                    unique_id=document.id,
                    external_file_id=str(metadata.get("page_id") or document.id),
                    display_name=file_name(document),
                    metadata=json.dumps(metadata),
                    project_id=self._project_id,
                )
            except SDK_ERRORS as exc:
                operation = f"upload of document {document.id} into index {index_id}"
                raise self._error(exc, operation, [document.id]) from None
            stored[document.id] = file.id
        return stored

    def upload_file(
        self,
        index_id: str,
        document_id: str,
        file: tuple[str, bytes, str],
        metadata: Mapping[str, Any],
    ) -> str:
        """Uploads ``file`` into the index's directory (``unique_id`` = ``document_id``); its
        directory file id."""
        directory = self.directory_id(index_id)
        flat = flat_metadata(metadata)
        try:
            stored = self._client.beta.directories.files.upload(
                directory,
                upload_file=file,
                unique_id=document_id,
                external_file_id=document_id,
                display_name=file[0],
                metadata=json.dumps(flat),
                project_id=self._project_id,
            )
        except SDK_ERRORS as exc:
            operation = f"upload of file {document_id} into index {index_id}"
            raise self._error(exc, operation, [document_id]) from None
        return stored.id

    def delete_file(self, index_id: str, stored_id: str) -> None:
        self._delete_file(self.directory_id(index_id), stored_id, stored_id)

    def _files(self, directory: str, unique_id: str | None = None) -> Iterator[Any]:
        return iter(
            self._client.beta.directories.files.list(
                directory, unique_id=unique_id, page_size=PAGE_SIZE, project_id=self._project_id
            )
        )

    def _delete_file(self, directory: str, file_id: str, document_id: str) -> None:
        try:
            self._client.beta.directories.files.delete(
                file_id, directory_id=directory, project_id=self._project_id
            )
        except llama_cloud.NotFoundError:
            return
        except SDK_ERRORS as exc:
            operation = f"delete of file {file_id} ({document_id})"
            raise self._error(exc, operation, [document_id]) from None

    def delete(
        self,
        index_id: str,
        document_ids: Sequence[str],
        *,
        stored_ids: Mapping[str, str | None] | None = None,
    ) -> None:
        """Deletes each document's file: the known directory file id, else every file listed
        under its ``unique_id``. Already gone is not an error."""
        directory = self.directory_id(index_id)
        for doc_id in document_ids:
            known = (stored_ids or {}).get(doc_id)
            if known:
                self._delete_file(directory, known, doc_id)
            else:
                self.remove_leftovers(index_id, doc_id, keep=None)

    def remove_leftovers(self, index_id: str, document_id: str, keep: str | None) -> int:
        """Deletes the files listed under ``unique_id`` ``document_id`` other than ``keep``."""
        directory = self.directory_id(index_id)
        try:
            extra = [f.id for f in self._files(directory, document_id) if f.id != keep]
        except SDK_ERRORS as exc:
            raise self._error(exc, f"listing files of {document_id}", [document_id]) from None
        for file_id in extra:
            self._delete_file(directory, file_id, document_id)
        return len(extra)

    def commit(self, index_id: str) -> None:
        """Requests one ``indexes.sync``: the index re-reads its directory."""
        try:
            self._client.indexes.sync(index_id, project_id=self._project_id)
        except SDK_ERRORS as exc:
            raise self._plan_error(exc, f"sync of index {index_id}") from None

    def searchable(self, index_id: str, since: datetime) -> bool:
        """Whether a sync that started at or after ``since`` has finished
        (``last_synced_at >= since`` and no ``sync_in_progress``)."""
        try:
            index = self._client.indexes.get(
                index_id, expand=["sync_in_progress"], project_id=self._project_id
            )
        except SDK_ERRORS as exc:
            raise self._plan_error(exc, f"get index {index_id}") from None
        synced = index.last_synced_at
        return not index.sync_in_progress and synced is not None and synced >= since

    def list_files(self, index_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """``(unique_id, directory file id, metadata)`` of every file of the index."""
        directory = self.directory_id(index_id)
        try:
            return [(f.unique_id, f.id, dict(f.metadata or {})) for f in self._files(directory)]
        except SDK_ERRORS as exc:
            raise self._error(exc, f"listing files of index {index_id}") from None

    def list_documents(self, index_id: str) -> dict[str, dict[str, Any]]:
        return {unique_id: metadata for unique_id, _, metadata in self.list_files(index_id)}

    def list_document_ids(self, index_id: str) -> set[str]:
        return set(self.list_documents(index_id))

    def list_texts(self, index_id: str) -> dict[str, Document]:
        """Nothing: reading a file's text back means downloading it, so a migration away from
        the ``index`` target fetches the pages' bodies from Confluence again."""
        return {}

    def delete_target(self, index_id: str) -> None:
        """Deletes the index and its directory (already gone: not an error)."""
        directory = self.directory_id(index_id)
        try:
            self._client.indexes.delete(index_id, project_id=self._project_id)
        except llama_cloud.NotFoundError:
            pass
        except SDK_ERRORS as exc:
            raise self._plan_error(exc, f"delete of index {index_id}") from None
        try:
            self._client.beta.directories.delete(directory, project_id=self._project_id)
        except llama_cloud.NotFoundError:
            return
        except SDK_ERRORS as exc:
            raise self._error(exc, f"delete of directory {directory}") from None
