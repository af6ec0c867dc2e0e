"""``guidang search QUERY [--json]`` and ``guidang index rebuild``: the search index from the command line.

The command line is the local operator's: cleared for every record and personal data unless ``--clearance``
(and ``--control``) restrict it, as a script that serves others should. Every search is recorded in the
catalogue's events (who, what was asked, how many hits).
"""

from __future__ import annotations

import getpass
import json
from typing import Any

import click

from guidang.cli.errors import handle_errors

FILTER_OPTIONS = {"fonds": "全宗号 / fonds code", "year": "年度 / year", "retention": "保管期限 / retention",
                  "classification": "密级 / classification", "matter": "事项名称 / service matter",
                  "vendor": "数字化公司 / vendor", "batch": "批次 / batch name"}


def _filters(given: dict[str, Any]) -> dict[str, str | int]:
    return {k: v for k, v in given.items() if k in FILTER_OPTIONS and v not in (None, "")}


def _filter_options(f: Any) -> Any:
    for name, help_text in reversed(FILTER_OPTIONS.items()):
        kind: Any = int if name == "year" else str
        f = click.option(f"--{name}", type=kind, default=None, help=f"只看 / only {help_text}")(f)
    return f


@click.command("search")
@click.argument("query", default="")
@_filter_options
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="条数 / hits shown")
@click.option("--offset", type=click.IntRange(0), default=0, help="跳过 / hits skipped")
@click.option("--clearance", default="*", show_default=True,
              help="以此密级检索（公开、限制、秘密、机密、绝密；* 全部）/ search as a viewer cleared to this 密级")
@click.option("--control", "controls", multiple=True, help="查阅者持有的控制标识 / a 控制标识 the viewer holds")
@click.option("--ranked", is_flag=True, help="按相关度排序（默认最新在前）/ best first (default: newest first)")
@click.option("--mask", is_flag=True, help="遮蔽个人信息 / mask personal data (身份证号, 手机号, 银行卡号)")
@click.option("--json", "as_json", is_flag=True, help="JSON 输出 / print JSON")
@handle_errors
def search_command(query: str, limit: int, offset: int, clearance: str, controls: tuple[str, ...], ranked: bool,
                   mask: bool, as_json: bool, **given: Any) -> None:
    """全文与元数据检索 / find records by their text or metadata (every word of QUERY must match)."""
    from guidang.cli.app import settings
    from guidang.pipeline import search
    from guidang.pipeline.access import Viewer
    from guidang.storage.catalogue import Catalogue

    cat = Catalogue(settings().db_url)
    user = f"cli:{getpass.getuser()}"  # how the audit log names a command-line user (guidang.web.audit)
    restricted = clearance != "*" or bool(controls)
    viewer = Viewer(name=user, clearance=clearance, controls=frozenset(controls), personal_data=not mask,
                    every_control=not restricted)
    filters = _filters(given)
    hits = search.find(cat, viewer, query, filters, limit=limit, offset=offset, ranked=ranked)
    with cat.session() as s:
        cat.log(s, user, "search.query", query, filters=filters, clearance=clearance, hits=len(hits), via="cli")
    if as_json:
        click.echo(json.dumps({"query": query, "filters": filters, "hits": [h.as_json() for h in hits]},
                              ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("没有找到 / no hits")
        return
    for h in hits:
        where = "元数据 metadata" if h.page == 0 else f"第 {h.page} 页 page {h.page}"
        click.echo(f"{h.code}  {h.title}  [{h.classification or '—'}]  {where}")
        click.echo(f"    {h.snippet.marked()}")


@click.group("index")
def index_group() -> None:
    """检索索引 / the search index."""


@index_group.command("rebuild")
@handle_errors
def rebuild_command() -> None:
    """从存储重建检索索引 / rebuild the search index from the store alone."""
    from guidang.cli.app import settings
    from guidang.pipeline import indexing
    from guidang.storage.catalogue import Catalogue
    from guidang.storage.ocfl_store import OcflStore

    cfg = settings()
    cat = Catalogue(cfg.db_url)
    done = indexing.rebuild(cat, OcflStore(cfg.store_root))
    with cat.session() as s:
        cat.log(s, f"cli:{getpass.getuser()}", "index.rebuilt", str(cfg.store_root), records=done.indexed,
                pages=done.pages, failed=[code for code, _ in done.failed])
    click.echo(f"已索引 {done.indexed} 件、{done.pages} 页 / indexed {done.indexed} records, {done.pages} pages")
    for code, why in done.failed:
        click.echo(f"未能索引 not indexed: {code}: {why}", err=True)
    if done.failed:
        from guidang.errors import StorageError

        n = len(done.failed)
        raise StorageError(f"{n} 件未能索引（原因见上）", f"{n} records could not be indexed (reasons above)")
