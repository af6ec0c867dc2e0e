"""The search index (issue #20, 查阅利用): a row per archived record with its filter fields, a row per page of
its text with the page's terms, and what the models cannot say (the FTS5 table and its triggers on SQLite,
the GIN index on PostgreSQL; ``guidang.storage.search_index``). The index is derived from the store:
``guidang index rebuild`` fills it.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from guidang.storage import search_index

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "search_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("fonds", sa.String(length=100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("retention", sa.String(length=20), nullable=False),
        sa.Column("classification", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(length=40), nullable=False),
        sa.Column("matter", sa.String(length=200), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("batch", sa.String(length=255), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    for column in ("fonds", "year", "retention", "level", "control", "matter", "vendor", "batch"):
        op.create_index(op.f(f"ix_search_records_{column}"), "search_records", [column], unique=False)
    op.create_table(
        "search_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["search_records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "page"),
    )
    op.create_index(op.f("ix_search_pages_record_id"), "search_pages", ["record_id"], unique=False)
    search_index.create_index_objects(op.get_bind())


def downgrade() -> None:
    search_index.drop_index_objects(op.get_bind())
    op.drop_index(op.f("ix_search_pages_record_id"), table_name="search_pages")
    op.drop_table("search_pages")
    for column in ("fonds", "year", "retention", "level", "control", "matter", "vendor", "batch"):
        op.drop_index(op.f(f"ix_search_records_{column}"), table_name="search_records")
    op.drop_table("search_records")
