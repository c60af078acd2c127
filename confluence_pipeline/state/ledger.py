"""What has been synced: page versions, work staged between assets, and (through
:class:`RunHistory`) sync run history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from confluence_pipeline.state.history import RunHistory
from confluence_pipeline.state.models import StagedPage, SyncedPage, utcnow
from confluence_pipeline.state.values import Action, PageStatus, Stage


@dataclass(frozen=True, slots=True)
class KnownPage:
    version: int
    status: PageStatus
    scope_hash: str | None = None


@dataclass(frozen=True, slots=True)
class PageFailure:
    """A page whose document could not be sent, converted or deleted; the next run retries."""

    page_id: str
    space_key: str
    document_id: str
    error: str


@dataclass(frozen=True, slots=True)
class StagedWork:
    """A row to stage: a page body to convert and upload, a failure to record, or a document
    to delete."""

    page_id: str
    space_key: str
    action: Action
    stage: Stage
    version: int = 0
    title: str = ""
    storage: str | None = None
    page_metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ConvertedPage:
    """The outcome of converting staged row ``row_id``: its Markdown (and the metadata its
    document carries), or why it failed."""

    row_id: int
    page_metadata: dict[str, Any]
    markdown: str | None = None
    content_hash: str | None = None
    error: str | None = None

    @property
    def stage(self) -> Stage:
        return Stage.FAILED if self.error is not None else Stage.CONVERTED


@dataclass(frozen=True, slots=True)
class AcceptedPage:
    """A page whose document LlamaCloud accepted."""

    page_id: str
    space_key: str
    title: str
    version: int
    content_hash: str
    document_id: str
    scope_hash: str | None = None
    file_id: str | None = None
    """The stored copy on the ``index`` target (its directory file id)."""
    replacing: bool = False
    """An older stored copy remains to be deleted (see :meth:`Ledger.done_replacing`)."""


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """A page whose stored copies may need tidying after a crash or a failed upload."""

    page_id: str
    document_id: str
    file_id: str | None
    synced: bool


_ACCEPTED_COLUMNS = [
    "scope_hash",
    "space_key",
    "title",
    "version",
    "content_hash",
    "document_id",
    "file_id",
    "replacing",
    "status",
    "error",
    "synced_at",
]
_FAILED_COLUMNS = ["space_key", "document_id", "status", "error", "synced_at"]
_STAGED_FIELDS = [f.name for f in fields(StagedWork)]


class Ledger(RunHistory):
    """Page versions, staged work and run history of the state database."""

    # synced pages
    def known_pages(self, index_id: int, space_key: str) -> dict[str, KnownPage]:
        """Pages of the space recorded as synced or failed, by page id."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    SyncedPage.page_id,
                    SyncedPage.version,
                    SyncedPage.status,
                    SyncedPage.scope_hash,
                ).where(SyncedPage.index_id == index_id, SyncedPage.space_key == space_key)
            )
            return {
                pid: KnownPage(version, PageStatus(status), scope)
                for pid, version, status, scope in rows
            }

    def recorded_pages(
        self, index_id: int, page_ids: Sequence[str]
    ) -> dict[str, tuple[str, int, PageStatus]]:
        """``{page_id: (space_key, version, status)}`` of those of ``page_ids`` the index has
        recorded, in any space."""
        found: dict[str, tuple[str, int, PageStatus]] = {}
        with self._sessions() as session:
            for start in range(0, len(page_ids), 500):
                rows = session.execute(
                    select(
                        SyncedPage.page_id,
                        SyncedPage.space_key,
                        SyncedPage.version,
                        SyncedPage.status,
                    ).where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id.in_(page_ids[start : start + 500]),
                    )
                )
                for pid, space, version, status in rows:
                    found[pid] = (space, version, PageStatus(status))
        return found

    def record_accepted(self, index_id: int, pages: Sequence[AcceptedPage]) -> None:
        """Marks pages synced at their version and drops their staged rows, atomically."""
        if not pages:
            return
        values = [
            {
                "index_id": index_id,
                "page_id": p.page_id,
                "space_key": p.space_key,
                "title": p.title,
                "version": p.version,
                "content_hash": p.content_hash,
                "scope_hash": p.scope_hash,
                "document_id": p.document_id,
                "file_id": p.file_id,
                "replacing": p.replacing,
                "status": PageStatus.SYNCED,
                "error": None,
                "synced_at": utcnow(),
            }
            for p in pages
        ]
        with self._sessions.begin() as session:
            _upsert(session, SyncedPage, values, _ACCEPTED_COLUMNS)
            self._unstage(session, index_id, [p.page_id for p in pages])

    def record_failed(self, index_id: int, failures: Sequence[PageFailure]) -> None:
        """Records pages as failed so the next run retries them; a previously synced version
        is kept (version 0 marks never synced)."""
        if not failures:
            return
        values = [
            {
                "index_id": index_id,
                "page_id": f.page_id,
                "space_key": f.space_key,
                "title": "",
                "version": 0,
                "document_id": f.document_id,
                "status": PageStatus.FAILED,
                "error": f.error[:2000],
                "synced_at": utcnow(),
            }
            for f in failures
        ]
        with self._sessions.begin() as session:
            _upsert(session, SyncedPage, values, _FAILED_COLUMNS)
            self._unstage(session, index_id, [f.page_id for f in failures])

    def record_pending(self, index_id: int, pages: Sequence[tuple[str, str, str]]) -> None:
        """Before their upload: records ``(page_id, space_key, document_id)`` of pages never
        recorded as ``pending`` (version 0), and marks every one ``replacing``, so a crash
        between the upload and :meth:`record_accepted` leaves a trace and the next run redoes
        or deletes them, and tidies copies stored meanwhile (:meth:`replacing_pages`)."""
        if not pages:
            return
        with self._sessions.begin() as session:
            for start in range(0, len(pages), 500):
                chunk = [page_id for page_id, _, _ in pages[start : start + 500]]
                session.execute(
                    update(SyncedPage)
                    .where(SyncedPage.index_id == index_id, SyncedPage.page_id.in_(chunk))
                    .values(replacing=True)
                )
        values = [
            {
                "index_id": index_id,
                "page_id": page_id,
                "space_key": space_key,
                "title": "",
                "version": 0,
                "document_id": document_id,
                "replacing": True,
                "status": PageStatus.PENDING,
                "synced_at": utcnow(),
            }
            for page_id, space_key, document_id in pages
        ]
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(SyncedPage)
            session.execute(insert.on_conflict_do_nothing(), values)

    def file_ids(self, index_id: int, page_ids: Sequence[str]) -> dict[str, str | None]:
        """The recorded stored copy (v2 directory file id) of each page that has a record."""
        found: dict[str, str | None] = {}
        with self._sessions() as session:
            for start in range(0, len(page_ids), 500):
                rows = session.execute(
                    select(SyncedPage.page_id, SyncedPage.file_id).where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id.in_(page_ids[start : start + 500]),
                    )
                )
                found.update({page_id: file_id for page_id, file_id in rows})
        return found

    def synced_pages(self, index_id: int) -> dict[str, tuple[str, int, str]]:
        """``{page_id: (space_key, version, document_id)}`` of every synced page of the index."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    SyncedPage.page_id,
                    SyncedPage.space_key,
                    SyncedPage.version,
                    SyncedPage.document_id,
                ).where(SyncedPage.index_id == index_id, SyncedPage.status == PageStatus.SYNCED)
            )
            return {page_id: (space, version, doc) for page_id, space, version, doc in rows}

    def set_file_ids(self, index_id: int, file_ids: dict[str, str | None]) -> None:
        """Records each page's stored copy (``{page_id: file id or None}``), none replacing."""
        with self._sessions.begin() as session:
            for page_id, file_id in file_ids.items():
                session.execute(
                    update(SyncedPage)
                    .where(SyncedPage.index_id == index_id, SyncedPage.page_id == page_id)
                    .values(file_id=file_id, replacing=False)
                )

    def replacing_pages(self, index_id: int, space_key: str) -> list[StoredCopy]:
        """Pages of the space whose upload or replacement did not finish: stored copies other
        than the recorded one may exist."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    SyncedPage.page_id,
                    SyncedPage.document_id,
                    SyncedPage.file_id,
                    SyncedPage.status,
                ).where(
                    SyncedPage.index_id == index_id,
                    SyncedPage.space_key == space_key,
                    SyncedPage.replacing.is_(True),
                )
            )
            return [
                StoredCopy(page_id, doc_id, file_id, status == PageStatus.SYNCED)
                for page_id, doc_id, file_id, status in rows
            ]

    def done_replacing(self, index_id: int, page_ids: Sequence[str]) -> None:
        """The pages' only stored copy is the recorded one."""
        with self._sessions.begin() as session:
            for start in range(0, len(page_ids), 500):
                session.execute(
                    update(SyncedPage)
                    .where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id.in_(page_ids[start : start + 500]),
                    )
                    .values(replacing=False)
                )

    def reassign(self, index_id: int, moves: dict[str, str], from_space: str) -> None:
        """Hands pages that moved to another space of the index (``{page_id: space_key}``) over
        to that space, marked ``moved`` so its next sync uploads them with their new place.
        A page the other space already recorded is left alone."""
        with self._sessions.begin() as session:
            for page_id, space_key in moves.items():
                session.execute(
                    update(SyncedPage)
                    .where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id == page_id,
                        SyncedPage.space_key == from_space,
                    )
                    .values(space_key=space_key, status=PageStatus.MOVED, synced_at=utcnow())
                )

    def status_counts(self, index_id: int, space_key: str) -> dict[PageStatus, int]:
        """How many pages of the space are recorded in each status."""
        with self._sessions() as session:
            rows = session.execute(
                select(SyncedPage.status, func.count())
                .where(SyncedPage.index_id == index_id, SyncedPage.space_key == space_key)
                .group_by(SyncedPage.status)
            )
            return {PageStatus(status): int(n) for status, n in rows}

    def record_deleted(self, index_id: int, page_ids: Sequence[str]) -> None:
        with self._sessions.begin() as session:
            for start in range(0, len(page_ids), 500):
                chunk = page_ids[start : start + 500]
                session.execute(
                    delete(SyncedPage).where(
                        SyncedPage.index_id == index_id, SyncedPage.page_id.in_(chunk)
                    )
                )
            self._unstage(session, index_id, page_ids)

    def count_synced(self, index_id: int, space_key: str) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(SyncedPage)
                    .where(SyncedPage.index_id == index_id, SyncedPage.space_key == space_key)
                )
                or 0
            )

    # staged work
    def clear_staged(self, index_id: int, space_key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(StagedPage).where(
                    StagedPage.index_id == index_id, StagedPage.space_key == space_key
                )
            )

    def stage(self, index_id: int, rows: Sequence[StagedWork]) -> None:
        """Adds staged rows; a page staged twice keeps the last, even when two runs stage it
        at once (a page moving between spaces synced in parallel)."""
        if not rows:
            return
        values = [
            {
                "index_id": index_id,
                **{f: getattr(row, f) for f in _STAGED_FIELDS},
                "markdown": None,
                "content_hash": None,
            }
            for row in rows
        ]
        with self._sessions.begin() as session:
            updated = [c for c in values[0] if c not in ("index_id", "page_id")]
            _upsert(session, StagedPage, values, updated)

    def iter_staged(
        self, index_id: int, space_key: str, *, action: Action, stage: Stage, batch_size: int = 100
    ) -> Iterator[list[StagedPage]]:
        """Yields staged rows in id order, ``batch_size`` at a time, re-querying after each
        batch so callers may update or delete the rows they were given."""
        last_id = 0
        while True:
            with self._sessions() as session:
                batch = list(
                    session.scalars(
                        select(StagedPage)
                        .where(
                            StagedPage.index_id == index_id,
                            StagedPage.space_key == space_key,
                            StagedPage.action == action,
                            StagedPage.stage == stage,
                            StagedPage.id > last_id,
                        )
                        .order_by(StagedPage.id)
                        .limit(batch_size)
                    )
                )
            if not batch:
                return
            last_id = batch[-1].id
            yield batch

    def save_converted(self, updates: Sequence[ConvertedPage]) -> None:
        """Stores each row's Markdown or error; the storage body is dropped once converted."""
        if not updates:
            return
        table = cast(Table, StagedPage.__table__)
        fields = ("stage", "page_metadata", "markdown", "content_hash", "error")
        rows = [{"row_id": u.row_id, **{f: getattr(u, f) for f in fields}} for u in updates]
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(storage=None, **{f: bindparam(f) for f in fields})
        )
        with self._sessions.begin() as session:
            session.connection().execute(statement, rows)

    def count_staged(self, index_id: int, space_key: str) -> dict[tuple[Action, Stage], int]:
        with self._sessions() as session:
            rows = session.execute(
                select(StagedPage.action, StagedPage.stage, func.count())
                .where(StagedPage.index_id == index_id, StagedPage.space_key == space_key)
                .group_by(StagedPage.action, StagedPage.stage)
            )
            return {(Action(action), Stage(stage)): int(n) for action, stage, n in rows}

    @staticmethod
    def _unstage(session: Session, index_id: int, page_ids: Sequence[str]) -> None:
        for start in range(0, len(page_ids), 500):
            session.execute(
                delete(StagedPage).where(
                    StagedPage.index_id == index_id,
                    StagedPage.page_id.in_(page_ids[start : start + 500]),
                )
            )


def _upsert(
    session: Session,
    model: type[SyncedPage | StagedPage],
    values: list[dict[str, Any]],
    columns: list[str],
) -> None:
    """Inserts rows, or updates ``columns`` of those whose (index, page) exists; each row is
    one atomic statement, safe against a concurrent insert of the same page."""
    if not values:
        return
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(model)
    statement = statement.on_conflict_do_update(
        index_elements=["index_id", "page_id"],
        set_={key: statement.excluded[key] for key in columns},
    )
    session.execute(statement, values)
