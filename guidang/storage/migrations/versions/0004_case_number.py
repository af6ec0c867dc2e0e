"""Born-digital cases (issue #16): an item records the 办件编号 of the case it is, indexed, so that a case
posted again is found without reading every item (one record per 办件编号). Items written before this
revision get it from their stored row.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("case_number", sa.String(200), nullable=True))
        batch.create_index(op.f("ix_items_case_number"), ["case_number"], unique=False)
    items = sa.table("items", sa.column("id", sa.Integer), sa.column("row", sa.JSON),
                     sa.column("case_number", sa.String))  # fmt: skip
    bind = op.get_bind()
    for item_id, row in bind.execute(sa.select(items.c.id, items.c.row)).all():
        data = json.loads(row) if isinstance(row, str) else (row or {})
        number = data.get("case_number") if isinstance(data, dict) else None
        if number:
            bind.execute(items.update().where(items.c.id == item_id).values(case_number=str(number)[:200]))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_index(op.f("ix_items_case_number"))
        batch.drop_column("case_number")
