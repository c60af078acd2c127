"""The attachment files each index holds: which version of which attachment, under which
LlamaCloud file, so a sync uploads only new versions and deletes what is gone; and the pages
whose attachments are still to be looked at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.state.models import AttachmentCheck, SyncedAttachment, utcnow


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    attachment_id: str
    page_id: str
    space_key: str
    version: int
    file_name: str
    document_id: str
    stored_id: str
    metadata_hash: str = ""


class AttachmentLedger:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def known(self, index_id: int, space_key: str) -> dict[str, StoredAttachment]:
        """The space's recorded attachments, by attachment id."""
        with self._sessions() as session:
            rows = session.scalars(
                select(SyncedAttachment).where(
                    SyncedAttachment.index_id == index_id, SyncedAttachment.space_key == space_key
                )
            )
            return {row.attachment_id: _stored(row) for row in rows}

    def record(self, index_id: int, attachment: StoredAttachment) -> StoredAttachment | None:
        """Records (or replaces) the attachment's stored file; the record it replaced, in any
        space of the index (a page that moved), whose file may now be surplus."""
        with self._sessions.begin() as session:
            row = session.scalars(
                select(SyncedAttachment).where(
                    SyncedAttachment.index_id == index_id,
                    SyncedAttachment.attachment_id == attachment.attachment_id,
                )
            ).one_or_none()
            replaced = None if row is None else _stored(row)
            if row is None:
                row = SyncedAttachment(index_id=index_id, attachment_id=attachment.attachment_id)
                session.add(row)
            row.page_id, row.space_key = attachment.page_id, attachment.space_key
            row.version, row.file_name = attachment.version, attachment.file_name
            row.document_id, row.stored_id = attachment.document_id, attachment.stored_id
            row.metadata_hash = attachment.metadata_hash
            row.synced_at = utcnow()
        return replaced

    def forget(self, index_id: int, attachment_ids: Sequence[str]) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(SyncedAttachment).where(
                    SyncedAttachment.index_id == index_id,
                    SyncedAttachment.attachment_id.in_(list(attachment_ids)),
                )
            )

    def stored_ids(self, index_id: int) -> list[str]:
        """The stored ids of every attachment file of the index."""
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(SyncedAttachment.stored_id).where(SyncedAttachment.index_id == index_id)
                )
            )

    def forget_index(self, index_id: int) -> None:
        """Forgets every attachment file of the index (once they are deleted, or moved on)."""
        with self._sessions.begin() as session:
            session.execute(delete(SyncedAttachment).where(SyncedAttachment.index_id == index_id))

    def queue(self, index_id: int, space_key: str, pages: Mapping[str, Mapping[str, Any]]) -> None:
        """Notes pages (id -> their document's metadata) whose attachments are to be looked at."""
        if not pages:
            return
        with self._sessions.begin() as session:
            _drop_checks(session, index_id, list(pages))
            session.add_all(
                AttachmentCheck(
                    index_id=index_id, space_key=space_key, page_id=pid, page_metadata=dict(meta)
                )
                for pid, meta in pages.items()
            )

    def queued(self, index_id: int, space_key: str) -> dict[str, dict[str, Any]]:
        with self._sessions() as session:
            rows = session.execute(
                select(AttachmentCheck.page_id, AttachmentCheck.page_metadata).where(
                    AttachmentCheck.index_id == index_id, AttachmentCheck.space_key == space_key
                )
            )
            return {page_id: dict(meta) for page_id, meta in rows}

    def dequeue(self, index_id: int, page_ids: Sequence[str]) -> None:
        with self._sessions.begin() as session:
            _drop_checks(session, index_id, page_ids)


def _drop_checks(session: Session, index_id: int, page_ids: Sequence[str]) -> None:
    for start in range(0, len(page_ids), 500):
        session.execute(
            delete(AttachmentCheck).where(
                AttachmentCheck.index_id == index_id,
                AttachmentCheck.page_id.in_(page_ids[start : start + 500]),
            )
        )


def _stored(row: SyncedAttachment) -> StoredAttachment:
    return StoredAttachment(
        row.attachment_id,
        row.page_id,
        row.space_key,
        row.version,
        row.file_name,
        row.document_id,
        row.stored_id,
        row.metadata_hash,
    )
