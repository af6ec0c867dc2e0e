"""Leases and results of distributed tasks, keyed by stage, item and input digest (``tasks`` table).

A task of the Celery back end (``guidang.distributed``) takes a lease on its key before it works and
stores its result under the key when done, so a task delivered twice (a worker SIGKILLed before its
acknowledgement, a message sent again by the coordinator) runs at most once while its lease holds, and
a finished key is never run again. A lease that expires (its worker died) is taken over by the next
delivery, up to a number of attempts; then the key is given up, as the local pool gives up a page
whose process died every time (``pipeline.page_pool``).

The coordinator records its keys (:func:`enqueue`) before it sends their messages; a worker given a key
with no row drops the message (its batch is gone: a broker's late redelivery). One transaction per
call; ``SELECT … FOR UPDATE`` locks the row (PostgreSQL; SQLite serialises writers) while the lease is judged.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

from sqlalchemy import DateTime, Integer, LargeBinary, String, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from guidang.storage.catalogue import Base, utcnow


class TaskState(enum.StrEnum):
    QUEUED = "queued"  # sent by its coordinator, not taken yet
    RUNNING = "running"
    DONE = "done"
    GIVEN_UP = "given_up"
    USED = "used"  # the result was taken and dropped; a late duplicate of the message finds nothing to do


class Lease(enum.StrEnum):
    """What :func:`acquire` found."""

    RUN = "run"  # the caller holds the lease: do the work, then :func:`complete`
    BUSY = "busy"  # another holder's lease is current
    DONE = "done"  # a result is stored
    GIVEN_UP = "given_up"  # attempts exhausted
    STALE = "stale"  # no coordinator waits for this key (a message that outlived its batch): nothing to do


class TaskRow(Base):
    __tablename__ = "tasks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # <stage>:<sha256 of item and input>
    stage: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(200), default="", index=True)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str] = mapped_column(String(200), default="")
    leased_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    result: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite returns naive datetimes


def enqueue(session: Session, keys: dict[str, tuple[str, str]]) -> None:
    """Record ``keys`` (key -> (stage, item)) as wanted before their messages are sent. A key an earlier run
    used is wanted again; one done or running is left as it is (its result will do)."""
    if not keys:
        return
    at = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [dict(key=k, stage=stage, item=item, state=TaskState.QUEUED, attempts=0, owner="", leased_until=at,
                 updated_at=at) for k, (stage, item) in keys.items()]
    session.execute(insert(TaskRow).values(rows).on_conflict_do_nothing(index_elements=["key"]))
    session.execute(update(TaskRow).where(TaskRow.key.in_(list(keys)), TaskRow.state == TaskState.USED)
                    .values(state=TaskState.QUEUED, attempts=0, owner="", result=None, updated_at=at))


def acquire(session: Session, key: str, *, owner: str, lease_seconds: float, max_attempts: int,
            now: dt.datetime | None = None) -> Lease:
    """Take the lease of ``key`` for ``owner`` if nobody holds a current one and attempts remain."""
    now = now or utcnow()
    row = session.scalars(select(TaskRow).where(TaskRow.key == key).with_for_update()).one_or_none()
    if row is None:
        return Lease.STALE
    if row.state in (TaskState.DONE, TaskState.USED):
        return Lease.DONE
    if row.state == TaskState.GIVEN_UP:
        return Lease.GIVEN_UP
    if row.state == TaskState.RUNNING and _aware(row.leased_until) > now:
        return Lease.BUSY
    if row.attempts >= max_attempts:  # every holder so far died under it
        row.state = TaskState.GIVEN_UP
        return Lease.GIVEN_UP
    row.state = TaskState.RUNNING
    row.attempts += 1
    row.owner = owner
    row.leased_until = now + dt.timedelta(seconds=lease_seconds)
    return Lease.RUN


def complete(session: Session, key: str, result: bytes) -> bool:
    """Store the result of ``key``; the first result stored wins (a task is a function of its input).
    Returns False when a result was there already."""
    row = session.scalars(select(TaskRow).where(TaskRow.key == key).with_for_update()).one_or_none()
    if row is None or row.state in (TaskState.DONE, TaskState.USED):
        return False
    row.state, row.result = TaskState.DONE, result
    return True


def finished(session: Session, keys: Iterable[str]) -> dict[str, TaskRow]:
    """The rows of ``keys`` that are done or given up."""
    wanted = list(keys)
    rows = session.scalars(select(TaskRow).where(TaskRow.key.in_(wanted),
                                                 TaskRow.state.in_([TaskState.DONE, TaskState.GIVEN_UP])))
    return {r.key: r for r in rows}


def lapsed(session: Session, keys: Iterable[str], now: dt.datetime | None = None) -> list[str]:
    """The keys of ``keys`` whose holder's lease ran out without a result (its worker died)."""
    now = now or utcnow()
    rows = session.scalars(select(TaskRow).where(TaskRow.key.in_(list(keys)), TaskRow.state == TaskState.RUNNING))
    return [r.key for r in rows if _aware(r.leased_until) <= now]


def started(session: Session, keys: Iterable[str]) -> set[str]:
    """The keys of ``keys`` some worker has taken at least once."""
    rows = session.scalars(select(TaskRow.key).where(TaskRow.key.in_(list(keys)), TaskRow.attempts > 0))
    return set(rows)


def forget(session: Session, keys: Iterable[str], *, keep_seconds: float, now: dt.datetime | None = None) -> None:
    """Mark ``keys`` used (their results were taken): the result is dropped and the row kept for
    ``keep_seconds``, so a duplicate message still in flight (a broker's redelivery) does no work twice;
    rows used longer ago than that are deleted."""
    now = now or utcnow()
    session.execute(update(TaskRow).where(TaskRow.key.in_(list(keys)))
                    .values(state=TaskState.USED, result=None, updated_at=now))
    session.execute(delete(TaskRow).where(TaskRow.state == TaskState.USED,
                                          TaskRow.updated_at < now - dt.timedelta(seconds=keep_seconds)))
