"""``guidang worker``: a Celery worker for the page tasks (docs/deploy/distributed.md)."""

from __future__ import annotations

import click

from guidang.cli.errors import handle_errors
from guidang.errors import ConfigError


@click.command("worker")
@click.option("-c", "--concurrency", type=click.IntRange(min=1),
              help="工作进程数（默认为 CPU 核数）/ worker processes (default: one per core)")
@click.option("-n", "--hostname", help="Celery 节点名 / the Celery node name (default guidang-<pid>@<host>)")
@click.option("--loglevel", default="INFO", show_default=True, help="日志级别 / log level")
@handle_errors
def worker_command(concurrency: int | None, hostname: str | None, loglevel: str) -> None:
    """运行一个分布式工作进程，执行各批次的逐页识别任务 / run a Celery worker for the page tasks of every batch."""
    from guidang.cli.app import settings
    from guidang.distributed.worker import run_worker

    s = settings()
    if not s.distributed.broker_url:
        raise ConfigError("未配置 distributed.broker_url：没有消息代理，页面在本机进程池中处理",
                          "distributed.broker_url is not set: without a broker pages run in the local process pool")
    run_worker(s, concurrency=concurrency, hostname=hostname, loglevel=loglevel)
