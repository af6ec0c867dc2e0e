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
        "audit": ("guidang.cli.audit:audit_command", "长期保存审计 / audit the store: fixity, second copy, checks"),
        "repair": ("guidang.cli.preserve:repair_command", "从完好副本修复 / restore a damaged copy from the good one"),
        "backup": ("guidang.cli.preserve:backup_command", "写入脱机载体并登记 / copy objects to an offline carrier"),
        "restore-test": ("guidang.cli.preserve:restore_test_command", "脱机载体恢复测试 / restore a sample and verify"),
        "destroy": ("guidang.cli.preserve:destroy_command", "鉴定销毁并登记 / destroy a record after appraisal"),
        "hold": ("guidang.cli.preserve:hold_command", "S3 副本法律保留 / legal hold on the S3 copy (disputes)"),
        "check": ("guidang.cli.check:check_command", "四性检测 / DA/T 70 checks on a file, package, batch or store"),
        "db": ("guidang.cli.db:db_group", "编目数据库 / the catalogue database (db upgrade)"),
        "eep": ("guidang.cli.eep:eep_group", "电子文件封装包 / DA/T 48 EEP: export, verify, import"),
        "export-eep": ("guidang.cli.eep:export_eep_command", "旧名，即 eep export / old name of eep export"),
        "verify-eep": ("guidang.cli.eep:verify_eep_command", "旧名，即 eep verify / old name of eep verify"),
        "watch": ("guidang.cli.watch:watch_command", "监视收件箱并处理就绪批次 / watch every inbox"),
        "status": ("guidang.cli.watch:status_command", "收件箱、处理中与近期失败 / inboxes, in flight, failures"),
        # issue 17
        "preflight": ("guidang.cli.preflight:preflight_command", "交付前预检 / check a batch before delivery"),
        "profile": ("guidang.cli.preflight:profile_group", "收件箱档案 / profile export for a vendor's preflight"),
        "report": ("guidang.cli.report:report_command", "运行报告 / ops report: acceptance, checks, stages, audits"),
        "form": ("guidang.cli.form:form_command", "登记表 / registration forms (GB/T 18894 A.1, A.3; DA/T 93 C.1)"),
        # issue #15: the web app and its accounts
        "serve": ("guidang.cli.web:serve_command", "审核台网页服务 / serve the review desk (web app)"),
        "user": ("guidang.cli.web:user_group", "账户与 API 令牌 / accounts and API tokens"),
        "audit-log": ("guidang.cli.web:audit_group", "审计日志校验 / verify the audit log's hash chain"),
        # issue #20: search (查阅利用)
        "search": ("guidang.cli.search:search_command", "全文与元数据检索 / full-text and metadata search"),
        "index": ("guidang.cli.search:index_group", "检索索引 / the search index (index rebuild)"),
        "worker": ("guidang.cli.worker:worker_command", "分布式工作进程（Celery）/ a Celery worker for page tasks"),
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
@click.option("-v", "--verbose", count=True, help="更多日志 / more logging (-vv: the libraries' too)")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="日志格式 / log lines as text or one JSON object per line")
@click.version_option(package_name="guidang")
def main(home: Path | None, verbose: int, log_format: str) -> None:
    """归档 guidang: 电子档案接收流水线 / an ingest pipeline for electronic archives."""
    from guidang import logs

    if home is not None:
        os.environ["GUIDANG_HOME"] = str(home.resolve())
    logs.configure(logging.WARNING - 10 * min(verbose, 2), log_format)


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
    from guidang.packaging.archival_code import get_rule, volume_rule
    from guidang.samples.batch import generate_demo
    from guidang.samples.volumes import generate_volume_demo

    s = settings()
    inbox = s.inbox_of(profile)
    inbox.mkdir(parents=True, exist_ok=True)
    by_volume = volume_rule(get_rule(s.profile(profile).archival_code_rule, s.archival_code_rules)) is not None
    # an inbox whose 档号 rule numbers volumes gets a volume batch (案卷, docs/volumes.md)
    batch = generate_volume_demo(inbox, seed=seed) if by_volume else generate_demo(inbox, seed=seed)
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
    from guidang.hotfolders.unit import processor_of

    if not batch_dir.is_dir():
        raise InputError(f"批次目录不存在：{batch_dir}", f"batch folder does not exist: {batch_dir}")
    from guidang.cli.progress import page_progress
    from guidang.pipeline.progress import Progress

    s = settings()
    name = _profile_for(s, batch_dir, profile)
    with page_progress("OCR 页 pages", quiet=as_json) as bar:
        outcome = processor_of(s, Progress(bar.start, bar.advance))(s, name, batch_dir.resolve())
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
    guidang_log = logging.getLogger("guidang")  # say what happens to each batch; the libraries stay quiet
    guidang_log.setLevel(min(guidang_log.getEffectiveLevel(), logging.INFO))
    s = settings()
    for name in s.profiles:
        s.inbox_of(name).mkdir(parents=True, exist_ok=True)
    if "demo" in s.profiles and not any(s.inbox_of("demo").iterdir()):
        generate_demo(s.inbox_of("demo"))
        click.echo(f"示例批次已放入 sample batches dropped into: {s.inbox_of('demo')}")
    if "demo-volumes" in s.profiles and not any(s.inbox_of("demo-volumes").iterdir()):  # issue #21: 案卷
        from guidang.samples.volumes import generate_volume_demo

        generate_volume_demo(s.inbox_of("demo-volumes"))
        click.echo(f"示例案卷批次已放入 sample volume batch dropped into: {s.inbox_of('demo-volumes')}")
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
