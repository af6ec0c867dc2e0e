"""Throwaway database and broker servers for the tests and benchmarks: a PostgreSQL cluster on a Unix
socket and a Redis on a loopback port, both from the Debian packages the project's set-up installs
(Makefile APT_PACKAGES), both gone when the block ends."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class ServerMissing(RuntimeError):
    """A server the set-up installs is not there (a test fails on it, never skips)."""


def _postgres_binaries() -> tuple[str, str] | None:
    """initdb and pg_ctl on PATH, else in Debian's versioned folder (not on PATH by default)."""
    found = [shutil.which("initdb"), shutil.which("pg_ctl")]
    if found[0] and found[1]:
        return found[0], found[1]
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/initdb", os.X_OK) and os.access(f"{folder}/pg_ctl", os.X_OK):
            return f"{folder}/initdb", f"{folder}/pg_ctl"
    return None


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the Debian packages ship a postgres user for that.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster on a Unix socket; the SQLAlchemy URL of its ``postgres`` database."""
    binaries = _postgres_binaries()
    if binaries is None:
        raise ServerMissing("PostgreSQL server binaries (initdb, pg_ctl) are not installed: run `make install`")
    initdb, pg_ctl = binaries
    folder = Path(tempfile.mkdtemp(prefix="guidang-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "guidang", "--no-sync", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -c listen_addresses='' -F"
    subprocess.run(
        _as_postgres([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://guidang@/postgres?host={folder}"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def redis_server() -> Iterator[str]:
    """A Redis on a free loopback port, without persistence; its URL."""
    import redis

    server = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)), None)
    if server is None:
        raise ServerMissing("redis-server is not installed: run `make install` (Makefile APT_PACKAGES)")
    folder = Path(tempfile.mkdtemp(prefix="guidang-redis-"))
    port = _free_port()
    with (folder / "log").open("wb") as log:
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                 "no", "--dir", str(folder), "--protected-mode", "yes"],
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server did not answer on port {port}: {(folder / 'log').read_text()}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
