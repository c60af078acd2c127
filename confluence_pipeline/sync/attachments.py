"""Attachments as files (part of the upload step, for indexes with ``attachments`` on).

Which pages are looked at: those whose document LlamaCloud accepted (new or changed pages,
every page on ``--full``; noted in the state before the pages are recorded, so a run that
stops in between leaves them to the next): one attachment listing each (v2
``GET /pages/{id}/attachments``, 250 per request), plus one download per new attachment
version. An unchanged page costs nothing, and a sync with attachments off makes no attachment
request at all. Adding or deleting an attachment does not change the page's version, so on an
unchanged page it is seen when the page is next edited or at the next ``--full`` sync.

PDF, DOCX, PPTX, XLSX, CSV, TXT, MD and HTML files up to the index's ``attachment_max_mb``
are uploaded (a new version, or new metadata from its page such as labels or restrictions,
replaces the file: uploaded, recorded, then the old one deleted);
images, video, other types and larger files are skipped and counted. A file follows its page:
when the page's document leaves the index (deleted, trashed, restricted, filtered out), its
files go too, in the same run. Files removed from a page that stays are deleted under the
mass-deletion guard, counted separately from pages: at most ``max_delete_fraction`` of the
space's recorded attachment files per run (``--full`` or ``--allow-mass-delete`` lifts it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluence_pipeline.confluence import (
    Attachment,
    AttachmentTooLarge,
    ConfluenceAuthError,
    ConfluenceClient,
    ConfluenceError,
)
from confluence_pipeline.llamacloud import LlamaCloudAuthError, LlamaCloudError, Sink, document_id
from confluence_pipeline.state import Index, StateStore, StoredAttachment
from confluence_pipeline.sync.results import AttachmentResult, Log

LISTING_WORKERS = 4
DEQUEUE_BATCH = 100
MB = 1024 * 1024
SUPPORTED: dict[str, str] = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".html": "text/html",
}
"""Uploaded file types: extension -> media type (also recognised by media type alone)."""
_ALIASES = {".markdown": ".md", ".htm": ".html", ".text": ".txt"}
_FROM_PAGE = ("labels", "restricted", "read_users", "read_groups")
_BY_TYPE = {media: ext for ext, media in SUPPORTED.items()} | {"text/x-markdown": ".md"}


def file_extension(attachment: Attachment) -> str | None:
    """The supported extension the file is uploaded with (from its name, else its media
    type); None when the type is not supported."""
    name = attachment.title.lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    suffix = _ALIASES.get(suffix, suffix)
    if suffix in SUPPORTED:
        return suffix
    return _BY_TYPE.get(attachment.media_type.split(";")[0].strip().lower())


def attachment_document_id(site_id: str, attachment_id: str) -> str:
    """``cf-<site>-att-<id>``: the same for every version, so re-runs never duplicate."""
    return document_id(site_id, f"att-{attachment_id.removeprefix('att')}")


def attachment_metadata(attachment: Attachment, page: Mapping[str, Any]) -> dict[str, Any]:
    """The file's metadata: the attachment's, plus its page's title, space, breadcrumb (the
    page's, ending with the page, joined with `` > ``) and the labels and restrictions its
    page's document carries."""
    crumbs = [*(page.get("breadcrumb") or ()), page.get("title") or ""]
    return {
        "page_id": attachment.page_id,
        "attachment_id": attachment.id,
        "file_name": attachment.title,
        "media_type": attachment.media_type,
        "url": attachment.url,
        "space_key": page.get("space_key"),
        "space_name": page.get("space_name"),
        "title": page.get("title"),
        "breadcrumb": " > ".join(crumbs),
        "version": attachment.version,
        **{key: page[key] for key in _FROM_PAGE if key in page},
    }


def sync_attachments(
    store: StateStore,
    client: ConfluenceClient,
    sink: Sink,
    index: Index,
    space_key: str,
    *,
    target_id: str,
    site_id: str,
    allow_mass_delete: bool = False,
    before_write: Callable[[], None] = lambda: None,
    log: Log = lambda _msg: None,
) -> AttachmentResult:
    """Brings the files of the queued pages (accepted by LlamaCloud, see
    ``AttachmentLedger.queue``) up to date, and deletes the files of pages no longer in the
    index. A page leaves the queue once its attachments were listed."""
    run = _Run(store, client, sink, index, space_key, target_id, site_id, before_write, log)
    ledger = store.attachments
    known = ledger.known(index.id, space_key)
    present = store.ledger.known_pages(index.id, space_key)
    run.delete([a for a in known.values() if a.page_id not in present])  # followed their page
    queued = ledger.queued(index.id, space_key)
    ledger.dequeue(index.id, [page_id for page_id in queued if page_id not in present])
    pages = {page_id: meta for page_id, meta in queued.items() if page_id in present}
    by_page: dict[str, list[StoredAttachment]] = {}
    for stored in known.values():
        by_page.setdefault(stored.page_id, []).append(stored)
    removed: list[StoredAttachment] = []
    done: list[str] = []  # pages whose attachments were looked at, leaving the queue
    with ThreadPoolExecutor(LISTING_WORKERS, thread_name_prefix="attachments") as pool:
        listings = pool.map(run.listing, pages)
        for page_id, listed in zip(pages, listings, strict=True):
            run.result.pages_listed += 1
            if isinstance(listed, ConfluenceError):
                run.failed(f"attachments of page {page_id} not listed: {listed}")
                continue  # its files stay as they are
            wanted = {a.id for a in listed if run.wanted(a)}
            for attachment in listed:
                if attachment.id in wanted:
                    run.upload(attachment, pages[page_id], known.get(attachment.id))
            removed += [a for a in by_page.get(page_id, ()) if a.attachment_id not in wanted]
            done.append(page_id)
            if len(done) >= DEQUEUE_BATCH:
                ledger.dequeue(index.id, done)
                done.clear()
        ledger.dequeue(index.id, done)
    limit = index.max_delete_fraction * len(known)
    if removed and not allow_mass_delete and len(removed) > limit:
        run.result.deletions_refused = len(removed)
        log(
            f"{space_key}: refused to delete {len(removed)} of {len(known)} attachment files "
            f"(limit {index.max_delete_fraction:.0%}); rerun with --full to allow"
        )
    else:
        run.delete(removed)
    return run.result


