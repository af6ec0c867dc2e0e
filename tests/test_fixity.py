"""Fixity: SM3 and SHA-256 in one read, checked against known vectors and independent tools."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from guidang.errors import StorageError
from guidang.packaging import fixity
from guidang.packaging.fixity import (
    Digests,
    FixityError,
    copy_with_digests,
    digest_bytes,
    digest_file,
    digest_file_with,
)

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"  # GB/T 32905-2016 A.1
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"  # GB/T 32905-2016 A.2


def test_sm3_standard_vectors() -> None:
    assert digest_bytes(b"abc").sm3 == SM3_ABC
    assert digest_bytes(b"abcd" * 16).sm3 == SM3_ABCD16
    assert digest_bytes(b"abc").sha256 == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize("size", [0, 1, fixity.CHUNK_SIZE - 1, fixity.CHUNK_SIZE, fixity.THREADED_MIN_SIZE + 12345])
def test_digest_file_matches_hashlib_on_both_paths(tmp_path: Path, size: int) -> None:
    """Sizes on both sides of the threaded threshold and of the chunk boundary."""
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    d = digest_file(path)
    assert d == Digests(hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest(), size)
    assert (digest_file_with(path, "sha256"), digest_file_with(path, "sm3")) == (d.sha256, d.sm3)


def test_digests_agree_with_openssl_cli(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command line not installed")
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00\xff" * (fixity.THREADED_MIN_SIZE // 2 + 999))
    d = digest_file(path)
    for alg, expected in (("sm3", d.sm3), ("sha256", d.sha256)):
        out = subprocess.run(
            [openssl, "dgst", f"-{alg}", "-r", str(path)], capture_output=True, text=True, check=True
        ).stdout
        assert out.split()[0] == expected


def test_copy_with_digests_copies_and_hashes_in_one_read(tmp_path: Path) -> None:
    data = b"scan" * (fixity.THREADED_MIN_SIZE // 4 + 7)
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(data)
    assert copy_with_digests(src, dst) == digest_bytes(data)
    assert dst.read_bytes() == data
    with pytest.raises(StorageError):
        copy_with_digests(src, dst)  # never overwrites


def test_unreadable_file_gives_bilingual_error(tmp_path: Path) -> None:
    with pytest.raises(FixityError) as info:
        digest_file(tmp_path / "missing.tif")
    assert "missing.tif" in info.value.zh and "无法读取" in info.value.zh
    assert "cannot read" in info.value.en
    with pytest.raises(FixityError, match=r"missing\.tif"):
        digest_file_with(tmp_path / "missing.tif", "sm3")


def test_digest_record_round_trip_and_validation() -> None:
    d = digest_bytes(b"x")
    assert Digests.from_mapping(d.as_dict()) == d
    assert d.of("sm3") == d.sm3
    with pytest.raises(ValueError, match="sm3"):
        Digests.from_mapping({"sha256": d.sha256, "sm3": "zz", "size": 1})
    with pytest.raises(ValueError, match="unsupported"):
        d.of("md5")


@pytest.mark.timeout(30)
def test_a_failing_hasher_thread_raises_instead_of_hanging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(fixity.THREADED_MIN_SIZE + 1))
    real = fixity.new_hash

    class Broken:
        def update(self, _data: object) -> None:
            raise MemoryError("simulated")

    monkeypatch.setattr(fixity, "new_hash", lambda a: Broken() if a == "sm3" else real(a))
    with pytest.raises(MemoryError):
        digest_file(path)
