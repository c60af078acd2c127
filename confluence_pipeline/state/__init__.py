"""The state database: connections, indexes, synced pages, staged work, sync runs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from confluence_pipeline.state.attachments import AttachmentLedger, StoredAttachment
from confluence_pipeline.state.crypto import SecretKeyMismatch, TokenCipher
from confluence_pipeline.state.db import (
    DatabaseURLError,
    create_state_engine,
    migrate,
    session_factory,
)
from confluence_pipeline.state.ledger import (
    AcceptedPage,
    ConvertedPage,
    KnownPage,
    Ledger,
    PageFailure,
    StagedWork,
)
from confluence_pipeline.state.models import Connection, Index, SyncRun
from confluence_pipeline.state.people import People
from confluence_pipeline.state.ratelimits import HourUsage, RateLimits, StateGate
from confluence_pipeline.state.registry import Registry, RegistryError
from confluence_pipeline.state.tokens import TokenVault
from confluence_pipeline.state.values import Action, PageStatus, RunStatus, Stage, Target


@dataclass
class StateStore:
    """The state database, migrated to the latest schema, with its repositories (``tokens``
    holds the OAuth tokens of connections and serializes their refresh)."""

    engine: Engine
    registry: Registry
    ledger: Ledger
    tokens: TokenVault
    people: People
    cipher: TokenCipher
    rate_limits: RateLimits
    attachments: AttachmentLedger

    @classmethod
    def open(cls, url: str, secret_key: str) -> StateStore:
        engine = create_state_engine(url)
        migrate(engine)
        sessions = session_factory(engine)
        cipher = TokenCipher(secret_key)
        return cls(
            engine,
            Registry(sessions, cipher),
            Ledger(sessions),
            TokenVault(engine, cipher),
            People(sessions),
            cipher,
            RateLimits(engine),
            AttachmentLedger(sessions),
        )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = [
    "AcceptedPage",
    "Action",
    "AttachmentLedger",
    "Connection",
    "ConvertedPage",
    "DatabaseURLError",
    "HourUsage",
    "Index",
    "KnownPage",
    "Ledger",
    "PageFailure",
    "PageStatus",
    "People",
    "RateLimits",
    "Registry",
    "RegistryError",
    "RunStatus",
    "SecretKeyMismatch",
    "Stage",
    "StagedWork",
    "StateGate",
    "StateStore",
    "StoredAttachment",
    "SyncRun",
    "Target",
    "TokenVault",
]
