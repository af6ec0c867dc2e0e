"""A scanned PDF in a case (办件) goes through OCR as scans do (issue #16): its pages' images (extracted where
the page is one image, else rendered by pdftoppm) are read by the profile's OCR engine through the page runner,
and the preservation copy is a PDF/A-2b with an invisible text layer written by the scans' writer. Real PDFs
nobody on this project wrote (OCRmyPDF's test resources) and a PDF made here from a rendered Chinese page."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
import pypdfium2
import pytest
from conftest import corpus
from PIL import Image
from test_cases import ingest, routes, sign, write_case

from guidang.config import Settings, load_settings
from guidang.ingest import pdfraster
from guidang.ingest.pdftext import cjk_spaces_per_char, extract_text
from guidang.pipeline.cases import CaseOcr, FileOutcome, normalise_file, ocr_files, process_case
from guidang.samples.render import render_text_page
from guidang.storage import search_index
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import OcflStore
from guidang.validators.formats import identify
from guidang.validators.pdf_checks import pdfa_approved

CHINESE = "关于做好政务服务事项电子文件归档工作的通知\n各区人民政府：现将电子文件归档有关事项通知如下。"
# words the OCR must give back from the Chinese page, each copied out of the PDF/A without a gap
CHINESE_WORDS = ("政务服务", "电子文件归档", "人民政府")


def ocrmypdf(name: str) -> Path:
    return corpus("ocrmypdf-resources", name)


def chinese_scan(folder: Path, name: str = "扫描件.pdf") -> Path:
    """A PDF as a scanner writes one: a 300 dpi grey page image of Chinese text, no text layer (Pillow)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    render_text_page(CHINESE).image.save(path, "PDF", resolution=300.0)
    return path


def mixed_pdf(folder: Path) -> Path:
    """Two pages with text (OCRmyPDF's link.pdf) and, between them, the Chinese scan: a mixed PDF."""
    out = folder / "混合.pdf"
    with pikepdf.open(ocrmypdf("link.pdf")) as pdf, pikepdf.open(chinese_scan(folder / "parts")) as scan:
        pdf.pages.insert(1, scan.pages[0])
        pdf.save(out)
    return out


def flat(text: str) -> str:
    return "".join(text.split())


def page_sizes(path: Path) -> list[tuple[float, float]]:
    with pikepdf.open(path) as pdf:
        return [(round(float(p.mediabox[2]) - float(p.mediabox[0]), 1),
                 round(float(p.mediabox[3]) - float(p.mediabox[1]), 1)) for p in pdf.pages]  # fmt: skip


def images_of(path: Path) -> list[bytes]:
    with pikepdf.open(path) as pdf:
        return [bytes(x.read_raw_bytes()) for p in pdf.pages for x in p.Resources.XObject.values()
                if x.get("/Subtype") == pikepdf.Name.Image]


def test_page_images_extracted_where_the_page_is_one_image_else_rendered(tmp_path: Path) -> None:
    """How each page of OCRmyPDF's scans becomes an image: a JPEG byte for byte, other single images by their
    pixels, anything else (JBIG2 here, a turned page, a masked image) drawn by pdftoppm at its own resolution."""
    got = {}
    for name in ("c02-22.pdf", "ccitt.pdf", "skew.pdf", "rotated_skew.pdf", "3small.pdf"):
        plan = pdfraster.page_images(ocrmypdf(name), tmp_path / name)
        assert not plan.text_pages
        got[name] = [(i.method, i.dpi) for i in plan.images]
    assert got == {
        "c02-22.pdf": [("extracted-jpeg", 150.0)],
        "ccitt.pdf": [("extracted", 300.0)],
        "skew.pdf": [("rendered", 300.0)],  # JBIG2: pikepdf has no decoder here, poppler draws it
        "rotated_skew.pdf": [("rendered", 300.0)],  # /Rotate 90
        "3small.pdf": [("extracted", 230.4), ("extracted", 200.0), ("extracted", 1440.0)],
    }
    with pikepdf.open(ocrmypdf("c02-22.pdf")) as pdf:
        jpeg = bytes(pdf.pages[0].Resources.XObject["/Im1"].read_raw_bytes())
    assert (tmp_path / "c02-22.pdf" / "page-0001.jpg").read_bytes() == jpeg
    # the CCITT page's pixels are the page as poppler draws it at its own resolution (nothing inverted or
    # moved; poppler smooths the edges: 2.2% of the pixels differ after a threshold, 7.7% of the page is ink)
    extracted = np.asarray(Image.open(tmp_path / "ccitt.pdf" / "page-0001.png").convert("L")) < 128
    drawn = pdfraster.render_page(ocrmypdf("ccitt.pdf"), 0, 300.0, tmp_path / "drawn")
    rendered = np.asarray(Image.open(drawn.path).convert("L")) < 128
    assert extracted.shape == rendered.shape
    assert abs(extracted.mean() - rendered.mean()) < 0.005 and np.mean(extracted != rendered) < 0.05
    # a mixed PDF: the pages with text are left as they are
    plan = pdfraster.page_images(mixed_pdf(tmp_path), tmp_path / "mixed")
    assert plan.page_count == 3 and plan.text_pages == (0, 2) and [i.index for i in plan.images] == [1]


