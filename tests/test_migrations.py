"""Catalogue schema migrations (Alembic): an old home upgrades, and the models never drift from the migrations."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, create_engine, select, text

import guidang.hotfolders.state  # registers the watcher's table on the catalogue's Base
from guidang.cli import main
from guidang.errors import StorageError
from guidang.storage import schema
from guidang.storage.catalogue import BatchRow, Catalogue

OLD_SCHEMA = Path(__file__).parent / "data" / "catalogue-before-migrations.sql"


def _models() -> MetaData:
    """Every table the code defines, in one MetaData (what compare_metadata needs)."""
    merged = MetaData()
    for metadata in schema.target_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def _drift(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": schema.include_name})
        return list(compare_metadata(context, _models()))


def _old_home_db(path: Path) -> None:
    """A catalogue as the previous guidang made it (create_all, no alembic_version), holding one batch."""
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA.read_text("utf-8"))
        db.execute(
            "INSERT INTO batches (profile, vendor, name, content_digest, delivery, status, source_path, errors,"
            " summary, received_at) VALUES ('demo', '示例', 'b1', ?, 1, 'done', '/x', '[]', '{}', ?)",
            ("0" * 64, dt.datetime(2026, 1, 2, tzinfo=dt.UTC).isoformat(" ")),
        )


def test_a_home_made_before_migrations_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "catalogue.db"
    _old_home_db(db)
    url = f"sqlite:///{db}"
    with pytest.raises(StorageError, match="db upgrade"):
        Catalogue(url)  # refused, naming the command, instead of running on a schema it does not know
    before, after = schema.upgrade(create_engine(url))
    assert (before, after) == (None, schema.head())
    assert _drift(create_engine(url)) == []
    with Catalogue(url).session() as s:
        assert [b.name for b in s.scalars(select(BatchRow))] == ["b1"]
    assert schema.upgrade(create_engine(url)) == (schema.head(), schema.head())  # twice is harmless


def test_db_upgrade_command_on_an_old_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _old_home_db(home / "catalogue.db")
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    done = CliRunner().invoke(main, ["db", "upgrade"])
    assert done.exit_code == 0, done.output
    assert f"→ {schema.head()}" in done.output
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert again.exit_code == 0 and schema.head() in again.output
    Catalogue(f"sqlite:///{home / 'catalogue.db'}")  # opens now


def test_an_old_schema_is_refused_with_exit_5_by_a_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _old_home_db(home / "catalogue.db")
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    done = CliRunner().invoke(main, ["status", "--json"])
    assert done.exit_code == 5 and "guidang db upgrade" in done.stderr


def test_models_and_migrations_agree_sqlite(tmp_path: Path) -> None:
    """A column or table added to a model without a migration fails here."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    assert schema.upgrade(engine) == (None, schema.head())
    assert _drift(engine) == []


def test_a_fresh_catalogue_is_at_head_and_equals_the_migrated_one(tmp_path: Path) -> None:
    cat = Catalogue(f"sqlite:///{tmp_path / 'fresh.db'}")
    with cat.engine.connect() as conn:
        assert schema.current(conn) == schema.head()
    assert _drift(cat.engine) == []


def test_the_drift_check_can_fail(tmp_path: Path) -> None:
    """The agreement test is not vacuous: a column the migrations lack is reported."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE items ADD COLUMN surprise TEXT"))
    assert any("surprise" in str(d) for d in _drift(engine))


def test_models_and_migrations_agree_postgresql(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    assert schema.upgrade(engine) == (None, schema.head())
    assert _drift(engine) == []
    assert schema.upgrade(engine) == (schema.head(), schema.head())
    engine.dispose()


def test_the_head_constant_is_the_newest_migration() -> None:
    """``schema.HEAD`` (what opening a catalogue checks, without Alembic) names the newest file in versions/."""
    assert schema.head() == schema.HEAD


def test_run_upgrades_a_home_made_by_an_older_make_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`guidang run` (what `make run` calls) upgrades the catalogue before it watches."""
    import guidang.hotfolders.service
    import guidang.samples.batch

    home = tmp_path / "home"
    home.mkdir()
    _old_home_db(home / "catalogue.db")
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    monkeypatch.setattr(guidang.samples.batch, "generate_demo", lambda *a, **k: home / "inbox" / "demo" / "x")
    watched: list[bool] = []

    def watch(self: guidang.hotfolders.service.Watcher) -> int:
        watched.append(True)
        return 0

    monkeypatch.setattr(guidang.hotfolders.service.Watcher, "run", watch)
    monkeypatch.setattr("guidang.cli.web.start_desk_beside", lambda s: None)  # the desk: tests/test_web_smoke.py
    done = CliRunner().invoke(main, ["run"])
    assert done.exit_code == 0, done.output
    assert watched == [True]
    with create_engine(f"sqlite:///{home / 'catalogue.db'}").connect() as conn:
        assert schema.current(conn) == schema.head()
