"""Pruning of the processed area: deliveries archived long enough ago are deleted.

A delivery that ended ``done`` lies in ``processed/<profile>/<claim>/`` afterwards, although its
masters are in the store (or, for rejected items, copied to the rejected area with the reasons,
or, for a duplicate, in the store from the earlier delivery). It is kept ``keep_processed_days``
as a safety net and then removed, so the processed area does not fill the disk. Rejected claims
are never pruned: they wait for an archivist. A pruned claim keeps its row; its ``final_path``
becomes empty and ``detail`` says where it was and when it went.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

from sqlalchemy import select

from guidang.config import Settings
from guidang.hotfolders.claim import AGENT
from guidang.hotfolders.safety import processed_area
from guidang.hotfolders.state import ClaimRow, Stage, as_utc
from guidang.storage.catalogue import Catalogue, utcnow

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 3600.0  # how often the watcher looks for deliveries due


def prune_processed(cat: Catalogue, settings: Settings, now: dt.datetime | None = None) -> int:
    """Delete the processed folders of claims done more than ``keep_processed_days`` ago; returns how many."""
    days = settings.watch.keep_processed_days
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with cat.session() as s:
        due = [
            (r.id, r.profile, r.name, Path(r.final_path or ""))
            for r in s.scalars(
                select(ClaimRow).where(
                    ClaimRow.stage == str(Stage.DONE), ClaimRow.settled.is_(True), ClaimRow.final_path.is_not(None)
                )
            )
            if (as_utc(r.updated_at) or cutoff) < cutoff
        ]
    pruned = 0
    for claim_id, profile, name, folder in due:
        if not folder.is_relative_to(processed_area(settings, profile)):
            log.error("claim %d: %s is outside the processed area; not pruned", claim_id, folder)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            log.error("claim %d: %s could not be removed; left for the next pruning", claim_id, folder)
            continue
        with cat.session() as s:
            row = s.get(ClaimRow, claim_id)
            assert row is not None
            row.detail = {**row.detail, "pruned_path": str(folder), "pruned_at": utcnow().isoformat()}
            row.final_path = None
            cat.log(s, AGENT, "claim.pruned", name, claim=claim_id, path=str(folder), keep_days=days)
        pruned += 1
    if pruned:
        log.info("pruned %d processed deliveries older than %g days", pruned, days)
    return pruned
