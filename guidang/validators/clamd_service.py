"""A clamd managed by guidang in the working home: the embedded default, like SQLite for the DB.

Operators with a system clamd (kept current by freshclam) set ``clamav.socket``; otherwise
guidang starts its own daemon with its config, socket and logs under ``$GUIDANG_HOME/clamav``.
It uses the official signature databases when freshclam has fetched them into
``/var/lib/clamav``. Where none exist (no route to the update servers), it falls back to a
small local database and says so. That database holds only the EICAR test signature and
guidang's own test signatures. DA/T 70 4-1 then reports the database as not an official one:
the daemon is real, but its coverage is not.

Offline updates (archives without internet): a ``.cvd``/``.cld`` dropped into
``$GUIDANG_HOME/clamav/updates`` is test-loaded alone by ``clamscan --database`` (which checks a
.cvd's digital signature and refuses a damaged file) before it is moved into the daemon's
database; a file that fails is moved to ``updates/refused`` with the reason, and never used.

Lifecycle: :func:`session` starts the home's clamd unless one answers, and the last guidang
command using it stops it (each user holds a lease file named after its process; leases of
dead processes do not count), so a one-off ``guidang ingest`` never leaves a daemon behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from guidang.errors import MissingDependencyError
from guidang.fsutil import fsync_dir
from guidang.validators.clamav import ClamdClient, ClamdError

log = logging.getLogger(__name__)
OFFICIAL_DB = Path("/var/lib/clamav")
# EICAR anti-virus test file (all 68 bytes), as a ClamAV body signature anchored at offset 0
LOCAL_SIGNATURES = (
    "Guidang.Test.EICAR:0:0:"
    "58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d"
    "5354414e444152442d414e544956495255532d544553542d46494c452124482b482a"
)
# Explicit limits: Debian's defaults would report a 100 MiB infected file as clean.
LIMITS = {
    "MaxFileSize": "1000M",
    "MaxScanSize": "4000M",
    "StreamMaxLength": "1000M",
    "AlertExceedsMax": "yes",
}


def _has_official(db: Path) -> bool:
    return db.is_dir() and any(p.suffix in (".cvd", ".cld") for p in db.iterdir())


def _official_db() -> bool:
    return _has_official(OFFICIAL_DB)


def verify_database(candidate: Path, timeout: float = 600.0) -> str | None:
    """Load one signature file alone with ``clamscan --database``; None if it loads, else why not."""
    with tempfile.TemporaryDirectory(prefix="guidang-cvd-") as tmp:
        db = Path(tmp) / "db"
        db.mkdir()
        shutil.copy2(candidate, db / candidate.name)
        probe = Path(tmp) / "probe.txt"
        probe.write_bytes(b"guidang signature test load\n")
        try:
            done = subprocess.run(["clamscan", "--no-summary", f"--database={db}", str(probe)],
                                  capture_output=True, text=True, errors="replace", timeout=timeout, check=False)
        except FileNotFoundError:
            return "clamscan not found (install clamav)"
        except subprocess.TimeoutExpired:
            return f"clamscan did not finish within {timeout:g} s"
    if done.returncode == 0:
        return None
    said = (done.stderr.strip() or done.stdout.strip()).splitlines()
    return f"clamscan exit code {done.returncode}: {said[-1] if said else ''}".strip()


def install_updates(folder: Path) -> list[Path]:
    """Move verified .cvd/.cld files from ``folder/updates`` into ``folder/db``; return those installed."""
    updates = folder / "updates"
    if not updates.is_dir():
        return []
    db = folder / "db"
    db.mkdir(parents=True, exist_ok=True)
    installed = []
    for candidate in sorted(updates.iterdir()):
        if candidate.is_symlink() or not candidate.is_file() or candidate.suffix not in (".cvd", ".cld"):
            continue
        problem = verify_database(candidate)
        if problem is None:
            for older in (db / f"{candidate.stem}.cvd", db / f"{candidate.stem}.cld"):
                older.unlink(missing_ok=True)  # daily.cld replaces daily.cvd and the reverse
            os.rename(candidate, db / candidate.name)  # a move of the verified file, not a write
            fsync_dir(db)
            installed.append(db / candidate.name)
            log.warning("antivirus signatures %s verified and installed", candidate.name)
        else:
            refused = updates / "refused"
            refused.mkdir(exist_ok=True)
            os.rename(candidate, refused / candidate.name)
            (refused / f"{candidate.name}.reason.txt").write_text(problem + "\n", encoding="utf-8")
            log.error("antivirus signatures %s refused: %s", candidate.name, problem)
    return installed


def write_config(folder: Path) -> Path:
    """Write clamd.conf (and a local signature DB when no official one exists); return its path.

    Signatures installed offline into ``folder/db`` come first, then the system's (freshclam's),
    else guidang's EICAR-only test database."""
    folder.mkdir(parents=True, exist_ok=True)
    own = folder / "db"
    if _has_official(own):
        db = own
    elif _official_db():
        db = OFFICIAL_DB
    else:
        db = own
        db.mkdir(exist_ok=True)
        (db / "guidang-local.ndb").write_text(LOCAL_SIGNATURES + "\n", encoding="ascii")
    lines = {
        "LocalSocket": str(folder / "clamd.sock"),
        "DatabaseDirectory": str(db),
        "PidFile": str(folder / "clamd.pid"),
        "LogFile": str(folder / "clamd.log"),
        "Foreground": "no",
        "ScanPDF": "yes",
        **LIMITS,
    }
    conf = folder / "clamd.conf"
    conf.write_text("".join(f"{k} {v}\n" for k, v in lines.items()), encoding="utf-8")
    return conf


