"""Shared fixtures: a scratch working home, and a real clamd for the tests that need one."""

from __future__ import annotations

import os
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
