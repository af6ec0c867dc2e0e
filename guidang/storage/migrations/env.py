"""Alembic environment: guidang runs its migrations on a connection it passes in (guidang.storage.schema)."""

from __future__ import annotations

from alembic import context

from guidang.storage.schema import include_name, target_metadata

connection = context.config.attributes["connection"]
# batch mode: SQLite alters a table by copying it (ALTER TABLE there cannot change or drop columns)
context.configure(connection=connection, target_metadata=target_metadata(), render_as_batch=True,
                  include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
