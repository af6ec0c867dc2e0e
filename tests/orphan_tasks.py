"""A unit of work for the orphan tests: it starts a forkserver pool, as the page pool does, writes
the pids of the pool's processes and blocks. Module-level, so the forkserver can import it."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver, get_context
from pathlib import Path

from guidang.config import Settings


def pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def pool_then_block(settings: Settings, profile: str, batch_dir: Path) -> None:
    pool = ProcessPoolExecutor(max_workers=2, mp_context=get_context("forkserver"))
    pids = {f.result() for f in [pool.submit(pid_after, 0.5) for _ in range(2)]}
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    out = settings.home / "pool-pids.tmp"
    out.write_text(" ".join(str(p) for p in sorted({*pids, server})))
    out.rename(settings.home / "pool-pids")
    time.sleep(600)
