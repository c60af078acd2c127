"""OAuth tokens of connections: encrypted at rest, refreshed once per connection at a time.

Atlassian refresh tokens rotate: each refresh returns a new one and kills the old, so two
workers refreshing with the same token would lock the connection out. A refresh therefore
runs inside a lock on the connection's row, held across the token-endpoint call:
``SELECT ... FOR UPDATE`` on PostgreSQL (and other servers), ``BEGIN IMMEDIATE`` on SQLite
(the database's write lock, which also serializes processes). After acquiring the lock the row
is read again; when another worker has already stored newer tokens, those are used and the
token endpoint is not called.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Engine

from confluence_pipeline.confluence.oauth import InvalidGrant, NeedsReconsent, TokenSet
from confluence_pipeline.state.crypto import TokenCipher
from confluence_pipeline.state.db import write_transaction
from confluence_pipeline.state.models import Connection
from confluence_pipeline.state.registry import RegistryError

log = logging.getLogger(__name__)
Refresher = Callable[[str], TokenSet]
_TABLE = cast(sa.Table, Connection.__table__)
_COLUMNS = (
    _TABLE.c.name,
    _TABLE.c.auth_kind,
    _TABLE.c.secret,
    _TABLE.c.access_expires_at,
    _TABLE.c.scopes,
    _TABLE.c.needs_reconsent,
)


class TokenVault:
    """Reads and refreshes the OAuth tokens stored on connections."""

    def __init__(self, engine: Engine, cipher: TokenCipher) -> None:
        self._engine = engine
        self._cipher = cipher

    def __repr__(self) -> str:
        return f"TokenVault({self._engine.url!r})"

    def current(self, connection_id: int) -> TokenSet:
        """The stored tokens; NeedsReconsent when a refresh was refused earlier."""
        with self._engine.connect() as conn:
            return self._tokens(self._row(conn, connection_id, lock=False))

    def refreshed(
        self, connection_id: int, stale: TokenSet | None, margin: timedelta, refresh: Refresher
    ) -> TokenSet:
        """Tokens other than ``stale`` that live longer than ``margin``.

        Under the connection's lock: if the stored tokens already differ from ``stale`` and are
        fresh enough they are returned as they are; otherwise ``refresh(refresh_token)`` is
        called and its result stored. When it raises InvalidGrant the connection is marked as
        needing re-consent (committed) and NeedsReconsent is raised.
        """
        with write_transaction(self._engine) as conn:
            row = self._row(conn, connection_id, lock=True)
            stored = self._tokens(row)
            reusable = stale is None or stored.access_token != stale.access_token
            if reusable and not stored.expires_within(margin):
                return stored
            try:
                fresh = refresh(stored.refresh_token or "")
            except InvalidGrant as exc:
                log.warning("OAuth refresh of connection %s refused: %s", row.name, exc)
                conn.execute(_update(connection_id, needs_reconsent=True))
            else:
                if fresh.refresh_token is None:
                    fresh = replace(fresh, refresh_token=stored.refresh_token)
                conn.execute(
                    _update(
                        connection_id,
                        secret=self._cipher.encrypt(fresh.to_secret()),
                        access_expires_at=fresh.expires_at,
                        last_refresh_at=datetime.now(UTC),
                        scopes=list(fresh.scopes or stored.scopes),
                    )
                )
                log.info(
                    "refreshed OAuth tokens of connection %s (access token valid until %s)",
                    row.name,
                    fresh.expires_at.isoformat(timespec="seconds"),
                )
                return fresh
        raise NeedsReconsent(row.name)

    def source(self, connection_id: int, refresh: Refresher) -> ConnectionTokens:
        """A ``TokenSource`` (see ``confluence.oauth_auth``) for one connection."""
        return ConnectionTokens(self, connection_id, refresh)

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _row(conn: sa.Connection, connection_id: int, *, lock: bool) -> sa.Row[*tuple[Any, ...]]:
        query = sa.select(*_COLUMNS).where(_TABLE.c.id == connection_id)
        if lock:
            query = query.with_for_update()
        row = conn.execute(query).one_or_none()
        if row is None:
            raise RegistryError(f"connection #{connection_id} no longer exists")
        if row.auth_kind != "oauth":
            raise RegistryError(f"connection {row.name!r} does not use OAuth")
        if row.needs_reconsent:
            raise NeedsReconsent(row.name)
        return row

    def _tokens(self, row: sa.Row[*tuple[Any, ...]]) -> TokenSet:
        expires = row.access_expires_at or datetime.fromtimestamp(0, UTC)
        secret = self._cipher.decrypt(row.secret)
        return TokenSet.from_secret(secret, expires_at=expires, scopes=row.scopes or ())


class ConnectionTokens:
    """The tokens of one connection, refreshed through ``refresh`` under the vault's lock."""

    def __init__(self, vault: TokenVault, connection_id: int, refresh: Refresher) -> None:
        self._vault = vault
        self._connection_id = connection_id
        self._refresh = refresh

    def __repr__(self) -> str:
        return f"ConnectionTokens(#{self._connection_id})"

    def current(self) -> TokenSet:
        return self._vault.current(self._connection_id)

    def refreshed(self, stale: TokenSet | None, margin: timedelta) -> TokenSet:
        return self._vault.refreshed(self._connection_id, stale, margin, self._refresh)


def _update(connection_id: int, **values: object) -> sa.Update:
    return sa.update(_TABLE).where(_TABLE.c.id == connection_id).values(**values)
