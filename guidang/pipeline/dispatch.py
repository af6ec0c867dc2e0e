"""Which pipeline a delivery goes to: a born-digital case (a folder with case.json / 办件.json, or any folder of
an inbox whose profile takes cases) or a vendor's scan batch. The hot-folder watcher's default processor."""

from __future__ import annotations

from pathlib import Path

from guidang.config import Settings
from guidang.pipeline.case_file import is_case
from guidang.pipeline.outcome import BatchOutcome
from guidang.pipeline.page_pool import TaskRunner, run_here, run_tasks
from guidang.pipeline.progress import QUIET, Progress


def is_case_delivery(settings: Settings, profile_name: str, path: Path) -> bool:
    return is_case(path) or settings.profile(profile_name).intake == "cases"


def ingest_delivery(settings: Settings, profile_name: str, path: Path, progress: Progress = QUIET, *,
                    run_pages: TaskRunner = run_tasks, run_items: TaskRunner = run_here) -> BatchOutcome:
    """Process one delivered folder with the pipeline its kind needs (``run_pages``: the OCR of scan pages, and of
    the pages of a case's scanned PDFs, on the local pool or a distributed back end; ``run_items``: each scanned
    item's assembly, checks and archiving, in this process or on a distributed back end)."""
    if is_case_delivery(settings, profile_name, path):
        from guidang.pipeline.cases import ingest_case

        return ingest_case(settings, profile_name, path, run_pages=run_pages)
    from guidang.pipeline.run import ingest_batch

    return ingest_batch(settings, profile_name, path, progress, run_pages=run_pages, run_items=run_items)