def socket_path(folder: Path) -> Path:
    return folder / "clamd.sock"


def ensure_running(folder: Path, timeout: float = 120.0) -> Path:
    """Start the home's clamd unless it already answers; return its socket path."""
    sock = socket_path(folder)
    client = ClamdClient(sock, timeout=5)
    try:
        if client.ping():
            if install_updates(folder):
                client.reload()  # the running daemon reads its database folder again
            return sock
    except ClamdError:
        pass
    install_updates(folder)
    conf = write_config(folder)
    try:
        subprocess.run(["clamd", "-c", str(conf)], check=True, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise MissingDependencyError(
            "未找到 clamd（ClamAV 守护进程）；请安装 clamav-daemon",
            "clamd (ClamAV daemon) not found; install clamav-daemon",
        ) from exc
    except subprocess.CalledProcessError as exc:
        # clamd's parent waits for its forked daemon to signal "loaded" with SIGINT (ClamAV's
        # daemonize_parent_wait sets its handler only after the fork); when the daemon is quick (a small
        # database) and the machine busy, the signal can come first and end the parent "by SIGINT" although
        # the daemon runs (seen in the test suite under load). Whether it runs is what the ping below finds out.
        if exc.returncode != -signal.SIGINT:
            raise MissingDependencyError(
                f"clamd 启动失败：{exc.stderr.strip() or exc.stdout.strip()}",
                f"clamd failed to start: {exc.stderr.strip() or exc.stdout.strip()}",
            ) from exc
        log.info("clamd's starting process ended by SIGINT (its daemon's signal): waiting for the daemon")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return sock
        except ClamdError:
            time.sleep(0.2)
    raise MissingDependencyError("clamd 未在限定时间内就绪", "clamd did not become ready in time")


def _pid(folder: Path) -> int | None:
    try:
        return int((folder / "clamd.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(folder: Path, timeout: float = 30.0) -> None:
    """Stop the clamd whose pid file is in ``folder`` (SIGTERM) and wait until it is gone."""
    pid = _pid(folder)
    if pid is None or not _alive(pid):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # clamd forks away from us, but reap it if it is our child
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "lifecycle.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _live_leases(leases: Path) -> list[Path]:
    live = []
    for lease in leases.iterdir() if leases.is_dir() else ():
        try:
            pid = int(lease.name.split("-", 1)[0])
        except ValueError:
            continue
        if _alive(pid):
            live.append(lease)
        else:
            lease.unlink(missing_ok=True)  # its holder died (SIGKILL): it uses nothing any more
    return live


@contextlib.contextmanager
def session(folder: Path, timeout: float = 120.0) -> Iterator[Path]:
    """The home's clamd for the length of a command: started unless it answers, stopped when the
    last guidang process using it leaves (a daemon of a dead command is stopped too)."""
    leases = folder / "leases"
    with _locked(folder):
        leases.mkdir(parents=True, exist_ok=True)
        sock = ensure_running(folder, timeout)
        lease = leases / f"{os.getpid()}-{uuid.uuid4().hex}"
        lease.touch()
    try:
        yield sock
    finally:
        with _locked(folder):
            lease.unlink(missing_ok=True)
            if not _live_leases(leases):
                stop(folder)
