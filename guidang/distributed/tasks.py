"""Page and item tasks on Celery: the coordinator side (:class:`CeleryTasks`, a
:class:`~guidang.pipeline.page_pool.TaskRunner` per stage) and the worker side (:func:`run_task`).

Two stages, each on its own queue: ``ocr`` (a page: prepare + OCR, CPU-bound) and ``item`` (an item:
PDF/A, package, DA/T 70 checks, archive or keep, ``pipeline.packing``; mostly I/O on the store).
The coordinator records its keys in the catalogue DB before it sends them, so a worker can tell a message
no batch waits for any more (the broker redelivered it after its batch ended) and drop it.
Each job gets a key: its stage, the item (its 档号) and the SHA-256 of the job and, for a page, of the
page's bytes, so a task is idempotent: a key with a stored result is never run again, and two deliveries
of one message run it once while a lease holds (``storage.task_results``). An item task that does run
twice (its holder was taken for dead) does no harm: the store adopts an object with the same masters.
The coordinator sends one message per job and waits on the catalogue DB; a job whose worker died
(its lease ran out) is sent again, and a worker that takes it after ``attempts`` holders died gives it
up, which the coordinator reports as the local pool reports a page whose process died every time
(``None``). Results are used once: then dropped, the row kept a while as "used" so that a late
duplicate of a message does no work. A job that raises (a bug, not a crash) stores the error, which
the coordinator raises again: the batch fails as it would in one process.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import os
import pickle
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy.exc import OperationalError

from guidang.config import DistributedOptions, Settings
from guidang.distributed.app import ITEM_TASK, PAGE_TASK, app_for
from guidang.errors import StorageError
from guidang.storage.catalogue import Catalogue
from guidang.storage.task_results import (
    Lease,
    TaskState,
    acquire,
    complete,
    enqueue,
    finished,
    forget,
    lapsed,
    started,
)

log = logging.getLogger(__name__)
TASK_OF = {"ocr": PAGE_TASK, "item": ITEM_TASK}  # stage -> Celery task name


def queue_of(options: DistributedOptions, stage: str) -> str:
    """The queue of a stage: ``ocr`` (pages), ``item`` (items) or ``batch`` (the watcher's claims)."""
    return {"ocr": options.ocr_queue, "item": options.item_queue, "batch": options.batch_queue}[stage]


class TaskFailed(RuntimeError):
    """A job raised on its worker (stored as its result; the coordinator raises it again)."""
J = TypeVar("J")
R = TypeVar("R")


def task_key(stage: str, item: str, payload: bytes, source: Path | None) -> str:
    """``<stage>:<sha256>`` over the item, the job and the bytes of the page it reads."""
    digest = hashlib.sha256()
    for part in (stage.encode(), item.encode("utf-8", "surrogateescape"), payload):
        digest.update(len(part).to_bytes(8, "big") + part)
    if source is not None:
        with source.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return f"{stage}:{digest.hexdigest()}"


@cache
def _catalogue(url: str) -> Catalogue:
    return Catalogue(url)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class CeleryTasks:
    """Runs the tasks of one stage (``ocr`` or ``item``) on the Celery workers of ``settings.distributed``;
    same contract as ``page_pool.run_tasks``."""

    settings: Settings
    stage: str = "ocr"
    sent: dict[str, int] = field(default_factory=dict)  # key -> messages sent (for the log and the tests)

    @property
    def options(self) -> DistributedOptions:
        return self.settings.distributed

    def __call__(self, task: Callable[[J], R], jobs: Sequence[J], *, workers: int, attempts: int,
                 initializer: Callable[[], None] | None = None,
                 on_done: Callable[[], None] | None = None) -> list[R | None]:
        del workers  # the workers are the Celery worker processes, sized per machine
        if not jobs:
            return []
        keys, messages = [], {}
        for job in jobs:
            payload = pickle.dumps((task, job, initializer))
            source = cast(Path | None, getattr(job, "source", None))  # a page: its bytes are in the key
            item = cast(str | None, getattr(job, "code", None)) or (source.parent.name if source else "")
            key = task_key(self.stage, item, payload, source)
            keys.append(key)
            messages[key] = (item, base64.b64encode(payload).decode("ascii"), attempts)
        cat = _catalogue(self.settings.db_url)
        app = app_for(self.options.broker_url, self.options.lease_seconds)
        with cat.session() as s:  # wanted, before any message is sent (a worker drops a key no one wants)
            enqueue(s, {key: (self.stage, messages[key][0]) for key in keys})
        with app.connection_for_write() as conn:
            for key in dict.fromkeys(keys):
                self._send(app, conn, key, messages[key])
        rows = self._wait(cat, app, list(dict.fromkeys(keys)), messages, on_done)
        results: list[R | None] = []
        for key in keys:
            row = rows[key]
            results.append(pickle.loads(row[1]) if row[0] == TaskState.DONE and row[1] is not None else None)
        with cat.session() as s:  # kept a while as used: the broker may still redeliver a killed worker's message
            forget(s, rows, keep_seconds=4 * self.options.lease_seconds)
        for result in results:
            if isinstance(result, TaskFailed):
                raise result
        return results

    def _send(self, app: Any, conn: Any, key: str, message: tuple[str, str, int]) -> None:
        n = self.sent.get(key, 0) + 1
        self.sent[key] = n
        app.send_task(TASK_OF[self.stage], args=[key, *message], task_id=f"{key}#{n}",
                      queue=queue_of(self.options, self.stage), connection=conn)

    def _wait(self, cat: Catalogue, app: Any, keys: list[str], messages: dict[str, tuple[str, str, int]],
              on_done: Callable[[], None] | None = None) -> dict[str, tuple[str, bytes | None]]:
        """Poll the catalogue DB until every key is done or given up; send again what lost its worker.
        A key no worker has taken yet while nothing finished for a lease is sent again too (its message
        may have died with a worker that had reserved it)."""
        done: dict[str, tuple[str, bytes | None]] = {}
        progress = time.monotonic()
        resent: dict[str, float] = {}  # key -> when it was last sent again: once per lease
        while len(done) < len(keys):
            todo = [k for k in keys if k not in done]
            now = time.monotonic()
            with cat.session() as s:
                for key, row in finished(s, todo).items():
                    done[key] = (row.state, row.result)
                    progress = now
                    if on_done is not None:
                        on_done()
                todo = [k for k in todo if k not in done]
                resend = [k for k in lapsed(s, todo) if now - resent.get(k, -math.inf) > self.options.lease_seconds]
                if now - progress > self.options.lease_seconds:
                    taken = started(s, todo)
                    resend += [k for k in todo if k not in taken]
                    progress = now
            resent.update((k, now) for k in resend)
            if resend:
                log.warning("%d %s task(s) lost their worker or message; sent again", len(resend), self.stage)
                with app.connection_for_write() as conn:
                    for key in resend:
                        self._send(app, conn, key, messages[key])
            if len(done) < len(keys):
                time.sleep(self.options.poll_seconds)
        return done


_initialised: set[str] = set()


def run_task(settings: Settings, key: str, item: str, payload: str, attempts: int) -> str:
    """The worker side of one task (a page or an item): take the lease, run the job, store its result.
    Returns what was found (``run`` when this call did the work)."""
    cat = _catalogue(settings.db_url)
    with cat.session() as s:
        lease = acquire(s, key, owner=_owner(), lease_seconds=settings.distributed.lease_seconds,
                        max_attempts=attempts)
    if lease is not Lease.RUN:
        if lease is Lease.GIVEN_UP:
            log.error("task %s (%s): given up after %d worker(s) died under it", key, item, attempts)
        elif lease is Lease.STALE:
            log.info("task %s (%s): no batch waits for it any more; dropped", key, item)
        return str(lease)
    task, job, initializer = pickle.loads(base64.b64decode(payload))
    if initializer is not None:  # once per worker process, as the local pool's initializer
        name = f"{initializer.__module__}.{initializer.__qualname__}"
        if name not in _initialised:
            initializer()
            _initialised.add(name)
    try:
        result = task(job)
    except (StorageError, OperationalError):
        raise  # the catalogue DB is unreachable: Celery retries the task (guidang.distributed.worker)
    except Exception as exc:  # a bug, not a crash: the coordinator raises it, as one process would
        log.exception("task %s (%s) failed", key, item)
        result = TaskFailed(f"{key} ({item}): {type(exc).__name__}: {exc}")
    with cat.session() as s:
        complete(s, key, pickle.dumps(result))
    return str(Lease.RUN)
