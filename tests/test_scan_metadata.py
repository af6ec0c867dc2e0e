"""DA/T 46 M52-M56 digitisation metadata comes from measurements, not from vendor claims."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from test_scan_pages import encode, render_page, write

from guidang.ingest.scanqa import DigitisationMetadata, ScanQAOptions, digitisation_metadata, inspect_item

OPTS = ScanQAOptions(osd="never")


def meta(tmp: Path, pages: list[bytes], suffix: str = ".tif") -> DigitisationMetadata:
    paths = [write(tmp / f"X-{i:04d}{suffix}", d) for i, d in enumerate(pages, 1)]
    return digitisation_metadata(inspect_item("X", paths, OPTS).pages)


def test_bitonal_group4_a4(tmp_path: Path) -> None:
    pages = [encode(render_page(300, seed=s), "TIFF", 300, bitonal=True) for s in (50, 51)]
    assert meta(tmp_path, pages).as_elements() == {
        "数字化对象形态": "A4",
        "扫描分辨率": "300dpi",
        "扫描色彩模式": "黑白二值",
        "图像压缩方案": "CCITT Group 4",
    }


def test_header_claim_is_not_believed_and_grey_saved_as_rgb_is_grey(tmp_path: Path) -> None:
    grey = render_page(150, seed=52, colour=False)
    rgb_of_grey = np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), dtype=np.uint8)  # a grey scan saved as RGB
    m = meta(tmp_path, [encode(rgb_of_grey, "TIFF", 300)])  # …with a header that claims 300 dpi
    assert (m.form, m.resolution, m.colour_mode, m.compression) == ("A4", "150dpi", "灰度", "LZW")


def test_colour_jpeg_and_mixed_values_most_pages_first(tmp_path: Path) -> None:
    pages = [
        encode(render_page(200, seed=53, red_header=True), "JPEG", 200, quality=90),
        encode(render_page(200, seed=54, red_header=True), "JPEG", 200, quality=90),
        encode(render_page(200, (297.0, 420.0), seed=55, red_header=True), "JPEG", 200, quality=90),
    ]
    m = meta(tmp_path, pages, ".jpg")
    assert (m.form, m.resolution, m.colour_mode, m.compression) == ("A4、A3", "200dpi", "彩色", "JPEG")


def test_unreadable_pages_only(tmp_path: Path) -> None:
    m = meta(tmp_path, [b"junk"])
    assert m == DigitisationMetadata("不详", "不详", "不详", "不详")
