"""LlamaCloud targets: an index's target (pipeline | index) and v2 index id, its migration in
progress, each page's directory file id, runs' searchable time and owed index sync

Revision ID: 0004
Revises: 0003_scope
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003_scope"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexes") as batch:
        batch.add_column(
            sa.Column("target", sa.String(length=20), nullable=False, server_default="pipeline")
        )
        batch.add_column(sa.Column("v2_index_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("migrating_to", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("migration_heartbeat", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("file_id", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("replacing", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("searchable_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("commit_owed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("commit_owed")
        batch.drop_column("searchable_at")
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("replacing")
        batch.drop_column("file_id")
    with op.batch_alter_table("indexes") as batch:
        batch.drop_column("migration_heartbeat")
        batch.drop_column("migrating_to")
        batch.drop_column("v2_index_id")
        batch.drop_column("target")
