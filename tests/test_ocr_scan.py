"""The scan path: prepare (turn, deskew, crop) → OCR the derivative → PDF/A of the untouched master."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pikepdf
import pypdfium2
import pytest
from ocr_support import CHINESE, ENGINE, LANGS
from PIL import Image

from guidang.ingest.ocr_scan import ocr_prepared
from guidang.ingest.pdfa import PdfPage, write_pdfa
from guidang.ingest.pdftext import cjk_spaces_per_char, extract_text
from guidang.ingest.placement import Placement, compose, placement_from_operations, turn_clockwise
from guidang.ingest.prepare import PreparedPage, prepare_page
from guidang.ingest.scanqa import ScanQAOptions, inspect_page
from guidang.ingest.textmetrics import cer
from guidang.samples.degrade import Degradation, degrade
from guidang.samples.render import render_text_page

SCAN = Degradation(skew_deg=2.2, rotate=180, noise_sigma=3.0, paper=(232, 232, 228), border_px=50, border_edges="r")


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PreparedPage, str]:
    folder = tmp_path_factory.mktemp("scan")
    page = render_text_page(CHINESE + "\n" + CHINESE.replace("2024", "2025"))
    master = folder / "master.jpg"
    degrade(page.image, SCAN, 5).save(master, quality=85, dpi=(300, 300))
    options = ScanQAOptions()
    prepared = prepare_page(master, inspect_page(master, options), options, grey=True)
    return master, prepared, page.text


def _warp(master: np.ndarray, placement: Placement) -> np.ndarray:
    """Apply *placement* to the master with OpenCV (continuous → pixel-centre coordinates)."""
    a, b, c, d, e, f = placement.matrix
    centre = np.array([[a, c, e + (a + c) / 2 - 0.5], [b, d, f + (b + d) / 2 - 0.5]])
    return cv2.warpAffine(master, centre, placement.size, flags=cv2.INTER_LINEAR, borderValue=255)


def test_placement_reproduces_the_derivative(scan: tuple[Path, PreparedPage, str]) -> None:
    master_path, prepared, _ = scan
    actions = [op.action for op in prepared.operations]
    assert actions[:3] == ["rotate", "deskew", "crop_border"]
    master = np.asarray(Image.open(master_path).convert("L"))
    placement = placement_from_operations(prepared.operations, (master.shape[1], master.shape[0]))
    derivative = prepared.image if prepared.image.ndim == 2 else cv2.cvtColor(prepared.image, cv2.COLOR_BGR2GRAY)
    assert placement.size == (derivative.shape[1], derivative.shape[0])
    warped = _warp(master, placement)
    inner = (slice(200, -200), slice(200, -200))  # corners the skew uncovered are filled differently
    assert np.abs(warped[inner].astype(int) - derivative[inner].astype(int)).mean() < 2.0


def test_quarter_turns_compose_to_identity() -> None:
    turn, size = turn_clockwise(90, 30, 20)
    back, _ = turn_clockwise(270, *size)
    assert compose(back, turn) == pytest.approx((1, 0, 0, 1, 0, 0))


def test_unknown_crop_parameters_are_refused() -> None:
    class Op:
        action = "crop_border"
        params: ClassVar[dict[str, object]] = {"box": "everything"}

    with pytest.raises(ValueError):
        placement_from_operations([Op()], (10, 10))


def test_scan_to_pdfa_keeps_the_master_and_lines_up(tmp_path: Path, scan: tuple[Path, PreparedPage, str]) -> None:
    master_path, prepared, truth = scan
    size = Image.open(master_path).size
    page, placement = ocr_prepared(
        prepared.image, prepared.dpi, prepared.operations, size, LANGS, ocr_dpi=200, engine=ENGINE
    )
    assert page.dpi == pytest.approx(200, abs=0.2) and page.rotation == 0
    assert cer(truth, page.text) < 0.08
    out = tmp_path / "scan.pdf"
    result = write_pdfa([PdfPage(master_path, page, placement=placement)], out)
    assert result.passed and result.image_methods == ("jpeg-passthrough",)
    with pikepdf.open(out) as pdf:
        image = next(iter(pdf.pages[0].get_images().values()))
        assert image.read_raw_bytes() == master_path.read_bytes()  # the master, byte for byte
    copied = extract_text(out)
    assert copied.strip() == page.text and cjk_spaces_per_char(copied) == 0.0
    # The page shows the upright, deskewed page: a rendering at 300 dpi matches the derivative
    # within a pixel or two (a wrong turn, sign or offset would be hundreds of pixels off).
    derivative = prepared.image if prepared.image.ndim == 2 else cv2.cvtColor(prepared.image, cv2.COLOR_BGR2GRAY)
    doc = pypdfium2.PdfDocument(out)
    shown = np.asarray(doc[0].render(scale=300 / 72).to_pil().convert("L"), dtype=int)
    doc.close()
    region = derivative[300:1500, 300:-300].astype(int)
    errors = {
        (dx, dy): np.abs(shown[300 + dy : 1500 + dy, 300 + dx : derivative.shape[1] - 300 + dx] - region).mean()
        for dx in range(-3, 4)
        for dy in range(-3, 4)
    }
    assert min(errors.values()) < 8


def test_derivative_that_does_not_match_its_operations_is_refused(scan: tuple[Path, PreparedPage, str]) -> None:
    master_path, prepared, _ = scan
    from guidang.errors import InputError

    with pytest.raises(InputError):
        ocr_prepared(prepared.image[:-5], prepared.dpi, prepared.operations, Image.open(master_path).size, LANGS)
