"""档号 allocation: gap-free, repeat-free numbering per class, also from several processes at once."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections import Counter
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.orm import Session

from guidang.packaging.archival_code import (
    ArchivalCodeError,
    ArchivalCodeRule,
    IssueKind,
    PartValue,
    allocate,
    builtin_rule,
    parse,
)
from guidang.storage import sequence

DAT22 = builtin_rule("dat22")
CLASS_A: dict[str, PartValue] = {
    "全宗号": "Z109",
    "门类": "WS",
    "年度": 2011,
    "保管期限": "Y",
    "机构": "BGS",
}
CLASS_B: dict[str, PartValue] = {
    "全宗号": "Z109",
    "门类": "WS",
    "年度": 2011,
    "保管期限": "D30",
    "机构": "BGS",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'catalogue.db'}")
    else:
        eng = create_engine(request.getfixturevalue("postgres_url"))
        sequence.metadata.drop_all(eng)
    sequence.create_tables(eng)
    yield eng
    eng.dispose()


def test_table_lives_in_its_own_metadata(engine: Engine) -> None:
    assert set(sequence.metadata.tables) == {"guidang_sequence"}
    assert "guidang_sequence" in inspect(engine).get_table_names()


def test_numbers_run_per_class_from_one(engine: Engine) -> None:
    codes = [allocate(DAT22, CLASS_A, engine).text for _ in range(3)]
    assert codes == ["Z109-WS·2011-Y-BGS-0001", "Z109-WS·2011-Y-BGS-0002", "Z109-WS·2011-Y-BGS-0003"]
    assert allocate(DAT22, CLASS_B, engine).text == "Z109-WS·2011-D30-BGS-0001"
    assert sequence.current(engine, "Z109-WS·2011-Y-BGS") == 3
    assert sequence.current(engine, "Z109-WS·2011-D10-BGS") == 0


def test_by_volume_rule_numbers_items_within_the_volume(engine: Engine) -> None:
    rule = builtin_rule("dat13-volume")
    parts: dict[str, PartValue] = {
        "全宗号": "J019",
        "门类": "ZY",
        "类目": ["JC", "CC"],
        "年度": 2019,
        "保管期限": "D30",
    }
    parts["案卷号"] = 1
    assert [allocate(rule, parts, engine).text for _ in range(2)] == [
        "J019-ZY·JC·CC·2019·D30-001-001",
        "J019-ZY·JC·CC·2019·D30-001-002",
    ]
    assert allocate(rule, {**parts, "案卷号": 2}, engine).text == "J019-ZY·JC·CC·2019·D30-002-001"


def test_number_taken_in_a_rolled_back_transaction_is_given_again(engine: Engine) -> None:
    with Session(engine) as session:
        first = allocate(DAT22, CLASS_A, session)
        assert first.item == 1
        session.rollback()
    with Session(engine) as session:
        again = allocate(DAT22, CLASS_A, session)
        session.commit()
    assert again.text == first.text  # no gap left by the failed record
    with engine.connect() as conn:
        assert allocate(DAT22, CLASS_A, conn).item == 2
        conn.commit()
    assert sequence.current(engine, "Z109-WS·2011-Y-BGS") == 2


def test_imported_codes_move_the_counter_forward_only(engine: Engine) -> None:
    assert sequence.observe(engine, "Z109-WS·2011-Y-BGS", 41) == 41
    assert sequence.observe(engine, "Z109-WS·2011-Y-BGS", 7) == 41
    assert allocate(DAT22, CLASS_A, engine).item == 42


def test_exhausted_class_is_an_error_and_takes_no_number(engine: Engine) -> None:
    rule = ArchivalCodeRule.model_validate({"name": "tiny", "base": "dat22", "parts": {"件号": {"width": 1}}})
    assert [allocate(rule, CLASS_A, engine).item for _ in range(9)] == list(range(1, 10))
    with pytest.raises(sequence.SequenceExhaustedError) as info:
        allocate(rule, CLASS_A, engine)
    assert "Z109-WS·2011-Y-BGS" in info.value.zh and "used up" in info.value.en
    assert sequence.current(engine, "Z109-WS·2011-Y-BGS") == 9


def test_giving_the_item_number_or_a_bad_class_is_refused(engine: Engine) -> None:
    with pytest.raises(ArchivalCodeError) as info:
        allocate(DAT22, {**CLASS_A, "件号": 5}, engine)
    assert info.value.issues[0].part == "件号"
    with pytest.raises(ArchivalCodeError) as info:
        allocate(DAT22, {**CLASS_A, "门类": "XX"}, engine)
    assert (info.value.issues[0].kind, info.value.issues[0].part) == (IssueKind.UNKNOWN_CODE, "门类")
    assert sequence.current(engine, "Z109-XX·2011-Y-BGS") == 0


def _worker(url: str, barrier: Barrier, n: int, use_session: bool, out: Any) -> None:
    """Allocate n codes alternating between two classes, as a separate process would."""
    eng = create_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite") else {})
    barrier.wait()
    got = []
    for i in range(n):
        parts = CLASS_A if i % 2 == 0 else CLASS_B
        if use_session:
            with Session(eng) as session:
                got.append(allocate(DAT22, parts, session).text)
                session.commit()
        else:
            got.append(allocate(DAT22, parts, eng).text)
    out.put(got)
    eng.dispose()


def test_concurrent_processes_get_no_gaps_and_no_repeats(engine: Engine, tmp_path: Path) -> None:
    # fork: quick to start; the parent's pooled connections are closed first so no child shares them.
    engine.dispose()
    ctx = mp.get_context("fork")
    procs, per_proc = 4, 30
    barrier = ctx.Barrier(procs)
    out = ctx.Queue()
    workers = [
        ctx.Process(
            target=_worker,
            args=(engine.url.render_as_string(hide_password=False), barrier, per_proc, i % 2 == 1, out),
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    results: list[list[str]] = []
    deadline = time.monotonic() + 300  # a hang guard, not a speed check
    while len(results) < procs:
        try:
            results.append(out.get(timeout=0.5))
        except queue.Empty:
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not failed, f"an allocating process failed (exit codes {failed})"
            assert time.monotonic() < deadline, "allocating processes did not finish"
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    codes = [c for r in results for c in r]
    assert len(codes) == procs * per_proc
    assert not [c for c, k in Counter(codes).items() if k > 1]
    per_class = procs * per_proc // 2
    for retention in ("Y", "D30"):
        items = sorted(parse(c, DAT22).item or 0 for c in codes if f"-{retention}-" in c)
        assert items == list(range(1, per_class + 1))
        assert sequence.current(engine, f"Z109-WS·2011-{retention}-BGS") == per_class
