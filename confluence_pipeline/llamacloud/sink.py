"""The production sink: LlamaCloud pipelines and documents through the official SDK."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import llama_cloud
from llama_cloud.types.pipelines import CloudDocumentCreateParam

from .base import SDK_ERRORS as _ERRORS
from .base import SdkSink
from .errors import LlamaCloudError
from .models import Document

_LIST_PAGE_SIZE = 100
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_SLUG_MAX = 60


def document_id(site_id: str, page_id: str) -> str:
    """``cf-<site or cloud id>-<page id>``, every character outside ``[A-Za-z0-9_-]`` made ``-``.

    Such ids travel unchanged through URL paths, so get and delete reach the same document.
    Raises ValueError when either part is empty.
    """
    if not site_id or not page_id:
        raise ValueError("document_id needs a non-empty site id and page id")
    return _UNSAFE_ID_CHARS.sub("-", f"cf-{site_id}-{page_id}")


def slug(text: str) -> str:
    """Lowercase ``[a-z0-9-]`` only, the same for the same text: accents folded to ASCII; a
    text with no usable character, or a slug longer than 60 characters, gets a short hash of
    the full text so distinct texts stay distinct."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    if not cleaned:
        return digest
    if len(cleaned) > _SLUG_MAX:
        return f"{cleaned[:_SLUG_MAX].rstrip('-')}-{digest}"
    return cleaned


def pipeline_name(index_name: str) -> str:
    """``confluence-<slug>`` (see :func:`slug`): the name of the index's pipeline, and of its
    v2 directory and index."""
    return f"confluence-{slug(index_name)}"


@contextmanager
def _deprecated_v1_api() -> Iterator[None]:
    # The SDK marks every v1 pipeline/document method @deprecated("deprecated") yet offers no
    # non-deprecated way to upsert text documents (api-contracts B2). Silence exactly that
    # warning, only around our calls, so it neither floods logs nor breaks `-W error` runs.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="deprecated", category=DeprecationWarning)
        yield


def _payload(document: Document) -> CloudDocumentCreateParam:
    return {"id": document.id, "text": document.text, "metadata": document.metadata}


def _size(payload: CloudDocumentCreateParam) -> int:
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode())


def _describe(ids: Sequence[str]) -> str:
    if len(ids) == 1:
        return f"document {ids[0]}"
    return f"{len(ids)} documents {ids[0]}..{ids[-1]}"


