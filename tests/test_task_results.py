"""Leases and results of distributed tasks (storage.task_results) on SQLite and a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from distributed_support import fresh_database

from guidang.storage.catalogue import Catalogue
from guidang.storage.task_results import (
    Lease,
    TaskState,
    acquire,
    complete,
    enqueue,
    finished,
    forget,
    lapsed,
    started,
)

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def cat(request: pytest.FixtureRequest, tmp_path: Path) -> Catalogue:
    if request.param == "sqlite":
        return Catalogue(f"sqlite:///{tmp_path / 'c.db'}")
    return Catalogue(fresh_database(request.getfixturevalue("postgres_url")))


def _take(cat: Catalogue, owner: str, at: dt.datetime, attempts: int = 3) -> Lease:
    with cat.session() as s:
        return acquire(s, "ocr:k", owner=owner, lease_seconds=60, max_attempts=attempts, now=at)


def _want(cat: Catalogue) -> None:
    with cat.session() as s:
        enqueue(s, {"ocr:k": ("ocr", "A-1")})


def test_one_holder_at_a_time_and_a_stored_result_is_never_run_again(cat: Catalogue) -> None:
    assert _take(cat, "w0", T0) is Lease.STALE  # nobody wants it: a message that outlived its batch
    _want(cat)
    assert _take(cat, "w1", T0) is Lease.RUN
    assert _take(cat, "w2", T0 + dt.timedelta(seconds=59)) is Lease.BUSY  # a second delivery while w1 works
    with cat.session() as s:
        assert lapsed(s, ["ocr:k"], now=T0 + dt.timedelta(seconds=30)) == []
        assert started(s, ["ocr:k", "ocr:other"]) == {"ocr:k"}
        assert complete(s, "ocr:k", b"result")
    with cat.session() as s:
        assert not complete(s, "ocr:k", b"second")  # the first result stays
    assert _take(cat, "w3", T0 + dt.timedelta(hours=2)) is Lease.DONE
    with cat.session() as s:
        rows = finished(s, ["ocr:k"])
        assert rows["ocr:k"].state == TaskState.DONE and rows["ocr:k"].result == b"result"
        forget(s, ["ocr:k"], keep_seconds=600, now=T0 + dt.timedelta(hours=2))
    with cat.session() as s:
        assert finished(s, ["ocr:k"]) == {}
    assert _take(cat, "w4", T0 + dt.timedelta(hours=2)) is Lease.DONE  # a late duplicate message: no work
    with cat.session() as s:
        forget(s, [], keep_seconds=600, now=T0 + dt.timedelta(hours=3))  # used long ago: deleted
        assert started(s, ["ocr:k"]) == set()
    assert _take(cat, "w5", T0 + dt.timedelta(hours=3)) is Lease.STALE  # its batch is long gone


def test_a_new_run_of_the_same_input_wants_again_what_an_earlier_one_used(cat: Catalogue) -> None:
    _want(cat)
    assert _take(cat, "w1", T0) is Lease.RUN
    with cat.session() as s:
        complete(s, "ocr:k", b"r")
        forget(s, ["ocr:k"], keep_seconds=600, now=T0)
    assert _take(cat, "w2", T0) is Lease.DONE  # a late duplicate of the first run's message
    _want(cat)
    assert _take(cat, "w3", T0) is Lease.RUN


def test_a_lapsed_lease_is_taken_over_until_the_attempts_run_out(cat: Catalogue) -> None:
    _want(cat)
    at = T0
    for _ in range(2):
        assert _take(cat, "w", at, attempts=2) is Lease.RUN
        at += dt.timedelta(seconds=61)  # the holder died: its lease runs out
        with cat.session() as s:
            assert lapsed(s, ["ocr:k"], now=at) == ["ocr:k"]
    assert _take(cat, "w", at, attempts=2) is Lease.GIVEN_UP  # two holders died under it
    with cat.session() as s:
        assert finished(s, ["ocr:k"])["ocr:k"].state == TaskState.GIVEN_UP
    assert _take(cat, "w", at + dt.timedelta(hours=1), attempts=2) is Lease.GIVEN_UP


def test_a_postgresql_catalogue_that_goes_closes_its_connections(postgres_url: str) -> None:
    """Its pooled connections are closed, not left to the garbage collector: psycopg warns about an unclosed
    one at whatever code runs then, and pikepdf.pdfa took that warning for a PDF/A failure (GD-3-3)."""
    import gc
    import warnings

    from sqlalchemy import select

    from guidang.storage.catalogue import BatchRow

    url = fresh_database(postgres_url)
    gc.collect()  # what earlier tests in this worker left to the collector is not this test's
    for _ in range(3):
        cat = Catalogue(url)
        with cat.session() as s:
            s.scalars(select(BatchRow)).all()
        del cat
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught] == []
