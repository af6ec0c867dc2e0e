"""The watcher's hourly preservation look: staging leftovers removed, the audit due started as its own
process, its run recorded; then nothing is due until the schedule says so."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from preservation_support import CODES, make_home
from sqlalchemy import select

from guidang.hotfolders.scheduled_audit import ScheduledAudits
from guidang.pipeline.audit import due
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.preservation import AuditRunRow


def test_the_hourly_look_cleans_staging_and_runs_the_audit_due(tmp_path: Path) -> None:
    settings = make_home(tmp_path, codes=CODES[:2])
    store = OcflStore(settings.store_root)
    old = store.staging / "obj-cut-short"
    (old / "v1").mkdir(parents=True)
    os.utime(old, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    young = store.staging / "obj-in-progress"
    young.mkdir()
    audits = ScheduledAudits(settings)
    assert due(settings) == "full"
    audits.tick()
    assert not old.exists() and young.exists()
    assert audits.proc is not None
    assert audits.proc.wait(300) == 1  # the test packages are no PDF/A: the BC checks find that
    [report] = settings.path("audits").glob("audit-*-full.json")
    data = json.loads(report.read_text("utf-8"))
    assert data["kind"] == "full" and data["totals"]["objects"] == 2 and data["totals"]["checked"] == 2
    subjects = data["objects"]["subjects"]
    failed = {r["check"] for subject in subjects for r in subject["results"] if r["status"] == "fail"}
    assert "BC-3-5" in failed and not any(c.startswith("STORE-") for c in failed)  # stored intact, yet not PDF/A
    with Catalogue(settings.db_url).session() as s:
        [run] = s.scalars(select(AuditRunRow))
        assert run.kind == "full" and run.finished_at is not None
    assert due(settings) is None  # a full audit counts for the sample and fixity audits too
    audits.tick()
    assert audits.proc is None
