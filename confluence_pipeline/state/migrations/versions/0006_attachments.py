"""attachments: per-index settings (attachments on/off, size cap), the attachment files
each index holds (attachment id, page, version, stored LlamaCloud file), pages whose
attachments are still to be looked at, runs' attachment counts

Revision ID: 0006_attachments
Revises: 0005_rate_limits
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_attachments"
down_revision: str | None = "0005_rate_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexes") as batch:
        batch.add_column(
            sa.Column("attachments", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("attachment_max_mb", sa.Integer(), nullable=False, server_default="20")
        )
    with op.batch_alter_table("sync_runs") as batch:
        for column in ("attachments_uploaded", "attachments_deleted", "attachments_skipped"):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "index_id",
            sa.Integer(),
            sa.ForeignKey("indexes.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("space_key", sa.String(length=255), nullable=False, index=True),
        sa.Column("page_id", sa.String(length=40), nullable=False),
        sa.Column("attachment_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("document_id", sa.String(length=200), nullable=False),
        sa.Column("stored_id", sa.String(length=100), nullable=False),
        sa.Column("metadata_hash", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("index_id", "attachment_id"),
    )
    op.create_table(
        "attachment_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "index_id",
            sa.Integer(),
            sa.ForeignKey("indexes.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("space_key", sa.String(length=255), nullable=False, index=True),
        sa.Column("page_id", sa.String(length=40), nullable=False),
        sa.Column("page_metadata", sa.JSON(), nullable=False),
        sa.UniqueConstraint("index_id", "page_id"),
    )


def downgrade() -> None:
    op.drop_table("attachment_checks")
    op.drop_table("attachments")
    with op.batch_alter_table("sync_runs") as batch:
        for column in ("attachments_skipped", "attachments_deleted", "attachments_uploaded"):
            batch.drop_column(column)
    with op.batch_alter_table("indexes") as batch:
        batch.drop_column("attachment_max_mb")
        batch.drop_column("attachments")
