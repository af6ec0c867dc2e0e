"""Batches delivered as one ZIP file: names decoded as their maker meant them, and a zip refused
whole, with the exact reason, when anything in it is unsafe."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
from zips import GbkName, zip_folder

from guidang.hotfolders.zipbatch import ZipRefused, check_complete, made_from, remove_unpacked, unpack, unpacked_dir

MAX = 10**6


def _zip(path: Path, members: dict[str | zipfile.ZipInfo, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _refused(path: Path, max_bytes: int = MAX) -> tuple[str, str]:
    with pytest.raises(ZipRefused) as info:
        unpack(path, max_bytes)
    assert not unpacked_dir(path).exists() and not any(p.name.startswith(".unpacking") for p in path.parent.iterdir())
    return info.value.reason, info.value.detail


def test_gbk_names_from_windows_and_utf8_names_unpack_alike(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "Z109-WS·2024-Y-办公室-0001").mkdir(parents=True)
    (src / "Z109-WS·2024-Y-办公室-0001" / "第1页.tif").write_bytes(b"page")
    (src / "目录.csv").write_text("档号\n", "utf-8")
    for gbk in (True, False):
        z = zip_folder(src, tmp_path / f"批次{int(gbk)}.zip", gbk=gbk)
        with zipfile.ZipFile(z) as zf:
            assert any(i.flag_bits & 0x800 for i in zf.infolist()) is not gbk
        out = unpack(z, MAX)
        assert out == tmp_path / f"批次{int(gbk)}"
        assert (out / "Z109-WS·2024-Y-办公室-0001" / "第1页.tif").read_bytes() == b"page"
        assert (out / "目录.csv").read_text("utf-8") == "档号\n"
        assert unpack(z, MAX) == out  # a whole unpacked folder is kept on a retry
        remove_unpacked(z)
        assert not out.exists() and z.is_file()


def test_backslash_paths_become_folders(tmp_path: Path) -> None:
    out = unpack(_zip(tmp_path / "b.zip", {"A\\1.tif": b"x", "目录.csv": b""}), MAX)
    assert (out / "A" / "1.tif").read_bytes() == b"x"


@pytest.mark.parametrize("name", ["../escape.tif", "/etc/cron.d/x", "C:/Windows/x.tif", "A/../../x", "bell\x07.tif"])
def test_zip_bad_member_names(tmp_path: Path, name: str) -> None:
    reason, _ = _refused(_zip(tmp_path / "b.zip", {"A/ok.tif": b"x", name: b"y"}))
    assert reason == "zip_bad_member"


def test_zip_bad_member_symlink_and_twice_after_nfc(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("A/link.tif")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert _refused(_zip(tmp_path / "l.zip", {link: b"/etc/passwd"})) == ("zip_bad_member", "A/link.tif (symlink)")
    reason, detail = _refused(_zip(tmp_path / "n.zip", {"caf\u00e9.tif": b"1", "cafe\u0301.tif": b"2"}))
    assert (reason, detail) == ("zip_bad_member", "café.tif (twice)")


def test_zip_encrypted(tmp_path: Path) -> None:
    path = _zip(tmp_path / "e.zip", {"A/1.tif": b"x"})
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the member's flag: encrypted
    path.write_bytes(bytes(data))
    assert _refused(path) == ("zip_encrypted", "A/1.tif")


def test_zip_too_large(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"A/1.tif": b"\0" * 5000})
    assert _refused(bomb, max_bytes=4000)[0] == "zip_too_large"


def test_zip_unreadable_while_still_being_copied(tmp_path: Path) -> None:
    whole = _zip(tmp_path / "w.zip", {"A/1.tif": b"x" * 1000})
    half = tmp_path / "h.zip"
    half.write_bytes(whole.read_bytes()[:600])  # the central directory comes last
    with pytest.raises(ZipRefused) as info:
        check_complete(half)
    assert info.value.reason == "zip_unreadable"
    check_complete(whole)
    assert _refused(half)[0] == "zip_unreadable"


def test_what_unpacking_leaves_is_known(tmp_path: Path) -> None:
    assert made_from(tmp_path / "b.zip") == {tmp_path / "b", tmp_path / ".unpacking-b.zip"}
    assert made_from(tmp_path / "b") == set()
    assert GbkName("x").filename == "x"


class _Utf8WithoutFlag(zipfile.ZipInfo):
    """Info-ZIP on Linux writes UTF-8 names without setting the flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def test_utf8_names_without_the_flag_are_read_as_utf8(tmp_path: Path) -> None:
    members: dict[str | zipfile.ZipInfo, bytes] = {
        _Utf8WithoutFlag("目录.csv"): b"x",
        _Utf8WithoutFlag("A/第1页.tif"): b"y",
    }
    out = unpack(_zip(tmp_path / "u.zip", members), MAX)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["A/第1页.tif", "目录.csv"]


def test_a_zip_of_the_batch_folder_itself_yields_that_folder(tmp_path: Path) -> None:
    out = unpack(_zip(tmp_path / "V1.zip", {"V1/目录.csv": b"x", "V1/A/1.tif": b"y"}), MAX)
    assert out == tmp_path / "V1" / "V1" and (out / "A" / "1.tif").is_file()


def test_utf8_names_without_the_flag_that_also_read_as_gb18030_stay_utf8(tmp_path: Path) -> None:
    """UTF-8 归档文件 is valid GB18030 too, and reads as more Chinese characters there (褰掓。鏂囦欢):
    the reading is chosen by what a wrong one yields, not by how Chinese it looks."""
    assert "归档文件".encode().decode("gb18030") == "褰掓。鏂囦欢"
    out = unpack(_zip(tmp_path / "u.zip", {_Utf8WithoutFlag("归档文件.csv"): b"x", "A/1.tif": b"y"}), MAX)
    assert (out / "归档文件.csv").read_bytes() == b"x"
