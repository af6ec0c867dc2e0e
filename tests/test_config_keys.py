"""Every configuration key works: a home passed in wins over GUIDANG_HOME, ``language`` sets the
console language, and the tests themselves never read ./var or the caller's GUIDANG_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from guidang.cli import main
from guidang.config import Profile, Settings, console_language, load_settings


def _config(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "guidang.toml").write_text(text, "utf-8")
    return home


def test_a_home_passed_in_reads_its_own_file_not_guidang_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = _config(tmp_path / "var", '[watch]\nretry_seconds = 999\n[profiles.x]\nvendor = "x"\n')
    mine = _config(tmp_path / "mine", "[watch]\nretry_seconds = 7\n")
    monkeypatch.setenv("GUIDANG_HOME", str(other))  # what `make run` exports
    assert load_settings().watch.retry_seconds == 999
    s = Settings(home=mine, profiles={"v": Profile(vendor="v")})  # type: ignore[arg-type]
    assert s.watch.retry_seconds == 7 and set(s.profiles) == {"v"}
    assert load_settings(home=tmp_path / "empty").watch.retry_seconds == 30  # no file: the defaults


def test_the_tests_start_without_the_callers_home() -> None:
    home = Path(os.environ["GUIDANG_HOME"])
    assert not home.exists() and home.resolve() != Path("var").resolve()
    assert not any(k.startswith("GUIDANG_") and k not in ("GUIDANG_HOME",) and not k.startswith(
        ("GUIDANG_TEST", "GUIDANG_STRESS")) for k in os.environ)


def test_the_language_key_sets_the_console_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _config(tmp_path / "h", 'language = "en"\n')
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    assert console_language() == "en"
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "batch folder does not exist" in result.output, result.output
    monkeypatch.setenv("GUIDANG_LANGUAGE", "zh")  # the environment still wins
    assert console_language() == "zh"
    _config(home, 'language = "fr"\n')  # an invalid file: messages still print, in Chinese
    monkeypatch.delenv("GUIDANG_LANGUAGE")
    assert console_language() == "zh"
