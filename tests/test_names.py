"""guidang.names: outside strings become path components only when they are one, and stay under their root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from guidang import names


@pytest.mark.parametrize(("name", "reason"), [
    ("", "empty"),
    (".", "dot"),
    ("..", "dot"),
    ("a/b", "separator"),
    ("/etc", "separator"),
    ("a\\b", "separator"),
    ("a\x00b", "control"),
    ("a\nb", "control"),
    ("a\u202eb", "control"),
    ("a\udcffb", "undecodable"),
    ("长" * 86, "too_long"),  # 258 bytes, 86 characters
    (" a", "edge"),
    ("a ", "edge"),
    ("a.", "edge"),
    (".a", "edge"),
    ("a:b", "forbidden_char"),
    ("a?b", "forbidden_char"),
    ("CON", "reserved"),
    ("nul.txt", "reserved"),
    ("Lpt9", "reserved"),
])
def test_refused_names_give_their_reason(name: str, reason: str) -> None:
    assert names.refusal(name) == reason
    with pytest.raises(names.UnsafeNameError) as info:
        names.component(name)
    assert info.value.reason == reason
    assert info.value.reason_zh and info.value.reason_en and "\x00" not in info.value.message("zh")


@pytest.mark.parametrize("name", ["Z109-WS·2023-Y-BGS-0001", "长" * 85, "a.b", "CONSOLE", "a\u200db", "%41"])
def test_ordinary_names_pass_unchanged(name: str) -> None:
    assert names.component(name) == name


def test_length_is_counted_in_bytes_with_the_callers_limit() -> None:
    assert names.refusal("长" * 67, names.ARCHIVAL_CODE_MAX_BYTES) == "too_long"  # 201 bytes, 67 characters
    assert names.refusal("长" * 66, names.ARCHIVAL_CODE_MAX_BYTES) is None  # 198 bytes


def test_stand_in_is_safe_and_stable() -> None:
    a, b = names.stand_in("../x"), names.stand_in("../x")
    assert a == b and names.refusal(a) is None and a != names.stand_in("../y")
    assert names.component_or_stand_in("ok") == "ok"
    assert names.component_or_stand_in("..").startswith("unsafe-")
    assert names.batch_folder("B", 2) == "B-2" and names.batch_folder("..", 1).startswith("batch-")


def test_child_refuses_escapes_and_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert names.child(root, "a", "b") == root / "a" / "b"
    for bad in ("..", "/abs", "a/../../x"):
        with pytest.raises(names.UnsafeNameError):
            names.child(root, bad)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(names.UnsafeNameError) as info:
        names.child(root, "link", "x")
    assert info.value.reason == "outside"
    with pytest.raises(names.UnsafeNameError):
        names.within(root, root / ".." / "outside")


def test_remove_owned_tree_refuses_links_the_root_and_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "mine" / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    os.symlink(outside, root / "link")
    for bad in (root, root / "link", outside, root / ".."):
        with pytest.raises(names.UnsafeNameError):
            names.remove_owned_tree(root, bad)
    assert (outside / "keep").exists()
    names.remove_owned_tree(root, root / "mine")
    assert not (root / "mine").exists()