class LlamaCloudSink(SdkSink):
    """The ``pipeline`` target: a ``Sink`` backed by LlamaCloud managed pipelines (Index v1).

    What still fails after the SDK's retries raises LlamaCloudError, as does a response that
    is not the JSON expected. Upserts and deletes only need the status (2xx is LlamaCloud's
    acceptance), so their bodies are never parsed.
    """

    target = "pipeline"

    def __init__(
        self,
        api_key: str,
        project_id: str,
        *,
        base_url: str | None = None,
        batch_size: int = 100,
        max_batch_bytes: int = 4_000_000,
        timeout: float = 60.0,
        max_retries: int = 5,
    ) -> None:
        if batch_size < 1 or max_batch_bytes < 1:
            raise ValueError("batch_size and max_batch_bytes must be positive")
        super().__init__(
            api_key, project_id, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self._batch_size = batch_size
        self._max_batch_bytes = max_batch_bytes

    def ensure_pipeline(self, name: str) -> str:
        """The id of the pipeline called ``name`` in the project, created when missing.

        An existing pipeline is reused as is (its embedding and chunking settings untouched);
        a new one gets the server's default embedding and automatic chunking.
        """
        try:
            with _deprecated_v1_api():
                found = self._client.pipelines.list(project_id=self._project_id, pipeline_name=name)
                for pipeline in found:
                    if pipeline.name == name:
                        return pipeline.id
                created = self._client.pipelines.upsert(
                    name=name,
                    project_id=self._project_id,
                    pipeline_type="MANAGED",
                    embedding_config=None,
                    transform_config={"mode": "auto"},
                    llama_parse_parameters={},
                )
        except _ERRORS as exc:
            raise self._error(exc, f"ensure pipeline {name!r}") from None
        return created.id

    def _batches(self, documents: Sequence[Document]) -> Iterator[list[CloudDocumentCreateParam]]:
        batch: list[CloudDocumentCreateParam] = []
        batch_bytes = 2  # the enclosing []
        for document in documents:
            payload = _payload(document)
            size = _size(payload) + 1
            over = batch_bytes + size > self._max_batch_bytes
            if batch and (len(batch) >= self._batch_size or over):
                yield batch
                batch, batch_bytes = [], 2
            batch.append(payload)
            batch_bytes += size
        if batch:
            yield batch

    def upsert(self, pipeline_id: str, documents: Sequence[Document]) -> dict[str, str]:
        """Creates or replaces ``documents`` by id, in batches of ``batch_size`` documents and
        at most ``max_batch_bytes`` of JSON (a larger single document goes alone); returns
        each document's id by its id (a pipeline stores documents under their own id).

        Raises LlamaCloudError naming the first rejected batch; earlier batches stay stored.
        """
        for document in documents:
            if not _SAFE_ID.match(document.id):
                raise LlamaCloudError(
                    f"LlamaCloud upsert refused document id {document.id!r}: "
                    "use only [A-Za-z0-9_.-] (see document_id())",
                    operation="upsert",
                    document_ids=[document.id],
                )
        for batch in self._batches(documents):
            ids = [str(payload["id"]) for payload in batch]
            try:
                with _deprecated_v1_api():
                    self._client.pipelines.documents.with_raw_response.upsert(
                        pipeline_id, body=batch
                    )
            except _ERRORS as exc:
                operation = f"upsert of {_describe(ids)} into pipeline {pipeline_id}"
                raise self._error(exc, operation, ids) from None
        return {document.id: document.id for document in documents}

    def delete(
        self,
        pipeline_id: str,
        document_ids: Sequence[str],
        *,
        stored_ids: Mapping[str, str | None] | None = None,
    ) -> None:
        """Deletes each document; one that is already gone (404) is skipped silently.
        (``stored_ids`` is for the ``index`` target: a document's id is its stored id here.)"""
        for doc_id in document_ids:
            try:
                with _deprecated_v1_api():
                    self._client.pipelines.documents.with_raw_response.delete(
                        doc_id, pipeline_id=pipeline_id
                    )
            except llama_cloud.NotFoundError:
                continue
            except _ERRORS as exc:
                operation = f"delete of document {doc_id} from pipeline {pipeline_id}"
                raise self._error(exc, operation, [doc_id]) from None

    def upload_file(
        self,
        pipeline_id: str,
        document_id: str,
        file: tuple[str, bytes, str],
        metadata: Mapping[str, Any],
    ) -> str:
        """Uploads ``file`` to the project (``external_file_id`` = ``document_id``) and adds it
        to the pipeline with ``metadata``; the file's id (the project file is deleted again
        when the pipeline refuses it)."""
        try:
            file_id = self._client.files.create(
                file=file,
                purpose="user_data",
                external_file_id=document_id,
                project_id=self._project_id,
            ).id
        except _ERRORS as exc:
            raise self._error(exc, f"upload of file {document_id}", [document_id]) from None
        try:
            with _deprecated_v1_api():
                self._client.pipelines.files.create(
                    pipeline_id,
                    body=[{"file_id": file_id, "custom_metadata": dict(metadata)}],
                    project_id=self._project_id,
                )
        except _ERRORS as exc:
            self._forget_file(file_id)
            operation = f"adding file {document_id} to pipeline {pipeline_id}"
            raise self._error(exc, operation, [document_id]) from None
        return file_id

    def delete_file(self, pipeline_id: str, stored_id: str) -> None:
        """Removes the file from the pipeline, then from the project."""
        try:
            with _deprecated_v1_api():
                self._client.pipelines.files.with_raw_response.delete(
                    stored_id, pipeline_id=pipeline_id, project_id=self._project_id
                )
        except llama_cloud.NotFoundError:
            pass
        except _ERRORS as exc:
            operation = f"delete of file {stored_id} from pipeline {pipeline_id}"
            raise self._error(exc, operation, [stored_id]) from None
        self._forget_file(stored_id)

    def _forget_file(self, file_id: str) -> None:
        try:
            self._client.files.with_raw_response.delete(file_id, project_id=self._project_id)
        except llama_cloud.NotFoundError:
            return
        except _ERRORS as exc:
            raise self._error(exc, f"delete of file {file_id}", [file_id]) from None

    def list_document_ids(self, pipeline_id: str) -> set[str]:
        """The ids of every document in the pipeline (all pages of the paginated list)."""
        try:
            with _deprecated_v1_api():
                pages = self._client.pipelines.documents.list(pipeline_id, limit=_LIST_PAGE_SIZE)
                return {document.id for document in pages}
        except _ERRORS as exc:
            raise self._error(exc, f"listing documents of pipeline {pipeline_id}") from None

    def list_documents(self, pipeline_id: str) -> dict[str, dict[str, Any]]:
        """The metadata of every document in the pipeline, by document id (all pages of the
        paginated list; the API sends texts along, so this costs as much as the index)."""
        try:
            with _deprecated_v1_api():
                pages = self._client.pipelines.documents.list(pipeline_id, limit=_LIST_PAGE_SIZE)
                return {document.id: dict(document.metadata or {}) for document in pages}
        except _ERRORS as exc:
            raise self._error(exc, f"listing documents of pipeline {pipeline_id}") from None

    ensure_target = ensure_pipeline

    def check_available(self) -> None:
        """Every plan has pipelines: nothing to check."""

    def remove_leftovers(self, pipeline_id: str, document_id: str, keep: str | None) -> int:
        """Nothing to do: a pipeline holds at most one document per id."""
        return 0

    def commit(self, pipeline_id: str) -> None:
        """Nothing to do: a pipeline ingests each upserted document on its own."""

    def searchable(self, pipeline_id: str, since: datetime) -> bool:
        """Whether the pipeline finished ingesting (``GET .../status`` is ``SUCCESS``; a
        pipeline that never received a document is ``NOT_STARTED``, with nothing pending)."""
        try:
            with _deprecated_v1_api():
                status = self._client.pipelines.get_status(pipeline_id)
        except _ERRORS as exc:
            raise self._error(exc, f"status of pipeline {pipeline_id}") from None
        return status.status in ("SUCCESS", "NOT_STARTED")

    def list_texts(self, pipeline_id: str) -> dict[str, Document]:
        """Every document of the pipeline with its text and metadata, by id."""
        try:
            with _deprecated_v1_api():
                pages = self._client.pipelines.documents.list(pipeline_id, limit=_LIST_PAGE_SIZE)
                return {
                    doc.id: Document(doc.id, doc.text, dict(doc.metadata or {}))
                    for doc in pages
                    if doc.id
                }
        except _ERRORS as exc:
            raise self._error(exc, f"listing documents of pipeline {pipeline_id}") from None

    def delete_target(self, pipeline_id: str) -> None:
        """Deletes the pipeline and its documents (already gone: not an error)."""
        try:
            with _deprecated_v1_api():
                self._client.pipelines.with_raw_response.delete(pipeline_id)
        except llama_cloud.NotFoundError:
            return
        except _ERRORS as exc:
            raise self._error(exc, f"delete of pipeline {pipeline_id}") from None
