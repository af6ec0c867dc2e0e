"""The ops report (``guidang report``): what went through, what failed, how long each stage took, audits.

Everything is read from the catalogue database, over the batches a filter selects (one batch, one
vendor, a period of receipt): batches, items, pages, bytes; the acceptance rate by vendor and by
check; the checks that fail most; a weekly trend; the time in each stage, from the audit log's own
timestamps; and the store audits recorded there (``audit.*`` events). Rendering is in
:mod:`guidang.reports.ops`.

Stages are measured between the times ingest records for every batch: intake (the batch's
``received_at``, when its intake began → the last ``item.received``), checks and processing (→ the last
item decision), receipt (→ ``batch.finished``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guidang.models import ItemStatus
from guidang.storage.catalogue import BatchRow, Catalogue, CheckResultRow, EventRow, ItemRow, as_utc
from guidang.validators.registry import REGISTRY

DECISIONS = ("item.accepted", "item.rejected", "item.archived_before")
STAGES = (("intake", "接收与清点", "intake"), ("checks", "检测与处理", "checks and processing"),
          ("receipt", "回执", "receipt"))
TOP_CHECKS = 10


@dataclass(frozen=True)
class ReportFilter:
    batch: int | None = None
    vendor: str | None = None
    since: dt.datetime | None = None  # received at or after
    until: dt.datetime | None = None  # received before

    def as_dict(self) -> dict[str, object]:
        return {"batch": self.batch, "vendor": self.vendor,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}


@dataclass(frozen=True)
class Tally:
    """Items of a group by outcome."""

    items: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted over accepted + rejected (an item archived before is neither); None when none was decided."""
        return self.accepted / self.decided if self.decided else None

    def add(self, status: str) -> Tally:
        return Tally(self.items + 1, self.accepted + (status == ItemStatus.ACCEPTED),
                     self.rejected + (status == ItemStatus.REJECTED), self.duplicate + (status == ItemStatus.DUPLICATE))

    def as_dict(self) -> dict[str, object]:
        rate = self.acceptance_rate
        return {"items": self.items, "accepted": self.accepted, "rejected": self.rejected,
                "duplicate": self.duplicate, "acceptance_rate": None if rate is None else round(rate, 4)}


@dataclass(frozen=True)
class CheckTally:
    check_id: str
    name_zh: str
    name_en: str
    ran: int  # items the check reported on
    failed: int
    warned: int

    @property
    def pass_rate(self) -> float | None:
        return (self.ran - self.failed) / self.ran if self.ran else None

    def as_dict(self) -> dict[str, object]:
        rate = self.pass_rate
        return {"check": self.check_id, "name_zh": self.name_zh, "name_en": self.name_en, "items": self.ran,
                "failed": self.failed, "warned": self.warned, "pass_rate": None if rate is None else round(rate, 4)}


@dataclass(frozen=True)
class StageTime:
    stage: str
    name_zh: str
    name_en: str
    batches: int
    total_seconds: float

    @property
    def mean_seconds(self) -> float | None:
        return self.total_seconds / self.batches if self.batches else None

    def as_dict(self) -> dict[str, object]:
        mean = self.mean_seconds
        return {"stage": self.stage, "name_zh": self.name_zh, "name_en": self.name_en, "batches": self.batches,
                "total_seconds": round(self.total_seconds, 3), "mean_seconds": None if mean is None else round(mean, 3)}


@dataclass(frozen=True)
class OpsReport:
    filter: ReportFilter
    generated_at: dt.datetime
    batches: int
    pages: int
    bytes: int
    totals: Tally
    batch_status: dict[str, int]
    by_vendor: dict[str, Tally]
    by_check: tuple[CheckTally, ...]  # every check that reported, most failures first
    weeks: tuple[tuple[str, Tally], ...]  # ISO week (2026-W49) of receipt → items
    stages: tuple[StageTime, ...]
    audits: tuple[dict[str, Any], ...] = ()  # audit.* events, newest first
    batch_rows: tuple[dict[str, Any], ...] = field(default=())

    @property
    def top_failing(self) -> tuple[CheckTally, ...]:
        return tuple(c for c in self.by_check if c.failed)[:TOP_CHECKS]

    @property
    def last_audit(self) -> dict[str, Any] | None:
        return self.audits[0] if self.audits else None

    def summary(self) -> dict[str, object]:
        return {"batches": self.batches, "pages": self.pages, "bytes": self.bytes, **self.totals.as_dict()}

    def as_dict(self) -> dict[str, object]:
        return {
            "filter": self.filter.as_dict(),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
            "summary": self.summary(),
            "batch_status": self.batch_status,
            "by_vendor": {v: t.as_dict() for v, t in self.by_vendor.items()},
            "by_check": [c.as_dict() for c in self.by_check],
            "top_failing_checks": [c.check_id for c in self.top_failing],
            "weeks": [{"week": w, **t.as_dict()} for w, t in self.weeks],
            "stages": [s.as_dict() for s in self.stages],
            "audits": list(self.audits),
            "batches": list(self.batch_rows),
        }



def _week(t: dt.datetime) -> str:
    year, week, _ = as_utc(t).isocalendar()
    return f"{year}-W{week:02d}"


