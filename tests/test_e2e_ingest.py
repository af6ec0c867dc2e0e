"""End to end: a generated batch of Chinese scans through the CLI with real Tesseract and clamd.

Asserts on what a user gets: objects in the OCFL store with the masters byte for byte, PDF/A
files whose text layer holds the page text, the receipt, and the catalogue DB's state.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from click.testing import CliRunner
from e2e_support import cjk_recall, ingest_json, pdf_text
from sqlalchemy import select

from guidang.cli import main
from guidang.config import Settings
from guidang.models import BatchStatus, ItemStatus
from guidang.samples import bad
from guidang.samples.batch import generate_demo, make_batch
from guidang.samples.degrade import Degradation
from guidang.samples.truth import BatchTruth
from guidang.storage.catalogue import BatchRow, Catalogue, EventRow, ItemRow
from guidang.storage.ocfl_store import OcflStore

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def clean_batch(tmp_path_factory: pytest.TempPathFactory) -> BatchTruth:
    root = tmp_path_factory.mktemp("drop")
    return make_batch(root, page_counts=(2, 1, 2), seed=7, profile="clean", batch_id="E2E-TIF", scripts=["hans"],
                      truth_path=root / "truth.json")


def test_clean_batch_is_archived(home: Settings, clean_batch: BatchTruth) -> None:
    code, out = ingest_json(clean_batch.batch_dir)
    assert code == 0
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert set(items) == {t.archival_code for t in clean_batch.items}
    assert all(i["status"] == "accepted" for i in items.values()), out
    assert out["summary"] == out["summary"] | {"items": 3, "accepted": 3, "rejected": 0, "pages": 5}  # type: ignore[operator]

    store = OcflStore(home.store_root, create=False)
    assert store.validate().valid
    for truth in clean_batch.items:
        assert items[truth.archival_code]["object"] == truth.archival_code
        files = store.logical_files(truth.archival_code)
        # masters byte for byte
        for page in truth.pages:
            delivered = (clean_batch.batch_dir / page.file).read_bytes()
            stored = store.read_file(truth.archival_code, f"masters/{Path(page.file).name}")
            assert hashlib.sha256(stored).digest() == hashlib.sha256(delivered).digest()
        # the PDF/A: declared in XMP, one page per master, text layer holds the page text
        pdf_bytes = store.read_file(truth.archival_code, f"content/{truth.archival_code}.pdf")
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            meta = pdf.open_metadata()
            assert meta.pdfa_status == "2B"
            assert meta["dc:identifier"] == truth.archival_code
            assert len(pdf.pages) == len(truth.pages)
        sidecar = store.read_file(truth.archival_code, f"content/{truth.archival_code}.txt").decode("utf-8")
        ocr_pages = sidecar.split("\f")
        texts = pdf_text(pdf_bytes)
        for page, text, ocr in zip(truth.pages, texts, ocr_pages, strict=True):
            # the text layer copies out as the OCR text, and the OCR found the page's text
            assert cjk_recall(ocr, text) > 0.99 and cjk_recall(text, ocr) > 0.99, (page.file, text[:200])
            assert cjk_recall(page.text, text) > 0.75, (page.file, text[:200])
        assert "metadata/metadata.xml" in files and "metadata/checks.json" in files
        metadata = store.read_file(truth.archival_code, "metadata/metadata.xml").decode("utf-8")
        assert truth.title in metadata and "归档" in metadata

    receipt = json.loads(Path(out["receipt"][0]).read_text("utf-8"))  # type: ignore[index]
    assert receipt["summary"]["accepted"] == 3
    html = Path(out["receipt"][1]).read_text("utf-8")  # type: ignore[index]
    assert "归档接收回执" in html and clean_batch.items[0].archival_code in html

    with Catalogue(home.db_url).session() as s:
        rows = s.scalars(select(ItemRow)).all()
        assert {(r.archival_code, r.status, r.object_id) for r in rows} == {
            (t.archival_code, "accepted", t.archival_code) for t in clean_batch.items
        }
        masters = [f for r in rows for f in r.files if f.role == "master"]
        assert len(masters) == 5
        actions = [e.action for e in s.scalars(select(EventRow))]
        assert actions.count("item.accepted") == 3 and "batch.finished" in actions

    # the same batch dropped again: recognised, nothing archived twice
    code, again = ingest_json(clean_batch.batch_dir)
    assert code == 0 and again["batch"]["status"] == "duplicate"  # type: ignore[index]
    assert again["batch"]["duplicate_of"] == out["batch"]["id"]  # type: ignore[index]
    with Catalogue(home.db_url).session() as s:
        row = s.get(BatchRow, again["batch"]["id"])  # type: ignore[index]
        assert row is not None and row.status == BatchStatus.DUPLICATE
    assert sorted(store.list_codes()) == sorted(t.archival_code for t in clean_batch.items)


@pytest.fixture
def small_batch(tmp_path: Path) -> BatchTruth:
    return make_batch(tmp_path / "drop", page_counts=(1, 1), seed=3, dpi=150, profile="clean", colour="none",
                      batch_id="BAD", truth_path=tmp_path / "truth.json")


def test_missing_column_is_a_batch_error(home: Settings, small_batch: BatchTruth) -> None:
    bad.drop_catalogue_column(small_batch.batch_dir, "题名")
    code, out = ingest_json(small_batch.batch_dir)
    assert code == 0
    assert out["batch"]["status"] == "failed"  # type: ignore[index]
    # every delivered folder is still decided: returned with the catalogue's problem (docs/verdicts.md)
    assert [(i["folder"], i["status"], i["failed_checks"]) for i in out["items"]] == [  # type: ignore[attr-defined]
        (t.archival_code, "rejected", ["GD-2-3", "INTAKE-CATALOGUE"]) for t in small_batch.items]
    problem = out["batch"]["problems"][0]  # type: ignore[index]
    assert problem["check"] == "INTAKE-CATALOGUE" and "题名" in problem["message_zh"]


def test_unreadable_encoding_is_a_batch_error(home: Settings, small_batch: BatchTruth) -> None:
    bad.corrupt_catalogue_encoding(small_batch.batch_dir)
    code, out = ingest_json(small_batch.batch_dir)
    assert code == 0 and out["batch"]["status"] == "failed"  # type: ignore[index]
    assert [p["check"] for p in out["batch"]["problems"]] == ["INTAKE-CATALOGUE"]  # type: ignore[index]


def test_missing_folder_and_non_image_are_item_errors(home: Settings, small_batch: BatchTruth) -> None:
    first, second = (i.archival_code for i in small_batch.items)
    bad.remove_item_folder(small_batch.batch_dir, first)
    bad.add_stray_file(small_batch.batch_dir, second, "notes.docx", b"PK\x03\x04 a word file")
    code, out = ingest_json(small_batch.batch_dir)
    assert code == 0
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert items[first]["status"] == "rejected"
    assert items[first]["failed_checks"] == ["GD-2-1", "GD-2-11", "INTAKE-FOLDER"]  # with the DA/T 70 items
    assert items[second]["status"] == "rejected" and "INTAKE-FILE-TYPE" in items[second]["failed_checks"]
    message = next(p for p in items[second]["problems"] if p["check"] == "INTAKE-FILE-TYPE")
    assert "notes.docx" in message["message_zh"] and "ZIP" in message["message_zh"]
    # the rejected item is kept whole, with its reasons
    kept = Path(items[second]["rejected_path"])
    assert (kept / "reasons.json").is_file()
    assert (kept / "delivered" / second / "notes.docx").read_bytes() == b"PK\x03\x04 a word file"


def test_no_such_folder_exits_2(home: Settings, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope"), "--profile", "demo"])
    assert result.exit_code == 2
    assert "批次目录不存在" in result.output


def test_pdfa_1b_profile_is_archived_as_1b(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GB/T 18894 cites PDF/A-1 (GB/T 23286.1): with pdfa.part = 1b the whole path writes and checks 1b."""
    monkeypatch.setenv("GUIDANG_PDFA__PART", "1b")
    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=11, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="PDFA1", truth_path=tmp_path / "truth.json")
    code, out = ingest_json(truth.batch_dir)
    assert code == 0
    item = out["items"][0]  # type: ignore[index]
    assert item["status"] == "accepted", item
    store = OcflStore(home.store_root, create=False)
    pdf_bytes = store.read_file(item["object"], f"content/{item['object']}.pdf")
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert pdf.open_metadata().pdfa_status == "1B"


