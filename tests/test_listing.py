"""The safe listing never follows links or opens special files, and flags unsafe names."""

from __future__ import annotations

import os
from pathlib import Path

from guidang.pipeline.listing import list_tree


def kinds(root: Path) -> dict[str, str]:
    return {u.relpath: u.kind for u in list_tree(root).unsafe}


def test_regular_tree(tmp_path: Path) -> None:
    (tmp_path / "A").mkdir()
    (tmp_path / "A" / "p1.tif").write_bytes(b"x" * 10)
    (tmp_path / "catalogue.csv").write_text("x")
    listing = list_tree(tmp_path)
    assert [f.relpath for f in listing.files] == ["A/p1.tif", "catalogue.csv"]
    assert [d.relpath for d in listing.dirs] == ["A"]
    assert listing.files[0].size == 10
    assert listing.unsafe == ()


def test_symlink_fifo_not_followed(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret"
    outside.write_text("secret")
    (tmp_path / "A").mkdir()
    os.symlink(outside, tmp_path / "A" / "link.tif")
    os.symlink(tmp_path.parent, tmp_path / "dirlink")
    os.mkfifo(tmp_path / "A" / "pipe.tif")
    assert kinds(tmp_path) == {"A/link.tif": "symlink", "dirlink": "symlink", "A/pipe.tif": "fifo"}
    assert list_tree(tmp_path).files == ()


def test_control_characters_and_nfc_collision(tmp_path: Path) -> None:
    (tmp_path / "bad\x07name.tif").write_bytes(b"x")
    (tmp_path / "caf\u00e9.tif").write_bytes(b"x")  # NFC
    (tmp_path / "cafe\u0301.tif").write_bytes(b"x")  # NFD: same name after NFC
    found = kinds(tmp_path)
    assert found["bad\x07name.tif"] == "control_char"
    assert list(found.values()).count("nfc_collision") == 1


def test_gbk_name_is_decoded_and_flagged(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/" + "档案.tif".encode("gbk")
    with open(raw, "wb") as fh:
        fh.write(b"x")
    listing = list_tree(tmp_path)
    assert listing.unsafe[0].kind == "undecodable"
    assert listing.files[0].relpath == "档案.tif"
