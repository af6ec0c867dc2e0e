"""A Celery worker of guidang (``guidang worker``): the page tasks of every coordinator, on this machine.

Size it per stage: OCR is CPU-bound, so one process per core (``--concurrency``, default the number of
cores) on the ``distributed.ocr_queue``. The worker reads the same configuration as the rest of guidang
(``GUIDANG_HOME``/guidang.toml and ``GUIDANG_*``): the catalogue DB URL, the broker, the lease, and the
page files at the same paths as the coordinator (a shared filesystem, docs/deploy/distributed.md).
"""

from __future__ import annotations

import os
import socket

from celery import Celery
from sqlalchemy.exc import OperationalError

from guidang.config import Settings
from guidang.distributed.app import PAGE_TASK, make_app
from guidang.distributed.pages import run_page
from guidang.errors import StorageError

RETRIES = 5  # a task that meets an unreachable catalogue DB is retried this often, backing off up to a minute


def build_app(settings: Settings) -> Celery:
    """The application with guidang's tasks bound to these settings."""
    app = make_app(settings.distributed)

    @app.task(name=PAGE_TASK, autoretry_for=(StorageError, OperationalError), retry_backoff=True,  # type: ignore[untyped-decorator]
              retry_backoff_max=60, max_retries=RETRIES)
    def page(key: str, item: str, payload: str, attempts: int) -> str:
        return run_page(settings, key, item, payload, attempts)

    return app


def worker_argv(settings: Settings, concurrency: int, hostname: str, loglevel: str) -> list[str]:
    return ["worker", "--queues", settings.distributed.ocr_queue, "--concurrency", str(concurrency),
            "--hostname", hostname, "--pool", "prefork", "--loglevel", loglevel,
            "--without-gossip", "--without-mingle"]


def run_worker(settings: Settings, *, concurrency: int | None = None, hostname: str | None = None,
               loglevel: str = "INFO") -> None:
    """Run the worker until it is stopped (SIGTERM: finish the current tasks; SIGQUIT/SIGKILL: at once,
    the unacknowledged tasks go back to the queue)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's threads fight the worker processes
    name = hostname or f"guidang-{os.getpid()}@{socket.gethostname()}"
    build_app(settings).worker_main(worker_argv(settings, concurrency or os.cpu_count() or 1, name, loglevel))
