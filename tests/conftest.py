"""Shared fixtures: a scratch working home, and a real clamd for the tests that need one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import servers

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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a Unix socket (tests/servers.py). The project's set-up installs the
    server (Makefile APT_PACKAGES: postgresql, under /usr/lib/postgresql/*/bin on Debian): a missing one fails,
    never skips."""
    import psycopg  # noqa: F401  (the dev extra's driver; an ImportError fails the test)

    try:
        with servers.postgres_server() as url:
            yield url
    except servers.ServerMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis (Debian's redis-server, installed by the set-up) on a loopback port, no persistence
    (tests/servers.py). A missing server fails, never skips."""
    try:
        with servers.redis_server() as url:
            yield url
    except servers.ServerMissing as exc:
        pytest.fail(str(exc))
