"""``guidang worker``: a Celery worker for the page and item tasks (docs/deploy/distributed.md)."""

from __future__ import annotations

import click

from guidang.cli.errors import handle_errors
from guidang.errors import ConfigError


@click.command("worker")
@click.option("-c", "--concurrency", type=click.IntRange(min=1),
              help="工作进程数（默认为 CPU 核数）/ worker processes (default: one per core)")
@click.option("-n", "--hostname", help="Celery 节点名 / the Celery node name (default guidang-<pid>@<host>)")
@click.option("--loglevel", default="INFO", show_default=True, help="日志级别 / log level")
@click.option("-Q", "--queues", default="ocr,item", show_default=True,
              help="服务的阶段，逗号分隔：ocr（逐页识别）、item（逐件封装、检测、归档）、batch（监视目录认领的批次，须单独的工作进程）"
                   " / the stages served, comma-separated: ocr (a page's OCR), item (an item's PDF/A, package, checks, "
                   "archiving), batch (the watcher's claimed batches: give them workers of their own)")
@handle_errors
def worker_command(concurrency: int | None, hostname: str | None, loglevel: str, queues: str) -> None:
    """运行一个分布式工作进程，执行各批次的逐页识别与逐件归档任务 / run a Celery worker for the page and item tasks of
    every batch."""
    from guidang.cli.app import settings
    from guidang.distributed.worker import STAGES, run_worker

    s = settings()
    if not s.distributed.broker_url:
        raise ConfigError("未配置 distributed.broker_url：没有消息代理，页面在本机进程池中处理",
                          "distributed.broker_url is not set: without a broker pages run in the local process pool")
    stages = tuple(dict.fromkeys(q.strip() for q in queues.split(",") if q.strip()))
    unknown = [q for q in stages if q not in STAGES]
    if "batch" in stages and len(stages) > 1:
        raise click.BadParameter("batch 须单独运行（批次任务等待其他阶段的任务）/ batch runs alone: a batch task waits "
                                 "for the tasks of the other stages", param_hint="--queues")
    if unknown or not stages:
        raise click.BadParameter(f"{', '.join(unknown) or queues!r}: 应为 / expected {', '.join(STAGES)}",
                                 param_hint="--queues")
    run_worker(s, concurrency=concurrency, hostname=hostname, loglevel=loglevel, stages=stages)
