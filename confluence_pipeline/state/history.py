"""Sync run history: one row per sync of one (index, space), with counts and outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.state.models import SyncRun, utcnow
from confluence_pipeline.state.values import RunStatus


class RunHistory:
    """The ``sync_runs`` table; :class:`~confluence_pipeline.state.ledger.Ledger` extends it."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def start_run(
        self, index_id: int, space_key: str, *, dagster_run_id: str | None, full: bool
    ) -> int:
        """Returns the id of the run row for this Dagster run, creating it on first call; rows
        of the partition still marked running are closed as ``interrupted``."""
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
            # One run per partition at a time: a row still running belongs to a run that died.
            session.execute(
                update(SyncRun)
                .where(
                    SyncRun.index_id == index_id,
                    SyncRun.space_key == space_key,
                    SyncRun.status == RunStatus.RUNNING,
                )
                .values(
                    status=RunStatus.INTERRUPTED,
                    error="the run stopped before finishing (process killed?)",
                    finished_at=utcnow(),
                )
            )
            run = SyncRun(
                index_id=index_id, space_key=space_key, dagster_run_id=dagster_run_id, full=full
            )
            session.add(run)
            session.flush()
            return run.id

    def update_run(self, run_id: int, **values: Any) -> None:
        with self._sessions.begin() as session:
            session.execute(update(SyncRun).where(SyncRun.id == run_id).values(**values))

    def finish_run(self, run_id: int, *, status: RunStatus, error: str | None = None) -> None:
        self.update_run(run_id, status=status, error=error, finished_at=utcnow())

    def owe_commit(self, run_id: int) -> None:
        """The run is about to write: its target owes an ingestion request (v2 sync)."""
        self.update_run(run_id, commit_owed=True)

    def commit_owed(self, index_id: int, space_key: str) -> bool:
        """Whether a run of the partition wrote without its ingestion request (crashed)."""
        with self._sessions() as session:
            return bool(
                session.scalar(
                    select(func.count()).where(
                        SyncRun.index_id == index_id,
                        SyncRun.space_key == space_key,
                        SyncRun.commit_owed.is_(True),
                    )
                )
            )

    def commit_paid(self, index_id: int, space_key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(SyncRun)
                .where(
                    SyncRun.index_id == index_id,
                    SyncRun.space_key == space_key,
                    SyncRun.commit_owed.is_(True),
                )
                .values(commit_owed=False)
            )

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

    def pending_ingestion(self, index_id: int) -> int:
        """Documents written by each space's latest finished run that LlamaCloud has not yet
        reported searchable (0 for a space whose latest run is searchable)."""
        latest = (
            select(
                SyncRun.space_key,
                func.max(SyncRun.id).label("run_id"),
            )
            .where(
                SyncRun.index_id == index_id,
                SyncRun.status.in_((RunStatus.SUCCESS, RunStatus.PARTIAL)),
            )
            .group_by(SyncRun.space_key)
            .subquery()
        )
        with self._sessions() as session:
            rows = session.execute(
                select(SyncRun.documents_uploaded, SyncRun.pages_deleted).where(
                    SyncRun.id == latest.c.run_id, SyncRun.searchable_at.is_(None)
                )
            )
            return sum(int(uploaded) + int(deleted) for uploaded, deleted in rows)

    def last_success(self) -> dict[tuple[int, str], datetime]:
        """When each (index id, space key) last finished a successful sync."""
        with self._sessions() as session:
            rows = session.execute(
                select(SyncRun.index_id, SyncRun.space_key, func.max(SyncRun.finished_at))
                .where(SyncRun.status.in_((RunStatus.SUCCESS, RunStatus.PARTIAL)))
                .group_by(SyncRun.index_id, SyncRun.space_key)
            )
            return {(i, s): when for i, s, when in rows if when is not None}

    def previous_run(
        self, index_id: int, space_key: str, before: int | None = None
    ) -> SyncRun | None:
        """The partition's latest run started before run ``before`` (None: the latest run)."""
        query = select(SyncRun).where(SyncRun.index_id == index_id, SyncRun.space_key == space_key)
        if before is not None:
            query = query.where(SyncRun.id < before)
        with self._sessions() as session:
            return session.scalar(query.order_by(SyncRun.id.desc()).limit(1))

    def failed_since(
        self, index_id: int, space_key: str, since: datetime, before: int | None = None
    ) -> bool:
        """Whether a run of the partition started at or after ``since`` (and before run
        ``before``) ended other than successfully: what it was asked to do may still be owed."""
        query = select(func.count()).where(
            SyncRun.index_id == index_id,
            SyncRun.space_key == space_key,
            SyncRun.started_at >= since,
            SyncRun.status != RunStatus.SUCCESS,
        )
        if before is not None:
            query = query.where(SyncRun.id < before)
        with self._sessions() as session:
            return bool(session.scalar(query))

    def record_unchanged(self, index_id: int, space_key: str, *, unchanged: int) -> SyncRun:
        """Records a sync that found the partition unchanged without running (no listing, no
        Dagster run): finished, successful, and searchable as of now."""
        now = utcnow()
        run = SyncRun(
            index_id=index_id,
            space_key=space_key,
            dagster_run_id=None,
            status=RunStatus.SUCCESS,
            started_at=now,
            finished_at=now,
            pages_unchanged=unchanged,
            searchable_at=now,
        )
        with self._sessions.begin() as session:
            session.add(run)
        return run

    def last_listing(self, index_id: int, space_key: str) -> datetime | None:
        """When the partition last finished a successful run that listed the whole space."""
        with self._sessions() as session:
            return session.scalar(
                select(func.max(SyncRun.finished_at)).where(
                    SyncRun.index_id == index_id,
                    SyncRun.space_key == space_key,
                    SyncRun.status == RunStatus.SUCCESS,
                    SyncRun.pages_listed > 0,
                )
            )

    def last_listed_count(self, index_id: int, space_key: str) -> int | None:
        """How many pages the partition's last successful full listing saw (restricted and
        filtered-out pages included); None if it never listed the space."""
        with self._sessions() as session:
            return session.scalar(
                select(SyncRun.pages_listed)
                .where(
                    SyncRun.index_id == index_id,
                    SyncRun.space_key == space_key,
                    SyncRun.status == RunStatus.SUCCESS,
                    SyncRun.pages_listed > 0,
                )
                .order_by(SyncRun.finished_at.desc(), SyncRun.id.desc())
                .limit(1)
            )
