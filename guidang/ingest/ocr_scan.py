"""OCR of a prepared scan: read the derivative, place the master.

`guidang.ingest.prepare.prepare_page` turns, deskews and crops a master into a derivative.
`ocr_prepared` reads that derivative (in grey, optionally at a lower resolution: Tesseract
normalises every text line to a fixed height anyway, and body text at 200 dpi reads as
well as at 300 in less time) and returns the OCR with the `Placement` that lets
`guidang.ingest.pdfa.write_pdfa` draw the untouched master so that it lines up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cv2
import numpy as np

from guidang.errors import InputError
from guidang.ingest.ocr import OcrEngine, OcrPage, ocr_page
from guidang.ingest.placement import Operation, Placement, placement_from_operations


def ocr_prepared(
    pixels: np.ndarray[Any, Any],
    dpi: float | None,
    operations: Iterable[Operation],
    master_size: tuple[int, int],
    languages: str = "chi_sim+eng",
    *,
    ocr_dpi: float | None = None,
    engine: OcrEngine | None = None,
) -> tuple[OcrPage, Placement]:
    """OCR a derivative (grey or BGR, as `prepare_page` returns it) and place its master.

    *dpi* is the derivative's resolution (the master's); *ocr_dpi*, when lower, is the
    resolution Tesseract reads at.
    """
    if not dpi:
        raise InputError("扫描图像未记录分辨率（dpi），无法识别", "the scan records no resolution (dpi)")
    grey = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    ops = list(operations)
    h, w = grey.shape[:2]
    placement = placement_from_operations(ops, master_size)
    if placement.size != (w, h):
        raise InputError(
            f"衍生图像尺寸 {w}×{h} 与操作记录推算的 {placement.size} 不符",
            f"the derivative is {w}×{h} but its recorded operations give {placement.size}",
        )
    scale = min(1.0, ocr_dpi / dpi) if ocr_dpi else 1.0
    if scale < 1.0:
        placement = placement_from_operations(ops, master_size, scale=scale)
        grey = cv2.resize(grey, placement.size, interpolation=cv2.INTER_AREA)
    page = ocr_page(np.ascontiguousarray(grey, dtype=np.uint8), languages, dpi=dpi * scale, engine=engine)
    return page, placement
