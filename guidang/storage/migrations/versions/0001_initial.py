"""The catalogue schema as guidang 0.1 created it with ``create_all`` (tables, indexes, constraints).

A database made before migrations existed holds some or all of these tables already (``create_all`` made
each table with its indexes): those are kept, the missing ones are created.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "batches" not in existing:
        op.create_table(
            "batches",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("profile", sa.String(length=100), nullable=False),
            sa.Column("vendor", sa.String(length=200), nullable=False),
            sa.Column("name", sa.String(length=255), nullable=False),
            sa.Column("content_digest", sa.String(length=64), nullable=False),
            sa.Column("delivery", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("source_path", sa.Text(), nullable=False),
            sa.Column("errors", sa.JSON(), nullable=False),
            sa.Column("summary", sa.JSON(), nullable=False),
            sa.Column("receipt_path", sa.Text(), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_batches_content_digest"), "batches", ["content_digest"], unique=False)
    if "events" not in existing:
        op.create_table(
            "events",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("agent", sa.String(length=200), nullable=False),
            sa.Column("action", sa.String(length=60), nullable=False),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("detail", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_events_at"), "events", ["at"], unique=False)
    if "watch_claims" not in existing:
        op.create_table(
            "watch_claims",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("profile", sa.String(length=100), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("source_path", sa.Text(), nullable=False),
            sa.Column("source_raw", sa.Text(), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("processing_path", sa.Text(), nullable=False),
            sa.Column("final_path", sa.Text(), nullable=True),
            sa.Column("stage", sa.String(length=20), nullable=False),
            sa.Column("settled", sa.Boolean(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("crashes", sa.Integer(), nullable=False),
            sa.Column("errors", sa.Integer(), nullable=False),
            sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
            sa.Column("worker", sa.String(length=200), nullable=True),
            sa.Column("reason", sa.String(length=60), nullable=True),
            sa.Column("detail", sa.JSON(), nullable=False),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column("batch_id", sa.Integer(), nullable=True),
            sa.Column("outcome", sa.String(length=20), nullable=True),
            sa.Column("summary", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_watch_claims_profile"), "watch_claims", ["profile"], unique=False)
        op.create_index(op.f("ix_watch_claims_stage"), "watch_claims", ["stage"], unique=False)
    if "items" not in existing:
        op.create_table(
            "items",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("batch_id", sa.Integer(), nullable=False),
            sa.Column("archival_code", sa.String(length=200), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
            sa.Column("row", sa.JSON(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("failed_checks", sa.JSON(), nullable=False),
            sa.Column("object_id", sa.String(length=200), nullable=True),
            sa.Column("rejected_path", sa.Text(), nullable=True),
            sa.Column("page_count", sa.Integer(), nullable=False),
            sa.Column("byte_count", sa.Integer(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["batch_id"],
                ["batches.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("batch_id", "archival_code"),
        )
        op.create_index(op.f("ix_items_archival_code"), "items", ["archival_code"], unique=False)
        op.create_index(op.f("ix_items_batch_id"), "items", ["batch_id"], unique=False)
        op.create_index(op.f("ix_items_object_id"), "items", ["object_id"], unique=False)
    if "check_results" not in existing:
        op.create_table(
            "check_results",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.Integer(), nullable=False),
            sa.Column("check_id", sa.String(length=40), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("blocking", sa.Boolean(), nullable=False),
            sa.Column("message_zh", sa.Text(), nullable=False),
            sa.Column("message_en", sa.Text(), nullable=False),
            sa.Column("evidence", sa.JSON(), nullable=False),
            sa.ForeignKeyConstraint(
                ["item_id"],
                ["items.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_check_results_check_id"), "check_results", ["check_id"], unique=False)
        op.create_index(op.f("ix_check_results_item_id"), "check_results", ["item_id"], unique=False)
    if "decisions" not in existing:
        op.create_table(
            "decisions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("failed_checks", sa.JSON(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("agent", sa.String(length=200), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["item_id"],
                ["items.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_decisions_item_id"), "decisions", ["item_id"], unique=False)
    if "files" not in existing:
        op.create_table(
            "files",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.Integer(), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("relpath", sa.Text(), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("sm3", sa.String(length=64), nullable=False),
            sa.ForeignKeyConstraint(
                ["item_id"],
                ["items.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_files_item_id"), "files", ["item_id"], unique=False)
    if "guidang_sequence" not in existing:
        op.create_table(
            "guidang_sequence",
            sa.Column("prefix", sa.String(length=255), nullable=False, comment="档号 without its sequence part"),
            sa.Column("last_value", sa.Integer(), nullable=False, comment="last number given in this class"),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("prefix"),
        )


def downgrade() -> None:
    op.drop_table("guidang_sequence")
    op.drop_index(op.f("ix_files_item_id"), table_name="files")
    op.drop_table("files")
    op.drop_index(op.f("ix_decisions_item_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_check_results_item_id"), table_name="check_results")
    op.drop_index(op.f("ix_check_results_check_id"), table_name="check_results")
    op.drop_table("check_results")
    op.drop_index(op.f("ix_items_object_id"), table_name="items")
    op.drop_index(op.f("ix_items_batch_id"), table_name="items")
    op.drop_index(op.f("ix_items_archival_code"), table_name="items")
    op.drop_table("items")
    op.drop_index(op.f("ix_watch_claims_stage"), table_name="watch_claims")
    op.drop_index(op.f("ix_watch_claims_profile"), table_name="watch_claims")
    op.drop_table("watch_claims")
    op.drop_index(op.f("ix_events_at"), table_name="events")
    op.drop_table("events")
    op.drop_index(op.f("ix_batches_content_digest"), table_name="batches")
    op.drop_table("batches")
