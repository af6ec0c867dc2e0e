"""End to end with each OCR engine (issue #14): a small traditional-character batch through the CLI,
read by PP-OCR (the default) and by Tesseract, with their real models.

Asserts what the archivist gets: the item archived, the engine named in the process metadata, a
text layer that copies out as the OCR text read, and the OCR warning (never a rejection) for pages
with too many doubtful lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import cjk_recall, ingest_json, pdf_text

from guidang.config import OcrOptions, Settings
from guidang.ingest.textmetrics import cer
from guidang.samples.batch import make_batch
from guidang.storage.ocfl_store import OcflStore

pytestmark = pytest.mark.e2e


def test_the_default_engine_is_ppocr() -> None:
    assert OcrOptions().engine == "ppocr"


def test_each_engine_has_its_own_doubtful_line_threshold() -> None:
    ocr = OcrOptions()
    assert ocr.low_confidence("ppocr PP-OCRv4 (rapidocr-onnxruntime 1.4.4)") == ocr.low_confidence_ppocr == 95
    assert ocr.low_confidence("tesseract 5.3.0") == ocr.low_confidence_tesseract == 90


@pytest.mark.parametrize(("engine", "named", "bound"), [("ppocr", "ppocr PP-OCRv4", 0.05),
                                                        ("tesseract", "tesseract 5", 0.35)])
def test_each_engine_archives_a_traditional_page(home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 engine: str, named: str, bound: float) -> None:
    monkeypatch.setenv("GUIDANG_OCR__ENGINE", engine)
    # every line doubtful: the page is warned of, and still archived
    monkeypatch.setenv(f"GUIDANG_OCR__LOW_CONFIDENCE_{engine.upper()}", "100")
    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=31, dpi=200, profile="clean", colour="none",
                       scripts=["hant"], batch_id=f"ENGINE-{engine}", truth_path=tmp_path / "truth.json")
    code, out = ingest_json(truth.batch_dir)
    assert code == 0
    item = out["items"][0]  # type: ignore[index]
    assert item["status"] == "accepted", item
    warned = [p for p in item["problems"] if p["check"] == "INGEST-OCR"]
    assert len(warned) == 1 and warned[0]["status"] == "warn", item["problems"]
    assert "识别可信度低于 100" in warned[0]["message_zh"] and "confidence under 100" in warned[0]["message_en"]
    code_ = truth.items[0].archival_code
    store = OcflStore(home.store_root, create=False)
    assert named in store.read_file(code_, "metadata/metadata.xml").decode("utf-8")
    sidecar = store.read_file(code_, f"content/{code_}.txt").decode("utf-8")
    copied = pdf_text(store.read_file(code_, f"content/{code_}.pdf"))[0]
    assert cjk_recall(sidecar, copied) > 0.99 and cjk_recall(copied, sidecar) > 0.99
    assert cer(truth.items[0].pages[0].text, sidecar) < bound


def test_confident_pages_get_no_ocr_warning(home: Settings, tmp_path: Path) -> None:
    truth = make_batch(tmp_path / "drop", page_counts=(1,), seed=32, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="CONFIDENT", truth_path=tmp_path / "truth.json")
    code, out = ingest_json(truth.batch_dir)
    assert code == 0
    item = out["items"][0]  # type: ignore[index]
    assert item["status"] == "accepted" and not [p for p in item["problems"] if p["check"] == "INGEST-OCR"], item
