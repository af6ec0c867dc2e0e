"""The catalogue database's schema version: Alembic migrations shipped in ``storage/migrations/``.

``upgrade`` (``guidang db upgrade``, run by ``init`` and ``run``) brings any catalogue to the newest revision:
an empty database is built by the migrations; a database made by guidang before migrations existed (its
tables from ``create_all``, no ``alembic_version``) goes through 0001 too, which is that schema and keeps the
tables it finds.
``Catalogue`` itself creates a fresh database from the models (and stamps it), and refuses one that is older
than this code, naming the command that upgrades it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, MetaData, inspect, text

from guidang.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions (a test keeps the two equal). Opening a catalogue compares the
# database with it by one query, without importing Alembic (a quarter of a second) in every worker.
HEAD = "0004"


def target_metadata() -> list[MetaData]:
    """The models the migrations must agree with (tables other layers add register on the same ``Base``)."""
    from guidang.storage import sequence
    from guidang.storage.catalogue import Base

    return [Base.metadata, sequence.metadata]


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision in the migrations folder."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert found is not None  # 0001 always exists
    return found


def current(connection: Connection) -> str | None:
    """The database's revision; None when it has none (empty, or made before migrations)."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _is_empty(connection: Connection) -> bool:
    return not inspect(connection).get_table_names()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the catalogue to the newest revision; returns (revision before, revision after)."""
    from alembic import command

    with engine.begin() as conn:
        before = current(conn)
        command.upgrade(_config(conn), "head")
        after = current(conn)
    assert after is not None
    return before, after


def stamp_head(connection: Connection) -> None:
    """Record a database just built from the models as being at the newest revision."""
    from alembic import command

    command.stamp(_config(connection), "head")


def require_current(engine: Engine) -> None:
    """Create a fresh catalogue from the models, or check an existing one is at this code's revision."""
    with engine.begin() as conn:
        if _is_empty(conn):
            for metadata in target_metadata():
                metadata.create_all(conn)
            stamp_head(conn)
            return
        found = current(conn)
    if found != HEAD:
        raise StorageError(
            f"编目数据库的结构版本（{found or '无 none'}）不是本程序的版本（{HEAD}）；请先运行 guidang db upgrade",
            f"the catalogue database is at schema revision {found or 'none'}, this guidang needs {HEAD}; "
            "run `guidang db upgrade` first",
        )
