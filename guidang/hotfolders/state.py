"""The watcher's state in the catalogue DB: one row per claim of an inbox entry.

Stages (see docs/operations.md for the recovery rules):

    intent ──rename──▶ claimed ──worker──▶ running ──▶ done ─┐
       │                  ▲                   │              ├─ settled: the folder has left
       └─▶ abandoned      └──crash/stop───────┤              │  the processing area
                                              └─▶ rejected ──┘

A claim row is the queue entry too: a worker needs nothing but its id and this table.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from guidang.fsutil import replace_file
from guidang.storage.catalogue import Base, Catalogue, utcnow

WORKERS_FILE = "watch-workers.json"  # in the working home: the worker processes the watcher started


class Stage(StrEnum):
    INTENT = "intent"  # row written, rename not yet known to have happened
    CLAIMED = "claimed"  # in the processing area, waiting for a worker
    RUNNING = "running"  # a worker has it
    DONE = "done"  # the unit of work returned (batch done, failed or duplicate)
    REJECTED = "rejected"  # not processable; kept whole in the rejected area with the reason
    ABANDONED = "abandoned"  # the rename never happened; the entry is still (or no longer) in the inbox


IN_FLIGHT = (Stage.INTENT, Stage.CLAIMED, Stage.RUNNING)
FINAL = (Stage.DONE, Stage.REJECTED)


class ClaimRow(Base):
    __tablename__ = "watch_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(Text)  # decoded, NFC: the batch name from here on
    source_path: Mapped[str] = mapped_column(Text)  # where it was in the inbox (surrogate-escaped)
    source_raw: Mapped[str] = mapped_column(Text, default="")  # hex of the on-disk name when not UTF-8
    kind: Mapped[str] = mapped_column(String(20), default="dir")
    processing_path: Mapped[str] = mapped_column(Text, default="")
    final_path: Mapped[str | None] = mapped_column(Text, default=None)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started
    crashes: Mapped[int] = mapped_column(Integer, default=0)  # runs ended by a signal
    errors: Mapped[int] = mapped_column(Integer, default=0)  # runs ended by an exception
    not_before: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    reason: Mapped[str | None] = mapped_column(String(60), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    batch_id: Mapped[int | None] = mapped_column(Integer, default=None)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


def open_catalogue(url: str) -> Catalogue:
    """The catalogue with the watcher's table created on the same engine."""
    cat = Catalogue(url)
    Base.metadata.create_all(cat.engine, tables=[ClaimRow.__table__])  # type: ignore[list-item]
    return cat


def move_stage(session: Session, claim_id: int, frm: tuple[Stage, ...], to: Stage, **values: Any) -> bool:
    """Compare-and-set: move a claim to ``to`` only if it is in one of ``frm``. True if it moved."""
    stmt = (
        update(ClaimRow)
        .where(ClaimRow.id == claim_id, ClaimRow.stage.in_([str(s) for s in frm]))
        .values(stage=str(to), updated_at=utcnow(), **values)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def claims(session: Session, *stages: Stage, profile: str | None = None) -> list[ClaimRow]:
    stmt = select(ClaimRow).where(ClaimRow.stage.in_([str(s) for s in stages])).order_by(ClaimRow.id)
    if profile is not None:
        stmt = stmt.where(ClaimRow.profile == profile)
    return list(session.scalars(stmt))


def as_utc(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; they were written in UTC."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=dt.UTC)


def is_due(not_before: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a claim whose retry waits until ``not_before`` may run at ``now``."""
    when = as_utc(not_before)
    return when is None or when <= now


@dataclass(frozen=True)
class WorkerRecord:
    """A worker process as the watcher started it: its pid (also its session id: each worker leads
    its own session) and its start time in clock ticks since boot (``/proc/<pid>/stat`` field 22),
    which tells it apart from a later process given the same pid."""

    pid: int
    start: int
    claim_id: int


def recorded_workers(home: Path) -> list[WorkerRecord]:
    """The workers recorded in the home's state; a missing or damaged file records none."""
    try:
        rows = json.loads((home / WORKERS_FILE).read_text("utf-8"))
        return [WorkerRecord(int(r["pid"]), int(r["start"]), int(r["claim_id"])) for r in rows]
    except (OSError, ValueError, TypeError, KeyError):
        return []


def save_workers(home: Path, workers: list[WorkerRecord]) -> None:
    """Replace the record (whole or not at all: a SIGKILL mid-write leaves the previous one)."""
    replace_file(home / WORKERS_FILE, json.dumps([asdict(w) for w in workers]).encode())
