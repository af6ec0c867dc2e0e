"""guidang user add / token / list and guidang audit-log verify at the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from guidang.cli import main
from guidang.home import init_home
from guidang.storage.catalogue import Catalogue


def test_user_commands_and_the_audit_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    init_home(home)
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    monkeypatch.setenv("WANG_PASSWORD", "a long enough password")
    run = CliRunner().invoke
    done = run(main, ["user", "add", "wang", "--role", "archivist", "--password-env", "WANG_PASSWORD",
                      "--clearance", "秘密", "--mark", "内部"])
    assert done.exit_code == 0, done.output
    assert run(main, ["user", "add", "wang", "--role", "archivist", "--password-env", "WANG_PASSWORD"]).exit_code == 2
    assert run(main, ["user", "add", "li", "--role", "nobody", "--no-password"]).exit_code == 2
    monkeypatch.setenv("SHORT", "short")
    assert run(main, ["user", "add", "zhao", "--role", "auditor", "--password-env", "SHORT"]).exit_code == 2
    assert run(main, ["user", "add", "erp", "--role", "system", "--no-password"]).exit_code == 0
    token = run(main, ["user", "token", "erp", "--label", "ERP"])
    assert token.exit_code == 0 and token.output.startswith("gdt_")
    listing = run(main, ["user", "list"]).output
    assert "wang\tarchivist\t秘密\t内部" in listing and "erp\tsystem" in listing
    ok = run(main, ["audit-log", "verify"])
    assert ok.exit_code == 0 and "完整 intact" in ok.output, ok.output
    assert list((home / "audit").glob("anchor-*.json"))
    with Catalogue(f"sqlite:///{home / 'catalogue.db'}").engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE action = 'token.issued'"))
    broken = run(main, ["audit-log", "verify"])
    assert broken.exit_code == 1 and "truncated" in broken.output, broken.output
