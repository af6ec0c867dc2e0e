"""The audit log's SM3 hash chain: every event chained on flush, in order, serialised; a changed, deleted or
truncated entry is found (with the head anchored outside the database)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from sqlalchemy import delete, select, text, update

from guidang.storage import audit
from guidang.storage.catalogue import AuditHeadRow, Catalogue, EventRow


def catalogue(tmp_path: Path) -> Catalogue:
    return Catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")


def fill(cat: Catalogue, n: int) -> None:
    for i in range(n):
        with cat.session() as s:
            cat.log(s, "test", "thing.done", f"subject-{i}", n=i, title="<script>题名</script>", nested={"b": [1, 2]})


def test_events_are_chained_in_order_and_verify(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    fill(cat, 5)
    with cat.session() as s:
        rows = list(s.scalars(select(EventRow).order_by(EventRow.id)))
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        report = audit.verify(s)
    assert report.ok and report.checked == 5 and report.head.seq == 5 and report.head.hash == rows[-1].hash


def test_a_changed_row_is_found(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    fill(cat, 4)
    with cat.engine.begin() as conn:  # an attacker with the database, bypassing guidang
        conn.execute(text("UPDATE events SET subject = 'forged' WHERE seq = 2"))
    with cat.session() as s:
        report = audit.verify(s)
    assert [(p.kind, p.seq) for p in report.problems] == [("changed", 2)]


def test_a_deleted_row_is_found(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    fill(cat, 4)
    with cat.session() as s:
        s.execute(delete(EventRow).where(EventRow.seq == 3))
        report = audit.verify(s)
    assert "missing" in [p.kind for p in report.problems]


def test_a_truncated_tail_with_a_rewritten_head_is_found_by_the_anchor(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    fill(cat, 4)
    anchors = tmp_path / "audit"
    with cat.session() as s:
        audit.anchor_now(s, anchors, "receipt")
    with cat.session() as s:  # the last two entries deleted and the head row set back to match
        s.execute(delete(EventRow).where(EventRow.seq > 2))
        second = s.scalars(select(EventRow).where(EventRow.seq == 2)).one()
        s.execute(update(AuditHeadRow).values(seq=2, hash=second.hash))
    with cat.session() as s:
        assert audit.verify(s).ok  # without the anchor, a truncation is invisible
        report = audit.verify(s, audit.read_anchors(anchors))
    assert [p.kind for p in report.problems] == ["truncated"]


def test_a_rewritten_chain_is_found_by_the_anchor(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    fill(cat, 3)
    anchors = tmp_path / "audit"
    with cat.session() as s:
        audit.anchor_now(s, anchors, "audit")
        rows = list(s.scalars(select(EventRow).order_by(EventRow.seq)))
        prev = audit.GENESIS
        for row in rows:  # rewrite every entry and re-chain it consistently
            row.subject = "rewritten"
            row.hash = prev = audit.hash_of(row, prev)
            if row.seq and row.seq > 1:
                row.prev_hash = rows[row.seq - 2].hash
        s.execute(update(AuditHeadRow).values(hash=prev))
    with cat.session() as s:
        report = audit.verify(s, audit.read_anchors(anchors))
    assert [p.kind for p in report.problems] == ["anchor"]


def test_concurrent_appends_never_share_a_head(tmp_path: Path) -> None:
    cat = catalogue(tmp_path)
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            other = Catalogue(cat.url)
            for i in range(10):
                with other.session() as s:
                    other.log(s, f"w{k}", "thing.done", f"{k}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with cat.session() as s:
        report = audit.verify(s)
    assert report.ok and report.checked == 40 and report.head.seq == 40


def test_the_migration_chains_events_written_before_it(tmp_path: Path) -> None:
    """A catalogue upgraded from 0002 has its old events chained (tests/test_migrations covers the schema)."""
    from sqlalchemy import create_engine

    from guidang.storage import schema

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        from alembic import command

        command.upgrade(schema._config(conn), "0002")
        conn.execute(text("INSERT INTO events (at, agent, action, subject, detail) VALUES "
                          "('2026-01-02 03:04:05.000006', 'old', 'batch.received', 'b1', '{\"n\": 1}'),"
                          "('2026-01-02 03:04:06.000000', 'old', 'batch.finished', 'b1', '{}')"))
    schema.upgrade(engine)
    cat = Catalogue(url)
    fill(cat, 1)
    with cat.session() as s:
        report = audit.verify(s)
    assert report.ok and report.checked == 3 and report.head.seq == 3
