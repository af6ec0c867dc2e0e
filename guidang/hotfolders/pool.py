"""A bounded pool of worker processes, one process per claim.

One process per batch keeps crashes apart: a segfault or an OOM kill ends one process and
is seen as its exit signal, never as a broken pool. Workers start by ``spawn`` (no fork of
a threaded watcher), leave the terminal's process group (Ctrl-C reaches the watcher only,
which stops them in order) and die with the watcher (PR_SET_PDEATHSIG), so no orphan
keeps running a claim that a restarted watcher would hand out again.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import signal
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

from guidang.config import Settings
from guidang.hotfolders.unit import WorkerInterrupted, run_claim

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the watcher died before prctl took effect
        os._exit(1)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise WorkerInterrupted


def _child(settings: Settings, claim_id: int, parent: int, level: int) -> None:
    _die_with_parent(parent)
    os.setsid()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    run_claim(settings, claim_id)


@dataclass
class Running:
    claim_id: int
    process: BaseProcess


class WorkerPool:
    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        self._ctx = mp.get_context("spawn")
        self._running: dict[int, Running] = {}

    @property
    def free(self) -> int:
        return self.size - len(self._running)

    @property
    def claim_ids(self) -> set[int]:
        return set(self._running)

    def start(self, claim_id: int) -> None:
        level = logging.getLogger().getEffectiveLevel()
        proc = self._ctx.Process(
            target=_child,
            args=(self.settings, claim_id, os.getpid(), level),
            name=f"guidang-worker-{claim_id}",
            daemon=False,
        )
        proc.start()
        self._running[claim_id] = Running(claim_id, proc)
        log.info("claim %d: worker %s started", claim_id, proc.pid)

    def reap(self) -> list[tuple[int, int]]:
        """Finished workers as (claim id, exit code; negative = killed by that signal)."""
        ended = []
        for claim_id, r in list(self._running.items()):
            if not r.process.is_alive():
                r.process.join()
                ended.append((claim_id, r.process.exitcode if r.process.exitcode is not None else -1))
                del self._running[claim_id]
        return ended

    def signal_all(self, signum: int) -> None:
        for r in self._running.values():
            if r.process.pid is not None and r.process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(r.process.pid, signum)

    def sentinels(self) -> list[int]:
        return [r.process.sentinel for r in self._running.values()]
