"""A bounded pool of worker processes, one process per claim.

One process per batch keeps crashes apart: a segfault or an OOM kill ends one process and
is seen as its exit signal, never as a broken pool. Workers are fresh interpreters
(``python -m guidang.hotfolders.worker``; no fork of a threaded watcher), in their own
session (Ctrl-C reaches the watcher only, which stops them in order), and die with the
watcher. Their exits are waited for on pidfds, so the loop wakes the moment one ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from guidang.config import Settings

log = logging.getLogger(__name__)


def kill_session(leader: int) -> int:
    """SIGKILL what is left of a dead worker's session (its pools, forkservers, tools): they would
    otherwise be orphans that live on. Only when the leader itself is gone (so a reused pid that
    leads a new session is never touched). Returns the number of processes killed."""
    if Path(f"/proc/{leader}").exists():
        return 0
    killed = 0
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == leader:  # field 6 of /proc/<pid>/stat: the session id
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(stat_file.parent.name), signal.SIGKILL)
                killed += 1
    return killed


@dataclass
class Running:
    claim_id: int
    process: subprocess.Popen[bytes]
    pidfd: int


class WorkerPool:
    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        self._running: dict[int, Running] = {}

    @property
    def free(self) -> int:
        return self.size - len(self._running)

    @property
    def claim_ids(self) -> set[int]:
        return set(self._running)

    def start(self, claim_id: int) -> None:
        level = logging.getLogger().getEffectiveLevel()
        cmd = [sys.executable, "-m", "guidang.hotfolders.worker", str(claim_id), str(os.getpid()), str(level)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, start_new_session=True, close_fds=True)
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(self.settings.model_dump_json().encode())
            proc.stdin.close()
        self._running[claim_id] = Running(claim_id, proc, os.pidfd_open(proc.pid))
        log.info("claim %d: worker %s started", claim_id, proc.pid)

    def reap(self) -> list[tuple[int, int]]:
        """Finished workers as (claim id, exit code; negative = killed by that signal)."""
        ended = []
        for claim_id, r in list(self._running.items()):
            code = r.process.poll()
            if code is not None:
                os.close(r.pidfd)
                if killed := kill_session(r.process.pid):
                    log.warning("claim %d: killed %d leftover process(es) of its worker", claim_id, killed)
                ended.append((claim_id, code))
                del self._running[claim_id]
        return ended

    def signal_all(self, signum: int) -> None:
        for r in self._running.values():
            if r.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    r.process.send_signal(signum)

    def sentinels(self) -> list[int]:
        return [r.pidfd for r in self._running.values()]
