"""Scan QA on OCRmyPDF's test resources (../shared/corpora/ocrmypdf-resources).

The PDFs are rendered to page images with poppler's ``pdftoppm`` (what a scanner would
deliver); the truth for skew and rotation is read from each PDF's own content stream
(the ``cm`` matrix that places the scan) and ``/Rotate``, not typed in here.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from conftest import CORPORA

from guidang.ingest.scanqa import ScanQAOptions, digitisation_metadata, inspect_batch, inspect_page
from guidang.ingest.scanqa.inspect import PageMeasurement
from guidang.validators.result import Status
from guidang.validators.scan_checks import ScanItemSubject, batch_context, run_scan_checks

CORPUS = CORPORA / "ocrmypdf-resources"
pytestmark = [
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus folder absent: {CORPUS}"),
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed"),
]
OPTS = ScanQAOptions(osd="never")


def placement_angle(pdf: Path, page: int = 0) -> float:
    """Counter-clockwise angle (degrees) of the scan's x axis as displayed: cm matrix minus /Rotate."""
    with pikepdf.open(pdf) as doc:
        p = doc.pages[page]
        for instruction in pikepdf.parse_content_stream(p):
            if isinstance(instruction, pikepdf.ContentStreamInstruction) and str(instruction.operator) == "cm":
                a, b = float(instruction.operands[0]), float(instruction.operands[1])
                rotate = int(p.obj.get("/Rotate", 0))
                return math.degrees(math.atan2(b, a)) - rotate
    raise AssertionError(f"no cm operator in {pdf.name}")