def _case_files(tmp_path: Path) -> dict[str, Path | bytes]:
    return {
        "扫描件.pdf": chinese_scan(tmp_path / "made"),
        "c02-22.pdf": ocrmypdf("c02-22.pdf"),
        "skew.pdf": ocrmypdf("skew.pdf"),
        "混合.pdf": mixed_pdf(tmp_path / "made"),
    }


def test_scanned_pdfs_become_pdfa_with_a_text_layer(home: Settings, tmp_path: Path) -> None:
    """Each scanned PDF's copy: PDF/A-2b approved, the text layer holds the words (Chinese without gaps), the
    pages keep their size, a JPEG page keeps its bytes; the OCR is the profile's engine's."""
    files = _case_files(tmp_path)
    case = write_case(tmp_path / "case", files, 办件编号="BJ-2023-OCR-0001")
    work = process_case(home, case, tmp_path / "out", None, CaseOcr.of(home, home.profile("demo")))
    got = {f.relpath: f for f in work.files}
    for name, f in got.items():
        assert (f.route, f.disposition) == ("pdf-ocr", "converted"), (name, [p.result().message_en
                                                                             for p in f.problems])
        assert f.preservation is not None and f.preservation != case / name
        assert pdfa_approved(f.preservation, "2b")[0], name
        # the same page size, but for the OCR frame's rounding to whole pixels at ocr.dpi (as for scans)
        sizes = zip(page_sizes(f.preservation), page_sizes(case / name), strict=True)
        assert all(abs(a - b) < 0.5 for ours, theirs in sizes for a, b in zip(ours, theirs, strict=True)), name
        assert all(p is not None and p.engine.startswith("ppocr") for p in f.ocr), name  # the default engine
        assert f.text == extract_text(f.preservation)
    chinese = got["扫描件.pdf"]
    for word in CHINESE_WORDS:
        assert word in chinese.text, chinese.text
    assert cjk_spaces_per_char(chinese.text) == 0.0, chinese.text
    assert "Linn" in got["skew.pdf"].text and "Chapter" in got["c02-22.pdf"].text
    # the JPEG of the c02-22 page is carried byte for byte into the copy
    assert images_of(case / "c02-22.pdf") == images_of(got["c02-22.pdf"].preservation)  # type: ignore[arg-type]
    # the mixed PDF: its two text pages kept as they were, the scanned page between them read
    mixed = got["混合.pdf"]
    assert len(mixed.ocr) == 1
    pages = mixed.text.split("\f")
    assert len(pages) == 3 and "政务服务" in pages[1]
    original = extract_text(case / "混合.pdf").split("\f")
    assert pages[0] == original[0] and pages[2] == original[2]
    keys = {(p.check_id, p.finding.key) for p in mixed.problems}
    assert ("CASE-NORMALISE", "ocr_mixed") in keys
    for name in files:  # the originals untouched
        assert (case / name).read_bytes() == (files[name] if isinstance(files[name], bytes)
                                              else Path(str(files[name])).read_bytes())  # fmt: skip
    print("\nscanned PDF outcomes:", {n: (f.route, f.disposition, len(f.ocr), len(f.text)) for n, f in got.items()})


def test_a_case_with_scanned_pdfs_is_archived_and_searchable(home: Settings, tmp_path: Path) -> None:
    """Through `guidang ingest`: accepted, originals byte for byte in masters, the joined PDF/A approved, the OCR
    recorded in the metadata (engine, version, languages), and the OCR text found by the search index."""
    files: dict[str, Path | bytes] = {"扫描件.pdf": chinese_scan(tmp_path / "made"), "skew.pdf": ocrmypdf("skew.pdf")}
    data = ingest(write_case(tmp_path / "BJ-2023-OCR-0002", files, 办件编号="BJ-2023-OCR-0002"))
    [item] = data["items"]
    assert item["status"] == "accepted", item["problems"]
    assert routes(item) == {"扫描件.pdf": ("pdf-ocr", "converted"), "skew.pdf": ("pdf-ocr", "converted")}
    store = OcflStore(home.store_root)
    code = item["object"]
    logical = store.logical_files(code)
    for name, src in files.items():
        want = src if isinstance(src, bytes) else src.read_bytes()
        assert hashlib.sha256(logical[f"masters/{name}"].read_bytes()).hexdigest() == hashlib.sha256(want).hexdigest()
    content = logical[f"content/{code}.pdf"]
    assert pdfa_approved(content, "2b")[0]
    assert "电子文件归档" in flat(extract_text(content))
    metadata = next(p for rel, p in logical.items() if rel.startswith("metadata/") and rel.endswith(".xml"))
    xml = metadata.read_text("utf-8")
    assert "扫描件.pdf：ppocr PP-OCRv4" in xml and "语言 chi_sim+eng" in xml
    cat = Catalogue(home.db_url)
    with cat.engine.begin() as conn:
        hits = search_index.search(conn, search_index.Query("电子文件归档", max_level=99, controls=None))
    assert {h.record.code for h in hits} == {code}


