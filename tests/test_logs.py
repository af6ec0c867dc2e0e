"""Logging: ``--log-format json`` gives one JSON object per line; a normal run shows guidang's lines, not the
libraries' INFO lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from guidang import logs


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("guidang")
    saved = (root.level, list(root.handlers), ours.level)
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    ours.setLevel(saved[2])


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    code = ("import logging, sys; from guidang import logs; logs.configure(int(sys.argv[1]), sys.argv[2]);"
            "logging.getLogger('alembic.runtime').info('library noise');"
            "logging.getLogger('guidang.pipeline.run').info('批次 batch b1: done', extra={'batch_id': 7});"
            "logging.getLogger('guidang.x').warning('注意 careful')")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)


def test_json_lines_carry_the_message_and_the_extra_fields() -> None:
    lines = [json.loads(line) for line in _run(str(logging.INFO), "json").stderr.splitlines()]
    assert [(r["level"], r["logger"], r["message"]) for r in lines] == [
        ("INFO", "guidang.pipeline.run", "批次 batch b1: done"), ("WARNING", "guidang.x", "注意 careful")]
    assert lines[0]["batch_id"] == 7 and lines[0]["time"].endswith("+00:00")


def test_a_normal_run_hides_the_libraries_info_lines() -> None:
    err = _run(str(logging.INFO), "text").stderr
    assert "批次 batch b1: done" in err and "library noise" not in err
    assert "library noise" in _run(str(logging.DEBUG), "text").stderr  # -vv shows everything


def test_the_worker_is_told_the_same() -> None:
    logs.configure(logging.INFO, "json")
    assert logs.current() == (logging.INFO, "json")
