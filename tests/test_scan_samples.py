"""Scan QA against the project's generated vendor batch (guidang.samples) and its ground truth.

The batch writer records every degradation it applied (skew, rotation, border, blank,
bleed-through, JPEG artefacts); the measurements must find them.
"""

from __future__ import annotations

import pytest

from guidang.ingest.scanqa import ScanQAOptions, inspect_batch, inspect_page
from guidang.samples.corpus import make_bench_corpus
from guidang.samples.truth import BatchTruth
from guidang.validators.result import Status
from guidang.validators.scan_checks import ScanItemSubject, batch_context, run_scan_checks

DPI = 150
OPTS = ScanQAOptions(osd="never")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchTruth:
    root = tmp_path_factory.mktemp("vendor")
    return make_bench_corpus(
        root / "drop", pages=12, seed=7, dpi=DPI, image_format="jpeg", blanks=2, truth_path=root / "t.json", workers=1
    )


def test_measurements_match_the_ground_truth(batch: BatchTruth) -> None:
    items = {it.archival_code: [batch.batch_dir / p.file for p in it.pages] for it in batch.items}
    measured = inspect_batch(items, OPTS, jobs=2)
    upside_down = []
    for item in batch.items:
        for truth, m in zip(item.pages, measured.items[item.archival_code].pages, strict=True):
            d = truth.degradation
            assert m.readable and m.dpi == DPI, truth.file
            assert m.header is not None and m.header.jpeg_quality == truth.degradation.jpeg_quality, truth.file
            assert m.blank == d.blank, truth.file
            if d.blank:
                continue
            assert m.skew_deg is not None and abs(m.skew_deg - d.skew_deg) <= 0.3, (truth.file, m.skew_deg, d)
            assert m.border_mm is not None
            widest = max(m.border_mm)
            if d.border_px:
                assert widest == pytest.approx(d.border_px / DPI * 25.4, abs=0.6), (truth.file, m.border_mm, d)
            else:
                assert widest == 0.0, (truth.file, m.border_mm)
            assert m.orientation is not None
            if d.rotate:
                upside_down.append((truth, m))
                assert not (m.orientation.confident and m.orientation.rotation == 0), truth.file
            # pages with 红头/seal were written in colour and are recognised as such
            assert m.keep_colour == (truth.mode == "RGB"), truth.file

    # the heuristic hands the upside-down page to Tesseract OSD, which names the rotation
    ((truth, m),) = upside_down
    osd = inspect_page(m.path, ScanQAOptions(osd="uncertain"))
    assert osd.orientation is not None and osd.orientation.method == "osd"
    assert osd.orientation.rotation == truth.degradation.rotate == 180


def test_checks_on_the_vendor_batch(batch: BatchTruth) -> None:
    items = {it.archival_code: [batch.batch_dir / p.file for p in it.pages] for it in batch.items}
    measured = inspect_batch(items, OPTS)
    ctx = batch_context(measured, OPTS)
    failed: set[str] = set()
    for item in batch.items:
        count = int(item.catalogue_row["页数"])
        report = run_scan_checks(ScanItemSubject.of(measured.items[item.archival_code], count, OPTS, ctx))
        assert {r.status for r in report.by_id("SCAN-NAME")} == {Status.PASS}
        assert {r.status for r in report.by_id("SCAN-COUNT")} == {Status.PASS}
        assert {r.status for r in report.by_id("SCAN-FORMAT")} == {Status.PASS}
        assert {r.status for r in report.by_id("SCAN-READ")} == {Status.PASS}
        assert {r.status for r in report.by_id("SCAN-DUP")} == {Status.PASS}
        skewed = [p.sequence for p in item.pages if abs(p.degradation.skew_deg) > OPTS.max_skew_deg]
        got = [e.page for r in report.by_id("SCAN-SKEW") if r.status is Status.FAIL for e in r.evidence]
        assert got == skewed
        # deskewed and told: clearly over the warning angle (the measurement is within 0.3°)
        warned = {e.page for r in report.by_id("SCAN-SKEW") if r.status is Status.WARN for e in r.evidence}
        for p in item.pages:
            if OPTS.warn_skew_deg + 0.3 < abs(p.degradation.skew_deg) <= OPTS.max_skew_deg - 0.3:
                assert p.sequence in warned, p.file
            elif abs(p.degradation.skew_deg) < OPTS.warn_skew_deg - 0.3:
                assert p.sequence not in warned, p.file
        blanks = [p.sequence for p in item.pages if p.degradation.blank]
        got = [e.page for r in report.by_id("SCAN-BLANK") if r.status is Status.WARN for e in r.evidence]
        assert got == blanks
        low_quality = [p.sequence for p in item.pages if (p.degradation.jpeg_quality or 100) < OPTS.min_jpeg_quality]
        got = [e.page for r in report.by_id("SCAN-DEPTH") if r.status is Status.FAIL for e in r.evidence]
        assert got == low_quality
        failed.update(report.failed_ids)
    assert "SCAN-DPI" in failed  # 150 dpi < 200
