"""A real clamd for tests, with a signature database the tests generate (freshclam cannot reach its servers).

The database holds: the EICAR test file as an MD5 (.hdb) and a body (.ndb) signature, the MD5 of
``clam.exe`` from Debian's clamav-testfiles (clamd unpacks the other 43 samples down to it), and a
body signature for a marker the tests put at the *end* of a large file (to prove that size limits
are reported, never taken as clean). The limits are set explicitly and small, so the limit tests
stay fast; ``AlertExceedsMax yes`` makes clamd say when it stopped short.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from guidang.validators.clamav import ClamdClient, ClamdError

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
TESTFILES = Path("/usr/share/clamav-testfiles")
TAIL_MARKER = b"GUIDANG-DAT70-TEST-MALWARE-MARKER-7f3c9a"
MAX_FILE_MIB = 4
MAX_STREAM_MIB = 8


@dataclass(frozen=True)
class Clamd:
    socket: Path
    folder: Path

    def client(self, **kw: object) -> ClamdClient:
        return ClamdClient(self.socket, **kw)  # type: ignore[arg-type]


def write_database(db: Path) -> None:
    db.mkdir(parents=True, exist_ok=True)
    lines = [f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Guidang.Test.EICAR.MD5"]
    clam = TESTFILES / "clam.exe"
    if clam.is_file():
        data = clam.read_bytes()
        lines.append(f"{hashlib.md5(data).hexdigest()}:{len(data)}:Guidang.Test.ClamAV-Test-File")
    (db / "guidang-test.hdb").write_text("\n".join(lines) + "\n", encoding="ascii")
    (db / "guidang-test.ndb").write_text(
        f"Guidang.Test.EICAR:0:*:{EICAR.hex()}\nGuidang.Test.TailMarker:0:*:{TAIL_MARKER.hex()}\n", encoding="ascii"
    )


def write_config(folder: Path) -> Path:
    db = folder / "db"
    write_database(db)
    conf = folder / "clamd.conf"
    conf.write_text(
        "\n".join(
            [
                f"LocalSocket {folder / 'clamd.sock'}",
                f"DatabaseDirectory {db}",
                f"LogFile {folder / 'clamd.log'}",
                "Foreground yes",
                f"MaxFileSize {MAX_FILE_MIB}M",
                f"MaxScanSize {MAX_STREAM_MIB * 2}M",
                f"StreamMaxLength {MAX_STREAM_MIB}M",
                "AlertExceedsMax yes",
                "ScanPDF yes",
                "ScanArchive yes",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return conf


@contextmanager
def running_clamd(folder: Path, timeout: float = 60.0) -> Iterator[Clamd]:
    """Start ``clamd --foreground -c <conf>``, wait until it answers PING, stop it afterwards."""
    exe = shutil.which("clamd")
    if exe is None:
        raise RuntimeError("clamd is not installed (apt-get install clamav-daemon)")
    conf = write_config(folder)
    sock = folder / "clamd.sock"
    proc = subprocess.Popen([exe, "--foreground", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
                raise RuntimeError(f"clamd exited with {proc.returncode}: {err[-2000:]}")
            try:
                if sock.exists() and ClamdClient(sock, timeout=2).ping():
                    break
            except ClamdError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"clamd did not answer within {timeout} s")
            time.sleep(0.1)
        yield Clamd(sock, folder)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
