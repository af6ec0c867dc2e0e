"""The watcher as a service: a real ``guidang watch`` process with its worker processes.

The unit of work here is a recording processor (module:function, as configured by
``watch.processor``) so that these tests time the watcher, not OCR; the real pipeline is
exercised by tests/test_hotfolders_pipeline.py and the crash test.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from watchdog.observers.polling import PollingObserverVFS

from guidang.config import Profile, Settings
from guidang.hotfolders import mounts
from guidang.hotfolders.service import Watcher, inboxes
from guidang.hotfolders.state import ClaimRow, Stage, open_catalogue

TESTS = Path(__file__).resolve().parent
GUIDANG = str(Path(sys.executable).parent / "guidang")


@dataclass
class Recorded:
    batch_id: int = 0
    status: str = "done"
    summary: dict[str, int] = field(default_factory=dict)


def record(settings: Settings, profile: str, batch_dir: Path) -> Recorded:
    """Write what the batch held when it was taken: relpath -> SHA-256."""
    seen = {
        str(p.relative_to(batch_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(batch_dir.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }
    out = settings.outbox_root / "seen"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{batch_dir.name}.json").write_text(json.dumps(seen))
    return Recorded(summary={"files": len(seen)})


def crash_or_record(settings: Settings, profile: str, batch_dir: Path) -> Recorded:
    if batch_dir.name.startswith("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    return record(settings, profile, batch_dir)


def orphan_then_crash(settings: Settings, profile: str, batch_dir: Path) -> Recorded:
    """Leave a child behind (as a pool or a tool would), then die by SIGKILL."""
    child = subprocess.Popen(["sleep", "600"])
    (settings.home / "orphans").open("a").write(f"{child.pid}\n")
    os.kill(os.getpid(), signal.SIGKILL)
    return record(settings, profile, batch_dir)


def slow(settings: Settings, profile: str, batch_dir: Path) -> Recorded:
    time.sleep(120)
    return record(settings, profile, batch_dir)


def write_config(home: Path, processor: str, *, quiet: bool = False, extra: str = "") -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "guidang.toml").write_text(
        f"""
