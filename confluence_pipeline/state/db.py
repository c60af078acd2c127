"""Engine and sessions of the state database; the schema is brought up to date on open."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from confluence_pipeline.errors import PipelineError

_MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseURLError(PipelineError, ValueError):
    """The database URL cannot be parsed or names a driver that is not installed."""


def create_state_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            _private_sqlite_files(parsed.database)
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseURLError(f"invalid database URL: {exc}") from None


def _private_sqlite_files(database: str | None) -> None:
    """Creates the SQLite file owner-only (0600) before SQLite does (its WAL and shared-memory
    files then get the same mode), and tightens existing ones that group or others can read:
    they hold encrypted credentials and page bodies."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except FileNotFoundError:
        return  # no such folder: SQLAlchemy reports it when connecting
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_MIGRATION_LOCK = threading.Lock()  # Alembic's command API keeps its context in module globals
_PG_MIGRATION_LOCK_ID = 0x0C0F_1E5C  # advisory lock: one migrating process per PostgreSQL database


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@functools.cache
def _head() -> str | None:
    """The newest migration; reading the scripts costs more than the check itself, so once."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def migrate(engine: Engine) -> None:
    """Applies every pending Alembic migration. Idempotent and safe to call on each open, from
    many threads or processes at once; a database already at head costs one query."""
    with _MIGRATION_LOCK, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID}
            )
        if MigrationContext.configure(connection).get_current_revision() == _head():
            return
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[sa.Connection]:
    """A transaction that holds the write lock (SQLite: ``BEGIN IMMEDIATE``, which also
    serializes processes) or is ready for row locks (``SELECT ... FOR UPDATE`` elsewhere)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # pysqlite would begin lazily (deferred); take the write lock up front instead
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")
