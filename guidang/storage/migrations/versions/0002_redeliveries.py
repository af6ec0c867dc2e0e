"""Re-deliveries and DA/T 70 ids (issue #11): a batch names the batch it re-delivers, an item the returned
item it supersedes or the archived item it duplicates, and each stored check result the DA/T 70 items it is
one of.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("redelivery_of", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_batches_redelivery_of", "batches", ["redelivery_of"], ["id"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("supersedes", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_items_supersedes", "items", ["supersedes"], ["id"])
        batch.create_foreign_key("fk_items_duplicate_of", "items", ["duplicate_of"], ["id"])
    with op.batch_alter_table("check_results") as batch:
        batch.add_column(sa.Column("dat70", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("check_results") as batch:
        batch.drop_column("dat70")
    with op.batch_alter_table("items") as batch:
        batch.drop_constraint("fk_items_duplicate_of", type_="foreignkey")
        batch.drop_constraint("fk_items_supersedes", type_="foreignkey")
        batch.drop_column("duplicate_of")
        batch.drop_column("supersedes")
    with op.batch_alter_table("batches") as batch:
        batch.drop_constraint("fk_batches_redelivery_of", type_="foreignkey")
        batch.drop_column("redelivery_of")
