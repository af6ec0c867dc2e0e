"""The receipt (回执) of a delivery refused whole before any of it was read (a zip not unpacked).

Such a delivery never reaches the pipeline, yet the vendor is owed a receipt saying why: it is
recorded as a failed batch (so ``guidang status`` lists it) with the reason as its batch problem,
and the receipt is written where the pipeline writes receipts. A retry after a crash finds the
batch already recorded and writes nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from sqlalchemy import select

from guidang.config import Settings
from guidang.models import BatchStatus
from guidang.pipeline.outcome import BatchOutcome
from guidang.reports.receipt import receipt_dir, write_receipt
from guidang.storage.catalogue import BatchRow, Catalogue
from guidang.validators.result import CheckResult

AGENT = "guidang-watch"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_refusal_receipt(
    cat: Catalogue, settings: Settings, profile: str, delivered: Path, name: str, result: CheckResult
) -> Path | None:
    """Record the delivery at ``delivered`` as a failed batch named ``name`` with ``result`` as its
    one batch problem, and write its receipt; returns the HTML receipt (None if already written)."""
    with cat.session() as s:
        done = s.scalars(
            select(BatchRow).where(BatchRow.source_path == str(delivered), BatchRow.status == BatchStatus.FAILED)
        ).first()
        if done is not None and done.receipt_path:
            return None
        vendor = settings.profile(profile).vendor
        row = BatchRow(
            profile=profile, vendor=vendor, name=name, content_digest=_digest(delivered),
            delivery=len(cat.batches_named(s, profile, name)) + 1, status=BatchStatus.FAILED,
            source_path=str(delivered), errors=[result.as_dict()],
        )  # fmt: skip
        s.add(row)
        s.flush()
        now = dt.datetime.now(dt.UTC)
        outcome = BatchOutcome(
            batch_id=row.id, name=name, profile=profile, vendor=vendor, delivery=row.delivery,
            content_digest=row.content_digest, status="failed", source=str(delivered),
            batch_results=(result,), received_at=now, finished_at=now,
        )  # fmt: skip
        paths = write_receipt(receipt_dir(settings.outbox_root, profile, outcome), outcome)
        row.receipt_path, row.finished_at, row.summary = str(paths[0]), now, outcome.summary
        cat.log(s, AGENT, "batch.refused", name, batch_id=row.id, reason=result.check_id)
    return paths[1]

