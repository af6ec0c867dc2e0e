"""Helpers of the distributed tests and benchmark: a PostgreSQL database per run, Celery worker processes
of guidang (``guidang worker``) started and stopped by process group, and the outcome of a batch as data."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from guidang.config import DistributedOptions, Settings
from guidang.pipeline.outcome import BatchOutcome
from guidang.storage.catalogue import Catalogue, DecisionRow, ItemRow


def fresh_database(server_url: str) -> str:
    """A new, empty database on the cluster of ``server_url``; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def distributed(settings: Settings, broker: str, db_url: str, lease: float = 600) -> Settings:
    """``settings`` on the Celery back end, with queues of its own (tests share one Redis)."""
    tag = uuid.uuid4().hex[:8]
    return settings.model_copy(update={"database_url": db_url, "distributed": DistributedOptions(
        broker_url=broker, lease_seconds=lease, poll_seconds=0.2, ocr_queue=f"guidang-ocr-{tag}",
        item_queue=f"guidang-item-{tag}")})


@dataclass
class Workers:
    """Celery worker processes of guidang, each the leader of its own process group."""

    settings: Settings
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        d = self.settings.distributed
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDANG_") or k.startswith("GUIDANG_TEST")}
        env.update(GUIDANG_HOME=str(self.settings.home), GUIDANG_DATABASE_URL=self.settings.db_url,
                   GUIDANG_DISTRIBUTED__BROKER_URL=d.broker_url,
                   GUIDANG_DISTRIBUTED__LEASE_SECONDS=str(d.lease_seconds), GUIDANG_DISTRIBUTED__OCR_QUEUE=d.ocr_queue,
                   GUIDANG_DISTRIBUTED__ITEM_QUEUE=d.item_queue, GUIDANG_OCR__DPI=str(self.settings.ocr.dpi))
        return env

    def start(self, n: int = 1, concurrency: int = 1, queues: str = "ocr,item") -> list[subprocess.Popen[bytes]]:
        started = []
        self.logs.mkdir(parents=True, exist_ok=True)
        for _ in range(n):
            k = len(self.procs) + 1
            log = self.logs / f"worker-{k}.log"
            cmd = [sys.executable, "-c", "from guidang.cli import main; main()", "worker", "-c", str(concurrency),
                   "-n", f"w{k}-{uuid.uuid4().hex[:6]}@test", "--queues", queues]
            proc = subprocess.Popen(cmd, env=self.env(), stdout=log.open("wb"), stderr=subprocess.STDOUT,
                                    start_new_session=True, cwd=self.settings.home)
            self.procs.append(proc)
            started.append(proc)
        for proc in started:
            self._wait_ready(proc, self.logs / f"worker-{self.procs.index(proc) + 1}.log")
        return started

    @staticmethod
    def _wait_ready(proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {proc.pid} ended ({proc.returncode}): {log.read_text(errors='replace')}")
            if " ready." in log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {proc.pid} not ready after {timeout} s: {log.read_text(errors='replace')}")

    def log_of(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.logs / f"worker-{self.procs.index(proc) + 1}.log").read_text(errors="replace")

    def tasks_run(self, proc: subprocess.Popen[bytes], task: str = "guidang.page", returned: str = "run") -> int:
        """Tasks of one kind (``guidang.page``, ``guidang.item``, ``guidang.batch``) this worker ran itself (the task
        returned ``returned``: "run" for a page or an item, the claim's stage for a batch)."""
        return sum(1 for line in self.log_of(proc).splitlines()
                   if f"{task}[" in line and "succeeded in" in line and line.rstrip().endswith(f"'{returned}'"))

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + 30
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, end - time.monotonic()))
        for proc in self.procs:  # what is left of each group (a pool child that outlived its leader)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def workers(settings: Settings, logs: Path, n: int, concurrency: int = 1,
            queues: str = "ocr,item") -> Iterator[Workers]:
    w = Workers(settings, logs)
    try:
        w.start(n, concurrency, queues)
        yield w
    finally:
        w.stop()


def verdicts(outcome: BatchOutcome) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each item's 档号, status and failed checks: what must be the same whichever back end ran the pages."""
    return sorted((o.code, str(o.status), tuple(sorted(o.failed_checks))) for o in outcome.items)


def decisions_per_item(db_url: str, batch_id: int) -> dict[str, int]:
    with Catalogue(db_url).session() as s:
        items = s.scalars(select(ItemRow).where(ItemRow.batch_id == batch_id)).all()
        return {i.archival_code: len(s.scalars(select(DecisionRow).where(DecisionRow.item_id == i.id)).all())
                for i in items}
