"""A bounded pool of worker processes, one process per claim.

One process per batch keeps crashes apart: a segfault or an OOM kill ends one process and
is seen as its exit signal, never as a broken pool. Workers are fresh interpreters
(``python -m guidang.hotfolders.worker``; no fork of a threaded watcher), in their own
session (Ctrl-C reaches the watcher only, which stops them in order), and die with the
watcher. Their exits are waited for on pidfds, so the loop wakes the moment one ends.

What a worker starts (its page pool's forkserver and pool processes, Tesseract) stays in its
session and outlives it when the worker dies by a signal. Each worker is therefore recorded in the
home's state (pid and start time) while it runs; when it ends its session's leftovers are killed,
and a watcher starting after a SIGKILLed one kills what its predecessor's recorded workers left
(:func:`end_leftovers`). Processes are found by recorded ids and start times, never by name.
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

from guidang import logs
from guidang.config import Settings
from guidang.hotfolders.state import WorkerRecord, recorded_workers, save_workers

log = logging.getLogger(__name__)


def _stat(pid: int | str) -> tuple[int, int] | None:
    """(session id, start time in clock ticks since boot) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[3]), int(fields[19])  # fields 6 and 22 of proc(5), counted after the name


def start_time(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[1] if stat else None


def end_session_of(worker: WorkerRecord) -> int:
    """SIGKILL every process of a recorded worker's session (the worker too, if it still runs):
    those in its session started no earlier than it. If its pid now belongs to another process
    (another start time), only processes started before that one can be the worker's. Each
    process's session and start time are read again just before it is signalled."""
    holder = start_time(worker.pid)
    before = holder if holder is not None and holder != worker.start else None

    def ours(stat: tuple[int, int] | None) -> bool:
        return (
            stat is not None
            and stat[0] == worker.pid
            and stat[1] >= worker.start
            and (before is None or stat[1] < before)
        )

    killed = 0
    for entry in Path("/proc").glob("[0-9]*"):
        if ours(_stat(entry.name)) and ours(_stat(entry.name)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def end_leftovers(settings: Settings) -> int:
    """Kill what the workers recorded by an earlier watcher of this home left running (it was
    SIGKILLed: its workers died with it, their pools did not); the record is then emptied.
    Call only holding the home's watch.lock. Returns the number of processes killed."""
    killed = sum(end_session_of(w) for w in recorded_workers(settings.home))
    save_workers(settings.home, [])
    return killed


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
    start: int  # clock ticks since boot (see state.WorkerRecord)


class WorkerPool:
    remote = False  # its processes are the watcher's: a stop waits for them, then interrupts them

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
        level, fmt = logs.current()  # the worker logs as the watcher does
        cmd = [sys.executable, "-m", "guidang.hotfolders.worker", str(claim_id), str(os.getpid()), str(level), fmt]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, start_new_session=True, close_fds=True)
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write(self.settings.model_dump_json().encode())
            proc.stdin.close()
        self._running[claim_id] = Running(claim_id, proc, os.pidfd_open(proc.pid), start_time(proc.pid) or 0)
        self._record()
        log.info("claim %d: worker %s started", claim_id, proc.pid)

    def _record(self) -> None:
        """The running workers, in the home's state, for a successor after a SIGKILL."""
        save_workers(self.settings.home, [WorkerRecord(r.process.pid, r.start, c) for c, r in self._running.items()])

    def reap(self) -> list[tuple[int, int]]:
        """Finished workers as (claim id, exit code; negative = killed by that signal)."""
        ended = []
        for claim_id, r in list(self._running.items()):
            code = r.process.poll()
            if code is not None:
                os.close(r.pidfd)
                if killed := kill_session(r.process.pid):
                    # a worker that ended normally leaves its pool's forkserver and resource tracker, which
                    # would end by themselves: routine; after a crash they are what the cleanup is for
                    level = logging.DEBUG if code == 0 else logging.WARNING
                    log.log(level, "claim %d: killed %d leftover process(es) of its worker", claim_id, killed)
                ended.append((claim_id, code))
                del self._running[claim_id]
        if ended:
            self._record()
        return ended

    def signal_all(self, signum: int) -> None:
        for r in self._running.values():
            if r.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    r.process.send_signal(signum)

    def sentinels(self) -> list[int]:
        return [r.pidfd for r in self._running.values()]
