"""Rate limits: the shared back-off and pacing of each connection, and its hourly usage

Revision ID: 0005_rate_limits
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_rate_limits"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _connection() -> sa.Column[int]:
    return sa.Column(
        "connection_id",
        sa.Integer(),
        sa.ForeignKey("connections.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        _connection(),
        sa.Column("blocked_until", sa.Float(), nullable=False, server_default="0"),
        sa.Column("pace", sa.Float(), nullable=False, server_default="0"),
        sa.Column("pace_until", sa.Float(), nullable=False, server_default="0"),
        sa.Column("quota_limit", sa.Integer(), nullable=True),
        sa.Column("quota_remaining", sa.Integer(), nullable=True),
        sa.Column("quota_reset", sa.Float(), nullable=True),
    )
    op.create_table(
        "connection_usage",
        _connection(),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("points", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("connection_usage")
    op.drop_table("rate_limits")
