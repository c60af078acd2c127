"""What has been synced: page versions, work staged between assets, and sync run history."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.state.models import StagedPage, SyncedPage, SyncRun, utcnow


@dataclass(frozen=True, slots=True)
class KnownPage:
    version: int
    status: str
    space_key: str


@dataclass(frozen=True, slots=True)
class AcceptedPage:
    """A page whose document LlamaCloud accepted."""

    page_id: str
    space_key: str
    title: str
    version: int
    content_hash: str
    document_id: str


class Ledger:
    """Page versions, staged work and run history of the state database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # synced pages
    def known_pages(self, index_id: int, space_key: str) -> dict[str, KnownPage]:
        """Pages of the space recorded as synced or failed, by page id."""
        with self._sessions() as session:
            rows = session.execute(
                select(SyncedPage.page_id, SyncedPage.version, SyncedPage.status).where(
                    SyncedPage.index_id == index_id, SyncedPage.space_key == space_key
                )
            )
            return {pid: KnownPage(version, status, space_key) for pid, version, status in rows}

    def known_elsewhere(self, index_id: int, page_ids: Iterable[str]) -> dict[str, KnownPage]:
        """Of ``page_ids``, those recorded under any space of the index (moved pages)."""
        ids = list(page_ids)
        found: dict[str, KnownPage] = {}
        with self._sessions() as session:
            for start in range(0, len(ids), 500):
                rows = session.execute(
                    select(
                        SyncedPage.page_id,
                        SyncedPage.version,
                        SyncedPage.status,
                        SyncedPage.space_key,
                    ).where(
                        SyncedPage.index_id == index_id,
                        SyncedPage.page_id.in_(ids[start : start + 500]),
                    )
                )
                found.update({pid: KnownPage(v, st, sk) for pid, v, st, sk in rows})
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
                "document_id": p.document_id,
                "status": "synced",
                "error": None,
                "synced_at": utcnow(),
            }
            for p in pages
        ]
        with self._sessions.begin() as session:
            _upsert_pages(session, values)
            self._unstage(session, index_id, [p.page_id for p in pages])

    def record_failed(
        self, index_id: int, failures: Sequence[tuple[str, str, str, str]], *, version: int = 0
    ) -> None:
        """Records ``(page_id, space_key, document_id, error)`` as failed so the next run
        retries them; a previously synced version is kept (version 0 marks never synced)."""
        if not failures:
            return
        with self._sessions.begin() as session:
            for page_id, space_key, document_id, error in failures:
                row = session.scalar(
                    select(SyncedPage).where(
                        SyncedPage.index_id == index_id, SyncedPage.page_id == page_id
                    )
                )
                if row is None:
                    row = SyncedPage(index_id=index_id, page_id=page_id, version=version, title="")
                    session.add(row)
                row.space_key = space_key
                row.document_id = document_id
                row.status = "failed"
                row.error = error[:2000]
                row.synced_at = utcnow()
            self._unstage(session, index_id, [f[0] for f in failures])

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

    def stage(self, index_id: int, rows: Sequence[dict[str, Any]]) -> None:
        """Adds staged rows (keys of ``StagedPage``); a page staged twice keeps the last."""
        if not rows:
            return
        with self._sessions.begin() as session:
            self._unstage(session, index_id, [r["page_id"] for r in rows])
            session.execute(
                StagedPage.__table__.insert(), [{"index_id": index_id, **r} for r in rows]
            )

    def iter_staged(
        self, index_id: int, space_key: str, *, action: str, stage: str, batch_size: int = 100
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

    def save_converted(self, updates: Sequence[dict[str, Any]]) -> None:
        """Each update: ``id``, ``stage``, and ``markdown``/``content_hash`` or ``error``;
        the storage body is dropped once converted."""
        if not updates:
            return
        with self._sessions.begin() as session:
            for values in updates:
                session.execute(
                    update(StagedPage)
                    .where(StagedPage.id == values["id"])
                    .values(storage=None, **{k: v for k, v in values.items() if k != "id"})
                )

    def count_staged(self, index_id: int, space_key: str) -> dict[tuple[str, str], int]:
        with self._sessions() as session:
            rows = session.execute(
                select(StagedPage.action, StagedPage.stage, func.count())
                .where(StagedPage.index_id == index_id, StagedPage.space_key == space_key)
                .group_by(StagedPage.action, StagedPage.stage)
            )
            return {(action, stage): int(n) for action, stage, n in rows}

    @staticmethod
    def _unstage(session: Session, index_id: int, page_ids: Sequence[str]) -> None:
        for start in range(0, len(page_ids), 500):
            session.execute(
                delete(StagedPage).where(
                    StagedPage.index_id == index_id,
                    StagedPage.page_id.in_(page_ids[start : start + 500]),
                )
            )

    # sync runs
    def start_run(
        self, index_id: int, space_key: str, *, dagster_run_id: str | None, full: bool
    ) -> int:
        """Returns the id of the run row for this Dagster run, creating it on first call."""
        with self._sessions.begin() as session:
            if dagster_run_id is not None:
                existing = session.scalar(
                    select(SyncRun.id).where(
                        SyncRun.dagster_run_id == dagster_run_id,
                        SyncRun.index_id == index_id,
                        SyncRun.space_key == space_key,
                    )
                )
                if existing is not None:
                    return int(existing)
            run = SyncRun(
                index_id=index_id, space_key=space_key, dagster_run_id=dagster_run_id, full=full
            )
            session.add(run)
            session.flush()
            return run.id

    def update_run(self, run_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))

    def finish_run(self, run_id: int, *, status: str, error: str | None = None) -> None:
        self.update_run(run_id, status=status, error=error, finished_at=utcnow())

    def get_run(self, run_id: int) -> SyncRun:
        with self._sessions() as session:
            run = session.get(SyncRun, run_id)
        if run is None:
            raise LookupError(f"sync run #{run_id} not found")
        return run

    def run_for(self, dagster_run_id: str) -> SyncRun | None:
        """The sync run row written by that Dagster run, if it got that far."""
        with self._sessions() as session:
            return session.scalar(
                select(SyncRun).where(SyncRun.dagster_run_id == dagster_run_id).limit(1)
            )

    def history(self, index_id: int | None = None, *, limit: int = 20) -> list[SyncRun]:
        query = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        if index_id is not None:
            query = query.where(SyncRun.index_id == index_id)
        with self._sessions() as session:
            return list(session.scalars(query.limit(limit)))

    def last_success(self) -> dict[tuple[int, str], datetime]:
        """When each (index id, space key) last finished a successful sync."""
        with self._sessions() as session:
            rows = session.execute(
                select(SyncRun.index_id, SyncRun.space_key, func.max(SyncRun.finished_at))
                .where(SyncRun.status.in_(("success", "partial")))
                .group_by(SyncRun.index_id, SyncRun.space_key)
            )
            return {(i, s): when for i, s, when in rows if when is not None}


def _upsert_pages(session: Session, values: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(values), 500):
        statement = insert(SyncedPage).values(values[start : start + 500])
        excluded = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["index_id", "page_id"],
                set_={
                    key: getattr(excluded, key)
                    for key in (
                        "space_key",
                        "title",
                        "version",
                        "content_hash",
                        "document_id",
                        "status",
                        "error",
                        "synced_at",
                    )
                },
            )
        )