[watch]
workers = 2
poll_seconds = 0.3
rescan_seconds = 5
retry_seconds = 0
max_crashes = 2
max_errors = 2
stop_grace_seconds = 0
processor = "{processor}"
{extra}
[profiles.marker]
vendor = "v1"
[profiles.quiet]
vendor = "v2"
require_ready_marker = false
quiet_seconds = {1.5 if quiet else 30}
""",
        "utf-8",
    )
    env = dict(os.environ, GUIDANG_HOME=str(home), PYTHONPATH=str(TESTS))
    return env


def start_watch(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([GUIDANG, "-v", "watch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for(cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def claim_rows(home: Path) -> list[ClaimRow]:
    with open_catalogue(f"sqlite:///{home / 'catalogue.db'}").session() as s:
        return list(s.query(ClaimRow).order_by(ClaimRow.id))


def slow_writer(batch: Path, marker: bool) -> dict[str, str]:
    """Append to two page files over ~3 s, like a vendor copying over a slow share."""
    (batch / "A").mkdir(parents=True)
    chunks = [os.urandom(4096) for _ in range(10)]
    for i, chunk in enumerate(chunks):
        with (batch / "A" / "0001.tif").open("ab") as fh:
            fh.write(chunk)
        if i == 5:
            (batch / "A" / "0002.tif").write_bytes(chunk)
        time.sleep(0.3)
    if marker:
        (batch / "READY").write_text("")
    return {
        str(p.relative_to(batch)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(batch.rglob("*"))
        if p.is_file()
    }


def test_slow_copy_is_taken_only_when_complete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "test_hotfolders_service:record", quiet=True)
    proc = start_watch(env)
    try:
        inbox = home / "inbox"
        wait_for(lambda: (inbox / "quiet").is_dir() and (inbox / "marker").is_dir())
        finals: dict[str, dict[str, str]] = {}
        writers = [
            threading.Thread(target=lambda p=p, m=m: finals.__setitem__(p, slow_writer(inbox / p / "slow", m)))
            for p, m in (("quiet", False), ("marker", True))
        ]
        for w in writers:
            w.start()
        for w in writers:
            w.join()
        seen = home / "outbox" / "seen" / "slow.json"
        wait_for(lambda: len(claim_rows(home)) == 2 and all(r.settled for r in claim_rows(home)))
        assert all(r.stage == Stage.DONE for r in claim_rows(home))
        # both were taken once, whole: every file with its final content
        recorded = json.loads(seen.read_text())
        assert recorded in (finals["quiet"], finals["marker"])
        for row in claim_rows(home):
            folder = Path(row.final_path or "") / "slow"
            now = {
                str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
            assert now == finals[row.profile]
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out


def test_polling_observer_sees_a_batch_without_inotify(tmp_path: Path) -> None:
    s = Settings(
        home=tmp_path / "home",
        profiles={"v": Profile(vendor="v")},
        watch={"polling": ["v"], "poll_seconds": 0.2},
    )  # type: ignore[arg-type]
    s.inbox_of("v").mkdir(parents=True)
    w = Watcher(s)
    w._start_observers()
    try:
        assert [type(o) for o in w._observers] == [PollingObserverVFS]
        time.sleep(1.2)  # the first snapshot is taken
        w._dirty.clear()
        batch = s.inbox_of("v") / "b1"
        batch.mkdir()
        (batch / "READY").write_text("")
        wait_for(lambda: "v" in w._dirty, timeout=10)
        assert w.scan("v", time.monotonic()) == 1
    finally:
        w._stop_observers()


def test_network_mount_is_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "share"
    info = tmp_path / "mountinfo"
    info.write_text(f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n40 22 0:35 / {inbox} rw - cifs //nas/s rw\n")
    monkeypatch.setattr(mounts, "MOUNTINFO", info)
    s = Settings(home=tmp_path / "home", profiles={"v": Profile(vendor="v", inbox=inbox), "w": Profile(vendor="w")})
    got = {i.profile: (i.polling, i.fs_type) for i in inboxes(s)}
    assert got == {"v": (True, "cifs"), "w": (False, "ext4")}


def _batch(inbox: Path, name: str) -> None:
    (inbox / name / "A").mkdir(parents=True)
    (inbox / name / "A" / "0001.tif").write_bytes(name.encode())
    (inbox / name / "READY").write_text("")


def test_a_crashing_batch_is_retried_then_rejected_and_others_proceed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "test_hotfolders_service:crash_or_record")
    for name in ("crash-1", "good-1", "good-2"):
        _batch(home / "inbox" / "marker", name)
    os.symlink("/etc", home / "inbox" / "marker" / "linked")  # a symlinked batch folder
    os.mkfifo(home / "inbox" / "marker" / "pipe")
    run = subprocess.run([GUIDANG, "watch", "--once"], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    rows = {r.name: r for r in claim_rows(home)}
    assert {n: (r.stage, r.attempts) for n, r in rows.items()} == {
        "crash-1": (Stage.REJECTED, 2),
        "good-1": (Stage.DONE, 1),
        "good-2": (Stage.DONE, 1),
        "linked": (Stage.REJECTED, 0),
        "pipe": (Stage.REJECTED, 0),
    }
    assert (rows["linked"].reason, rows["pipe"].reason) == ("symlink", "fifo")
    assert os.readlink(Path(rows["linked"].final_path or "") / "delivered" / "linked") == "/etc"
    crashed = rows["crash-1"]
    assert crashed.reason == "worker_crashed" and "SIGSEGV" in (crashed.last_error or "")
    kept = Path(crashed.final_path or "")
    assert (kept / "delivered" / "crash-1" / "A" / "0001.tif").read_bytes() == b"crash-1"
    reasons = json.loads((kept / "reasons.json").read_text("utf-8"))
    assert reasons["reason"] == "worker_crashed" and "SIGSEGV" in reasons["message_en"]
    status = subprocess.run([GUIDANG, "status", "--json"], env=env, capture_output=True, timeout=60)
    data = json.loads(status.stdout)
    assert sorted(f["name"] for f in data["recent_failures"]) == ["crash-1", "linked", "pipe"]
    assert {i["profile"] for i in data["inboxes"]} == {"marker", "quiet"} and data["in_flight"] == []


def test_sigterm_releases_the_running_claim_which_resumes_on_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "test_hotfolders_service:slow")
    _batch(home / "inbox" / "marker", "b1")
    proc = start_watch(env)
    wait_for(lambda: any(r.stage == Stage.RUNNING for r in claim_rows(home)))
    status = subprocess.run([GUIDANG, "status"], env=env, capture_output=True, timeout=60)
    assert "running" in status.stdout.decode() and "marker/b1" in status.stdout.decode()
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, out
    [row] = claim_rows(home)
    assert (row.stage, row.attempts, row.last_error) == (Stage.CLAIMED, 0, "interrupted by a stop")
    assert (Path(row.processing_path) / "A" / "0001.tif").is_file()
    env = write_config(home, "test_hotfolders_service:record")
    run = subprocess.run([GUIDANG, "watch", "--once"], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    [row] = claim_rows(home)
    assert (row.stage, row.attempts, row.settled) == (Stage.DONE, 1, True)


def test_refuses_to_start_on_a_bad_layout_and_a_second_instance(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(
        home,
        "test_hotfolders_service:record",
        extra=f'[profiles.bad]\nvendor = "x"\ninbox = "{home / "store" / "in"}"\n',
    )
    run = subprocess.run([GUIDANG, "watch", "--once"], env=env, capture_output=True, timeout=60)
    assert run.returncode == 3 and "store" in run.stderr.decode()
    env = write_config(home, "test_hotfolders_service:slow")
    proc = start_watch(env)
    try:
        wait_for(lambda: (home / "watch.lock").exists() and (home / "watch.lock").read_text().strip() != "")
        run = subprocess.run(
            [GUIDANG, "watch", "--once"],
            env={**env, "GUIDANG_LANGUAGE": "en"},
            capture_output=True,
            timeout=60,
        )
        assert run.returncode == 3 and "another guidang watch" in run.stderr.decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_what_a_dead_worker_leaves_behind_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = write_config(home, "test_hotfolders_service:orphan_then_crash")
    _batch(home / "inbox" / "marker", "b1")
    run = subprocess.run([GUIDANG, "watch", "--once"], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    pids = [int(x) for x in (home / "orphans").read_text().split()]
    assert len(pids) == 2  # two runs (max_crashes = 2), each left a child
    assert all(
        not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2] for pid in pids
    )
    [row] = claim_rows(home)
    assert (row.stage, row.reason) == (Stage.REJECTED, "worker_crashed")


def test_start_up_removes_old_leftovers_of_store_writes(tmp_path: Path) -> None:
    """A crash mid-add leaves a folder in the store's staging area: the watcher removes it at start (older
    than a day), and leaves a fresh one, which may be a write in progress."""
    from guidang.storage.ocfl_store import OcflStore

    s = Settings(
        home=tmp_path / "home",
        profiles={"v": Profile(vendor="v", quiet_seconds=0)},
        watch={"poll_seconds": 0.05},
    )  # type: ignore[arg-type]
    s.inbox_of("v").mkdir(parents=True)
    store = OcflStore(s.store_root)
    old, fresh = store.staging / "obj-old", store.staging / "obj-fresh"
    for leftover in (old, fresh):
        (leftover / "v1" / "content").mkdir(parents=True)
        (leftover / "v1" / "content" / "x.pdf").write_bytes(b"%PDF")
    day_and_more = time.time() - 25 * 3600
    os.utime(old, (day_and_more, day_and_more))
    assert Watcher(s, once=True).run() == 0
    assert not old.exists() and fresh.is_dir()


def test_watch_once_after_a_sigkill_finishes_the_interrupted_claim(tmp_path: Path) -> None:
    """The first `watch --once` after a SIGKILLed watcher runs the interrupted batch to its end,
    although the default back-off would hold it (it used to record the recovery and exit)."""
    home = tmp_path / "home"
    env = write_config(home, "test_hotfolders_service:slow")
    config = home / "guidang.toml"
    config.write_text(config.read_text("utf-8").replace("retry_seconds = 0", "retry_seconds = 3600"), "utf-8")
    _batch(home / "inbox" / "marker", "b1")
    proc = start_watch(env)
    try:
        wait_for(lambda: any(r.stage == Stage.RUNNING for r in claim_rows(home)))
    finally:
        proc.kill()
        proc.communicate(timeout=60)
    env = write_config(home, "test_hotfolders_service:record")
    config.write_text(config.read_text("utf-8").replace("retry_seconds = 0", "retry_seconds = 3600"), "utf-8")
    run = subprocess.run([GUIDANG, "watch", "--once"], env=env, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    [row] = claim_rows(home)
    assert (row.stage, row.settled, row.crashes) == (Stage.DONE, True, 1)
    assert (home / "outbox" / "seen" / "b1.json").is_file()
