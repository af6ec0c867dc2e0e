"""The unit of work: run one claim, given only its id and the catalogue state.

``run_claim(settings, claim_id)`` is a plain function so it can run in a local worker
process (as the watcher does) or, unchanged, as a task on a distributed queue: the claim
row says where the batch is and what has happened to it; a compare-and-set on the stage
plus a per-claim lock make a second runner of the same claim a no-op.
"""

from __future__ import annotations

import errno
import functools
import importlib
import logging
import os
import stat
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import select

from guidang.config import Settings
from guidang.hotfolders.claim import claim_lock, finish, record_failure, reject, worker_name
from guidang.hotfolders.options import WatchOptions
from guidang.hotfolders.refused import write_refusal_receipt
from guidang.hotfolders.state import ClaimRow, Stage, move_stage, open_catalogue
from guidang.hotfolders.zipbatch import ZipRefused, is_zip_name, limits_of, unpack, unpacked_dir
from guidang.models import BatchStatus
from guidang.pipeline.progress import Progress
from guidang.storage.catalogue import BatchRow, Catalogue
from guidang.validators.registry import refusal

log = logging.getLogger(__name__)


class WorkerInterrupted(BaseException):
    """Raised in a worker by SIGTERM: unwind the current step and release the claim.
    A BaseException so that the pipeline's ``except Exception`` handlers let it through."""


class Outcome(Protocol):
    batch_id: int
    status: str

    @property
    def summary(self) -> dict[str, int]: ...


Processor = Callable[[Settings, str, Path], Outcome]


def load_processor(spec: str) -> Processor:
    module, _, attr = spec.partition(":")
    fn: Processor = getattr(importlib.import_module(module), attr)
    return fn


DISTRIBUTED_PROCESSOR = "guidang.distributed.batch:ingest_batch"


def processor_of(settings: Settings, progress: Progress | None = None) -> Processor:
    """The configured processor; the default one becomes the Celery back end's when a broker is set.
    ``progress`` (a terminal's display) is given to the built-in processors, which report pages done."""
    spec = settings.watch.processor
    default = spec == WatchOptions().processor
    if settings.distributed.broker_url and default:
        spec = DISTRIBUTED_PROCESSOR
    fn = load_processor(spec)
    if progress is not None and (default or spec == DISTRIBUTED_PROCESSOR):
        return functools.partial(cast(Any, fn), progress=progress)  # the built-ins take progress=
    return fn


@dataclass(frozen=True)
class Recorded:
    """The outcome of a run that finished before its claim could be marked (a crash between)."""

    batch_id: int
    status: str
    summary: dict[str, int]
    problems: str = ""


FINISHED = (BatchStatus.DONE, BatchStatus.DUPLICATE, BatchStatus.FAILED)


def finished_before(cat: Catalogue, path: Path) -> Recorded | None:
    """The batch this claim's folder produced, if a run got as far as finishing it: a retry
    then records it instead of ingesting the folder again (which would be a 'duplicate')."""
    with cat.session() as s:
        row = s.scalars(
            select(BatchRow)
            .where(BatchRow.source_path == str(path), BatchRow.status.in_(FINISHED))
            .order_by(BatchRow.id.desc())
        ).first()
        if row is None:
            return None
        status = str(row.status)
        problems = "; ".join(
            f"{e.get('check')}: {e.get('message_zh')}" for e in row.errors if e.get("status") == "fail"
        )
        return Recorded(row.id, status, dict(row.summary), problems[:2000])


def _batch_problems(outcome: Any) -> str:
    if isinstance(outcome, Recorded):
        return outcome.problems
    results = getattr(outcome, "batch_results", ())
    return "; ".join(f"{r.check_id}: {r.message_zh}" for r in results if str(r.status) == "fail")[:2000]


