"""The antivirus as guidang uses it: scan first, honest about test signatures, pluggable, one
factory, offline updates verified, and a clamd that no one-off command leaves behind."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from guidang.config import Profile, Settings, load_settings
from guidang.errors import MissingDependencyError
from guidang.home import init_home
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.intake import read_batch
from guidang.pipeline.run import ingest_batch
from guidang.storage.catalogue import Catalogue, EventRow
from guidang.validators import clamd_service
from guidang.validators.clamav import ClamdClient, CommandScanner, ScanStatus
from guidang.validators.dat70 import Dat70Context, run_dat70
from guidang.validators.result import Status

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
import make_fixtures as mf
from clamd_support import EICAR

GUIDANG = str(Path(sys.executable).parent / "guidang")
CODE = "Z109-WS·2023-Y-BGS-0001"


def _eicar_batch(root: Path, name: str = "VIRUS-1") -> Path:
    """One item whose only 'page' is the EICAR test file: a virus that is also not an image."""
    batch = root / name
    (batch / CODE).mkdir(parents=True)
    (batch / CODE / f"{CODE}-0001.tif").write_bytes(EICAR)
    (batch / "catalogue.csv").write_text(f"档号,题名,页数\n{CODE},含测试病毒的件,1\n", "utf-8")
    (batch / "READY").write_text("")
    return batch


# -- scan first ------------------------------------------------------------------------------------------
def test_a_virus_in_an_item_is_gd_4_2_not_a_file_type_problem(tmp_path: Path, clamd_socket: Path) -> None:
    intake = read_batch(_eicar_batch(tmp_path), scanner=ClamdClient(clamd_socket))
    results = [p.result() for p in intake.problems_of(CODE)]
    assert [(r.check_id, r.status) for r in results] == [("GD-4-2", Status.FAIL)], results
    assert "Guidang.Test.EICAR" in results[0].message_en
    # without a scanner the same file is only "not an image": the scan is what finds the virus
    plain = read_batch(tmp_path / "VIRUS-1")
    assert [p.check_id for p in plain.problems_of(CODE)] == ["INTAKE-FILE-TYPE"]


def test_ingest_rejects_the_virus_and_records_a_security_event(
    home: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="guidang.pipeline.run"):
        outcome = ingest_batch(home, "demo", _eicar_batch(tmp_path))
    [item] = outcome.items
    assert item.status == "rejected" and item.failed_checks == ["GD-4-2"], item.failed_checks
    events = [r.security_event for r in caplog.records if hasattr(r, "security_event")]  # type: ignore[attr-defined]
    assert [(e["event"], e["item"]) for e in events] == [("virus_found", CODE)]
    assert events[0]["signature"].startswith("Guidang.Test.EICAR")
    with Catalogue(home.db_url).session() as s:
        rows = list(s.scalars(select(EventRow).where(EventRow.action == "security.virus_found")))
    assert [(r.subject, r.detail["file"]) for r in rows] == [(CODE, f"{CODE}/{CODE}-0001.tif")]


# -- honest about test signatures ------------------------------------------------------------------------
def test_4_2_with_test_signatures_fails_by_default_and_warns_when_the_profile_accepts(
    tmp_path: Path, clamd_socket: Path
) -> None:
    root = mf.build(tmp_path / "pkg" / mf.CODE)
    client = ClamdClient(clamd_socket)
    assert client.info().test_only  # the session's clamd: guidang's EICAR-only database
    strict = run_dat70(root, "GD", Dat70Context(clamd=client)).by_id("GD-4-2")
    lenient = run_dat70(root, "GD", Dat70Context(clamd=client, test_signatures_block=False)).by_id("GD-4-2")
    assert [r.status for r in strict] == [Status.FAIL] and "test signatures only" in strict[0].message_en
    assert [r.status for r in lenient] == [Status.WARN] and "测试病毒库" in lenient[0].message_zh
    assert "ClamAV" in lenient[0].message_en  # which product was used


def test_only_the_demo_profile_accepts_test_signatures(tmp_path: Path) -> None:
    init_home(tmp_path / "h")
    settings = load_settings(home=tmp_path / "h")
    assert settings.profile("demo").accept_test_signatures
    assert not Profile(vendor="any").accept_test_signatures


# -- a command-line scanner ------------------------------------------------------------------------------
def _fake_av(tmp_path: Path) -> Path:
    """A scanner with the documented contract: 0 clean, 1 infected (name on stdout), 2 error."""
    exe = tmp_path / "fakeav"
    exe.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "FakeAV 3.1 病毒库 2026.11.30 (20261130)"; exit 0; fi\n'
        'if [ ! -r "$2" ]; then echo "cannot read $2" >&2; exit 2; fi\n'
        'if grep -q "EICAR-STANDARD" "$2"; then echo "Test.EICAR found in $2"; exit 1; fi\n'
        "exit 0\n",
        "utf-8",
    )
    exe.chmod(0o755)
    return exe


def test_a_command_line_scanner_follows_its_exit_code_contract(tmp_path: Path) -> None:
    exe = _fake_av(tmp_path)
    scanner = CommandScanner([str(exe), "--scan", "{file}"], version_command=[str(exe), "--version"])
    (tmp_path / "clean.txt").write_text("hello")
    (tmp_path / "eicar.com").write_bytes(EICAR)
    assert scanner.ping()
    assert scanner.scan_file(tmp_path / "clean.txt").status is ScanStatus.CLEAN
    infected = scanner.scan_file(tmp_path / "eicar.com")
    assert infected.status is ScanStatus.INFECTED and infected.signature.startswith("Test.EICAR found")
    assert scanner.scan_file(tmp_path / "absent").status is ScanStatus.ERROR  # exit 2: never clean
    info = scanner.info()
    assert info.product.startswith("FakeAV 3.1") and info.signature_date is not None
    assert info.signature_date.date().isoformat() == "2026-11-30" and not info.test_only


def test_4_1_and_4_2_report_the_products_name_and_signature_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = _fake_av(tmp_path)
    monkeypatch.setenv("GUIDANG_ANTIVIRUS__COMMAND", json.dumps([str(exe), "--scan", "{file}"]))
    monkeypatch.setenv("GUIDANG_ANTIVIRUS__VERSION_COMMAND", json.dumps([str(exe), "--version"]))
    monkeypatch.setenv("GUIDANG_DAT70__MAX_SIGNATURE_AGE_DAYS", "100000")
    settings = load_settings(home=tmp_path / "h")
    root = mf.build(tmp_path / "pkg" / mf.CODE)
    with open_scanner(settings) as scanner:
        report = run_dat70(root, "GD", Dat70Context(clamd=scanner))
    [av] = report.by_id("GD-4-1")
    [scan] = report.by_id("GD-4-2")
    assert av.status is Status.PASS and "FakeAV 3.1" in av.message_en and "2026-11-30" in av.message_en
    assert scan.status is Status.PASS and "2026-11-30" in scan.message_en and "FakeAV" in scan.message_en


# -- one factory, and clamav.required ---------------------------------------------------------------------
def test_required_stops_the_command_and_not_required_lets_4_1_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDANG_CLAMAV__SOCKET", str(tmp_path / "no-such.sock"))
    with pytest.raises(MissingDependencyError), open_scanner(load_settings(home=tmp_path / "h")):
        pass
    monkeypatch.setenv("GUIDANG_CLAMAV__REQUIRED", "false")
    root = mf.build(tmp_path / "pkg" / mf.CODE)
    with open_scanner(load_settings(home=tmp_path / "h")) as scanner:
        assert scanner is None
        report = run_dat70(root, "GD", Dat70Context(clamd=scanner))
    assert [r.status for r in report.by_id("GD-4-1")] == [Status.FAIL]
    assert [r.status for r in report.by_id("GD-4-2")] == [Status.FAIL] and not report.accepted


# -- offline signature updates ----------------------------------------------------------------------------
def test_a_damaged_cvd_dropped_for_an_offline_update_is_refused_never_used(tmp_path: Path) -> None:
    folder = tmp_path / "clamav"
    (folder / "updates").mkdir(parents=True)
    forged = folder / "updates" / "daily.cvd"
    header = b"ClamAV-VDB:06 Dec 2026 00-00 +0000:27000:1000:90:X:X:guidang:0"
    forged.write_bytes(header + b" " * (512 - len(header)) + os.urandom(2048))
    assert clamd_service.install_updates(folder) == []
    assert not (folder / "db" / "daily.cvd").exists() and not forged.exists()
    assert (folder / "updates" / "refused" / "daily.cvd").is_file()
    assert "clamscan" in (folder / "updates" / "refused" / "daily.cvd.reason.txt").read_text("utf-8")
    with clamd_service.session(folder) as sock:  # the daemon starts on the database it had
        assert ClamdClient(sock).info().test_only


# -- lifecycle --------------------------------------------------------------------------------------------
def _clamd_alive(folder: Path) -> bool:
    """A live (not zombie) process runs with this folder's clamd.conf."""
    conf = str(folder / "clamd.conf").encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and conf in (proc / "cmdline").read_bytes():
                return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            continue
    return False


