"""A SIGKILLed watcher's workers die with it (PR_SET_PDEATHSIG); what they started (the page pool's
forkserver and its processes) does not. The next watcher of the home ends those leftovers, found
by the worker pids and start times recorded in the home's state, never by name."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from test_hotfolders_service import GUIDANG, _batch, start_watch, wait_for, write_config

from guidang.config import Settings
from guidang.hotfolders.pool import end_leftovers, end_session_of, start_time
from guidang.hotfolders.state import WorkerRecord, recorded_workers, save_workers


def alive(pid: int) -> bool:
    """Running (a zombie has ended: only its exit status is left for its parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_restarted_watcher_ends_the_pools_of_its_sigkilled_predecessor(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "orphan_tasks:pool_then_block")
    _batch(home / "inbox" / "marker", "b1")
    watcher = start_watch(env)
    try:
        wait_for(lambda: (home / "pool-pids").is_file(), timeout=120)
        [worker] = recorded_workers(home)
        assert start_time(worker.pid) == worker.start
        pool = [int(p) for p in (home / "pool-pids").read_text().split()]
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(timeout=30)
        wait_for(lambda: not alive(worker.pid), timeout=30)  # the worker died with the watcher ...
        assert len(pool) == 3 and all(alive(p) for p in pool)  # ... its forkserver and pool did not
        assert end_leftovers(Settings(home=home)) >= 3  # and the resource tracker, ...
        wait_for(lambda: not any(alive(p) for p in pool), timeout=10)
        assert recorded_workers(home) == []
    finally:
        if watcher.poll() is None:
            watcher.kill()
        for w in recorded_workers(home):
            end_session_of(w)


def test_the_next_watcher_ends_them_on_its_own_start(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "orphan_tasks:pool_then_block")
    _batch(home / "inbox" / "marker", "b1")
    watcher = start_watch(env)
    pool: list[int] = []
    try:
        wait_for(lambda: (home / "pool-pids").is_file(), timeout=120)
        pool = [int(p) for p in (home / "pool-pids").read_text().split()]
        watcher.send_signal(signal.SIGKILL)
        watcher.wait(timeout=30)
        env = write_config(home, "test_hotfolders_service:record")
        run = subprocess.run([GUIDANG, "-v", "watch", "--once"], env=env, capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr.decode()
        assert re.search(r"killed \d+ process\(es\) left running by the workers of an earlier watcher",
                         run.stderr.decode())
        wait_for(lambda: not any(alive(p) for p in pool), timeout=10)
    finally:
        if watcher.poll() is None:
            watcher.kill()
        for p in pool:
            if alive(p):
                os.kill(p, signal.SIGKILL)


def test_a_pid_now_held_by_another_process_is_left_alone(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)  # leads its own session, as a worker does
    try:
        start = start_time(other.pid)
        assert start is not None
        save_workers(tmp_path, [WorkerRecord(other.pid, start + 1, 7)])  # a worker that had this pid before
        assert end_leftovers(Settings(home=tmp_path)) == 0
        time.sleep(0.2)
        assert other.poll() is None and recorded_workers(tmp_path) == []
        save_workers(tmp_path, [WorkerRecord(other.pid, start, 7)])  # the very process recorded
        assert end_leftovers(Settings(home=tmp_path)) == 1
        assert other.wait(timeout=10) == -signal.SIGKILL
    finally:
        if other.poll() is None:
            other.kill()


def test_the_crash_test_sees_a_process_of_its_run_by_its_home(tmp_path: Path) -> None:
    """The check the crash test ends with (stress.crash.survivors) finds a process left running."""
    from stress.crash import processes_of, survivors

    left = subprocess.Popen(["sleep", "60"], env={**os.environ, "GUIDANG_HOME": str(tmp_path)})
    other = subprocess.Popen(["sleep", "60"], env={**os.environ, "GUIDANG_HOME": str(tmp_path / "other")})
    try:
        assert [line.split()[0] for line in processes_of(tmp_path)] == [str(left.pid)]
        left.kill()
        left.wait()
        assert survivors(tmp_path, wait=5) == []
    finally:
        for p in (left, other):
            p.kill()
            p.wait()
