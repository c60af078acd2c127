"""The state database: connections, indexes, synced pages, staged work, sync runs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from confluence_pipeline.state.crypto import SecretKeyMismatch, TokenCipher
from confluence_pipeline.state.db import (
    DatabaseURLError,
    create_state_engine,
    migrate,
    session_factory,
)
from confluence_pipeline.state.ledger import AcceptedPage, KnownPage, Ledger
from confluence_pipeline.state.models import Connection, Index, SyncRun
from confluence_pipeline.state.registry import Registry, RegistryError


@dataclass
class StateStore:
    """The state database, migrated to the latest schema, with its two repositories."""

    engine: Engine
    registry: Registry
    ledger: Ledger

    @classmethod
    def open(cls, url: str, secret_key: str) -> StateStore:
        engine = create_state_engine(url)
        migrate(engine)
        sessions = session_factory(engine)
        return cls(engine, Registry(sessions, TokenCipher(secret_key)), Ledger(sessions))

    def close(self) -> None:
        self.engine.dispose()


__all__ = [
    "AcceptedPage",
    "Connection",
    "DatabaseURLError",
    "Index",
    "KnownPage",
    "Ledger",
    "Registry",
    "RegistryError",
    "SecretKeyMismatch",
    "StateStore",
    "SyncRun",
]
