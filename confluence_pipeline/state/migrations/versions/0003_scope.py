"""scope: per-index restricted-page policy and filters, owners as lists, pages' scope hash

Revision ID: 0003_scope
Revises: 0002_people
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_scope"
down_revision: str | None = "0002_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indexes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("include_restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("labels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("exclude_labels", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("under", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("cql", sa.Text(), nullable=True))
        batch_op.alter_column(
            "owner", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=True
        )
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.alter_column(
            "owner", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=True
        )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_column("scope_hash")
    with op.batch_alter_table("connections", schema=None) as batch_op:
        batch_op.alter_column(
            "owner", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=True
        )
    with op.batch_alter_table("indexes", schema=None) as batch_op:
        batch_op.alter_column(
            "owner", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=True
        )
        for column in ("cql", "under", "exclude_labels", "labels", "include_restricted"):
            batch_op.drop_column(column)