RESOLUTION = {"skew": 150, "rotated_skew": 150, "cardinal": 100, "blank": 50}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Render a corpus PDF (or extract ccitt.pdf's image) on first use; the folder it went to."""
    out = tmp_path_factory.mktemp("ocrmypdf-pages")
    done: set[str] = set()

    def render(name: str) -> Path:
        if name not in done:
            if name == "ccitt":
                cmd = ["pdfimages", "-tiff", str(CORPUS / "ccitt.pdf"), str(out / "ccitt")]
            else:
                cmd = [
                    "pdftoppm",
                    "-r",
                    str(RESOLUTION[name]),
                    "-gray",
                    "-png",
                    str(CORPUS / f"{name}.pdf"),
                    str(out / name),
                ]
            subprocess.run(cmd, check=True)
            done.add(name)
        return out

    return render


def one(folder: Path, stem: str) -> Path:
    (path,) = sorted(folder.glob(f"{stem}*"))
    return path


@pytest.mark.parametrize("name", ["skew", "rotated_skew"])
def test_skew_matches_the_pdf_placement_matrix(rendered: Callable[[str], Path], name: str) -> None:
    truth = placement_angle(CORPUS / f"{name}.pdf")
    m = inspect_page(one(rendered(name), f"{name}-"), OPTS)
    assert m.skew_deg is not None and abs(m.skew_deg - truth) <= 0.3, (m.skew_deg, truth)
    assert m.orientation is not None and m.orientation.rotation == 0 and m.orientation.confident
    assert m.paper is not None and m.paper.paper == "Letter" and m.dpi == 150
    subject = ScanItemSubject("skew", (m,), 1, OPTS)
    report = run_scan_checks(subject, ["SCAN-SKEW", "SCAN-ROTATION", "SCAN-BORDER", "SCAN-BLANK"])
    assert [r.status for r in report.by_id("SCAN-SKEW")] == [Status.WARN]  # within 3°: deskewed, the vendor told
    assert {r.status for r in report.results if r.check_id != "SCAN-SKEW"} == {Status.PASS}


@pytest.mark.parametrize("osd", ["never", "always"])
def test_cardinal_directions(rendered: Callable[[str], Path], osd: str) -> None:
    """cardinal.pdf: linn.png turned to the four directions; layout heuristic and Tesseract OSD agree."""
    options = ScanQAOptions(osd=osd)  # type: ignore[arg-type]
    pages = sorted(rendered("cardinal").glob("cardinal-*.png"))
    assert len(pages) == 4
    for i, path in enumerate(pages):
        truth = round(-placement_angle(CORPUS / "cardinal.pdf", i)) % 360  # content turned clockwise
        m = inspect_page(path, options)
        assert m.orientation is not None and m.orientation.rotation == truth, (path.name, m.orientation)
        assert m.orientation.method == ("osd" if osd == "always" else "layout")
        assert m.skew_deg is not None and abs(m.skew_deg) <= 0.3


def test_blank_pdf_renders_to_a_blank_page(rendered: Callable[[str], Path]) -> None:
    m = inspect_page(one(rendered("blank"), "blank-"), OPTS)
    assert m.blank and m.ink_fraction == 0.0 and m.skew_deg is None
    report = run_scan_checks(ScanItemSubject("blank", (m,), 0, OPTS), ["SCAN-BLANK", "SCAN-COUNT", "SCAN-ROTATION"])
    assert [r.status for r in report.by_id("SCAN-BLANK")] == [Status.FAIL]  # an item with nothing on it
    assert [r.status for r in report.by_id("SCAN-COUNT")] == [Status.PASS]  # 页数 0: no page with content


def test_ccitt_image_with_a_72_dpi_header_is_caught(rendered: Callable[[str], Path]) -> None:
    """pdfimages writes 72 dpi into the TIFF; the pixels are US Letter at 300 dpi."""
    m = inspect_page(one(rendered("ccitt"), "ccitt"), OPTS)
    assert m.header is not None and m.header.pixel_mode == "1" and m.header.dpi == (72.0, 72.0)
    assert m.paper is not None and not m.paper.header_plausible
    assert (m.paper.inferred_paper, m.dpi) == ("Letter", 300.0)
    report = run_scan_checks(ScanItemSubject("ccitt", (m,), 1, OPTS), ["SCAN-PAPER", "SCAN-DPI"])
    assert [r.status for r in report.by_id("SCAN-PAPER")] == [Status.FAIL]
    assert report.by_id("SCAN-PAPER")[0].evidence[0].found == "72dpi"
    assert [r.status for r in report.by_id("SCAN-DPI")] == [Status.PASS]  # judged on the measured 300 dpi
    meta = digitisation_metadata([m]).as_elements()
    assert meta == {
        "数字化对象形态": "Letter",
        "扫描分辨率": "300dpi",
        "扫描色彩模式": "黑白二值",
        "图像压缩方案": "无压缩",
    }


def test_image_files_of_the_corpus(tmp_path: Path) -> None:
    names = [
        "linn.png", "typewriter.png", "crom.png", "baiona.png", "baiona_gray.png", "baiona_alpha.png",
        "baiona_colormapped.png", "baiona_color.jpg", "baiona_cmyk.jpg",
    ]  # fmt: skip
    batch = inspect_batch({n: [CORPUS / n] for n in names}, OPTS, jobs=2)
    ctx = batch_context(batch, OPTS)
    reports = {n: run_scan_checks(ScanItemSubject.of(batch.items[n], 1, OPTS, ctx)) for n in names}
    page: dict[str, PageMeasurement] = {n: batch.items[n].pages[0] for n in names}

    def status(name: str, check_id: str) -> set[Status]:
        return {r.status for r in reports[name].by_id(check_id)}

    # PNG is not a DA/T 31 storage format; the JPEG items are in the batch's only storage format
    assert all(status(n, "SCAN-FORMAT") == {Status.FAIL} for n in names if n.endswith(".png"))
    assert all(status(n, "SCAN-FORMAT") == {Status.PASS} for n in names if n.endswith(".jpg"))
    assert dict(ctx.formats) == {"PNG": 7, "JPEG": 2}
    # pixel modes that are not bitonal/grey/RGB
    for n, found in [
        ("baiona_alpha.png", "RGBA"),
        ("baiona_colormapped.png", "P"),
        ("baiona_cmyk.jpg", "CMYK"),
    ]:
        (r,) = reports[n].by_id("SCAN-DEPTH")
        assert r.status is Status.FAIL and (r.evidence[0].found or "").startswith(found)
    assert status("baiona.png", "SCAN-DEPTH") == {Status.PASS}
    # the same map as colour, grey, palette, alpha and JPEG: duplicates across items
    dup_of_baiona = {ref.archival_code for ref in ctx.cross_duplicates[("baiona.png", 1)]}
    assert {"baiona_gray.png", "baiona_color.jpg", "baiona_colormapped.png"} <= dup_of_baiona
    assert status("baiona.png", "SCAN-DUP") == {Status.WARN}
    assert status("linn.png", "SCAN-DUP") == {Status.PASS}
    # colour content is recognised; the map is not "grey content"
    assert page["baiona.png"].content_mode == "colour" and page["baiona.png"].keep_colour
    assert page["baiona_gray.png"].stored_mode == "grey"
    # no resolution in the PNG headers: inferred from the pixel size where a paper fits
    assert (page["linn.png"].paper.inferred_paper, page["linn.png"].dpi) == ("Letter", 300.0)  # type: ignore[union-attr]
    assert status("linn.png", "SCAN-PAPER") == {Status.WARN}
    assert page["baiona.png"].dpi is None and status("baiona.png", "SCAN-DPI") == {Status.FAIL}
    # text pages: straight and upright; the map has no text lines, so no skew is claimed
    assert page["linn.png"].skew_deg is not None and abs(page["linn.png"].skew_deg) < 0.3
    assert page["typewriter.png"].orientation.rotation == 0  # type: ignore[union-attr]
    assert page["baiona.png"].skew_deg is None
    # baiona_cmyk.jpg claims 200 dpi, which makes the 640 px page 81 mm wide: no paper size
    (r,) = reports["baiona_cmyk.jpg"].by_id("SCAN-PAPER")
    assert r.status is Status.FAIL and r.evidence[0].found == "200dpi"
