"""Receipt versions (issue #17): every receipt written for a batch, with the SHA-256 of its JSON and HTML, so
that a later return or override gives the vendor a new version and the earlier ones stay verifiable.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("batches.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("json_sha256", sa.String(64), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("json_path", sa.Text(), nullable=False),
        sa.Column("html_path", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("batch_id", "version"),
    )
    op.create_index("ix_receipts_batch_id", "receipts", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_receipts_batch_id", table_name="receipts")
    op.drop_table("receipts")