def test_corrected_defects_are_warnings_recorded_and_told(home: Settings, tmp_path: Path) -> None:
    """Skew within the limit, a black border over the margin and an upside-down page are corrected
    without loss (issue #11): both items are archived, each correction is in the process metadata
    and in the receipt as a warning. Scan QA leaves orientation to the OCR pass (no second
    Tesseract run); the blank page gets no OCR text (bleed-through is not text)."""
    bordered = Degradation(skew_deg=2.0, border_px=round(8 / 25.4 * 200), border_edges="l")
    truth = make_batch(tmp_path / "drop", page_counts=(2, 1), seed=5, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="TURNED", truth_path=tmp_path / "truth.json",
                       overrides={(1, 0): Degradation(rotate=180), (0, 1): Degradation(blank=True, bleed_through=0.15),
                                  (0, 0): bordered})
    code, out = ingest_json(truth.batch_dir)
    assert code == 0
    upright, turned = (truth.items[0].archival_code, truth.items[1].archival_code)
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert items[upright]["status"] == items[turned]["status"] == "accepted", out
    warnings = {(p["check"], p["status"]): p for i in (upright, turned) for p in items[i]["problems"]}
    rotation = warnings[("SCAN-ROTATION", "warn")]
    assert rotation["evidence"][0]["found"] == "180°" and "已自动旋转为正向" in rotation["message_zh"]
    skew = warnings[("SCAN-SKEW", "warn")]
    assert "已自动纠偏2.0°" in skew["message_zh"] and "请今后在扫描端纠偏" in skew["message_zh"]
    assert "deskewed automatically by 2.0°" in skew["message_en"]
    assert "已自动裁边" in warnings[("SCAN-BORDER", "warn")]["message_zh"]
    receipt = json.loads(Path(out["receipt"][0]).read_text("utf-8"))  # type: ignore[index]
    told = [p["message_zh"] for i in receipt["items"] for p in i["problems"]]
    assert any("已自动纠偏" in m for m in told) and any("已自动旋转" in m for m in told)
    store = OcflStore(home.store_root)
    metadata = store.read_file(upright, "metadata/metadata.xml").decode("utf-8")
    assert "纠偏：旋转" in metadata and "裁边：去除扫描黑边" in metadata and "SCAN-SKEW warn" in metadata
    assert "旋转：顺时针旋转180度" in store.read_file(turned, "metadata/metadata.xml").decode("utf-8")
    sidecar = store.read_file(upright, f"content/{upright}.txt").decode("utf-8")
    first, blank = sidecar.split("\f")
    assert cjk_recall(truth.items[0].pages[0].text, first) > 0.75 and blank == ""


