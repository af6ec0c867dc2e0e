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
