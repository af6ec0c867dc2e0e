"""The clamd client against a real clamd started with a test signature database (DA/T 70 4-1, 4-2)."""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from guidang.validators.clamav import ClamdClient, ClamdError, ScanStatus, parse_scan_reply, parse_version

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
from clamd_support import (
    EICAR,
    MAX_FILE_MIB,
    MAX_STREAM_MIB,
    TAIL_MARKER,
    TESTFILES,
    Clamd,
    running_clamd,
)


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clamd]:
    with running_clamd(tmp_path_factory.mktemp("clamd-dat70")) as daemon:
        yield daemon


def test_ping_and_version(clamd: Clamd) -> None:
    client = clamd.client()
    assert client.ping()
    version = client.version()
    assert version.engine.startswith(("0.", "1."))
    # a test database has no CVD header: clamd reports neither version nor date, and 4-1 says so
    assert version.db_date is None


def test_eicar_found_in_stream_and_file(clamd: Clamd, tmp_path: Path) -> None:
    client = clamd.client()
    result = client.scan_stream(io.BytesIO(EICAR))
    assert result.status is ScanStatus.INFECTED
    assert result.signature.startswith("Guidang.Test.EICAR")
    f = tmp_path / "eicar.txt"
    f.write_bytes(EICAR)
    assert client.scan_file(f).status is ScanStatus.INFECTED


def test_clean_file_is_clean(clamd: Clamd, tmp_path: Path) -> None:
    f = tmp_path / "clean.txt"
    f.write_bytes("档案工作通知\n".encode() * 1000)
    assert clamd.client().scan_file(f).status is ScanStatus.CLEAN


def test_clamav_testfiles_all_found(clamd: Clamd) -> None:
    if not TESTFILES.is_dir():
        pytest.skip(f"{TESTFILES} absent (Debian package clamav-testfiles)")
    client = clamd.client()
    files = sorted(p for p in TESTFILES.iterdir() if p.is_file())
    missed = [p.name for p in files if client.scan_file(p).status is not ScanStatus.INFECTED]
    assert len(files) == 44
    assert missed == []


def test_file_over_max_file_size_is_never_clean(clamd: Clamd, tmp_path: Path) -> None:
    """Debian's default limits would call this file clean; with AlertExceedsMax clamd says it stopped short."""
    f = tmp_path / "big.bin"
    f.write_bytes(b"\0" * ((MAX_FILE_MIB + 1) << 20) + TAIL_MARKER)
    result = clamd.client().scan_file(f)
    assert result.status is ScanStatus.LIMITS
    assert "Limits" in result.signature


def test_stream_over_stream_max_length_is_never_clean(clamd: Clamd) -> None:
    data = b"\0" * ((MAX_STREAM_MIB + 1) << 20)
    result = clamd.client().scan_stream(io.BytesIO(data))
    assert result.status is ScanStatus.LIMITS


def test_client_refuses_to_send_more_than_its_limit(tmp_path: Path) -> None:
    f = tmp_path / "f.bin"
    f.write_bytes(b"x" * 2048)
    result = ClamdClient(tmp_path / "unused.sock", max_stream_bytes=1024).scan_file(f)
    assert result.status is ScanStatus.LIMITS


def test_unreachable_daemon_raises(tmp_path: Path) -> None:
    with pytest.raises(ClamdError):
        ClamdClient(tmp_path / "none.sock", timeout=1).ping()


def test_parse_official_version_reply() -> None:
    v = parse_version("ClamAV 1.4.6/27467/Tue Nov 25 08:22:05 2026")
    assert v.engine == "1.4.6"
    assert v.db_version == 27467
    assert v.db_date == dt.datetime(2026, 11, 25, 8, 22, 5, tzinfo=dt.UTC)
    with pytest.raises(ClamdError):
        parse_version("garbage")


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        ("stream: OK", ScanStatus.CLEAN),
        ("stream: Eicar-Signature FOUND", ScanStatus.INFECTED),
        ("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND", ScanStatus.LIMITS),
        ("INSTREAM size limit exceeded. ERROR", ScanStatus.LIMITS),
        ("stream: Can't allocate memory ERROR", ScanStatus.ERROR),
    ],
)
def test_parse_scan_reply(reply: str, status: ScanStatus) -> None:
    assert parse_scan_reply(reply).status is status