def test_leftovers_of_an_interrupted_attempt_are_rebuilt(home: Settings, tmp_path: Path) -> None:
    """A worker killed mid-item leaves scratch behind (found by the crash test): the retry rebuilds it."""
    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=13, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="LEFTOVER", truth_path=tmp_path / "truth.json")
    code = truth.items[0].archival_code
    stale = home.work_root / "batch-1" / "items" / code / "package"
    stale.mkdir(parents=True)
    (stale / "half-written").write_bytes(b"x")
    status, out = ingest_json(truth.batch_dir)
    assert status == 0
    assert out["items"][0]["status"] == "accepted", out["items"][0]  # type: ignore[index]


def test_items_decided_before_an_interruption_are_kept_not_run_again(home: Settings, tmp_path: Path) -> None:
    """A worker killed after one item's decision and before the batch finished (found by the crash
    test: the retry ran the accepted item again, its 1-8 check found the item's own record and the
    item was rejected as a double, its object left in the store without an accepted row)."""
    truth = make_batch(tmp_path / "drop", page_counts=(1, 1), seed=17, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="RESUMED", truth_path=tmp_path / "truth.json")
    first, second = (t.archival_code for t in truth.items)
    status, out = ingest_json(truth.batch_dir)
    assert status == 0 and out["summary"]["accepted"] == 2, out  # type: ignore[index]
    cat = Catalogue(home.db_url)
    with cat.session() as s:  # as the kill left it: the batch running, the second item not yet decided
        batch = s.get(BatchRow, out["batch"]["id"])  # type: ignore[index]
        assert batch is not None
        batch.status = BatchStatus.PROCESSING
        undecided = next(i for i in batch.items if i.archival_code == second)
        undecided.status, undecided.object_id = ItemStatus.PROCESSING, None
    status, again = ingest_json(truth.batch_dir)
    assert status == 0 and again["batch"]["id"] == out["batch"]["id"]  # type: ignore[index]
    assert [(i["id"], i["status"]) for i in again["items"]] == [(first, "accepted"), (second, "accepted")], again  # type: ignore[index]
    with cat.session() as s:
        decisions = {i.archival_code: len(i.decisions) for i in s.scalars(select(ItemRow))}
        assert decisions == {first: 1, second: 2}  # the first was not run again; the second adopted its object
        assert all(i.object_id for i in s.scalars(select(ItemRow)))


def test_the_demo_shows_both_outcomes(home: Settings, tmp_path: Path) -> None:
    """`make run`'s demo batches (generate_demo at its default 300 dpi) end as its docstring says:
    four 件 archived, the first with its 3.8 mm border over the margin cropped and told; the second
    returned with SCAN-BORDER, its black band lying over the text."""
    inbox = tmp_path / "inbox"
    generate_demo(inbox)
    items: dict[str, dict[str, Any]] = {}
    for batch in sorted(inbox.iterdir()):
        code, out = ingest_json(batch)
        assert code == 0, out
        items |= {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    codes = [f"Z109-WS·2023-Y-BGS-{n:04d}" for n in range(1, 6)]
    assert {c: i["status"] for c, i in items.items()} == {c: "rejected" if c == codes[1] else "accepted" for c in codes}
    cropped = next(p for p in items[codes[0]]["problems"] if p["check"] == "SCAN-BORDER")
    assert cropped["status"] == "warn" and "已自动裁边" in cropped["message_zh"], cropped
    assert items[codes[1]]["failed_checks"] == ["SCAN-BORDER"]
    covered = next(p for p in items[codes[1]]["problems"] if p["check"] == "SCAN-BORDER")
    assert "遮挡了内容" in covered["message_zh"] and "请重新扫描" in covered["message_zh"], covered
