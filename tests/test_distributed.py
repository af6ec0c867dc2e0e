"""The Celery back end against a real Redis and PostgreSQL: a batch through two worker processes of
concurrency 1 gets the same verdicts as the local pool, its pages and its items spread over both workers;
the watcher with a broker configured sends its claim's tasks there and completes the claim; a worker
SIGKILLed under a page or under an item loses nothing and archives nothing twice. The default suite kills
twice (once under a page, once under an item); ``make stress`` (GUIDANG_STRESS=full) runs the kill 20 times,
alternating the stage."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from distributed_support import Workers, decisions_per_item, distributed, fresh_database, verdicts, workers
from sqlalchemy import select

from guidang.config import Settings
from guidang.distributed.batch import ingest_batch
from guidang.distributed.claims import RemoteClaims
from guidang.home import init_home
from guidang.hotfolders.safety import processed_area
from guidang.hotfolders.service import Watcher
from guidang.hotfolders.state import ClaimRow, Stage
from guidang.models import ItemStatus
from guidang.pipeline.outcome import BatchOutcome
from guidang.samples.batch import make_batch
from guidang.storage.catalogue import BatchRow, Catalogue
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.task_results import TaskRow, TaskState

FULL = os.environ.get("GUIDANG_STRESS") == "full"
KILL_RUNS = int(os.environ.get("GUIDANG_STRESS_KILL_RUNS", "21" if FULL else "3"))  # make stress: at least 20
STAGES = ("ocr", "item", "batch")  # the kill runs take turns: under a page, under an item, under a batch


def _batch(tmp_path: Path, name: str, pages: tuple[int, ...] = (2, 1)) -> Path:
    truth = make_batch(tmp_path / f"drop-{name}", page_counts=pages, seed=3, dpi=200, profile="clean", colour="none",
                       batch_id=name, truth_path=tmp_path / f"{name}.truth.json")
    return truth.batch_dir


def _failures(outcome: BatchOutcome) -> list[tuple[str, str, str]]:
    return [(o.code, r.check_id, r.message_en) for o in outcome.items for r in o.results if str(r.status) == "fail"]


def _second_home(tmp_path: Path, name: str) -> Settings:
    root = tmp_path / name
    init_home(root)
    return Settings(home=root)


def _archived_once(settings: Settings, outcome: BatchOutcome) -> None:
    """Every accepted item is one object in the store with one version; no task result is left behind."""
    store = OcflStore(settings.store_root)
    accepted = sorted(o.code for o in outcome.items if o.status is ItemStatus.ACCEPTED)
    assert sorted(store.list_codes()) == accepted
    for code in accepted:
        versions = sorted(p.name for p in store.object_path(code).iterdir() if p.name.startswith("v"))
        assert versions == ["v1"], (code, versions)
    assert set(decisions_per_item(settings.db_url, outcome.batch_id).values()) == {1}  # each item decided once
    with Catalogue(settings.db_url).session() as s:
        rows = s.scalars(select(TaskRow)).all()
        assert {(r.state, r.result) for r in rows} <= {(TaskState.USED, None)}, [
            (r.key[:16], r.state, r.attempts, r.owner, r.updated_at) for r in rows]


def test_two_celery_workers_give_the_verdicts_of_the_local_pool(
        home: Settings, tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    batch = _batch(tmp_path, "DIST")
    local = ingest_batch(home, "demo", batch)  # no broker configured: the local process pool, as always
    assert not home.distributed.broker_url
    assert {o.status for o in local.items} == {ItemStatus.ACCEPTED}, _failures(local)

    other = distributed(_second_home(tmp_path, "home-celery"), redis_url, fresh_database(postgres_url))
    with workers(other, tmp_path / "logs", n=2) as w:
        outcome = ingest_batch(other, "demo", batch)
        pages = [w.tasks_run(p, "guidang.page") for p in w.procs]
        items = [w.tasks_run(p, "guidang.item") for p in w.procs]
    assert verdicts(outcome) == verdicts(local)
    assert sum(pages) == 3 and all(pages), pages  # the three pages, spread over both workers
    assert sum(items) == 2 and all(items), items  # and the two items: assembled, checked, archived there
    _archived_once(other, outcome)
    for code in (o.code for o in outcome.items):  # the same text layer, whichever process read the pages
        ours = OcflStore(other.store_root).object_path(code)
        theirs = OcflStore(home.store_root).object_path(code)
        txt = next(ours.rglob(f"{code}.txt")).read_text("utf-8")
        assert txt and txt == next(theirs.rglob(f"{code}.txt")).read_text("utf-8")


@pytest.mark.stress
@pytest.mark.timeout(3600 if FULL else 900)
@pytest.mark.parametrize("run", range(KILL_RUNS))
def test_a_worker_sigkilled_under_a_task_loses_and_duplicates_nothing(
        home: Settings, tmp_path: Path, redis_url: str, postgres_url: str, run: int) -> None:
    stage = STAGES[run % len(STAGES)]
    # a task takes seconds here; a lease of 20 s lets the survivor take the killed worker's task soon
    settings = distributed(home, redis_url, fresh_database(postgres_url), lease=20)
    if stage == "batch":
        _kill_a_batch_worker(_watching(settings), tmp_path, f"KILL{run}")
        return
    batch = _batch(tmp_path, f"KILL{run}", pages=(2, 2))
    result: list[BatchOutcome | BaseException] = []

    def coordinate() -> None:
        try:
            result.append(ingest_batch(settings, "demo", batch))
        except BaseException as exc:
            result.append(exc)

    with workers(settings, tmp_path / "logs", n=2) as w:
        coordinator = threading.Thread(target=coordinate)
        coordinator.start()
        victim = _worker_under_a_task(settings, stage, w.procs, deadline=time.monotonic() + 300)
        w.kill(victim)  # the whole process group: the worker and its pool process, mid-task
        coordinator.join(timeout=600)
        assert not coordinator.is_alive()
        survivor = next(p for p in w.procs if p is not victim)
        assert w.tasks_run(survivor, "guidang.page" if stage == "ocr" else "guidang.item") >= 1
    outcome = result[0]
    assert isinstance(outcome, BatchOutcome), outcome
    assert outcome.status == "done"
    assert {o.status for o in outcome.items} == {ItemStatus.ACCEPTED}, _failures(outcome)
    _archived_once(settings, outcome)


def _worker_under_a_task(settings: Settings, stage: str, procs: list,  # type: ignore[type-arg]
                         deadline: float) -> object:
    """The worker whose process holds the lease of a task of ``stage`` that is still running."""
    groups = {p.pid: p for p in procs}
    cat = Catalogue(settings.db_url)
    try:
        while time.monotonic() < deadline:
            with cat.session() as s:
                rows = s.scalars(select(TaskRow).where(TaskRow.state == TaskState.RUNNING,
                                                       TaskRow.stage == stage)).all()
                owners = [int(r.owner.rsplit(":", 1)[1]) for r in rows]
            for pid in owners:
                try:
                    group = os.getpgid(pid)
                except ProcessLookupError:
                    continue
                if group in groups:
                    return groups[group]
            time.sleep(0.1)
    finally:
        cat.close()
    raise AssertionError(f"no worker took a task of stage {stage} in time")


def test_without_a_broker_the_local_pool_runs_and_guidang_worker_refuses(home: Settings) -> None:
    from click.testing import CliRunner

    from guidang.cli import main
    from guidang.hotfolders.unit import processor_of
    from guidang.pipeline.dispatch import ingest_delivery as local
    from guidang.pipeline.run import keep_rejected

    assert processor_of(home) is local  # exactly as before this back end existed
    with_broker = home.model_copy(update={"distributed": home.distributed.model_copy(
        update={"broker_url": "redis://127.0.0.1:1/0"})})
    assert processor_of(with_broker) is ingest_batch
    custom = with_broker.model_copy(update={"watch": with_broker.watch.model_copy(
        update={"processor": "guidang.pipeline.run:keep_rejected"})})  # any other function: kept as configured
    assert processor_of(custom) is keep_rejected
    result = CliRunner().invoke(main, ["worker"])
    assert result.exit_code == 3, result.output
    assert "distributed.broker_url" in result.output
    broker = {"GUIDANG_DISTRIBUTED__BROKER_URL": "redis://127.0.0.1:1/0"}
    for queues in ("batch,ocr", "ocr,pages"):  # a batch waits on the other stages: never one worker for both
        result = CliRunner().invoke(main, ["worker", "--queues", queues], env=broker)
        assert result.exit_code == 2 and "--queues" in result.output, result.output


def _watching(settings: Settings) -> Settings:
    """``settings`` for a watcher in a test: quick polls, retries at once."""
    return settings.model_copy(update={"watch": settings.watch.model_copy(update={
        "poll_seconds": 0.2, "retry_seconds": 0.0, "stop_grace_seconds": 0.0})})


def _claims(settings: Settings) -> list[ClaimRow]:
    with Catalogue(settings.db_url).session() as s:
        return list(s.scalars(select(ClaimRow).order_by(ClaimRow.id)))


def test_the_watcher_with_a_broker_only_enqueues_and_its_claim_completes(
        home: Settings, tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    """The watcher claims and sends the claim to the batch queue; a batch worker runs it (its pages and items on
    the other worker), settles it, and the watcher learns the end from the catalogue."""
    settings = _watching(distributed(home, redis_url, fresh_database(postgres_url)))
    make_batch(settings.inbox_of("demo"), page_counts=(2, 1), seed=3, dpi=200, profile="clean", colour="none",
               batch_id="WATCHED", write_truth=False)
    with workers(settings, tmp_path / "logs", n=1) as w:
        [batches] = w.start(1, queues="batch")
        watcher = Watcher(settings, once=True)
        assert isinstance(watcher.pool, RemoteClaims)  # no local worker process: the claim goes to the queue
        assert watcher.run() == 0
        tasks = {t: [w.tasks_run(p, t, returned=r) for p in w.procs]
                 for t, r in (("guidang.page", "run"), ("guidang.item", "run"), ("guidang.batch", "done"))}
    assert tasks == {"guidang.page": [3, 0], "guidang.item": [2, 0], "guidang.batch": [0, 1]}, tasks
    assert batches is w.procs[1]
    [claim] = _claims(settings)
    assert (claim.stage, claim.outcome, claim.settled, claim.crashes) == (Stage.DONE, "done", True, 0)
    with Catalogue(settings.db_url).session() as s:
        batch = s.get(BatchRow, claim.batch_id)
        assert batch is not None and batch.status == "done" and batch.receipt_path
        assert Path(batch.receipt_path).is_file()
        assert sorted(i.status for i in batch.items) == [ItemStatus.ACCEPTED] * 2
    assert not (settings.inbox_of("demo") / "WATCHED").exists()
    assert list(processed_area(settings, "demo").rglob("WATCHED")), "the delivery was not moved to processed/"


def _kill_a_batch_worker(settings: Settings, tmp_path: Path, name: str) -> None:
    """The watcher's claim runs on one of two batch workers, which is SIGKILLed once its pages are under way: the
    watcher sees the claim's lock freed, counts a crash and sends the claim again; the other batch worker resumes
    the batch from the catalogue. Nothing lost, nothing archived twice, one decision per item."""
    make_batch(settings.inbox_of("demo"), page_counts=(2, 2), seed=3, dpi=200, profile="clean", colour="none",
               batch_id=name, write_truth=False)
    killed: list[object] = []

    def kill_the_coordinator(w: Workers) -> None:
        deadline = time.monotonic() + 300
        cat = Catalogue(settings.db_url)
        try:
            while time.monotonic() < deadline and not killed:
                with cat.session() as s:
                    claim = s.scalars(select(ClaimRow).where(ClaimRow.stage == Stage.RUNNING)).first()
                    started = s.scalars(select(TaskRow).where(TaskRow.attempts > 0)).first()
                    holder = claim.worker if claim is not None and started is not None else None
                if holder:
                    group = os.getpgid(int(holder.rsplit(":", 1)[1]))
                    victim = next(p for p in w.procs if p.pid == group)
                    w.kill(victim)
                    killed.append(victim)
                time.sleep(0.1)
        finally:
            cat.close()

    with workers(settings, tmp_path / "logs", n=1) as w:
        w.start(2, queues="batch")
        killer = threading.Thread(target=kill_the_coordinator, args=(w,))
        killer.start()
        assert Watcher(settings, once=True).run() == 0  # the watcher needs the main thread (signal handlers)
        killer.join()
    assert killed and killed[0] in w.procs[1:], "no batch worker was under the claim"
    [claim] = _claims(settings)
    assert (claim.stage, claim.outcome, claim.settled, claim.crashes) == (Stage.DONE, "done", True, 1)
    assert claim.batch_id is not None
    with Catalogue(settings.db_url).session() as s:
        batch = s.get(BatchRow, claim.batch_id)
        assert batch is not None
        accepted = sorted(i.archival_code for i in batch.items if i.status == ItemStatus.ACCEPTED)
        assert len(accepted) == len(batch.items) == 2
    store = OcflStore(settings.store_root)
    assert sorted(store.list_codes()) == accepted
    for code in accepted:
        assert sorted(p.name for p in store.object_path(code).iterdir() if p.name.startswith("v")) == ["v1"]
    assert set(decisions_per_item(settings.db_url, claim.batch_id).values()) == {1}
