"""Freshness: each index's full-listing bound (hours; default weekly)

Revision ID: 0007_freshness
Revises: 0006_attachments
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_freshness"
down_revision: str | None = "0006_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexes") as batch:
        batch.add_column(
            sa.Column("full_listing_hours", sa.Integer(), nullable=False, server_default="168")
        )


def downgrade() -> None:
    with op.batch_alter_table("indexes") as batch:
        batch.drop_column("full_listing_hours")
