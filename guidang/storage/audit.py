"""The audit log's hash chain: every row of the catalogue's ``events`` table is chained by SM3.

Each event gets a sequence number and ``hash = SM3(prev_hash ‖ canonical(event))`` when it is flushed; the
chain's head (sequence, hash) lives in the one-row table ``audit_head``, whose row is updated first, so that
appends are serialised by the database's own write lock (SQLite) or row lock (PostgreSQL): two writers never
chain onto the same head. The head is also written *outside* the database (``anchors``: with each batch's
receipt and at every audit), so a changed, deleted or truncated entry is found by :func:`verify` even when the
attacker rewrote ``audit_head`` as well.

No event is written any other way: :meth:`Catalogue.log <guidang.storage.catalogue.Catalogue.log>` adds an
``EventRow``; this module's ``before_flush`` listener chains every new one, in the order they were added.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from guidang.fsutil import replace_file
from guidang.storage.catalogue import GENESIS, AuditHeadRow, EventRow

HEAD_ID = 1


def sm3_hex(data: bytes) -> str:
    """SM3 (GB/T 32905) of ``data``, from OpenSSL through hashlib, as the fixity digests are."""
    h = hashlib.new("sm3")
    h.update(data)
    return h.hexdigest()


def utc_text(at: dt.datetime) -> str:
    """The instant as the chain hashes it: UTC, microseconds (SQLite hands back naive UTC, PostgreSQL aware)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain(detail: Any) -> Any:
    """The detail as the JSON column gives it back (tuples become lists, keys strings): what is stored is
    exactly what is hashed."""
    return json.loads(json.dumps(detail, ensure_ascii=False, default=str))


def entry_hash(prev: str, seq: int, at: dt.datetime, agent: str, action: str, subject: str,
               detail: Any) -> str:
    body = json.dumps([seq, utc_text(at), agent, action, subject, detail], ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))
    return sm3_hex(prev.encode("ascii") + body.encode("utf-8"))


def hash_of(row: EventRow, prev: str) -> str:
    assert row.seq is not None
    return entry_hash(prev, row.seq, row.at, row.agent, row.action, row.subject, row.detail)


def _ensure_head(session: Session) -> None:
    if session.execute(select(AuditHeadRow.id).where(AuditHeadRow.id == HEAD_ID)).first() is None:
        session.execute(insert(AuditHeadRow).values(id=HEAD_ID, seq=0, hash=GENESIS))


def chain(session: Session, rows: list[EventRow]) -> None:
    """Give ``rows`` (new events, in order) their sequence numbers and hashes, advancing the head.

    The head row is written first (``UPDATE … seq = seq + n``), which takes the write lock before the head is
    read: appends from other connections wait, and none reads a head this one is about to move.
    """
    if not rows:
        return
    moved = session.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)
                            .values(seq=AuditHeadRow.seq + len(rows)))
    if moved.rowcount == 0:  # type: ignore[attr-defined]  # a catalogue whose head row was never made
        _ensure_head(session)
        session.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID)
                        .values(seq=AuditHeadRow.seq + len(rows)))
    last_seq, prev = session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash)
                                     .where(AuditHeadRow.id == HEAD_ID)).one()
    seq = last_seq - len(rows)
    for row in rows:
        seq += 1
        if row.at is None:
            row.at = dt.datetime.now(dt.UTC)
        row.detail = plain(row.detail or {})
        row.seq = seq
        row.prev_hash = prev
        row.hash = prev = hash_of(row, prev)
    session.execute(update(AuditHeadRow).where(AuditHeadRow.id == HEAD_ID).values(hash=prev))


def _chain_new_events(session: Session, _context: Any, _instances: Any) -> None:
    chain(session, [o for o in session.new if isinstance(o, EventRow) and o.hash is None])


sa_event.listen(Session, "before_flush", _chain_new_events)


# Checking -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """A head written outside the database: the chain had reached ``seq`` with ``hash`` at ``at``."""

    seq: int
    hash: str
    at: str = ""
    where: str = ""  # the file it was read from (for the message)

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at}


@dataclass(frozen=True)
class ChainProblem:
    """One break in the chain. ``kind``: changed | missing | unchained | head | anchor | truncated."""

    kind: str
    seq: int | None
    event_id: int | None
    zh: str
    en: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head: Anchor
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def head(session: Session) -> Anchor:
    found = session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == HEAD_ID)).first()
    seq, digest = (found[0], found[1]) if found else (0, GENESIS)
    return Anchor(seq=seq, hash=digest, at=utc_text(dt.datetime.now(dt.UTC)))


