"""The review desk (issue #15): accounts, API tokens, login sessions, acceptance samples, and the audit log's
SM3 hash chain (each event's sequence number, previous hash and hash; the chain's head). Events written before
this revision are chained here, in the order of their ids.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

GENESIS = "0" * 64


def _when() -> sa.Column[dt.datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_events_seq", ["seq"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("clearance", sa.String(20), nullable=False),
        sa.Column("control_marks", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when(),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        _when(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        _when(),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "acceptance_samples",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.Integer(), sa.ForeignKey("batches.id"), nullable=False, index=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("items.id"), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("item_id"),
    )
    _chain_existing_events()


def _chain_existing_events() -> None:
    from guidang.storage.audit import entry_hash

    conn = op.get_bind()
    events = sa.table("events", sa.column("id"), sa.column("at", sa.DateTime(timezone=True)), sa.column("agent"),
                      sa.column("action"), sa.column("subject"), sa.column("detail", sa.JSON()), sa.column("seq"),
                      sa.column("prev_hash"), sa.column("hash"))
    prev, seq = GENESIS, 0
    rows = conn.execute(sa.select(events.c.id, events.c.at, events.c.agent, events.c.action, events.c.subject,
                                  events.c.detail).order_by(events.c.id)).all()
    for row in rows:
        seq += 1
        digest = entry_hash(prev, seq, row.at, row.agent, row.action, row.subject, row.detail)
        conn.execute(events.update().where(events.c.id == row.id).values(seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")).insert()
                 .values(id=1, seq=seq, hash=prev))


def downgrade() -> None:
    op.drop_table("acceptance_samples")
    op.drop_table("web_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("audit_head")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
