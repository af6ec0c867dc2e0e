"""End to end on batches guidang did not make (issue #11): the CLI, real Tesseract, real clamd.

``tests/test_scan_verdicts.py`` judges intake and scan QA alone; here the same kind of batches go
through ``guidang ingest BATCH --json`` as a vendor's delivery would, with OCR, PDF/A, packaging
and the DA/T 70 checks, and the verdicts are read from what a user gets: the JSON, the receipt,
the store. The expected verdicts are written down first, item by item, under the default scan-QA
settings (the demo profile of a fresh home differs only in its antivirus rule).

* A small batch from ``tests/scan_vendor.py`` (a generator independent of ``guidang.samples``):
  clean JPEG pages with the skew and black borders real scanners leave, one TIFF item (the
  batch's minority format), one page at 150 dpi, and one row whose 保管期限 is not a period.
* Real scans of ``../shared/corpora/ocrmypdf-resources`` made into a vendor batch.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from conftest import corpus
from e2e_support import cjk_recall, ingest_json, pdftotext
from scan_vendor import Sheet, VendorItem, Verdict, corpus_batch, differences, sheet_text, write_batch

from guidang.config import Settings
from guidang.storage.ocfl_store import OcflStore

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

A = frozenset  # short for the tables
GREYISH = (226, 226, 222)

# DA/T 22 档号 under the demo profile's 全宗号 Z109 (文书, 2024, 永久, 办公室)
V = "Z109-WS·2024-Y-BGS-"

# The expected verdicts, written before the batch was first run. `fails`: exactly the checks that
# fail (their own IDs); `warns`: at least these warn. Clean pages are accepted, the correction told.
VENDOR = (
    VendorItem(f"{V}0001", "关于档案数字化工作的通知",
               (Sheet(41, dpi=300, skew_deg=1.8, borders_mm=(8, 0, 0, 0), quality=88),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="300 dpi, 1.8° skew, 8 mm lid on the left"),
    VendorItem(f"{V}0002", "会议纪要",
               (Sheet(42, dpi=200, skew_deg=-2.2, borders_mm=(0, 6, 0, 4), quality=80, tone=GREYISH),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="200 dpi, −2.2° skew, 6 mm lid on top, grey paper"),
    VendorItem(f"{V}0003", "关于开展档案数字化加工的批复",
               (Sheet(43, dpi=250, skew_deg=2.4, borders_mm=(0, 0, 12, 0), quality=92),),
               warns=A({"SCAN-SKEW", "SCAN-BORDER"}), why="250 dpi, 2.4° skew, 12 mm lid on the right"),
    VendorItem(f"{V}0004", "工作简报",
               (Sheet(44, dpi=200, skew_deg=1.7, borders_mm=(5, 0, 0, 0), fmt="TIFF"),),
               expect="refuse", fails=A({"SCAN-FORMAT"}), why="the one TIFF item of a JPEG batch"),
    VendorItem(f"{V}0005", "请示", (Sheet(45, dpi=150, skew_deg=0.3, quality=90),),
               expect="refuse", fails=A({"SCAN-DPI"}), why="scanned at 150 dpi"),
    VendorItem(f"{V}0006", "年度工作总结",
               (Sheet(46, dpi=200, skew_deg=-1.6, borders_mm=(0, 0, 0, 6), quality=85),), retention="八十年",
               expect="refuse", fails=A({"GD-1-4"}), why="保管期限 八十年 is no retention period"),
)
SKEWS = {item.code: abs(item.sheets[0].skew_deg) for item in VENDOR}


def _verdicts(items: list[dict[str, object]]) -> dict[str, Verdict]:
    """The verdict of each entry of ``items`` in the JSON, by 档号."""
    out = {}
    for item in items:
        problems = item["problems"]
        assert isinstance(problems, list)
        fails = A(p["check"] for p in problems if p["status"] == "fail")
        warns = A(p["check"] for p in problems if p["status"] == "warn")
        out[str(item["id"])] = Verdict(item["status"] == "accepted", fails, warns)
    return out


def _degrees(message: str) -> float:
    found = re.search(r"已自动纠偏\s*(\d+(?:\.\d+)?)°", message)
    assert found, message
    return float(found.group(1))


@pytest.fixture(scope="module")
def vendor_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_batch(tmp_path_factory.mktemp("vendor") / "VENDOR-E2E", VENDOR).root


def test_independent_batch_end_to_end(home: Settings, vendor_batch: Path, tmp_path: Path) -> None:
    code, out = ingest_json(vendor_batch)
    assert code == 0
    items = out["items"]
    assert isinstance(items, list)
    # every catalogue row exactly one entry, in the catalogue's order; no other entry
    assert [(i["row"], i["id"]) for i in items] == [(n, v.code) for n, v in enumerate(VENDOR, 1)]
    wrong = differences({v.code: v for v in VENDOR}, _verdicts(items))
    assert not wrong, "\n".join(wrong)
    by_code = {i["id"]: i for i in items}
    assert "GD-1-4" in by_code[f"{V}0006"]["failed_checks"]
    accepted = [v for v in VENDOR if v.expect == "accept"]
    assert out["summary"] == out["summary"] | {"items": 6, "accepted": 3, "rejected": 3}  # type: ignore[operator]

    # the vendor is told what was corrected, with the angle measured (within 0.3°)
    for v in accepted:
        told = {p["check"]: p for p in by_code[v.code]["problems"] if p["status"] == "warn"}
        assert abs(_degrees(told["SCAN-SKEW"]["message_zh"]) - SKEWS[v.code]) <= 0.3, told["SCAN-SKEW"]
        assert "请今后在扫描端纠偏" in told["SCAN-SKEW"]["message_zh"]
        assert "deskewed automatically" in told["SCAN-SKEW"]["message_en"]
        assert "已自动裁边" in told["SCAN-BORDER"]["message_zh"]
    receipt_json, receipt_html = (Path(p) for p in out["receipt"])  # type: ignore[attr-defined]
    receipt = json.loads(receipt_json.read_text("utf-8"))
    assert [i["id"] for i in receipt["items"]] == [v.code for v in VENDOR]
    for entry in receipt["items"]:
        if entry["status"] == "accepted":
            said = " ".join(p["message_zh"] for p in entry["problems"])
            assert "已自动纠偏" in said and "已自动裁边" in said, entry
    html = receipt_html.read_text("utf-8")
    rows = {v.code: [r for r in html.split("<tr>") if f"<code>{v.code}</code>" in r] for v in VENDOR}
    assert all(len(found) == 1 for found in rows.values()), rows  # one row of the receipt per item
    for v in accepted:
        assert "已自动纠偏" in rows[v.code][0] and "已自动裁边" in rows[v.code][0], rows[v.code]
    assert "SCAN-FORMAT" in html and "SCAN-DPI" in html and "GD-1-4" in html

    # only the accepted items are in the store, each with its corrections as process events and a
    # PDF/A whose text layer gives the page's text
    store = OcflStore(home.store_root, create=False)
    assert sorted(store.list_codes()) == sorted(v.code for v in accepted)
    for v in accepted:
        metadata = store.read_file(v.code, "metadata/metadata.xml").decode("utf-8")
        assert "纠偏：旋转" in metadata and "裁边：去除扫描黑边" in metadata, v.code
        assert "仅衍生图像" in metadata
        path = tmp_path / f"{v.code}.pdf"
        path.write_bytes(store.read_file(v.code, f"content/{v.code}.pdf"))
        with pikepdf.open(path) as doc:
            assert doc.open_metadata().pdfa_status == "2B"
        text = pdftotext(path)
        assert cjk_recall(sheet_text(v.sheets[0]), text) > 0.75, (v.code, text[:300])


# Real scans, each an item: (档号, source file, 页数). Expected under the default settings: the
# skewed page is deskewed and the turned pages are turned upright, each told as a warning; the same
# linn page in three items is a cross-item duplicate (a warning: a person decides); all archived.
R = "Z109-WS·2024-Y-BGS-01"
REAL = (
    VendorItem(f"{R}01", "skew.pdf", (), 1, warns=A({"SCAN-SKEW"}), why="linn.png skewed 1.87° by the PDF"),
    VendorItem(f"{R}02", "linn.png", (), 1, warns=A({"SCAN-PAPER"}), why="grey scan, no dpi in the header"),
    VendorItem(f"{R}03", "cardinal.pdf", (), 4, warns=A({"SCAN-ROTATION"}), why="upright, 90, 180, 270"),
)
LINN_WORDS = ("LinnSequencer", "MIDI", "Sequence", "tracks", "professional")


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed")
def test_real_scans_end_to_end(home: Settings, tmp_path: Path) -> None:
    root = corpus_batch(tmp_path / "OCRMYPDF-E2E", corpus("ocrmypdf-resources"), REAL)
    code, out = ingest_json(root)
    assert code == 0
    items = out["items"]
    assert isinstance(items, list)
    assert [(i["row"], i["id"]) for i in items] == [(n, v.code) for n, v in enumerate(REAL, 1)]
    wrong = differences({v.code: v for v in REAL}, _verdicts(items))
    assert not wrong, "\n".join(wrong)
    by_code = {i["id"]: i for i in items}
    turned = next(p for p in by_code[f"{R}03"]["problems"] if p["check"] == "SCAN-ROTATION")
    assert "已自动旋转" in turned["message_zh"], turned
    assert sorted(p["found"] for p in turned["evidence"]) == ["180°", "270°", "90°"], turned

    store = OcflStore(home.store_root, create=False)
    for v in REAL:
        pdf = tmp_path / f"{v.code}.pdf"
        pdf.write_bytes(store.read_file(v.code, f"content/{v.code}.pdf"))
        pages = pdftotext(pdf).split("\f")
        for n, page in enumerate(pages[: v.page_count], 1):  # every page, turned or not, reads as text
            found = [w for w in LINN_WORDS if w.lower() in page.lower()]
            assert len(found) >= 3, (v.code, n, page[:300])
    metadata = store.read_file(f"{R}03", "metadata/metadata.xml").decode("utf-8")
    assert "旋转" in metadata
