"""GD 1-14, 2-1 and 2-2 judge the package against what intake registered (and the vendor's
manifest), never against figures taken from the package itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guidang.cli import main
from guidang.config import Settings
from guidang.packaging import aip
from guidang.pipeline.intake import read_batch
from guidang.samples.batch import MANIFEST_NAME, make_batch
from guidang.validators.dat70 import Dat70Context, run_dat70
from guidang.validators.dat70.context import IntakeRegistration
from guidang.validators.result import Report, Status

pytestmark = pytest.mark.e2e


def _batch(tmp_path: Path, *, manifest: bool = True) -> Path:
    truth = make_batch(tmp_path / "drop", page_counts=(2,), seed=31, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="EVIDENCE", truth_path=tmp_path / "truth.json", manifest=manifest)
    return truth.batch_dir


def _package(tmp_path: Path, batch: Path, alter: bool) -> tuple[Path, IntakeRegistration]:
    """Package the item's masters with the digests intake registered, the way steps.assemble does."""
    intake = read_batch(batch)
    [item] = intake.items
    if alter:  # the same size, other bytes: after intake, before packaging
        page = item.pages[0].path
        data = bytearray(page.read_bytes())
        data[-1] ^= 0xFF
        page.write_bytes(bytes(data))
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    pkg = aip.build_package(tmp_path / "pkg", code=item.archival_code, pdf=pdf, text=b"t", masters=item.pages,
                            metadata_xml=b"<x/>")
    registration = IntakeRegistration(
        digests={f"masters/{Path(p.relpath).name}": p.sha256 for p in item.pages},
        total_bytes=sum(p.size for p in item.pages), vendor_manifest=intake.vendor_manifest_covers(item))
    return pkg.root, registration


def _only(report: Report, check: str) -> list[tuple[Status, str]]:
    return [(r.status, r.message_en) for r in report.results if r.check_id == check]


def test_a_file_altered_after_intake_fails_1_14(tmp_path: Path) -> None:
    root, registration = _package(tmp_path, _batch(tmp_path), alter=True)
    report = run_dat70(root, "GD", Dat70Context(intake=registration))
    [(status, message)] = _only(report, "GD-1-14")
    assert status is Status.FAIL and "changed after intake" in message
    assert not report.accepted


def test_with_the_vendors_manifest_the_intake_registration_passes(tmp_path: Path) -> None:
    root, registration = _package(tmp_path, _batch(tmp_path), alter=False)
    assert registration.vendor_manifest
    report = run_dat70(root, "GD", Dat70Context(intake=registration))
    assert [s for s, _ in _only(report, "GD-1-14")] == [Status.PASS]
    assert [s for s, _ in _only(report, "GD-2-1")] == [Status.PASS]
    assert [s for s, _ in _only(report, "GD-2-2")] == [Status.PASS]


def test_without_a_manifest_there_is_no_independent_evidence(tmp_path: Path) -> None:
    batch = _batch(tmp_path, manifest=False)
    assert not (batch / MANIFEST_NAME).exists()
    root, registration = _package(tmp_path, batch, alter=False)
    assert not registration.vendor_manifest
    report = run_dat70(root, "GD", Dat70Context(intake=registration))
    for check in ("GD-1-14", "GD-2-1", "GD-2-2"):
        [(status, message)] = _only(report, check)
        assert status is Status.WARN and "no independent evidence" in message, (check, message)
    zh = next(r.message_zh for r in report.results if r.check_id == "GD-1-14")
    assert "无独立证据" in zh


def test_a_count_that_differs_from_intake_fails_2_1_and_2_2(tmp_path: Path) -> None:
    root, registration = _package(tmp_path, _batch(tmp_path), alter=False)
    (root / "masters" / next(iter(registration.digests)).split("/", 1)[1]).unlink()
    report = run_dat70(root, "GD", Dat70Context(intake=registration))
    assert [s for s, _ in _only(report, "GD-2-1")] == [Status.FAIL]
    assert [s for s, _ in _only(report, "GD-2-2")] == [Status.FAIL]
    assert Status.FAIL in {s for s, _ in _only(report, "GD-1-14")}


def test_the_pipeline_sees_a_master_altered_between_intake_and_packaging(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _batch(tmp_path)
    build = aip.build_package

    def altered_first(*args: Any, **kwargs: Any) -> aip.Package:
        page = Path(kwargs["masters"][0].path)
        data = bytearray(page.read_bytes())
        data[-1] ^= 0xFF
        page.write_bytes(bytes(data))
        return build(*args, **kwargs)

    monkeypatch.setattr(aip, "build_package", altered_first)
    result = CliRunner().invoke(main, ["ingest", str(batch), "--profile", "demo", "--json"])
    out = json.loads(result.stdout)
    [item] = out["items"]
    assert item["status"] == "rejected" and "GD-1-14" in item["failed_checks"], item
