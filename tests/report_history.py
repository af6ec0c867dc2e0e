"""A generated ingest history in a real catalogue database (SQLite), for the tests of reports and forms.

Rows and events are written as ingest writes them (same tables, same event names), with known numbers:
two vendors over three ISO weeks, a known set of failing checks, known stage times, one audit event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from guidang.storage.catalogue import BatchRow, Catalogue, CheckResultRow, EventRow, FileRow, ItemRow

T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)  # a Monday: ISO week 2026-W47


@dataclass(frozen=True)
class PlannedBatch:
    vendor: str
    week: int  # 0, 1, 2 from T0
    accepted: int
    rejected: tuple[tuple[str, ...], ...]  # the failing checks of each rejected item
    pages_per_item: int = 2
    bytes_per_item: int = 1000


HISTORY = (
    PlannedBatch("甲扫描公司", 0, 3, (("SCAN-DPI",), ("SCAN-DPI", "GD-1-7"))),
    PlannedBatch("=HYPERLINK(\"http://x\")", 1, 2, (("INTAKE-FOLDER",),)),
    PlannedBatch("甲扫描公司", 2, 4, ()),
)
# stage times of every batch: intake 10 s, checks 100 s, receipt 2 s
STAGE = (10, 100, 2)


def write_history(cat: Catalogue) -> list[int]:
    """Write HISTORY; return the batch ids."""
    ids = []
    with cat.session() as s:
        for n, plan in enumerate(HISTORY, 1):
            start = T0 + dt.timedelta(days=7 * plan.week, hours=n)
            items = plan.accepted + len(plan.rejected)
            batch = BatchRow(profile="demo", vendor=plan.vendor, name=f"B{n:03d}", content_digest=f"{n:064x}",
                             delivery=1, status="done", source_path=f"/in/B{n:03d}", received_at=start,
                             finished_at=start + dt.timedelta(seconds=sum(STAGE)),
                             summary={"items": items, "accepted": plan.accepted, "rejected": len(plan.rejected),
                                      "duplicate": 0, "pages": items * plan.pages_per_item,
                                      "bytes": items * plan.bytes_per_item, "batch_problems": 0})
            s.add(batch)
            s.flush()
            ids.append(batch.id)
            s.add(EventRow(at=start, agent="guidang", action="batch.received", subject=batch.name,
                           detail={"batch_id": batch.id}))
            received = start + dt.timedelta(seconds=STAGE[0])
            decided = received + dt.timedelta(seconds=STAGE[1])
            failing = [()] * plan.accepted + list(plan.rejected)
            for k, checks in enumerate(failing, 1):
                code = f"Z109-WS·2026-Y-BGS-{n}{k:03d}"
                item = ItemRow(batch_id=batch.id, archival_code=code, title=f"题名{n}-{k}",
                               status="rejected" if checks else "accepted", failed_checks=list(checks),
                               object_id=None if checks else code, page_count=plan.pages_per_item,
                               byte_count=plan.bytes_per_item)
                item.results = [CheckResultRow(check_id=c, status="fail", message_zh="不合格", message_en="failed",
                                               evidence=[], dat70=[]) for c in checks]
                item.results += [CheckResultRow(check_id=c, status="pass", message_zh="合格", message_en="ok",
                                                evidence=[], dat70=[])
                                 for c in ("SCAN-DPI", "GD-1-7", "INTAKE-FOLDER", "GD-4-2") if c not in checks]
                item.files = [FileRow(role="master", relpath=f"{code}/{code}-{p:04d}.tif", size=400, sha256="0" * 64,
                                      sm3="0" * 64) for p in range(1, plan.pages_per_item + 1)]
                if not checks:
                    item.files.append(FileRow(role="pdf", relpath=f"{code}.pdf", size=200, sha256="1" * 64,
                                              sm3="1" * 64))
                s.add(item)
                s.add(EventRow(at=received, agent="guidang", action="item.received", subject=code,
                               detail={"batch_id": batch.id}))
                s.add(EventRow(at=decided, agent="guidang", action="item.rejected" if checks else "item.accepted",
                               subject=code, detail={"batch_id": batch.id}))
            s.add(EventRow(at=decided + dt.timedelta(seconds=STAGE[2]), agent="guidang", action="batch.finished",
                           subject=batch.name, detail={"batch_id": batch.id}))
        s.add(EventRow(at=T0 + dt.timedelta(days=15), agent="guidang-audit", action="audit.run",
                       subject="store", detail={"result": "pass", "objects": 9}))
    return ids
