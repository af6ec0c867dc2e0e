"""The one atomic write (guidang.fsutil.replace_file): whole or nothing, file and folder flushed."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

import guidang
from guidang import fsutil


def test_replace_file_flushes_the_file_and_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(fsutil.os, "fsync", recording)
    target = tmp_path / "reasons.json"
    target.write_bytes(b"old")
    fsutil.replace_file(target, b"new")
    assert target.read_bytes() == b"new"
    assert synced == ["file", "dir"]  # the data, then the rename
    assert [p.name for p in tmp_path.iterdir()] == ["reasons.json"]  # no temporary file left


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"old")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        fsutil.replace_file(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_no_other_module_writes_files_atomically_on_its_own() -> None:
    """One implementation: a temp-file-and-rename written again elsewhere is caught here."""
    root = Path(guidang.__file__).parent
    pattern = re.compile(r"os\.replace\(|mkstemp\(|\.replace\((?:out|path|target|dest)\)")
    offenders = [
        f"{p.relative_to(root)}:{n}"
        for p in sorted(root.rglob("*.py"))
        if p.name != "fsutil.py"
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
