"""What a viewer is shown of an archived record's PDF/A: page images with the query's words highlighted and a
watermark naming the viewer and the time, and a download that is the same watermarked pages as a PDF.

The stored PDF/A never leaves the store as it is: a page is rendered (pdfium, as in Chrome), the words are
found in the page's text layer (``search_index.locate`` on the characters pdfium reads, whose boxes are then
filled), and the watermark is drawn over the whole page, tiled and turned, so that no crop removes it, plus a
plain line at the foot. Every view and download is logged by the caller (the web app's audit log).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pypdfium2
from PIL import Image, ImageDraw, ImageFont

from guidang.errors import InputError, MissingDependencyError
from guidang.packaging import aip
from guidang.pipeline import masking
from guidang.storage import search_index
from guidang.storage.ocfl_store import OcflStore

# fonts-noto-cjk (Makefile APT_PACKAGES): a face that draws Chinese names in the watermark
WATERMARK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SCALE = 1.5  # 108 dpi: an A4 page 893 × 1263 pixels, legible on a screen, too coarse to pass for the original
HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow over the hit
WATERMARK = (200, 30, 30, 48)  # faint red, repeated over the page
FOOTER = (200, 30, 30, 190)
MASK = (0, 0, 0, 255)  # personal data covered, opaque
MAX_PAGES_DOWNLOAD = 500  # a download renders every page: a bound on the work one request may ask for


@dataclass(frozen=True)
class Stamp:
    """Who sees the page, and when: what the watermark says."""

    viewer: str
    at: dt.datetime
    code: str

    def line(self) -> str:
        return f"{self.viewer}  {self.at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC  {self.code}"


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    if not WATERMARK_FONT.is_file():
        raise MissingDependencyError(f"缺少水印字体 {WATERMARK_FONT}（fonts-noto-cjk）",
                                     f"the watermark font {WATERMARK_FONT} is missing (install fonts-noto-cjk)")
    return ImageFont.truetype(str(WATERMARK_FONT), size)


def _open(pdf: Path | bytes) -> pypdfium2.PdfDocument:
    try:
        return pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise InputError(f"无法打开 PDF：{exc}", f"cannot open the PDF: {exc}") from exc


Box = tuple[float, float, float, float]


def _page_chars(textpage: pypdfium2.PdfTextPage) -> str:
    """The page's text one character per pdfium index (so an offset in it is a character box)."""
    return "".join((textpage.get_text_range(i, 1) or " ")[:1] for i in range(textpage.count_chars()))


def hit_boxes(page: pypdfium2.PdfPage, phrases: Sequence[Sequence[str]]) -> list[Box]:
    """PDF-space boxes (left, bottom, right, top) of the characters of every occurrence of the phrases."""
    if not phrases:
        return []
    textpage = page.get_textpage()
    try:
        text = _page_chars(textpage)
        return [textpage.get_charbox(i) for start, end in search_index.locate(text, phrases)
                for i in range(start, end) if not text[i].isspace()]
    finally:
        textpage.close()


def personal_boxes(page: pypdfium2.PdfPage) -> list[Box]:
    """PDF-space boxes of the characters :func:`masking.mask` hides (身份证号, 手机号, 银行卡号 as the text layer
    reads them: a number OCR misread is not found, so the page images of a record rich in personal data should
    go only to viewers with the right to see it)."""
    textpage = page.get_textpage()
    try:
        text = _page_chars(textpage)
        hidden = masking.mask(text)
        return [textpage.get_charbox(i) for i, (a, b) in enumerate(zip(text, hidden, strict=True)) if a != b]
    finally:
        textpage.close()


def _watermark(image: Image.Image, stamp: Stamp) -> Image.Image:
    w, h = image.size
    size = max(14, w // 40)
    layer = Image.new("RGBA", (w * 2, h * 2), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = _font(size)
    line = stamp.line()
    step_x = int(draw.textlength(line, font=font)) + size * 4
    for row, y in enumerate(range(0, h * 2, size * 6)):
        for x in range(-(row % 2) * step_x // 2, w * 2, step_x):
            draw.text((x, y), line, font=font, fill=WATERMARK)
    turned = layer.rotate(30, resample=Image.Resampling.BILINEAR).crop((w // 2, h // 2, w // 2 + w, h // 2 + h))
    out = Image.alpha_composite(image, turned)
    foot = ImageDraw.Draw(out)
    foot.text((size, h - size * 2), f"查阅 viewed by {line}", font=_font(max(12, size * 3 // 4)), fill=FOOTER)
    return out


def _render(doc: pypdfium2.PdfDocument, index: int, stamp: Stamp, phrases: Sequence[Sequence[str]],
            mask: bool) -> Image.Image:
    page = doc[index]
    try:
        image = page.render(scale=SCALE).to_pil().convert("RGBA")
        height = page.get_height()
        boxes = [(b, HIGHLIGHT) for b in hit_boxes(page, phrases)]
        if mask:
            boxes += [(b, MASK) for b in personal_boxes(page)]
    finally:
        page.close()
    if boxes:
        marks = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(marks)
        for (left, bottom, right, top), colour in boxes:
            draw.rectangle((left * SCALE, (height - top) * SCALE, right * SCALE, (height - bottom) * SCALE),
                           fill=colour)
        image = Image.alpha_composite(image, marks)
    return _watermark(image, stamp)


def page_count(pdf: Path | bytes) -> int:
    doc = _open(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def page_png(pdf: Path | bytes, page: int, stamp: Stamp, phrases: Sequence[Sequence[str]] = (), *,
             mask: bool = False) -> bytes:
    """Page ``page`` (from 1) as a PNG, the phrases highlighted, personal data covered when ``mask``,
    watermarked with ``stamp``."""
    doc = _open(pdf)
    try:
        if not 1 <= page <= len(doc):
            raise InputError(f"没有第 {page} 页（共 {len(doc)} 页）", f"no page {page} (the PDF has {len(doc)})")
        image = _render(doc, page - 1, stamp, phrases, mask)
    finally:
        doc.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()


def download_pdf(pdf: Path | bytes, stamp: Stamp, *, mask: bool = False) -> bytes:
    """Every page rendered and watermarked, as one PDF of images (the copy a viewer takes away)."""
    doc = _open(pdf)
    try:
        if len(doc) > MAX_PAGES_DOWNLOAD:
            raise InputError(f"文件超过 {MAX_PAGES_DOWNLOAD} 页，不能整份下载",
                             f"more than {MAX_PAGES_DOWNLOAD} pages: no download of the whole file")
        pages = [_render(doc, i, stamp, (), mask).convert("RGB") for i in range(len(doc))]
    finally:
        doc.close()
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=72 * SCALE,
                  title=stamp.code, author=stamp.viewer)
    return out.getvalue()


def record_pdf(store: OcflStore, code: str) -> Path:
    """The PDF/A of the head version of an archived record (``content/<档号>.pdf``)."""
    files = store.logical_files(code)
    found = sorted(p for p in files if p.startswith(f"{aip.CONTENT_DIR}/") and p.endswith(".pdf"))
    if not found:
        raise InputError(f"档号 {code} 的对象中没有 PDF", f"the object {code} holds no PDF")
    return files[found[0]]
