"""A clamd managed by guidang in the working home: the embedded default, like SQLite for the DB.

Operators with a system clamd (kept current by freshclam) set ``clamav.socket``; otherwise
guidang starts its own daemon with its config, socket and logs under ``$GUIDANG_HOME/clamav``.
It uses the official signature databases when freshclam has fetched them into
``/var/lib/clamav``. Where none exist (no route to the update servers), it falls back to a
small local database and says so. That database holds only the EICAR test signature and
guidang's own test signatures. DA/T 70 4-1 then reports the database as not an official one:
the daemon is real, but its coverage is not.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from guidang.errors import MissingDependencyError
from guidang.validators.clamav import ClamdClient, ClamdError

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


def _official_db() -> bool:
    return any(p.suffix in (".cvd", ".cld") for p in OFFICIAL_DB.glob("*")) if OFFICIAL_DB.is_dir() else False


def write_config(folder: Path) -> Path:
    """Write clamd.conf (and a local signature DB when no official one exists); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    if _official_db():
        db = OFFICIAL_DB
    else:
        db = folder / "db"
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
            return sock
    except ClamdError:
        pass
    conf = write_config(folder)
    try:
        subprocess.run(["clamd", "-c", str(conf)], check=True, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise MissingDependencyError(
            "未找到 clamd（ClamAV 守护进程）；请安装 clamav-daemon",
            "clamd (ClamAV daemon) not found; install clamav-daemon",
        ) from exc
    except subprocess.CalledProcessError as exc:
        raise MissingDependencyError(
            f"clamd 启动失败：{exc.stderr.strip() or exc.stdout.strip()}",
            f"clamd failed to start: {exc.stderr.strip() or exc.stdout.strip()}",
        ) from exc
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return sock
        except ClamdError:
            time.sleep(0.2)
    raise MissingDependencyError("clamd 未在限定时间内就绪", "clamd did not become ready in time")


def stop(folder: Path) -> None:
    with contextlib.suppress(OSError, ValueError):
        os.kill(int((folder / "clamd.pid").read_text().strip()), 15)