def drop_attachments(
    store: StateStore,
    sink: Sink,
    index: Index,
    space_key: str,
    *,
    target_id: str,
    before_write: Callable[[], None] = lambda: None,
    log: Log = lambda _msg: None,
) -> AttachmentResult:
    """Deletes every file the space still holds once its index stopped taking attachments:
    they would no longer follow their pages (trashed, restricted, filtered out)."""
    files = _Files(store, sink, index, space_key, target_id, before_write, log)
    files.delete(list(store.attachments.known(index.id, space_key).values()))
    store.attachments.dequeue(index.id, list(store.attachments.queued(index.id, space_key)))
    if files.result.deleted:
        log(f"{space_key}: attachments are off: deleted {files.result.deleted} files")
    return files.result


class _Files:
    """Deleting one space's stored files; counts go to ``result``."""

    def __init__(
        self,
        store: StateStore,
        sink: Sink,
        index: Index,
        space_key: str,
        target_id: str,
        before_write: Callable[[], None],
        log: Log,
    ) -> None:
        self.store, self.sink, self.index = store, sink, index
        self.space_key, self.target_id = space_key, target_id
        self.before_write, self.log = before_write, log
        self.result = AttachmentResult()

    def delete(self, attachments: list[StoredAttachment]) -> None:
        for attachment in attachments:
            if self._delete_file(attachment):
                self.store.attachments.forget(self.index.id, [attachment.attachment_id])
                self.result.deleted += 1

    def _delete_file(self, attachment: StoredAttachment) -> bool:
        self.before_write()
        try:
            self.sink.delete_file(self.target_id, attachment.stored_id)
        except LlamaCloudAuthError:
            raise
        except LlamaCloudError as exc:
            self.failed(f"delete of attachment {attachment.attachment_id}'s file: {exc}")
            return False
        return True

    def failed(self, error: str) -> None:
        self.result.failed += 1
        self.result.errors.append(error)
        self.log(f"{self.space_key}: {error}")


class _Run(_Files):
    """One space's attachment work: listing, downloading and uploading as well."""

    def __init__(
        self,
        store: StateStore,
        client: ConfluenceClient,
        sink: Sink,
        index: Index,
        space_key: str,
        target_id: str,
        site_id: str,
        before_write: Callable[[], None],
        log: Log,
    ) -> None:
        super().__init__(store, sink, index, space_key, target_id, before_write, log)
        self.client, self.site_id = client, site_id
        self.cap = index.attachment_max_mb * MB

    def listing(self, page_id: str) -> list[Attachment] | ConfluenceError:
        """The page's attachments, or the error that stopped their listing (credentials
        refused: raised)."""
        try:
            return list(self.client.iter_attachments(page_id))
        except ConfluenceAuthError:
            raise
        except ConfluenceError as exc:
            return exc

    def wanted(self, attachment: Attachment) -> bool:
        """Whether the file belongs in the index; a skipped one is counted by kind."""
        media = attachment.media_type.lower()
        result = self.result
        if file_extension(attachment) is None:
            if media.startswith("image/"):
                result.skipped_images += 1
            elif media.startswith("video/"):
                result.skipped_video += 1
            else:
                result.skipped_unknown += 1
            return False
        if attachment.file_size > self.cap:
            result.skipped_oversized += 1
            return False
        return True

    def upload(
        self, attachment: Attachment, page: Mapping[str, Any], known: StoredAttachment | None
    ) -> None:
        metadata = attachment_metadata(attachment, page)
        digest = hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()
        if known is not None and (known.version, known.metadata_hash) == (
            attachment.version,
            digest,
        ):
            self.result.unchanged += 1
            return
        try:
            content = self.client.download_attachment(attachment.page_id, attachment.id, self.cap)
        except AttachmentTooLarge:
            self.result.skipped_oversized += 1  # its size was stated wrong: the cap still holds
            if known is not None:
                self.delete([known])
            return
        except ConfluenceAuthError:
            raise
        except ConfluenceError as exc:
            self.failed(f"download of attachment {attachment.id}: {exc}")
            return
        ext = file_extension(attachment) or ""
        name = attachment.title
        if not name.lower().endswith(ext):
            name += ext  # LlamaCloud parses by extension
        doc_id = attachment_document_id(self.site_id, attachment.id)
        self.before_write()
        try:
            stored_id = self.sink.upload_file(
                self.target_id,
                doc_id,
                (name, content, SUPPORTED[ext]),
                metadata,
            )
        except LlamaCloudAuthError:
            raise
        except LlamaCloudError as exc:
            self.failed(str(exc))
            return
        record = StoredAttachment(
            attachment.id,
            attachment.page_id,
            self.space_key,
            attachment.version,
            attachment.title,
            doc_id,
            stored_id,
            digest,
        )
        replaced = self.store.attachments.record(self.index.id, record)
        self.result.uploaded += 1
        if replaced is not None and replaced.stored_id != stored_id:
            self._delete_file(replaced)  # an older version, or the copy of a page that moved