def run_claim(settings: Settings, claim_id: int) -> str:
    """Process one claim; returns the stage it ended in ("busy" if another runner holds it)."""
    cat = open_catalogue(settings.db_url)
    with cat.session() as s:
        row = s.get(ClaimRow, claim_id)
        if row is None:
            return "unknown"
        profile, path, attempts = row.profile, Path(row.processing_path), row.attempts
        refusal = (row.reason, str(row.detail.get("detail", ""))) if row.reason else None
    with claim_lock(settings, profile, claim_id) as mine:
        if not mine:
            return "busy"
        with cat.session() as s:
            if not move_stage(
                s, claim_id, (Stage.CLAIMED,), Stage.RUNNING, attempts=attempts + 1, worker=worker_name()
            ):
                row = s.get(ClaimRow, claim_id)
                return row.stage if row else "unknown"
            cat.log(
                s,
                "guidang-watch",
                "claim.running",
                path.name,
                claim=claim_id,
                attempt=attempts + 1,
                worker=worker_name(),
            )
        if refusal is not None:  # taken only to be rejected; a crash fell before the rejection
            reject(cat, settings, claim_id, *refusal, frm=(Stage.RUNNING,))
            return str(Stage.REJECTED)
        return _run(cat, settings, claim_id, profile, path)


def _run(cat: Any, settings: Settings, claim_id: int, profile: str, path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        reject(cat, settings, claim_id, "missing", str(path), frm=(Stage.RUNNING,))
        return str(Stage.REJECTED)
    zipped = stat.S_ISREG(mode) and is_zip_name(path.name)
    if not stat.S_ISDIR(mode) and not zipped:
        kind = "symlink" if stat.S_ISLNK(mode) else "fifo" if stat.S_ISFIFO(mode) else "device"
        detail = os.readlink(path) if kind == "symlink" else ""
        reject(cat, settings, claim_id, kind, detail, frm=(Stage.RUNNING,))
        return str(Stage.REJECTED)
    try:
        batch_dir = unpack(path, limits_of(settings.watch)) if zipped else path
        outcome = finished_before(cat, batch_dir) or processor_of(settings)(settings, profile, batch_dir)
    except ZipRefused as refused:
        result = refusal(refused.reason, name=path.name, detail=refused.detail, count=0)
        try:
            write_refusal_receipt(cat, settings, profile, path, unpacked_dir(path).name, result)
        except Exception:  # the rejection (with its reasons.json) must not wait on the receipt
            log.exception("claim %d: the receipt of the refused zip could not be written", claim_id)
        reject(cat, settings, claim_id, refused.reason, refused.detail, frm=(Stage.RUNNING,))
        return str(Stage.REJECTED)
    except WorkerInterrupted:
        record_failure(cat, settings, claim_id, "interrupted by a stop", crashed=False, counts=False)
        return str(Stage.CLAIMED)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            log.error("claim %d: disk full (%s); released for a later retry", claim_id, exc)
            record_failure(
                cat,
                settings,
                claim_id,
                f"disk full: {exc}",
                crashed=False,
                counts=False,
                delay=settings.watch.retry_seconds,
            )
            return str(Stage.CLAIMED)
        log.exception("claim %d failed", claim_id)
        return str(record_failure(cat, settings, claim_id, f"{type(exc).__name__}: {exc}", crashed=False))
    except BrokenProcessPool as exc:  # a process of the unit's own pool died: a crash, not an error
        log.error("claim %d: a pool process of the worker died (%s)", claim_id, exc)
        return str(record_failure(cat, settings, claim_id, f"{type(exc).__name__}: {exc}", crashed=True))
    except Exception as exc:
        log.exception("claim %d failed", claim_id)
        return str(record_failure(cat, settings, claim_id, f"{type(exc).__name__}: {exc}", crashed=False))
    if outcome.status == "failed":
        with cat.session() as s:
            move_stage(
                s,
                claim_id,
                (Stage.RUNNING,),
                Stage.RUNNING,
                batch_id=outcome.batch_id,
                outcome="failed",
                summary=dict(outcome.summary),
            )
        reject(cat, settings, claim_id, "batch_failed", _batch_problems(outcome), frm=(Stage.RUNNING,))
        return str(Stage.REJECTED)
    finish(cat, settings, claim_id, outcome.batch_id, outcome.status, dict(outcome.summary))
    return str(Stage.DONE)
