"""Scan-QA verdicts on data the thresholds were not tuned to (issue #11).

Two sources, each made into a vendor batch (folders per 档号, catalogue.csv, READY) by the test
and read by guidang's own intake:

* batches from ``tests/scan_vendor.py``, a generator independent of ``guidang.samples`` (Noto
  Sans letter pages, the sheet turned on a black lid inside a fixed scan area, JPEG/TIFF saved
  by Pillow), spanning what scanners produce, plus seeded real defects;
* real scans from ``../shared/corpora/ocrmypdf-resources`` (skewed, rotated, blank, a CCITT
  image with a wrong header, a CMYK JPEG), rendered or extracted with poppler.

The expected verdicts are written down below, item by item, as an archivist would expect them
under the default profile: clean pages with the skew and black borders real scanners leave are
accepted (with warnings the vendor reads in the receipt); pages that correction cannot make
right are refused, each with the check that names the defect.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import corpus
from scan_vendor import Sheet, VendorItem, Verdict, corpus_batch, differences, write_batch

from guidang.config import load_settings
from guidang.ingest.scanqa import ScanQAOptions, inspect_batch
from guidang.pipeline.intake import read_batch
from guidang.pipeline.steps import ItemWork, measure
from guidang.validators.result import Report, Status
from guidang.validators.scan_checks import ScanItemSubject, batch_context, run_scan_checks

A = frozenset  # short for the tables
DEFAULTS = ScanQAOptions()


def verdicts(root: Path, options: ScanQAOptions, *, pipeline: bool) -> dict[str, Verdict]:
    """Intake and scan QA of a batch folder as ``guidang ingest`` runs them, without the OCR.

    ``pipeline``: measure as the pipeline does (``steps.measure``: no Tesseract OSD, an unsure
    orientation is left to the OCR pass); else the full scan QA with the profile's OSD setting.
    """
    intake = read_batch(root)
    works = {i.archival_code: ItemWork(i) for i in intake.items}
    for w in works.values():
        w.add(Report(tuple(p.result() for p in intake.problems_of(w.code))))
    if pipeline:
        context = measure(works, options, jobs=2)
    else:
        todo = {c: [p.path for p in w.item.pages] for c, w in works.items() if not w.blocked}
        measured = inspect_batch(todo, options, jobs=2)
        for code, item in measured.items.items():
            works[code].measurements = item.pages
        context = batch_context(measured, options)
    out: dict[str, Verdict] = {}
    for code, w in works.items():
        if not w.blocked:
            subject = ScanItemSubject(code, w.measurements, w.item.row.page_count, options, context)
            w.add(run_scan_checks(subject))
        fails = A(r.check_id for r in w.results if r.status is Status.FAIL)
        warns = A(r.check_id for r in w.results if r.status is Status.WARN)
        out[code] = Verdict(not fails, fails, warns)
    return out


# DA/T 22 档号 of the three batches' items (fonds J001..J003, 文书, 2024, 永久, 办公室): the rows' own
# metadata passes, so what is judged here is the scans
J1, J2, J3 = (f"J00{n}-WS·2024-Y-BGS-" for n in (1, 2, 3))

YELLOWED = (236, 226, 196)
GREYISH = (226, 226, 222)

# The clean batch: what a decent vendor delivers. JPEG at 200–600 dpi, quality 75–95, grey and
# colour, white/yellowed/grey paper, skew 0–2.7°, the black lid showing 0–15 mm, one item in TIFF.
CLEAN = (
    VendorItem(f"{J1}0001", "关于档案数字化工作的通知", (Sheet(11, quality=90),),
               why="straight, no border"),
    VendorItem(f"{J1}0002", "会议纪要", (Sheet(12, skew_deg=1.8, borders_mm=(8, 6, 0, 0), quality=85),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="1.8° skew, 8 mm lid on the left"),
    VendorItem(f"{J1}0003", "批复", (Sheet(13, dpi=200, skew_deg=-1.6, borders_mm=(12, 0, 4, 10),
                                                 quality=75, tone=GREYISH),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="200 dpi, q75, 12 mm lid"),
    VendorItem(f"{J1}0004", "请示", (Sheet(14, dpi=600, area="A5", skew_deg=0.4, borders_mm=(0, 0, 15, 0),
                                                 quality=95, latin=True),),
               warns=A({"SCAN-BORDER"}), why="600 dpi A5, 15 mm lid"),
    VendorItem(f"{J1}0005", "关于印发验收办法的通知",
               (Sheet(15, dpi=400, area="B5", colour=True, red_seal=True, skew_deg=-2.6, borders_mm=(4, 4, 0, 0),
                      quality=92, tone=YELLOWED),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="400 dpi colour with red seal, 2.6° skew"),
    VendorItem(f"{J1}0006", "工作简报", (Sheet(16, colour=True, skew_deg=2.2, borders_mm=(0, 0, 10, 0),
                                                   quality=80, tone=YELLOWED),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER", "SCAN-COLOUR"}), why="colour scan of grey content"),
    VendorItem(f"{J1}0007", "年度工作总结",
               (Sheet(17, skew_deg=1.3, borders_mm=(5, 0, 0, 0), quality=88),
                Sheet(18, skew_deg=-0.7, borders_mm=(0, 7, 0, 0), quality=88, latin=True)),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="two pages"),
    VendorItem(f"{J1}0008", "通知", (Sheet(19, quality=82), Sheet(20, blank=True, quality=82)),
               page_count=1, warns=A({"SCAN-BLANK"}), why="blank back scanned too (页数 1)"),
    VendorItem(f"{J1}0009", "函", (Sheet(21, skew_deg=1.2, borders_mm=(6, 0, 0, 0), fmt="TIFF"),),
               expect="refuse", fails=A({"SCAN-FORMAT"}), why="the one TIFF item of a JPEG batch"),
)

# Seeded defects that no correction makes right, each beside a clean item of the same batch.
DEFECTS = (
    VendorItem(f"{J2}0001", "低分辨率", (Sheet(31, dpi=150),), expect="refuse", fails=A({"SCAN-DPI"}),
               why="150 dpi"),
    VendorItem(f"{J2}0002", "严重倾斜", (Sheet(32, skew_deg=5.0, borders_mm=(6, 0, 0, 0)),), expect="refuse",
               fails=A({"SCAN-SKEW"}), why="5° skew"),
    VendorItem(f"{J2}0003", "黑边遮挡", (Sheet(33, cover_mm=40, borders_mm=(5, 0, 0, 0)),), expect="refuse",
               fails=A({"SCAN-BORDER"}), why="black band over the text"),
    VendorItem(f"{J2}0004", "漏扫正面", (Sheet(35, blank=True),), expect="refuse", fails=A({"SCAN-BLANK"}),
               why="the blank back scanned instead of the front"),
    VendorItem(f"{J2}0005", "传输截断", (Sheet(36, truncate=0.6),), expect="refuse", fails=A({"SCAN-READ"}),
               why="file cut short"),
    VendorItem(f"{J2}0006", "压缩过度", (Sheet(37, quality=55),), expect="refuse", fails=A({"SCAN-DEPTH"}),
               why="JPEG quality 55"),
    VendorItem(f"{J2}0007", "正常", (Sheet(38, skew_deg=-1.4, borders_mm=(0, 9, 0, 0)),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="clean neighbour"),
)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vendor")
    return {name: write_batch(root / name, items).root for name, items in (("clean", CLEAN), ("defects", DEFECTS))}


def test_clean_batch_with_realistic_skew_and_borders(batches: dict[str, Path]) -> None:
    got = verdicts(batches["clean"], DEFAULTS, pipeline=True)
    wrong = differences({i.code: i for i in CLEAN}, got)
    assert not wrong, "\n".join(wrong)


def test_each_seeded_defect_is_refused_with_its_check(batches: dict[str, Path]) -> None:
    got = verdicts(batches["defects"], DEFAULTS, pipeline=True)
    wrong = differences({i.code: i for i in DEFECTS}, got)
    assert not wrong, "\n".join(wrong)


# The real scans of OCRmyPDF's test resources: (catalogue 档号, files made from the corpus, 页数,
# expected verdict). Expected values come from the files' own description (README.rst) and, for
# skew, from each PDF's placement matrix (test_scan_corpus.py: -1.87° and 2.79°).
REAL = (
    VendorItem(f"{J3}0001", "skew.pdf", (), 1, warns=A({"SCAN-SKEW"}), why="linn.png skewed 1.87° by the PDF"),
    VendorItem(f"{J3}0002", "rotated_skew.pdf", (), 1, warns=A({"SCAN-SKEW"}), why="/Rotate'd and skewed 2.79°"),
    VendorItem(f"{J3}0003", "cardinal.pdf", (), 4, warns=A({"SCAN-ROTATION"}), why="upright, 90, 180, 270"),
    VendorItem(f"{J3}0004", "linn.png", (), 1, warns=A({"SCAN-PAPER"}), why="grey scan, no dpi in the header"),
    VendorItem(f"{J3}0005", "blank.pdf", (), 1, expect="refuse", fails=A({"SCAN-BLANK"}), why="nothing on the page"),
    VendorItem(f"{J3}0006", "ccitt.pdf", (), 1, expect="refuse", fails=A({"SCAN-PAPER"}),
               why="72 dpi header on 300 dpi pixels"),
    VendorItem(f"{J3}0007", "baiona_cmyk.jpg", (), 1, expect="refuse",
               fails=A({"SCAN-DEPTH", "SCAN-FORMAT", "SCAN-PAPER", "SCAN-DPI"}),
               why="CMYK JPEG of a 640 px map in a TIFF batch"),
)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_real_scans_of_the_ocrmypdf_corpus(tmp_path: Path) -> None:
    src = corpus("ocrmypdf-resources")
    root = corpus_batch(tmp_path / "batch", src, REAL)
    got = verdicts(root, DEFAULTS, pipeline=False)
    wrong = differences({i.code: i for i in REAL}, got)
    assert not wrong, "\n".join(wrong)


# Under `scan_qa.strict = true` (DA/T 31's letter: the vendor deskews, crops and keeps one format per
# batch) the same clean batch is refused where guidang would otherwise correct: skew over 1°, a border
# over 3 mm, and every item of a batch that mixes formats.
STRICT_FAILS = {
    f"{J1}0001": A({"SCAN-FORMAT"}),
    f"{J1}0002": A({"SCAN-SKEW", "SCAN-BORDER", "SCAN-FORMAT"}),
    f"{J1}0004": A({"SCAN-BORDER", "SCAN-FORMAT"}),
    f"{J1}0009": A({"SCAN-SKEW", "SCAN-BORDER", "SCAN-FORMAT"}),
}


def test_strict_profile_applies_the_letter_of_dat31(
    batches: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guidang.toml").write_text(
        '[profiles.letter]\nvendor = "某扫描公司"\n\n[profiles.letter.scan_qa]\nstrict = true\n', encoding="utf-8"
    )
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path))
    options = load_settings().profile("letter").scan_qa
    assert options.strict and not DEFAULTS.strict
    got = verdicts(batches["clean"], options, pipeline=True)
    assert not any(v.accepted for v in got.values())
    assert {code: got[code].fails for code in STRICT_FAILS} == STRICT_FAILS