def test_a_signed_scanned_pdf_is_never_rewritten(tmp_path: Path) -> None:
    """The OCRed copy of a signed scan is a separate file with the seal drawn into the page image, and the
    finding says it carries no valid signature; the original is unchanged."""
    settings = load_settings()
    source = sign(chinese_scan(tmp_path / "made"), tmp_path / "签名扫描件.pdf")
    before = source.read_bytes()
    f = FileOutcome(source.name, len(before), "", "", "结果材料", "", identify(source))
    normalise_file(f, source, tmp_path / "copies", None, tmp_path / "scratch")
    assert f.signed and (f.route, f.disposition) == ("pdf-ocr", "ocr")
    ocr_files([(source, f)], tmp_path / "copies", tmp_path / "scratch", CaseOcr.of(settings))
    assert f.disposition == "converted" and f.preservation is not None and f.preservation != source
    assert source.read_bytes() == before
    assert pdfa_approved(f.preservation, "2b")[0] and "政务服务" in f.text
    keys = {p.finding.key: p for p in f.problems if p.check_id == "CASE-NORMALISE"}
    assert "ocr" in keys and "without a valid signature" in keys["signed"].result().message_en
    assert "副本不带有效签名" in f.note  # what goes into the process metadata (cases._file_events)
    with pikepdf.open(f.preservation) as copy:
        assert "/AcroForm" not in copy.Root and "/Annots" not in copy.pages[0].obj
    doc = pypdfium2.PdfDocument(f.preservation)  # the seal, drawn into the page image where it was
    try:
        page = doc[0]
        scale = 2.0
        bitmap = np.asarray(page.render(scale=scale).to_pil().convert("RGB"))
        height = page.get_height()
    finally:
        doc.close()
    y, x = int((height - 125) * scale), int(125 * scale)
    assert tuple(bitmap[y, x]) == (255, 0, 0), tuple(bitmap[y, x])


def test_a_scanned_pdf_through_the_http_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_api_cases import post
    from web_support import Desk

    desk = Desk.make(tmp_path, monkeypatch, roles=["system"])
    case: dict[str, Any] = {"办件编号": "BJ-2024-API-OCR1", "事项名称": "食品经营许可", "申请人": "示例公司",
                            "题名": "示例公司食品经营许可", "责任者": "示例市市场监督管理局", "日期": "20240305",
                            "密级": "公开", "保管期限": "30年", "材料": [{"文件": "决定书.pdf", "类别": "结果材料"}]}
    scan = chinese_scan(tmp_path / "made").read_bytes()
    client, token = desk.anonymous(), desk.token("u-system")
    answer = post(client, token, case, {"决定书.pdf": scan})
    assert answer.status_code == 202, answer.text  # queued: the web app's case queue runs it
    assert desk.app.state.ctx.cases.drain(900)
    body = client.get(answer.headers["location"], headers={"Authorization": f"Bearer {token}"}).json()
    assert body["status"] == "accepted", body
    assert [(f["file"], f["route"], f["disposition"]) for f in body["files"]] == [("决定书.pdf", "pdf-ocr",
                                                                                   "converted")]
    logical = OcflStore(desk.settings.store_root).logical_files(body["object"])
    assert logical["masters/决定书.pdf"].read_bytes() == scan
    assert "政务服务" in flat(extract_text(logical[f"content/{body['object']}.pdf"]))


def test_a_delivered_image_is_kept_and_read_into_its_access_copy(home: Settings, tmp_path: Path) -> None:
    """An image of a case (a photographed licence, a PNG of a page) is kept as delivered and read by the same OCR
    pass: its PDF/A access copy carries the text layer, and its text is the case's, for search."""
    page = tmp_path / "made" / "证照.png"
    page.parent.mkdir()
    render_text_page(CHINESE).image.save(page, dpi=(300, 300))
    photo = corpus("ocrmypdf-resources", "baiona_color.jpg")  # a photograph: no words
    case = write_case(tmp_path / "case", {"证照.png": page, "照片.jpg": photo}, 办件编号="BJ-2023-OCR-0009")
    work = process_case(home, case, tmp_path / "out", None, CaseOcr.of(home, home.profile("demo")))
    got = {f.relpath: f for f in work.files}
    for name, f in got.items():
        assert (f.route, f.disposition) == ("image-kept", "kept"), (name, [p.result().message_en
                                                                           for p in f.problems])
        assert f.preservation == case / name and f.access is not None
        assert pdfa_approved(f.access, "2b")[0], name
        assert len(f.ocr) == 1 and f.text == extract_text(f.access)
    licence = got["证照.png"]
    assert all(word in flat(licence.text) for word in CHINESE_WORDS), licence.text
    assert cjk_spaces_per_char(licence.text) == 0.0, licence.text
    assert ("CASE-NORMALISE", "ocr_image") in {(p.check_id, p.finding.key) for p in licence.problems}
    assert page.read_bytes() == (case / "证照.png").read_bytes()
