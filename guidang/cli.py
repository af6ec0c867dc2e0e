"""The guidang command line. Exit codes are a documented contract (README, "Exit codes")."""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import click

from guidang.config import Settings, console_language, load_settings
from guidang.errors import ExitCode, GuidangError, InputError

F = TypeVar("F", bound=Callable[..., Any])


def _language() -> str:
    return console_language()


def handle_errors(fn: F) -> F:
    """Turn expected errors into a message on stderr and their exit code; never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GuidangError as exc:
            click.echo(f"guidang: [{exc.code}] {exc.message(_language())}", err=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            click.echo("guidang: 已中断 / interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))

    return wrapper  # type: ignore[return-value]


class LazyGroup(click.Group):
    """Commands that live in their own packages, imported only when used (a fast ``--help``)."""

    lazy: ClassVar[dict[str, str]] = {
        "check": "guidang.validators.cli_check:check_command",
        "export-eep": "guidang.packaging.cli_eep:export_eep_command",
        "verify-eep": "guidang.packaging.cli_eep:verify_eep_command",
        "watch": "guidang.hotfolders.cli:watch_command",
        "status": "guidang.hotfolders.cli:status_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, attr = self.lazy[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


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
    """创建工作目录与默认配置 / create the working home and its default config."""
    from guidang.home import init_home

    home = (directory or Path(os.environ.get("GUIDANG_HOME", "var"))).resolve()
    created = init_home(home, force=force)
    click.echo(f"工作目录 working home: {home}")
    for path in created:
        click.echo(f"  + {path}")


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
    """处理一个批次 / process one vendor batch: check, OCR, PDF/A, package, archive."""
    from guidang.pipeline.run import ingest_batch

    if not batch_dir.is_dir():
        raise InputError(f"批次目录不存在：{batch_dir}", f"batch folder does not exist: {batch_dir}")
    s = settings()
    outcome = ingest_batch(s, _profile_for(s, batch_dir, profile), batch_dir.resolve())
    if as_json:
        click.echo(json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2))
    else:
        from guidang.reports.console import print_outcome

        print_outcome(outcome)


@main.command()
@handle_errors
def run() -> None:
    """初始化、生成示例批次、处理并持续监视收件箱 / init, demo, then watch and ingest (Ctrl-C stops)."""
    from guidang.home import init_home
    from guidang.hotfolders.service import Watcher
    from guidang.samples.batch import generate_demo

    home = Path(os.environ.get("GUIDANG_HOME", "var")).resolve()
    init_home(home)
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
    click.echo(f"监视收件箱 watching {s.inbox_root} (Ctrl-C 停止 / to stop)")
    Watcher(s, once=False).run()