def verify(session: Session, anchors: Iterable[Anchor] = ()) -> ChainReport:
    """Walk the whole chain: each row's hash recomputed from its content and its predecessor's hash, the
    sequence without gaps, the head row and every anchor written outside the database agreeing with it."""
    problems: list[ChainProblem] = []
    prev, expected, checked = GENESIS, 1, 0
    by_seq: dict[int, str] = {0: GENESIS}
    for row in session.scalars(select(EventRow).order_by(EventRow.seq.is_(None), EventRow.seq, EventRow.id)):
        checked += 1
        if row.seq is None or row.hash is None:
            problems.append(ChainProblem("unchained", None, row.id, f"事件 {row.id} 不在哈希链中",
                                         f"event {row.id} is not in the hash chain"))
            continue
        if row.seq != expected:
            problems.append(ChainProblem(
                "missing", expected, row.id,
                f"审计日志缺少序号 {expected}–{row.seq - 1} 的条目（已被删除）",
                f"audit log entries {expected}-{row.seq - 1} are missing (deleted)"))
            prev = row.prev_hash or prev  # go on from the row found, to report later breaks too
        if row.prev_hash != prev or hash_of(row, prev) != row.hash:
            problems.append(ChainProblem(
                "changed", row.seq, row.id,
                f"审计日志条目 {row.seq}（事件 {row.id}）与其哈希不符：内容被改动",
                f"audit log entry {row.seq} (event {row.id}) does not match its hash: it was changed"))
        by_seq[row.seq] = row.hash
        prev, expected = row.hash, row.seq + 1
    top = head(session)
    if top.seq != expected - 1 or top.hash != prev:
        problems.append(ChainProblem(
            "head", top.seq, None,
            f"链头记录（序号 {top.seq}）与最后一条日志（序号 {expected - 1}）不符",
            f"the chain head (seq {top.seq}) does not match the last entry (seq {expected - 1})"))
    for anchor in anchors:
        if anchor.seq < 0:
            problems.append(ChainProblem("anchor", None, None, f"锚点文件 {anchor.where} 无法读取",
                                         f"the anchor file {anchor.where} cannot be read"))
        elif anchor.seq > expected - 1:
            problems.append(ChainProblem(
                "truncated", anchor.seq, None,
                f"{anchor.where or '外部锚点'} 记录链已到序号 {anchor.seq}，数据库只到 {expected - 1}：日志被截断",
                f"{anchor.where or 'an anchor'} saw the chain at seq {anchor.seq}, the database ends at "
                f"{expected - 1}: the log was truncated"))
        elif by_seq.get(anchor.seq) != anchor.hash:
            problems.append(ChainProblem(
                "anchor", anchor.seq, None,
                f"{anchor.where or '外部锚点'} 记录的序号 {anchor.seq} 的哈希与数据库不符：日志被改写",
                f"{anchor.where or 'an anchor'} holds another hash for seq {anchor.seq}: the log was rewritten"))
    return ChainReport(checked=checked, head=top, problems=tuple(problems))


# Anchors: the head written outside the database --------------------------------------------------------

ANCHOR_GLOB = "anchor-*.json"


def write_anchor(folder: Path, anchor: Anchor, reason: str) -> Path:
    """Write the head as ``anchor-<seq>.json`` in ``folder`` (one file per head; a later write of the same
    head replaces it with the same content)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"anchor-{anchor.seq:012d}.json"
    body = {**anchor.as_dict(), "reason": reason, "algorithm": "SM3"}
    replace_file(path, json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8"))
    return path


def read_anchors(folder: Path) -> list[Anchor]:
    """Every anchor in ``folder``; one that cannot be read counts as an anchor nothing matches."""
    found = []
    for path in sorted(folder.glob(ANCHOR_GLOB)) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text("utf-8"))
            found.append(Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data.get("at", "")),
                                where=path.name))
        except (OSError, ValueError, KeyError, TypeError):
            found.append(Anchor(seq=-1, hash="unreadable", where=path.name))
    return found


def anchor_now(session: Session, folder: Path, reason: str) -> Anchor:
    """Write the current head to ``folder`` and return it."""
    top = head(session)
    write_anchor(folder, top, reason)
    return top
