"""The command line as a whole: one error mapping for every command, a light ``--help``, the command names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import guidang.home
from guidang.cli import main
from guidang.cli.app import LazyGroup
from guidang.errors import ExitCode, StorageError


def test_help_imports_neither_opencv_nor_numpy() -> None:
    """``guidang --help`` lists every command without loading the image stack (a fast start for every command)."""
    code = (
        "import sys\n"
        "from guidang.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in ('cv2', 'numpy', 'pikepdf', 'PIL') if m in sys.modules)\n"
        "print('HEAVY', ' '.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands:" in done.stdout and "eep" in done.stdout and "db" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY", done.stdout


def test_every_lazy_command_resolves_with_the_listed_name() -> None:
    """The ``--help`` table and the commands it imports on use agree (no stale entry)."""
    ctx = click.Context(main)
    for name in LazyGroup.lazy:
        assert isinstance(main.get_command(ctx, name), click.Command), name
    eep = main.get_command(ctx, "eep")
    assert isinstance(eep, click.Group) and set(eep.list_commands(ctx)) == {"export", "verify", "import"}
    db = main.get_command(ctx, "db")
    assert isinstance(db, click.Group) and db.list_commands(ctx) == ["rebuild", "upgrade"]


def test_a_defect_exits_70_with_the_traceback_in_the_log_not_on_the_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[Path]:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(guidang.home, "init_home", broken)
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "home"))
    done = CliRunner().invoke(main, ["init"])
    assert done.exit_code == ExitCode.INTERNAL == 70
    assert "Traceback" not in done.output and "ZeroDivisionError" not in done.output
    assert "内部错误" in done.stderr and "internal error" in done.stderr
    log = (tmp_path / "home" / "log" / "guidang-errors.log").read_text("utf-8")
    assert "Traceback" in log and "ZeroDivisionError: a bug" in log
    assert str(tmp_path / "home" / "log" / "guidang-errors.log") in done.stderr


def test_expected_errors_keep_their_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(*_args: object, **_kwargs: object) -> list[Path]:
        raise StorageError("数据库不可用", "database down")

    monkeypatch.setattr(guidang.home, "init_home", unreachable)
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GUIDANG_LANGUAGE", "en")
    done = CliRunner().invoke(main, ["init"])
    assert done.exit_code == ExitCode.STORAGE
    assert done.stderr.strip() == "guidang: [STORAGE] database down"
    assert not (tmp_path / "home" / "log").exists()  # an expected error is not a defect: nothing logged


def test_ctrl_c_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> list[Path]:
        raise KeyboardInterrupt

    monkeypatch.setattr(guidang.home, "init_home", interrupted)
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "home"))
    assert CliRunner().invoke(main, ["init"]).exit_code == ExitCode.INTERRUPTED == 130


def test_init_creates_an_upgraded_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine

    from guidang.storage import schema

    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "elsewhere"))
    done = CliRunner().invoke(main, ["init", str(tmp_path / "home")])
    assert done.exit_code == 0, done.output
    engine = create_engine(f"sqlite:///{tmp_path / 'home' / 'catalogue.db'}")
    with engine.connect() as conn:
        assert schema.current(conn) == schema.head()
    assert not (tmp_path / "elsewhere").exists()
