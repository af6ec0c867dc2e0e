"""The guidang command line: the root group and the pipeline's own verbs (init, demo, ingest, run).

Exit codes are a documented contract (README, "Exit codes"); :mod:`guidang.cli.errors` maps exceptions to them.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import ClassVar

import click

from guidang.cli.errors import handle_errors
from guidang.config import Settings, load_settings
from guidang.errors import InputError


class LazyGroup(click.Group):
    """Commands that live in their own modules, imported only when run: ``--help`` lists them from this
    table (name → module:attribute, one-line help) and so imports no check, OCR or image code."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "check": ("guidang.cli.check:check_command", "四性检测 / DA/T 70 checks on a file, package, batch or store"),
        "db": ("guidang.cli.db:db_group", "编目数据库 / the catalogue database (db upgrade)"),
        "eep": ("guidang.cli.eep:eep_group", "电子文件封装包 / DA/T 48 EEP: export, verify, import"),
        "export-eep": ("guidang.cli.eep:export_eep_command", "旧名，即 eep export / old name of eep export"),
        "verify-eep": ("guidang.cli.eep:verify_eep_command", "旧名，即 eep verify / old name of eep verify"),
        "watch": ("guidang.cli.watch:watch_command", "监视收件箱并处理就绪批次 / watch every inbox"),
        "status": ("guidang.cli.watch:status_command", "收件箱、处理中与近期失败 / inboxes, in flight, failures"),
        # issue #15: the web app and its accounts
        "serve": ("guidang.cli.web:serve_command", "审核台网页服务 / serve the review desk (web app)"),
        "user": ("guidang.cli.web:user_group", "账户与 API 令牌 / accounts and API tokens"),
        "audit": ("guidang.cli.web:audit_group", "审计日志校验 / verify the audit log's hash chain"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attr = self.lazy[cmd_name][0].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            elif (cmd := super().get_command(ctx, name)) is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="GUIDANG_HOME",
              help="工作目录 / working home (default ./var, or $GUIDANG_HOME)")
@click.option("-v", "--verbose", count=True, help="更多日志 / more logging")
@click.version_option(package_name="guidang")
def main(home: Path | None, verbose: int) -> None:
    """归档 guidang: 电子档案接收流水线 / an ingest pipeline for electronic archives."""
    if home is not None:
        os.environ["GUIDANG_HOME"] = str(home.resolve())
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings() -> Settings:
    return load_settings()


@main.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="覆盖已有配置 / overwrite an existing config")
@handle_errors
def init(directory: Path | None, force: bool) -> None:
    """创建工作目录与默认配置，升级编目数据库 / create the working home and its config; upgrade the catalogue DB."""
    from guidang.home import init_home

    home = (directory or Path(os.environ.get("GUIDANG_HOME", "var"))).resolve()
    created = init_home(home, force=force)
    click.echo(f"工作目录 working home: {home}")
    for path in created:
        click.echo(f"  + {path}")
    _upgrade_catalogue(home)


def _upgrade_catalogue(home: Path) -> None:
    """``guidang db upgrade`` for the home's configured catalogue (``init`` and ``run`` do it first)."""
    from guidang.cli.db import upgrade_catalogue

    previous = os.environ.get("GUIDANG_HOME")
    os.environ["GUIDANG_HOME"] = str(home)  # the config file read is that home's
    try:
        url = settings().db_url
    finally:
        if previous is None:
            del os.environ["GUIDANG_HOME"]
        else:
            os.environ["GUIDANG_HOME"] = previous
    before, after = upgrade_catalogue(url)
    if before != after:
        click.echo(f"编目数据库 catalogue database: {before or '—'} → {after}")


@main.command()
@click.option("--profile", default="demo", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int)
@handle_errors
def demo(profile: str, seed: int) -> None:
    """生成示例扫描批次到收件箱 / generate a sample scanned batch into the inbox."""
    from guidang.samples.batch import generate_demo

    s = settings()
    inbox = s.inbox_of(profile)
    inbox.mkdir(parents=True, exist_ok=True)
    batch = generate_demo(inbox, seed=seed)
    click.echo(f"示例批次 sample batch: {batch}")


def _profile_for(s: Settings, batch_dir: Path, profile: str | None) -> str:
    if profile:
        s.profile(profile)
        return profile
    for name in s.profiles:
        inbox = s.inbox_of(name).resolve()
        if batch_dir.resolve().is_relative_to(inbox):
            return name
    if len(s.profiles) == 1:
        return next(iter(s.profiles))
    raise InputError(
        "无法判断批次属于哪个收件箱档案，请用 --profile 指定",
        "cannot tell which profile the batch belongs to; name it with --profile",
    )


@main.command()
@click.argument("batch_dir", type=click.Path(path_type=Path))
@click.option("--profile", help="收件箱档案名 / profile name (default: from the inbox the batch is in)")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print one JSON object")
@handle_errors
def ingest(batch_dir: Path, profile: str | None, as_json: bool) -> None:
    """处理一个批次或办件 / process one vendor batch or born-digital case (a folder with case.json)."""
    from guidang.pipeline.dispatch import ingest_delivery

    if not batch_dir.is_dir():
        raise InputError(f"批次目录不存在：{batch_dir}", f"batch folder does not exist: {batch_dir}")
    s = settings()
    outcome = ingest_delivery(s, _profile_for(s, batch_dir, profile), batch_dir.resolve())
    from guidang.reports.registry import render

    click.echo(render("receipt", "json" if as_json else "text", outcome), nl=as_json)


@main.command()
@handle_errors
def run() -> None:
    """初始化、生成示例批次、处理并持续监视收件箱 / init, demo, then watch and ingest (Ctrl-C stops)."""
    from guidang.home import init_home
    from guidang.hotfolders.service import Watcher
    from guidang.samples.batch import generate_demo

    home = Path(os.environ.get("GUIDANG_HOME", "var")).resolve()
    init_home(home)
    _upgrade_catalogue(home)
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))  # say what happens to each batch
    s = settings()
    for name in s.profiles:
        s.inbox_of(name).mkdir(parents=True, exist_ok=True)
    if "demo" in s.profiles and not any(s.inbox_of("demo").iterdir()):
        generate_demo(s.inbox_of("demo"))
        click.echo(f"示例批次已放入 sample batches dropped into: {s.inbox_of('demo')}")
    click.echo(f"工作目录 home: {home}")
    click.echo(f"  长期保存库 store: {s.store_root}")
    click.echo(f"  回执 receipts: {s.outbox_root}   退回 rejected: {s.rejected_root}")
    from guidang.cli.web import ensure_demo_user, start_desk_beside  # issue #15: the review desk beside

    if (demo_user := ensure_demo_user(s)) is not None:
        click.echo(demo_user)
    if (desk := start_desk_beside(s)) is not None:
        click.echo(f"审核台 review desk: {desk.address}")
    click.echo(f"监视收件箱 watching {s.inbox_root} (Ctrl-C 停止 / to stop)")
    try:
        Watcher(s, once=False).run()
    finally:
        if desk is not None:
            desk.stop()
