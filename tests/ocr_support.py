"""Shared by the OCR and PDF/A tests: rendered pages and a cached Tesseract.

Pages come from `guidang.samples.render.render_text_page` (Noto CJK, 300 dpi). Tesseract
output is cached under ``tests/.cache/tesseract`` (git-ignored), keyed by image digest,
languages, resolution and Tesseract version, so reruns do not OCR again.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from guidang.ingest.ocr import OcrPage, TesseractEngine, ocr_page
from guidang.ingest.ocr_cache import CachedEngine
from guidang.samples.render import render_text_page

CACHE = Path(__file__).resolve().parent / ".cache" / "tesseract"
ENGINE = CachedEngine(TesseractEngine(), CACHE)
LANGS = "chi_sim+eng"

CHINESE = (
    "关于做好2024年度政务服务事项电子文件归档工作的通知\n"
    "各区人民政府：根据《电子文件归档与电子档案管理规范》（GB/T 18894-2016）要求，现将有关事项通知如下。\n"
    "The archive accepts PDF/A files only."
)


def render(folder: Path, name: str = "page.png", *, text: str = CHINESE, rotate: int = 0) -> tuple[Path, str]:
    """Write a 300 dpi greyscale page of *text* (turned counter-clockwise by *rotate*) and its truth."""
    page = render_text_page(text)
    image: Image.Image = page.image
    if rotate:
        image = image.rotate(rotate, expand=True)
    path = folder / name
    image.save(path, dpi=(300, 300))
    return path, page.text


def ocr(path: Path) -> OcrPage:
    return ocr_page(path, LANGS, engine=ENGINE)
