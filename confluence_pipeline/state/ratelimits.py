"""Rate limits shared by every client of a connection, and its hourly usage.

A :class:`StateGate` is the Confluence client's request gate backed by the connection's
``rate_limits`` row: a 429's back-off is written at once and every other client, in any
process, reads it before its next request (the row is re-read at most every
``refresh_seconds``, so a back-off reaches the others within that). Near-limit pacing is
written when it starts or ends. Requests and points are counted in memory and added to the
``connection_usage`` row of their UTC hour every ``flush_every`` requests, every
``flush_seconds`` and when the client closes, so the hot path does not write per request.
A database error there is logged and never fails the request: counters stay buffered for the
next flush, and the gate goes on with what it knows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from confluence_pipeline.confluence.ratelimit import Clamp, LocalGate, RateLimitHeaders, Usage
from confluence_pipeline.state.models import ConnectionUsage, RateLimit

log = logging.getLogger(__name__)
_LIMITS = cast(sa.Table, RateLimit.__table__)
_USAGE = cast(sa.Table, ConnectionUsage.__table__)


def hour_of(epoch: float) -> datetime:
    """The start of the UTC hour holding ``epoch``."""
    return datetime.fromtimestamp(epoch, UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourUsage:
    hour: datetime
    requests: int
    points: int


class StateGate(LocalGate):
    """The gate of connection ``connection_id``, shared through the state database."""

    def __init__(
        self,
        engine: Engine,
        connection_id: int,
        *,
        clock: Callable[[], float] = time.time,
        refresh_seconds: float = 1.0,
        flush_every: int = 100,
        flush_seconds: float = 30.0,
    ) -> None:
        super().__init__(clock)
        self.connection_id = connection_id
        self._engine = engine
        self._refresh = refresh_seconds
        self._flush_every = flush_every
        self._flush_seconds = flush_seconds
        self._read_at = float("-inf")
        self._flushed_at = clock()
        self._pending: dict[datetime, Usage] = {}
        self._pending_requests = 0
        self._pacing_changed = False
        self._quota: RateLimitHeaders | None = None
        self._write_lock = threading.Lock()

    def before_request(self) -> float:
        if self.clock() - self._read_at >= self._refresh:
            self._load()
        return super().before_request()

    def after_response(
        self, headers: Mapping[str, str], points: int, clamp: Clamp
    ) -> RateLimitHeaders:
        limits = super().after_response(headers, points, clamp)
        with self._lock:
            now = self.clock()
            self._pending.setdefault(hour_of(now), Usage()).add(points)
            self._pending_requests += 1
            if limits.remaining is not None:
                self._quota = limits
            due = (
                self._pacing_changed
                or self._pending_requests >= self._flush_every
                or now - self._flushed_at >= self._flush_seconds
            )
        if due:
            self.flush()
        return limits

    def _observe(self, limits: RateLimitHeaders, now: float) -> bool:
        changed = super()._observe(limits, now)
        self._pacing_changed |= changed
        return changed

    def block(self, seconds: float) -> None:
        super().block(seconds)
        self.flush()  # the others must see a back-off now, not at the next flush

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            self._pending_requests = 0
            self._pacing_changed = False
            self._flushed_at = self.clock()
            state, quota = self.state, self._quota
            row: dict[str, Any] = {
                "connection_id": self.connection_id,
                "blocked_until": state.blocked_until,
                "pace": state.pace,
                "pace_until": state.pace_until,
                "quota_limit": quota.limit if quota else None,
                "quota_remaining": quota.remaining if quota else None,
                "quota_reset": quota.reset if quota else None,
            }
        try:
            with self._write_lock, self._engine.begin() as conn:
                _write_limits(conn, row)
                if pending:
                    _add_usage(conn, self.connection_id, pending)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("rate limits of connection %s not saved: %s", self.connection_id, exc)
            with self._lock:
                for hour, usage in pending.items():
                    kept = self._pending.setdefault(hour, Usage())
                    kept.requests += usage.requests
                    kept.points += usage.points

    def _load(self) -> None:
        query = sa.select(_LIMITS.c.blocked_until, _LIMITS.c.pace, _LIMITS.c.pace_until).where(
            _LIMITS.c.connection_id == self.connection_id
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).first()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("rate limits of connection %s not read: %s", self.connection_id, exc)
            row = None
        with self._lock:
            self._read_at = self.clock()
            if row is None:
                return
            state = self.state
            state.blocked_until = max(state.blocked_until, row.blocked_until)
            if row.pace_until > state.pace_until:
                state.pace, state.pace_until = row.pace, row.pace_until


class RateLimits:
    """The rate-limit rows of the state database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def gate(self, connection_id: int, **options: Any) -> StateGate:
        """A gate for a new client of ``connection_id`` (options: see :class:`StateGate`)."""
        return StateGate(self._engine, connection_id, **options)

    def usage(
        self, connection_id: int, *, hours: int, now: datetime | None = None
    ) -> list[HourUsage]:
        """The usage of the last ``hours`` UTC hours (the current one included) that saw any
        request, newest first."""
        since = hour_of((now or datetime.now(UTC)).timestamp()) - timedelta(hours=hours - 1)
        query = (
            sa.select(_USAGE.c.hour, _USAGE.c.requests, _USAGE.c.points)
            .where(_USAGE.c.connection_id == connection_id, _USAGE.c.hour >= since)
            .order_by(_USAGE.c.hour.desc())
        )
        with self._engine.connect() as conn:
            return [HourUsage(*row) for row in conn.execute(query)]

    def status(self, connection_id: int) -> RateLimit | None:
        """The connection's shared back-off, pacing and last reported quota, if any."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(_LIMITS).where(_LIMITS.c.connection_id == connection_id)
            ).first()
        return RateLimit(**row._mapping) if row is not None else None


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


def _write_limits(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Upserts the gate's row; ``blocked_until`` only ever moves later (another process may
    have seen a longer back-off)."""
    insert = _insert(conn, _LIMITS)
    later = sa.case(
        (insert.excluded.blocked_until > _LIMITS.c.blocked_until, insert.excluded.blocked_until),
        else_=_LIMITS.c.blocked_until,
    )
    columns = ("pace", "pace_until", "quota_limit", "quota_remaining", "quota_reset")
    updates: dict[str, Any] = {name: insert.excluded[name] for name in columns}
    if row["quota_remaining"] is None:  # this client saw no quota: keep what others saw
        updates = {}
    conn.execute(
        insert.on_conflict_do_update(
            index_elements=["connection_id"], set_={**updates, "blocked_until": later}
        ),
        row,
    )


def _add_usage(conn: sa.Connection, connection_id: int, pending: dict[datetime, Usage]) -> None:
    insert = _insert(conn, _USAGE)
    statement = insert.on_conflict_do_update(
        index_elements=["connection_id", "hour"],
        set_={
            "requests": _USAGE.c.requests + insert.excluded.requests,
            "points": _USAGE.c.points + insert.excluded.points,
        },
    )
    rows = [
        {"connection_id": connection_id, "hour": hour, "requests": u.requests, "points": u.points}
        for hour, u in pending.items()
    ]
    conn.execute(statement, rows)
