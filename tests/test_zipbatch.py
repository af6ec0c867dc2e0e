"""Batches delivered as one ZIP file: names decoded as their maker meant them, and a zip refused
whole, with the exact reason, when anything in it is unsafe."""

from __future__ import annotations

import errno
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from zips import GbkName, zip_folder

from guidang.config import Profile, Settings
from guidang.hotfolders.claim import claim
from guidang.hotfolders.safety import check_layout, judge_entries, processing_area
from guidang.hotfolders.state import ClaimRow, Stage, open_catalogue
from guidang.hotfolders.unit import run_claim
from guidang.hotfolders.zipbatch import (
    ZipLimits,
    ZipRefused,
    check_complete,
    made_from,
    remove_unpacked,
    unpack,
    unpacked_dir,
)
from guidang.storage.catalogue import BatchRow

MAX = 10**6


def _zip(path: Path, members: dict[str | zipfile.ZipInfo, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _refused(path: Path, max_bytes: int | ZipLimits = MAX) -> tuple[str, str]:
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


def test_a_file_that_is_also_a_folder_is_refused_whole(tmp_path: Path) -> None:
    """A file ``extra`` and ``extra/y.txt``: once a FileExistsError that left half a folder behind."""
    cases: list[dict[str | zipfile.ZipInfo, bytes]] = [
        {"目录.csv": b"x", "extra": b"f", "extra/y.txt": b"y"},
        {"extra/y.txt": b"y", "extra": b"f"},
    ]
    for members in cases:
        reason, detail = _refused(_zip(tmp_path / "f.zip", members))
        assert (reason, detail) == ("zip_bad_member", "extra (a file and a folder)")


@pytest.mark.parametrize(
    ("a", "b"),
    [("A/1.tif", "a/1.tif"), ("A/1.tif", "A/1.TIF"), ("Straße/1.tif", "STRASSE/2.tif"), ("A/x.tif", "a/")],
)
def test_names_differing_only_in_case_are_refused(tmp_path: Path, a: str, b: str) -> None:
    reason, detail = _refused(_zip(tmp_path / "c.zip", {a: b"1", b: b"" if b.endswith("/") else b"2"}))
    assert reason == "zip_bad_member" and "differing only in case" in detail


def test_folder_entries_and_the_files_in_them_are_no_conflict(tmp_path: Path) -> None:
    members: dict[str | zipfile.ZipInfo, bytes] = {"目录.csv": b"", "A/": b"", "A/1.tif": b"x", "A/B/2.tif": b"y"}
    out = unpack(_zip(tmp_path / "d.zip", {**members, "A/B/": b""}), MAX)
    assert (out / "A" / "B" / "2.tif").read_bytes() == b"y"


def _deflated(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_member_expanding_past_the_ratio_is_refused(tmp_path: Path) -> None:
    bomb = _deflated(tmp_path / "r.zip", {"目录.csv": b"x", "A/1.tif": b"\0" * (3 << 20)})  # ~1000:1
    reason, detail = _refused(bomb, ZipLimits(10**9))
    assert reason == "zip_ratio" and detail.startswith("A/1.tif: ") and detail.endswith("(> 200:1)")
    assert unpack(bomb, ZipLimits(10**9, max_ratio=5000)).is_dir()  # a higher limit lets it through


def test_a_zip_of_small_members_expanding_past_the_ratio_is_refused(tmp_path: Path) -> None:
    """Each member under the 1 MiB floor, the whole zip far over the ratio."""
    bomb = _deflated(tmp_path / "s.zip", {f"A/{i}.tif": b"\0" * (512 << 10) for i in range(8)})
    reason, detail = _refused(bomb, ZipLimits(10**9))
    assert reason == "zip_ratio" and detail.startswith(f"{8 * (512 << 10)} bytes from ")


def test_overlapping_members_are_judged_by_the_bytes_of_the_file(tmp_path: Path) -> None:
    """Central-directory entries sharing one compressed stream (Fifield's non-recursive bomb): each
    member's own ratio is modest, the zip's is not."""
    data = bytes(range(256)) * 4096  # 1 MiB: not over the floor, so no member is judged on its own
    one = _deflated(tmp_path / "one.zip", {"A/00.tif": data})
    raw = bytearray(one.read_bytes())
    cd = raw.index(b"PK\x01\x02")
    entry = bytes(raw[cd : raw.index(b"PK\x05\x06")])
    copies = [entry.replace(b"A/00.tif", f"A/{i:02}.tif".encode()) for i in range(64)]
    end = bytearray(raw[raw.index(b"PK\x05\x06") :])
    body = bytes(raw[:cd]) + b"".join(copies)
    end[8:10] = end[10:12] = len(copies).to_bytes(2, "little")
    end[12:16] = (len(body) - cd).to_bytes(4, "little")
    bomb = tmp_path / "overlap.zip"
    bomb.write_bytes(body + bytes(end))
    with zipfile.ZipFile(bomb) as zf:
        assert len(zf.infolist()) == 64
    reason, detail = _refused(bomb, ZipLimits(10**9, max_ratio=20))
    assert reason == "zip_ratio" and " from " in detail


def test_too_little_free_space_is_a_disk_full_error_leaving_nothing(tmp_path: Path) -> None:
    z = _zip(tmp_path / "big.zip", {"A/1.tif": b"x" * 1000})
    with pytest.raises(OSError) as info:
        unpack(z, ZipLimits(MAX, min_free_bytes=1 << 62))  # more than any disk has
    assert info.value.errno == errno.ENOSPC and not isinstance(info.value, ZipRefused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zip"]


def test_a_refused_zip_is_rejected_with_a_receipt_and_no_claim_stays_claimed(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "home", profiles={"v": Profile(vendor="v")},  # type: ignore[call-arg]
                 watch={"processor": "no.such.module:never_called"})  # type: ignore[arg-type]
    check_layout(s)
    inbox = s.inbox_of("v")
    _zip(inbox / "B7.zip", {"目录.csv": b"x", "extra": b"f", "extra/y.txt": b"y"})
    _deflated(inbox / "B8.zip", {"目录.csv": b"x", "A/1.tif": b"\0" * (3 << 20)})
    cat = open_catalogue(s.db_url)
    entries = judge_entries(inbox, os.listdir(os.fsencode(inbox)))
    ids = [claim(cat, s, "v", e) for e in sorted(entries, key=lambda e: e.name)]
    assert [run_claim(s, i) for i in ids if i is not None] == [Stage.REJECTED, Stage.REJECTED]
    with cat.session() as ses:
        rows = list(ses.query(ClaimRow).order_by(ClaimRow.id))
        batches = {b.name: b for b in ses.query(BatchRow)}
        assert [(r.name, r.reason, r.settled) for r in rows] == [
            ("B7.zip", "zip_bad_member", True), ("B8.zip", "zip_ratio", True)]
        assert sorted(batches) == ["B7", "B8"] and {b.status for b in batches.values()} == {"failed"}
        receipts = {n: json.loads(Path(b.receipt_path or "").read_text("utf-8")) for n, b in batches.items()}
    [problem] = receipts["B7"]["batch"]["problems"]
    assert problem["check"] == "zip_bad_member" and "extra (a file and a folder)" in problem["message_zh"]
    assert receipts["B8"]["batch"]["problems"][0]["check"] == "zip_ratio"
    html = (s.outbox_root / "v" / "B8" / "receipt.html").read_text("utf-8")
    assert "压缩炸弹" in html and "zip bomb" in html
    area = processing_area(s, "v")
    assert not [p for p in area.rglob("*") if ".locks" not in p.parts and p.name != ".locks"]  # nothing half-unpacked
    assert run_claim(s, ids[0] or 0) == Stage.REJECTED  # run again: no second receipt, no second batch
    with cat.session() as ses:
        assert ses.query(BatchRow).count() == 2


def test_a_corrupt_compressed_stream_is_unreadable_not_an_error(tmp_path: Path) -> None:
    """Found by fuzzing (tests/data/fuzz/zip_batch/crash-zip-corrupt-deflate-stream.zip): zlib.error
    went through as an error of the unit of work (retried, then 'worker_error')."""
    path = _deflated(tmp_path / "z.zip", {"目录.csv": b"x", "A/1.tif": bytes(range(256)) * 64})
    data = bytearray(path.read_bytes())
    start = data.index(b"A/1.tif") + len("A/1.tif")  # the member's compressed bytes follow its local name
    data[start : start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    reason, detail = _refused(path)
    assert reason == "zip_unreadable" and detail.startswith("A/1.tif: error: Error -3")


def test_a_refused_zip_is_rejected_even_when_its_receipt_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidang.hotfolders.unit as unit

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(unit, "write_refusal_receipt", fail)
    s = Settings(home=tmp_path / "home", profiles={"v": Profile(vendor="v")})  # type: ignore[call-arg]
    check_layout(s)
    _zip(s.inbox_of("v") / "B9.zip", {"extra": b"f", "extra/y.txt": b"y"})
    cat = open_catalogue(s.db_url)
    [entry] = judge_entries(s.inbox_of("v"), os.listdir(os.fsencode(s.inbox_of("v"))))
    claim_id = claim(cat, s, "v", entry)
    assert claim_id is not None and run_claim(s, claim_id) == Stage.REJECTED
