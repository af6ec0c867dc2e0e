"""The Celery application of the guidang workers, built from the settings.

Three tasks, one queue each so that workers are sized per stage: a page (OCR), an item (assembly,
checks, archiving) and a batch (a watcher's claim: intake, then waiting on its pages and items).
Messages are JSON (a job travels as a pickled payload inside, see :mod:`guidang.distributed.tasks`: the
broker must be private to the guidang machines, docs/deploy/distributed.md). There is no Celery result
back end: results and task state are rows of the catalogue DB (``storage.task_results``). A task is
acknowledged only when it has finished (``acks_late``) and is given back to the queue when its worker
process dies (``reject_on_worker_lost``); each worker process reserves one task at a time, so the pages
of one large delivery, and its items, spread over every worker.
"""

from __future__ import annotations

from functools import cache

from celery import Celery

from guidang.config import DistributedOptions

PAGE_TASK = "guidang.page"  # prepare + OCR one page (CPU-bound): distributed.ocr_queue
ITEM_TASK = "guidang.item"  # PDF/A, package, DA/T 70 checks, archive of one item (I/O): distributed.item_queue
BATCH_TASK = "guidang.batch"  # one claim of the watcher, run to its end (mostly waiting): distributed.batch_queue


def make_app(options: DistributedOptions) -> Celery:
    if not options.broker_url:
        raise ValueError("distributed.broker_url is empty: the local process pool is used, not Celery")
    app = Celery("guidang", broker=options.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=options.ocr_queue,
        task_routes={PAGE_TASK: {"queue": options.ocr_queue}, ITEM_TASK: {"queue": options.item_queue},
                     BATCH_TASK: {"queue": options.batch_queue}},
        # a message a dead worker held comes back after this; the lease in the catalogue DB decides who runs it
        broker_transport_options={"visibility_timeout": int(options.lease_seconds)},
        broker_connection_retry_on_startup=True,
        worker_send_task_events=False,
    )
    return app


@cache
def app_for(broker_url: str, lease_seconds: float) -> Celery:
    """One application per broker and process (the coordinator sends through it, naming each message's queue)."""
    return make_app(DistributedOptions(broker_url=broker_url, lease_seconds=lease_seconds))
