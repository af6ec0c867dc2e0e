"""The batch processor of the Celery back end: the pipeline as always, its page and item tasks on the workers.

The watcher (claims, readiness) and the coordinator of each claim run where they always ran: intake,
the scan-QA measurement, the decisions and the receipt. The pages (OCR) and the items (PDF/A, package,
DA/T 70 checks, archive) go to their queues. Chosen by ``hotfolders.unit.processor_of`` when
``distributed.broker_url`` is set.
"""

from __future__ import annotations

from pathlib import Path

from guidang.config import Settings
from guidang.distributed.tasks import CeleryTasks
from guidang.pipeline.dispatch import ingest_delivery as ingest_locally
from guidang.pipeline.outcome import BatchOutcome
from guidang.pipeline.progress import QUIET, Progress


def ingest_batch(settings: Settings, profile_name: str, batch_dir: Path, progress: Progress = QUIET) -> BatchOutcome:
    if not settings.distributed.broker_url:  # no broker: the local process pool, exactly as without this module
        return ingest_locally(settings, profile_name, batch_dir, progress)
    return ingest_locally(settings, profile_name, batch_dir, progress, run_pages=CeleryTasks(settings, "ocr"),
                          run_items=CeleryTasks(settings, "item"))
