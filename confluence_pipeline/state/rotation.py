"""Re-encrypting every stored credential from an old ``SECRET_KEY`` to the current one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from confluence_pipeline.state.crypto import SecretKeyMismatch, TokenCipher
from confluence_pipeline.state.db import write_transaction
from confluence_pipeline.state.models import Connection


class RotationRefused(SecretKeyMismatch):
    """A stored credential does not decrypt with the old key; nothing was changed."""

    def __init__(self, connection: str) -> None:
        super().__init__(
            f"connection {connection!r} cannot be decrypted with the old key; nothing was "
            "re-encrypted"
        )
        self.connection = connection


def rotate_secrets(engine: Engine, old: TokenCipher, new: TokenCipher) -> int:
    """Re-encrypts the secret of every connection from ``old`` to ``new`` in one transaction
    that holds the lock token refreshes take, so no refresh interleaves; returns how many.
    When any secret does not decrypt with ``old`` nothing is written (RotationRefused)."""
    with write_transaction(engine) as conn:
        rows = conn.execute(
            sa.select(Connection.id, Connection.name, Connection.secret)
            .order_by(Connection.id)
            .with_for_update()
        ).all()
        fresh = []
        for row in rows:
            try:
                plaintext = old.decrypt(row.secret)
            except SecretKeyMismatch:
                raise RotationRefused(row.name) from None
            fresh.append((row.id, new.encrypt(plaintext)))
        for connection_id, secret in fresh:
            conn.execute(
                sa.update(Connection).where(Connection.id == connection_id).values(secret=secret)
            )
    return len(fresh)