def _batches(s: Session, f: ReportFilter) -> list[BatchRow]:
    stmt = select(BatchRow).order_by(BatchRow.id)
    if f.batch is not None:
        stmt = stmt.where(BatchRow.id == f.batch)
    if f.vendor is not None:
        stmt = stmt.where(BatchRow.vendor == f.vendor)
    if f.since is not None:
        stmt = stmt.where(BatchRow.received_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(BatchRow.received_at < f.until)
    return list(s.scalars(stmt))


def stage_durations(s: Session, batch_ids: Collection[int] | None = None) -> dict[str, list[float]]:
    """Seconds each finished batch (of ``batch_ids``, or all) spent in each stage, from the audit log."""
    events: dict[int, dict[str, list[dt.datetime]]] = defaultdict(lambda: defaultdict(list))
    wanted = ("batch.received", "item.received", "batch.finished", *DECISIONS)
    for e in s.scalars(select(EventRow).where(EventRow.action.in_(wanted))):
        bid = e.detail.get("batch_id")
        if isinstance(bid, int) and (batch_ids is None or bid in batch_ids):
            events[bid][e.action].append(as_utc(e.at))
    # a batch is received when its intake begins (before the batch.received event, written after intake)
    for bid, received in s.execute(select(BatchRow.id, BatchRow.received_at).where(BatchRow.id.in_(events))):
        events[bid]["batch.received"].append(as_utc(received))
    durations: dict[str, list[float]] = {key: [] for key, _, _ in STAGES}
    for times in events.values():
        start = min(times.get("batch.received", []), default=None)
        end = max(times.get("batch.finished", []), default=None)
        if start is None or end is None:
            continue  # not finished (or interrupted before it was recorded): no stage times
        intake_end = max(times.get("item.received", []), default=start)
        checks_end = max((t for a in DECISIONS for t in times.get(a, [])), default=intake_end)
        for key, a, b in (("intake", start, intake_end), ("checks", intake_end, checks_end),
                          ("receipt", checks_end, end)):
            durations[key].append(max(0.0, (b - a).total_seconds()))
    return durations


def _stage_times(s: Session, batch_ids: list[int]) -> tuple[StageTime, ...]:
    durations = stage_durations(s, set(batch_ids))
    return tuple(StageTime(key, zh, en, len(durations[key]), sum(durations[key])) for key, zh, en in STAGES)


# the store audit's events (pipeline/audit.py); the audit log's own (audit.verified, …) are not store audits
STORE_AUDIT_EVENTS = ("audit.run", "audit.damaged")


def _audits(s: Session) -> tuple[dict[str, Any], ...]:
    stmt = (select(EventRow).where(EventRow.action.in_(STORE_AUDIT_EVENTS))
            .order_by(EventRow.at.desc(), EventRow.id.desc()))
    return tuple({"at": as_utc(e.at).isoformat(timespec="seconds"), "action": e.action, "subject": e.subject,
                  "agent": e.agent, **{k: v for k, v in e.detail.items() if k not in ("at", "action")}}
                 for e in s.scalars(stmt.limit(100)))


def build_report(cat: Catalogue, f: ReportFilter) -> OpsReport:
    """The report over the batches ``f`` selects, from the catalogue database."""
    with cat.session() as s:
        batches = _batches(s, f)
        ids = [b.id for b in batches]
        totals = Tally()
        by_vendor: defaultdict[str, Tally] = defaultdict(Tally)
        weeks: defaultdict[str, Tally] = defaultdict(Tally)
        pages = size = 0
        received = {b.id: b.received_at for b in batches}
        vendor = {b.id: b.vendor for b in batches}
        items = list(s.scalars(select(ItemRow).where(ItemRow.batch_id.in_(ids)))) if ids else []
        for item in items:
            totals = totals.add(item.status)
            by_vendor[vendor[item.batch_id]] = by_vendor[vendor[item.batch_id]].add(item.status)
            week = _week(received[item.batch_id])
            weeks[week] = weeks[week].add(item.status)
            pages += item.page_count
            size += item.byte_count
        ran: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        warned: Counter[str] = Counter()
        if ids:
            stmt = (select(CheckResultRow.check_id, CheckResultRow.status, CheckResultRow.item_id)
                    .join(ItemRow, CheckResultRow.item_id == ItemRow.id).where(ItemRow.batch_id.in_(ids)))
            seen: set[tuple[str, int, str]] = set()
            for check_id, status, item_id in s.execute(stmt):
                if (check_id, item_id, status) in seen:
                    continue  # one item counts once per check and status
                seen.add((check_id, item_id, status))
                if status == "fail":
                    failed[check_id] += 1
                elif status == "warn":
                    warned[check_id] += 1
            ran.update(c for c, _ in {(c, i) for c, i, _ in seen})  # items the check reported on
        checks = []
        for check_id in ran:
            spec = REGISTRY.spec_of_result(check_id)
            checks.append(CheckTally(check_id, spec.name.zh if spec else check_id, spec.name.en if spec else "",
                                     ran[check_id], min(failed[check_id], ran[check_id]), warned[check_id]))
        checks.sort(key=lambda c: (-c.failed, -c.warned, c.check_id))
        rows = tuple({"id": b.id, "name": b.name, "vendor": b.vendor, "profile": b.profile, "delivery": b.delivery,
                      "status": b.status, "received_at": as_utc(b.received_at).isoformat(timespec="seconds"),
                      "items": b.summary.get("items", 0), "accepted": b.summary.get("accepted", 0),
                      "rejected": b.summary.get("rejected", 0), "pages": b.summary.get("pages", 0)}
                     for b in batches)
        return OpsReport(
            filter=f, generated_at=dt.datetime.now(dt.UTC), batches=len(batches), pages=pages, bytes=size,
            totals=totals, batch_status=dict(Counter(b.status for b in batches)),
            by_vendor=dict(sorted(by_vendor.items())), by_check=tuple(checks),
            weeks=tuple(sorted(weeks.items())), stages=_stage_times(s, ids), audits=_audits(s), batch_rows=rows,
        )