def test_sessions_share_one_clamd_and_the_last_one_out_stops_it(tmp_path: Path) -> None:
    folder = tmp_path / "clamav"
    with clamd_service.session(folder) as sock:
        with clamd_service.session(folder) as again:
            assert again == sock
        assert _clamd_alive(folder) and ClamdClient(sock).ping()  # the outer user still holds it
    assert not _clamd_alive(folder)


def test_a_one_off_ingest_leaves_no_clamd_running(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home)
    batch = _eicar_batch(tmp_path / "drop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDANG_")} | {"GUIDANG_HOME": str(home)}
    run = subprocess.run([GUIDANG, "ingest", str(batch), "--profile", "demo", "--json"], env=env,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    [item] = json.loads(run.stdout)["items"]
    assert item["failed_checks"] == ["GD-4-2"]  # the home's own clamd did scan
    assert (home / "clamav" / "clamd.log").is_file()  # it was started for this command …
    assert not _clamd_alive(home / "clamav")  # … and stopped by it


def test_a_one_off_watch_shares_one_clamd_and_leaves_none_running(tmp_path: Path) -> None:
    """The watcher holds the home's clamd; its worker's ingest joins it (no second start)."""
    home = tmp_path / "home"
    init_home(home)
    _eicar_batch(home / "inbox" / "demo")
    _eicar_batch(home / "inbox" / "demo", "VIRUS-2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUIDANG_")} | {"GUIDANG_HOME": str(home)}
    run = subprocess.run([GUIDANG, "watch", "--once", "--workers", "1"], env=env, capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    receipts = list((home / "outbox").rglob("receipt.json"))
    assert len(receipts) == 2 and all("GD-4-2" in r.read_text("utf-8") for r in receipts)
    log = (home / "clamav" / "clamd.log").read_text("utf-8", "replace")
    # the watcher and both batches' workers used one daemon, started once and stopped at the end
    assert (log.count("+++ Started at"), log.count("--- Stopped at")) == (1, 1), log
    assert not _clamd_alive(home / "clamav")
