"""Catalogue rows of long-term preservation: audit runs, the last audit of every object, the destruction register.

They sit on the catalogue's ``Base`` (one schema, one migration history: 0006 adds them). The audit log
itself stays the catalogue's ``events`` table (``Catalogue.log``): these rows are the state a report or a
schedule reads, the events are the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from guidang.storage.catalogue import Base, utcnow


class AuditRunRow(Base):
    """One run of ``guidang audit`` (scheduled or by hand)."""

    __tablename__ = "audit_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # fixity | sample | full
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    objects: Mapped[int] = mapped_column(Integer, default=0)
    checked: Mapped[int] = mapped_column(Integer, default=0)  # objects given the four-property checks
    damaged: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(Integer, default=0)
    agent: Mapped[str] = mapped_column(String(200), default="guidang")


class ObjectAuditRow(Base):
    """The last audit of one stored object: when, how, what it found (the object is flagged, not touched)."""

    __tablename__ = "object_audits"

    archival_code: Mapped[str] = mapped_column(String(200), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(Integer, default=None)
    audited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # intact | damaged
    failed_checks: Mapped[list[Any]] = mapped_column(default=list)
    findings: Mapped[list[Any]] = mapped_column(default=list)  # the failed results, as dicts


class DestructionRow(Base):
    """销毁登记 (GB/T 18894 10.3): a destroyed record's metadata, kept after its object left the store."""

    __tablename__ = "destructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archival_code: Mapped[str] = mapped_column(String(200), index=True)
    destroyed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    agent: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(Text)  # the appraisal decision (鉴定意见) it executes
    reason: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    retention: Mapped[str] = mapped_column(String(20), default="")
    metadata_xml: Mapped[str] = mapped_column(Text)  # the head version's metadata.xml
    inventory: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the object's last OCFL inventory


def last_run(session: Session, kinds: tuple[str, ...]) -> AuditRunRow | None:
    """The newest finished audit run of one of ``kinds``."""
    stmt = (select(AuditRunRow).where(AuditRunRow.kind.in_(kinds), AuditRunRow.finished_at.is_not(None))
            .order_by(AuditRunRow.finished_at.desc()))
    return session.scalars(stmt).first()


def sqlite_snapshot(url: str) -> bytes | None:
    """A consistent copy of a SQLite catalogue (SQLite's online backup, safe while it is in use), as bytes;
    None for another database (PostgreSQL: back it up with pg_dump, docs/storage.md)."""
    import sqlite3

    if not url.startswith("sqlite:///"):
        return None
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(":memory:")
    try:
        source.backup(copy)
        return copy.serialize()
    finally:
        copy.close()
        source.close()
