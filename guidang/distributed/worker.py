"""A Celery worker of guidang (``guidang worker``): the page and item tasks of every coordinator, on this machine.

Size it per stage (``--queues``): OCR (``ocr``, the ``distributed.ocr_queue``) is CPU-bound, so one process
per core (``--concurrency``, default the number of cores); the item stage (``item``, ``distributed.item_queue``:
PDF/A, package, DA/T 70 checks, archive) is mostly I/O on the store and the catalogue DB. A worker serves
both unless told otherwise. The batch stage (``batch``, ``distributed.batch_queue``: the watcher's claims,
each run to its end) waits on the other two, so it is never served by the same worker as they are (a batch
holding the only process of a worker would wait for pages that worker never runs): ``--queues batch``
workers of their own, one process per batch run at once. The worker reads the same configuration as the rest of guidang
(``GUIDANG_HOME``/guidang.toml and ``GUIDANG_*``): the catalogue DB URL, the broker, the lease, and the
page files at the same paths as the coordinator (a shared filesystem, docs/deploy/distributed.md).
"""

from __future__ import annotations

import os
import socket

from celery import Celery
from sqlalchemy.exc import OperationalError

from guidang.config import Settings
from guidang.distributed.app import BATCH_TASK, ITEM_TASK, PAGE_TASK, make_app
from guidang.distributed.tasks import queue_of, run_task
from guidang.errors import StorageError
from guidang.hotfolders.unit import run_claim

RETRIES = 5  # a task that meets an unreachable catalogue DB is retried this often, backing off up to a minute


def build_app(settings: Settings) -> Celery:
    """The application with guidang's tasks bound to these settings."""
    app = make_app(settings.distributed)

    @app.task(name=PAGE_TASK, autoretry_for=(StorageError, OperationalError), retry_backoff=True,  # type: ignore[untyped-decorator]
              retry_backoff_max=60, max_retries=RETRIES)
    def page(key: str, item: str, payload: str, attempts: int) -> str:
        return run_task(settings, key, item, payload, attempts)

    @app.task(name=ITEM_TASK, autoretry_for=(StorageError, OperationalError), retry_backoff=True,  # type: ignore[untyped-decorator]
              retry_backoff_max=60, max_retries=RETRIES)
    def item(key: str, item: str, payload: str, attempts: int) -> str:
        return run_task(settings, key, item, payload, attempts)

    @app.task(name=BATCH_TASK)  # type: ignore[untyped-decorator]
    def batch(claim_id: int, watcher_settings: str) -> str:
        """A watcher's claim, run to its end with the watcher's settings, as its own worker process would
        (``distributed.claims``); a second delivery finds the claim taken and does nothing."""
        return run_claim(Settings.model_validate_json(watcher_settings), claim_id)

    return app


STAGES = ("ocr", "item", "batch")
DEFAULT_STAGES = ("ocr", "item")  # a batch task waits on the others: batches need workers of their own


def worker_argv(settings: Settings, concurrency: int, hostname: str, loglevel: str,
                stages: tuple[str, ...] = DEFAULT_STAGES) -> list[str]:
    queues = ",".join(queue_of(settings.distributed, s) for s in stages)
    return ["worker", "--queues", queues, "--concurrency", str(concurrency),
            "--hostname", hostname, "--pool", "prefork", "--loglevel", loglevel,
            "--without-gossip", "--without-mingle"]


def run_worker(settings: Settings, *, concurrency: int | None = None, hostname: str | None = None,
               loglevel: str = "INFO", stages: tuple[str, ...] = DEFAULT_STAGES) -> None:
    """Run the worker until it is stopped (SIGTERM: finish the current tasks; SIGQUIT/SIGKILL: at once,
    the unacknowledged tasks go back to the queue)."""
    os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's threads fight the worker processes
    name = hostname or f"guidang-{os.getpid()}@{socket.gethostname()}"
    argv = worker_argv(settings, concurrency or os.cpu_count() or 1, name, loglevel, stages)
    build_app(settings).worker_main(argv)
