"""The review queue: rejected and warned items by batch, vendor, check and date, with counts; and the batches in
flight. Read-only queries on the catalogue DB."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from guidang.models import BatchStatus, ItemStatus
from guidang.pipeline.review import RETURNED
from guidang.storage.catalogue import BatchRow, CheckResultRow, DecisionRow, ItemRow

PAGE_SIZE = 50
WARN = "warn"


class QueueFilter(BaseModel):
    """The queue's filters, from the query string (every field optional)."""

    state: str = Field(default="open", pattern=r"^(open|rejected|warned|all)$")
    batch: int | None = None
    vendor: str = Field(default="", max_length=200)
    check: str = Field(default="", max_length=40)
    since: dt.date | None = None
    until: dt.date | None = None
    q: str = Field(default="", max_length=200)  # part of the 档号 or the 题名
    page: int = Field(default=1, ge=1)


@dataclass(frozen=True)
class QueueEntry:
    item_id: int
    archival_code: str
    title: str
    status: str
    warned: bool
    checks: tuple[str, ...]
    batch_id: int
    batch_name: str
    vendor: str
    updated_at: dt.datetime
    pages: int


@dataclass(frozen=True)
class QueueView:
    entries: tuple[QueueEntry, ...]
    total: int
    by_check: tuple[tuple[str, int], ...]
    by_vendor: tuple[tuple[str, int], ...]
    by_state: dict[str, int]
    pages: int


def _warned_ids() -> Select[Any]:
    return select(CheckResultRow.item_id).where(CheckResultRow.status == WARN)


def _base(f: QueueFilter) -> Select[ItemRow, BatchRow]:
    stmt = select(ItemRow, BatchRow).join(BatchRow, ItemRow.batch_id == BatchRow.id)
    rejected = ItemRow.status == ItemStatus.REJECTED
    warned = ItemRow.status.in_([ItemStatus.ACCEPTED, ItemStatus.DUPLICATE]) & ItemRow.id.in_(_warned_ids())
    returned = ItemRow.id.in_(select(DecisionRow.item_id).where(DecisionRow.status == RETURNED))
    if f.state == "open":  # what still waits for a person: a returned item waits for the vendor
        stmt = stmt.where(or_(rejected & ~returned, warned))
    elif f.state == "rejected":
        stmt = stmt.where(rejected)
    elif f.state == "warned":
        stmt = stmt.where(warned)
    if f.batch is not None:
        stmt = stmt.where(ItemRow.batch_id == f.batch)
    if f.vendor:
        stmt = stmt.where(BatchRow.vendor == f.vendor)
    if f.check:
        stmt = stmt.where(ItemRow.id.in_(select(CheckResultRow.item_id).where(
            CheckResultRow.check_id == f.check, CheckResultRow.status.in_(["fail", WARN]))))
    if f.since is not None:
        stmt = stmt.where(ItemRow.updated_at >= dt.datetime.combine(f.since, dt.time(), dt.UTC))
    if f.until is not None:
        stmt = stmt.where(ItemRow.updated_at < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), dt.UTC))
    if f.q:
        stmt = stmt.where(or_(ItemRow.archival_code.contains(f.q, autoescape=True),
                              ItemRow.title.contains(f.q, autoescape=True)))
    return stmt


def queue(session: Session, f: QueueFilter) -> QueueView:
    stmt = _base(f)
    ids = stmt.with_only_columns(ItemRow.id).subquery()
    total = session.scalar(select(func.count()).select_from(ids)) or 0
    rows = [(item, batch) for item, batch in session.execute(
        stmt.order_by(ItemRow.updated_at.desc(), ItemRow.id.desc()).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE))]
    item_ids = [item.id for item, _ in rows]
    checks: dict[int, list[str]] = {}
    for item_id, check_id, status in session.execute(
            select(CheckResultRow.item_id, CheckResultRow.check_id, CheckResultRow.status)
            .where(CheckResultRow.item_id.in_(item_ids), CheckResultRow.status.in_(["fail", WARN]))):
        checks.setdefault(item_id, []).append(check_id if status == "fail" else f"{check_id}?")
    entries = tuple(
        QueueEntry(item_id=item.id, archival_code=item.archival_code, title=item.title, status=item.status,
                   warned=item.status != ItemStatus.REJECTED,
                   checks=tuple(sorted(set(checks.get(item.id, []) or item.failed_checks))),
                   batch_id=batch.id, batch_name=batch.name, vendor=batch.vendor, updated_at=item.updated_at,
                   pages=item.page_count)
        for item, batch in rows)
    by_check = session.execute(
        select(CheckResultRow.check_id, func.count(func.distinct(CheckResultRow.item_id)))
        .where(CheckResultRow.item_id.in_(select(ids.c.id)), CheckResultRow.status.in_(["fail", WARN]))
        .group_by(CheckResultRow.check_id).order_by(func.count(func.distinct(CheckResultRow.item_id)).desc())).all()
    by_vendor = session.execute(
        select(BatchRow.vendor, func.count(ItemRow.id)).join(ItemRow, ItemRow.batch_id == BatchRow.id)
        .where(ItemRow.id.in_(select(ids.c.id))).group_by(BatchRow.vendor)).all()
    by_state = {}
    for state in ("open", "rejected", "warned"):
        sub = _base(f.model_copy(update={"state": state})).with_only_columns(ItemRow.id).subquery()
        by_state[state] = session.scalar(select(func.count()).select_from(sub)) or 0
    return QueueView(entries=entries, total=total, by_check=tuple((c, n) for c, n in by_check),
                     by_vendor=tuple((v, n) for v, n in by_vendor), by_state=by_state,
                     pages=max(1, -(-total // PAGE_SIZE)))


@dataclass(frozen=True)
class BatchInFlight:
    batch_id: int
    name: str
    vendor: str
    profile: str
    status: str
    received_at: dt.datetime
    items: int
    decided: int
    pages_done: int
    pages: int
    stage: str


def batches(session: Session, limit: int = 50) -> list[BatchInFlight]:
    """Batches being processed first, then the latest finished: stage, items decided, pages done."""
    order = (BatchRow.status != BatchStatus.PROCESSING, BatchRow.received_at.desc())
    out = []
    for b in session.scalars(select(BatchRow).order_by(*order).limit(limit)):
        counts: dict[str, tuple[int, int]] = {
            status: (n, pages) for status, n, pages in session.execute(
                select(ItemRow.status, func.count(ItemRow.id), func.coalesce(func.sum(ItemRow.page_count), 0))
                .where(ItemRow.batch_id == b.id).group_by(ItemRow.status))}
        items = sum(n for n, _ in counts.values())
        open_states = (ItemStatus.RECEIVED, ItemStatus.PROCESSING)
        decided = sum(n for s, (n, _) in counts.items() if s not in open_states)
        pages = sum(p for _, p in counts.values())
        pages_done = sum(p for s, (_, p) in counts.items() if s not in open_states)
        if b.status == BatchStatus.PROCESSING:
            stage = "items" if counts.get(ItemStatus.PROCESSING) else ("intake" if not items else "items")
        else:
            stage = b.status
        out.append(BatchInFlight(batch_id=b.id, name=b.name, vendor=b.vendor, profile=b.profile, status=b.status,
                                 received_at=b.received_at, items=items, decided=decided, pages_done=pages_done,
                                 pages=pages, stage=stage))
    return out
