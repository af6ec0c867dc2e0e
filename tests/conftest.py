"""Shared fixtures: a scratch working home, and a real clamd for the tests that need one."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from guidang.config import Settings, load_settings
from guidang.home import init_home
from guidang.validators import clamd_service


def _shared() -> Path:
    """../shared beside the checkout; in a git worktree, beside the main checkout it belongs to."""
    root = Path(__file__).resolve().parents[1]
    dotgit = root / ".git"
    if not (root.parent / "shared").is_dir() and dotgit.is_file():  # "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(dotgit.read_text(encoding="utf-8").partition("gitdir:")[2].strip())
        if gitdir.parent.name == "worktrees":
            return gitdir.parents[2].parent / "shared"
    return root.parent / "shared"


SHARED = _shared()
CORPORA = SHARED / "corpora"


def corpus(*parts: str) -> Path:
    """A folder of ../shared/corpora, or skip the test with a clear message when it is absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test corpus {path} is absent (a clone without ../shared)")
    return path


# variables of the test harness, not of guidang's configuration
HARNESS_VARIABLES = ("GUIDANG_TEST", "GUIDANG_STRESS")


@pytest.fixture(autouse=True)
def no_outside_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads ./var or the caller's GUIDANG_* settings (``make run`` exports GUIDANG_HOME):
    every GUIDANG_ setting is removed, and GUIDANG_HOME names an empty folder unless a test sets it."""
    for name in list(os.environ):
        if name.upper().startswith("GUIDANG_") and not name.upper().startswith(HARNESS_VARIABLES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path_factory.mktemp("no-home") / "unset"))


@pytest.fixture(scope="session")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real clamd started for this test session (official signatures if present, else EICAR only)."""
    folder = tmp_path_factory.mktemp("clamd")
    sock = clamd_service.ensure_running(folder)
    yield sock
    clamd_service.stop(folder)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clamd_socket: Path) -> Settings:
    """A fresh working home with the default config, using the session's clamd."""
    root = tmp_path / "home"
    init_home(root)
    monkeypatch.setenv("GUIDANG_HOME", str(root))
    monkeypatch.setenv("GUIDANG_CLAMAV__SOCKET", str(clamd_socket))
    monkeypatch.setenv("GUIDANG_OCR__JOBS", os.environ.get("GUIDANG_TEST_JOBS", "2"))
    return load_settings()


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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a Unix socket. The project's set-up installs the server (Makefile
    APT_PACKAGES: postgresql, under /usr/lib/postgresql/*/bin on Debian): a missing one fails, never skips."""
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed: run `make install`")
    import psycopg  # noqa: F401  (the dev extra's driver; an ImportError fails the test)
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
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis (Debian's redis-server, installed by the set-up) on a loopback port, no persistence.
    A missing server fails, never skips."""
    import time

    import redis

    server = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK)
                                              else None)
    if server is None:
        pytest.fail("redis-server is not installed: run `make install` (Makefile APT_PACKAGES)")
    folder = Path(tempfile.mkdtemp(prefix="guidang-redis-"))
    port = _free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder), "--protected-mode", "yes"],
                            stdout=(folder / "log").open("wb"), stderr=subprocess.STDOUT)
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
            pytest.fail(f"redis-server did not answer on port {port}: {(folder / 'log').read_text()}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
