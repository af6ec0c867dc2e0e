"""The progress display: pages done / total and the time left on a terminal; nothing off a terminal or with
``--json``."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from guidang.cli.progress import page_progress, wanted
from guidang.samples.batch import make_batch


def test_off_a_terminal_nothing_is_drawn(capsys: pytest.CaptureFixture[str]) -> None:
    with page_progress() as bar:
        bar.start(3)
        bar.advance()
    assert not bar.shown and capsys.readouterr().err == ""
    assert not wanted(quiet=True)


def test_preflight_on_a_terminal_draws_pages_done_and_time_left(home: object, tmp_path: Path) -> None:
    batch = Path(make_batch(tmp_path / "drop", page_counts=[1, 2], seed=5).path)
    primary, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    proc = subprocess.run([str(Path(sys.executable).with_name("guidang")), "preflight", str(batch), "--profile", "demo",
                           "-o", str(tmp_path / "r.txt")], stderr=secondary, stdout=subprocess.DEVNULL, env=env,
                          timeout=300, check=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, drawn
    assert "预检 preflight" in drawn and "3/3" in drawn and "剩余 left" in drawn
