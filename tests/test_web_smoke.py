from __future__ import annotations

from pathlib import Path

import pytest
from web_support import Desk


def test_login_and_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk.make(tmp_path, monkeypatch)
    c = desk.client("archivist")
    r = c.get("/queue")
    assert r.status_code == 200, r.text
    assert "待审队列" in r.text


def test_run_serves_the_desk_beside_the_watcher_with_a_demo_account(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`guidang run` (make run) prints the desk's address and the demo account; the desk answers meanwhile."""
    import socket

    import httpx
    from click.testing import CliRunner

    import guidang.hotfolders.service
    import guidang.samples.batch
    from guidang.cli import main

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = tmp_path / "home"
    monkeypatch.setenv("GUIDANG_HOME", str(home))
    monkeypatch.setenv("GUIDANG_WEB__PORT", str(port))
    monkeypatch.setenv("GUIDANG_DEMO_PASSWORD", "demo-password-for-the-test")
    monkeypatch.setattr(guidang.samples.batch, "generate_demo", lambda *a, **k: home / "inbox" / "demo" / "x")
    answered: list[int] = []

    def watch(self: guidang.hotfolders.service.Watcher) -> int:
        answered.append(httpx.get(f"http://127.0.0.1:{port}/login").status_code)
        return 0

    monkeypatch.setattr(guidang.hotfolders.service.Watcher, "run", watch)
    done = CliRunner().invoke(main, ["run"])
    assert done.exit_code == 0, done.output
    assert f"审核台 review desk: http://127.0.0.1:{port}/" in done.output
    assert "演示账户 demo account: demo" in done.output
    assert answered == [200]
    from guidang.storage.catalogue import Catalogue
    from guidang.web.accounts import password_matches, user_named

    with Catalogue(f"sqlite:///{home / 'catalogue.db'}").session() as s:
        user = user_named(s, "demo")
        assert user is not None and user.roles == ["admin"]
        assert password_matches(user, "demo-password-for-the-test")
