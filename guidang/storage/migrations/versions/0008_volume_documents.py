"""Volumes (issue #21): the documents (文件) of a volume (案卷) item, each with its 档号 and page range,
as the 卷内目录 gives them (docs/volumes.md).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "volume_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("archival_code", sa.String(200), nullable=True),
        sa.Column("seq", sa.String(40), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("first_page", sa.Integer(), nullable=False),
        sa.Column("last_page", sa.Integer(), nullable=False),
    )
    op.create_index("ix_volume_documents_item_id", "volume_documents", ["item_id"])
    op.create_index("ix_volume_documents_archival_code", "volume_documents", ["archival_code"])


def downgrade() -> None:
    op.drop_index("ix_volume_documents_archival_code", table_name="volume_documents")
    op.drop_index("ix_volume_documents_item_id", table_name="volume_documents")
    op.drop_table("volume_documents")
