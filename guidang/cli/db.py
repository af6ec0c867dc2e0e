"""``guidang db upgrade``: bring the catalogue database to this guidang's schema (Alembic migrations)."""

from __future__ import annotations

import click

from guidang.cli.errors import handle_errors


def upgrade_catalogue(url: str) -> tuple[str | None, str]:
    """Run the migrations on the configured catalogue; a database error is a storage error (exit 5)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    from guidang.errors import StorageError
    from guidang.storage import schema

    engine = create_engine(url)
    try:
        return schema.upgrade(engine)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"编目数据库升级失败 {url}：{exc}", f"the catalogue database upgrade failed {url}: {exc}"
        ) from exc
    finally:
        engine.dispose()


@click.group("db")
def db_group() -> None:
    """编目数据库 / the catalogue database."""


@db_group.command("upgrade")
@handle_errors
def upgrade_command() -> None:
    """升级编目数据库结构到本版本 / upgrade the catalogue database schema to this version."""
    from guidang.cli.app import settings

    url = settings().db_url
    before, after = upgrade_catalogue(url)
    if before == after:
        click.echo(f"编目数据库已是最新 / catalogue database up to date: {after}")
    else:
        click.echo(f"编目数据库已升级 / catalogue database upgraded: {before or '—'} → {after}")


@db_group.command("rebuild")
@handle_errors
def rebuild_command() -> None:
    """由存储重建编目数据库（数据库须为空或不存在）/ rebuild the catalogue from the store alone (into an empty one)."""
    from guidang.cli.app import settings
    from guidang.pipeline.rebuild import rebuild_catalogue

    count = rebuild_catalogue(settings())
    click.echo(f"已由存储重建 {count} 件档案的编目记录 / catalogue rebuilt from the store: {count} records")
