"""The pages of a PDF without a text layer as page images, to be read by OCR as scans are.

Which pages: every page from which no text copies out (pdfium, :func:`guidang.ingest.pdftext.extract_text`);
a page with any text is left as it is (OCRmyPDF's ``--skip-text`` semantics, docs/cases.md).

How each page becomes an image, the faithful way first:

* **extracted**: the page paints exactly one image over the whole page (edges within 1 pt) and nothing else
  (``q``/``Q``/``cm``, a clip to the page, a rendering intent), upright, with square pixels, no mask, no
  annotation appearance and no /Decode array. A JPEG (DCTDecode, grey or RGB) is taken byte for byte; other
  images (Flate, CCITT, LZW, indexed …) are decoded to their pixels by pikepdf and kept losslessly (PNG). The
  page image is at the image's own resolution, and the PDF/A page is then the same size as the original page.
* **rendered**: anything else (several images, vector drawing, a mask, CMYK, JBIG2 without a decoder, a turned
  page, a signature's appearance …) is drawn by poppler's ``pdftoppm`` at the page's native resolution: the
  highest resolution of an image on it, held between :data:`RENDER_DPI_MIN` and :data:`RENDER_DPI_MAX`, or
  :data:`RENDER_DPI_DEFAULT` on a page without images (DA/T 31-2017 9.4, docs/cases.md). Annotations (a seal's
  appearance) are drawn into the image.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pikepdf
from PIL import Image

from guidang.errors import GuidangError, MissingDependencyError
from guidang.ingest.pdftext import extract_text

# DA/T 31-2017 9.4: scans at no less than 200 dpi; 300 dpi recommended for small, dense or unclear text
# (also Tesseract's own advice for OCR); 600 dpi for high-fidelity reproduction, which is the most a page is
# rendered at (more only costs time: OCR reads at ocr.dpi, 200 by default)
RENDER_DPI_MIN = 200.0
RENDER_DPI_DEFAULT = 300.0
RENDER_DPI_MAX = 600.0
# a rendered page is held under A3 at 600 dpi (7016 × 9921 px ≈ 70 Mpx; DA/T 31 9.4's high-fidelity figure on
# the largest common office sheet): a poster-sized page is rendered at a lower resolution instead
RENDER_MAX_PIXELS = 70_000_000
RENDER_TIMEOUT = 300.0  # seconds for one page
_TOLERANCE = 1.0  # pt (1/72 in): how far an image's edge or a clip may be from the page's and still count as it
_SIMPLE_OPS = frozenset({"q", "Q", "cm", "Do", "re", "W", "W*", "n", "ri"})
_DIRECT_SPACES = {"/DeviceGray": 1, "/DeviceRGB": 3}


@dataclass(frozen=True)
class PageImage:
    """One page without text, as an image file: where it is, its resolution, how it was made."""

    index: int  # the page's place in the PDF, from 0
    path: Path
    dpi: float
    method: str  # extracted-jpeg | extracted | rendered


@dataclass(frozen=True)
class PagePlan:
    """What the pages of a PDF are: those with text (left as they are) and the images of the others."""

    page_count: int
    text_pages: tuple[int, ...]
    images: tuple[PageImage, ...]

    @property
    def mixed(self) -> bool:
        return bool(self.text_pages) and bool(self.images)


def text_pages(source: Path) -> tuple[int, tuple[int, ...]]:
    """The number of pages and the indexes of those from which text copies out."""
    pages = extract_text(source).split("\f")
    return len(pages), tuple(n for n, text in enumerate(pages) if text.strip())


def page_images(source: Path, out: Path, *, render_all: bool = False) -> PagePlan:
    """An image of every page of ``source`` without text, written under ``out`` (``render_all``: every such
    page rendered, none extracted; for a signed PDF, whose seal appearances are annotations)."""
    count, with_text = text_pages(source)
    out.mkdir(parents=True, exist_ok=True)
    images: list[PageImage] = []
    with pikepdf.open(source) as pdf:
        for index, page in enumerate(pdf.pages):
            if index in with_text:
                continue
            extracted = None if render_all else _extract(page, index, out)
            images.append(extracted or render_page(source, index, _native_dpi(page), out,
                                                  mono=_bilevel(page) and not _annotated(page)))
    return PagePlan(count, with_text, tuple(images))


# -- extracted ---------------------------------------------------------------------------------------------------
def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else float(str(value))


def _box(page: pikepdf.Page) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (_num(v) for v in page.mediabox)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _multiply(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """``m`` then ``n`` (PDF's row-vector convention: the cm operand is applied before the current matrix)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _painted_images(page: pikepdf.Page) -> list[tuple[str, tuple[float, ...]]] | None:
    """Each image the page's content paints (its resource name and matrix), or None when the content does
    anything but paint images under ``q``/``Q``/``cm`` and clips to the page."""
    box = _box(page)
    ctm: tuple[float, ...] = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    stack: list[tuple[float, ...]] = []
    painted: list[tuple[str, tuple[float, ...]]] = []
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        return None
    for instruction in instructions:
        operands, op = instruction.operands, str(instruction.operator)
        if op not in _SIMPLE_OPS:
            return None
        if op == "q":
            stack.append(ctm)
        elif op == "Q":
            if not stack:
                return None
            ctm = stack.pop()
        elif op == "cm":
            ctm = _multiply(tuple(_num(v) for v in operands), ctm)
        elif op == "re":  # a clip that covers the page clips nothing (anything else is not a plain scan)
            x, y, w, h = (_num(v) for v in operands)
            if ctm != (1.0, 0.0, 0.0, 1.0, 0.0, 0.0) or not (
                min(x, x + w) <= box[0] + _TOLERANCE and min(y, y + h) <= box[1] + _TOLERANCE
                and max(x, x + w) >= box[2] - _TOLERANCE and max(y, y + h) >= box[3] - _TOLERANCE
            ):
                return None
        elif op == "Do":
            painted.append((str(operands[0]), ctm))
    return painted


def _image(page: pikepdf.Page, name: str) -> pikepdf.Stream | None:
    xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject")
    xo = xobjects.get(name) if isinstance(xobjects, pikepdf.Dictionary) else None
    return xo if isinstance(xo, pikepdf.Stream) and xo.get("/Subtype") == pikepdf.Name.Image else None


def _components(space: object) -> int | None:
    """Colour components of a grey or RGB colour space (ICC-based with 1 or 3, an indexed one over those)."""
    if isinstance(space, pikepdf.Name):
        return _DIRECT_SPACES.get(str(space))
    if isinstance(space, pikepdf.Array) and len(space):
        kind = str(space[0])
        if kind == "/ICCBased" and isinstance(space[1], pikepdf.Stream):
            n = int(space[1].get("/N", 0))
            return n if n in (1, 3) else None
        if kind == "/Indexed" and len(space) == 4 and _components(space[1]) is not None:
            return 1
    return None


def _annotated(page: pikepdf.Page) -> bool:
    """Whether an annotation would draw something on the page (a widget's or a stamp's appearance)."""
    annots = page.obj.get("/Annots")
    return isinstance(annots, pikepdf.Array) and any(
        isinstance(a, pikepdf.Dictionary) and "/AP" in a and a.get("/Subtype") != pikepdf.Name.Link for a in annots
    )


def _extract(page: pikepdf.Page, index: int, out: Path) -> PageImage | None:
    """The page's one image as a file at its own resolution, when the page is nothing but that image."""
    obj = page.obj
    crop = obj.get("/CropBox")
    if _num(obj.get("/Rotate", 0)) % 360 or "/UserUnit" in obj or _annotated(page):
        return None
    if isinstance(crop, pikepdf.Array) and any(abs(_num(a) - b) > _TOLERANCE for a, b in zip(crop, _box(page),
                                                                                                strict=False)):
        return None
    painted = _painted_images(page)
    if not painted or len(painted) != 1:
        return None
    name, (a, b, c, d, e, f) = painted[0]
    image = _image(page, name)
    x0, y0, x1, y1 = _box(page)
    if image is None or abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None
    if any(abs(u - v) > _TOLERANCE for u, v in ((e, x0), (f, y0), (e + a, x1), (f + d, y1))):
        return None
    if any(k in image for k in ("/SMask", "/Mask", "/Decode")) or image.get("/ImageMask", False):
        return None
    components = _components(image.get("/ColorSpace"))
    bits = int(image.get("/BitsPerComponent", 0))
    width, height = int(image.get("/Width", 0)), int(image.get("/Height", 0))
    if components is None or bits not in (1, 8) or width <= 0 or height <= 0:
        return None
    dpi_x, dpi_y = width * 72.0 / a, height * 72.0 / d
    if abs(dpi_x - dpi_y) > 0.01 * dpi_x:  # non-square pixels: the PDF/A writer draws square ones
        return None
    dpi = round(dpi_x, 2)
    filters = image.get("/Filter")
    if filters == pikepdf.Name.DCTDecode and "/DecodeParms" not in image and components in (1, 3):
        data = bytes(image.read_raw_bytes())
        try:
            with Image.open(io.BytesIO(data)) as im:
                if im.format != "JPEG" or im.mode not in ("L", "RGB") or im.size != (width, height):
                    return None
        except (OSError, SyntaxError, Image.DecompressionBombError):
            return None
        path = out / f"page-{index + 1:04d}.jpg"
        path.write_bytes(data)
        return PageImage(index, path, dpi, "extracted-jpeg")
    try:  # past Pillow's decompression-bomb limit it raises too, and the page is rendered (held to 70 Mpx)
        pil = pikepdf.PdfImage(image).as_pil_image()
    except Exception:  # a filter pikepdf cannot decode here (JBIG2 without jbig2dec, …): rendered instead
        return None
    if pil.mode not in ("1", "L", "RGB", "P") or pil.size != (width, height):
        return None
    path = out / f"page-{index + 1:04d}.png"
    pil.save(path, format="PNG", dpi=(dpi, dpi))
    return PageImage(index, path, dpi, "extracted")


# -- rendered ----------------------------------------------------------------------------------------------------
def _native_dpi(page: pikepdf.Page) -> float:
    """The highest resolution of an image the page paints (plainly, not inside a form), held to the range."""
    best = 0.0
    for name, (a, b, c, d, _e, _f) in _painted_images(page) or []:
        image = _image(page, name)
        if image is None:
            continue
        w_pt, h_pt = (a * a + b * b) ** 0.5, (c * c + d * d) ** 0.5
        if w_pt > 0 and h_pt > 0:
            best = max(best, min(int(image.get("/Width", 0)) * 72 / w_pt, int(image.get("/Height", 0)) * 72 / h_pt))
    # no image painted plainly (vector drawing, images inside forms): the default
    dpi = min(max(best, RENDER_DPI_MIN), RENDER_DPI_MAX) if best else RENDER_DPI_DEFAULT
    x0, y0, x1, y1 = _box(page)
    pixels = (x1 - x0) * (y1 - y0) * (dpi / 72) ** 2
    if pixels > RENDER_MAX_PIXELS:
        dpi *= (RENDER_MAX_PIXELS / pixels) ** 0.5
    return round(dpi, 2)


def _bilevel(page: pikepdf.Page) -> bool:
    """Whether every image of the page is black and white (a bilevel scan: rendered bilevel, no smoothing)."""
    xobjects = page.obj.get("/Resources", pikepdf.Dictionary()).get("/XObject")
    images = [x for x in (xobjects.values() if isinstance(xobjects, pikepdf.Dictionary) else ())
              if isinstance(x, pikepdf.Stream) and x.get("/Subtype") == pikepdf.Name.Image]
    return bool(images) and all(int(x.get("/BitsPerComponent", 1)) == 1 for x in images)


class RenderError(GuidangError):
    """pdftoppm could not draw a page."""

    code = "RENDER"


def render_page(source: Path, index: int, dpi: float, out: Path, *, mono: bool = False) -> PageImage:
    """Page ``index`` drawn by pdftoppm at ``dpi``, annotations included; kept grey (or bilevel) when every
    pixel is grey (or black or white), lossless (PNG). ``mono``: drawn in black and white (a bilevel scan;
    without it poppler smooths the edges into greys, and the copy is ten times the size)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise MissingDependencyError("找不到 pdftoppm（poppler-utils），无法渲染 PDF 页面",
                                     "pdftoppm (poppler-utils) was not found: PDF pages cannot be rendered")
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / f"render-{index + 1:04d}"
    number = str(index + 1)
    try:
        run = subprocess.run([binary, "-r", f"{dpi:g}", "-f", number, "-l", number, "-png", "-singlefile",
                              *(["-mono"] if mono else []), str(source.resolve()), str(prefix.resolve())],
                             capture_output=True, timeout=RENDER_TIMEOUT, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"pdftoppm 渲染第 {index + 1} 页超过 {RENDER_TIMEOUT:g} 秒",
                          f"pdftoppm took more than {RENDER_TIMEOUT:g} s on page {index + 1}") from exc
    rendered = prefix.with_suffix(".png")
    if run.returncode != 0 or not rendered.is_file():
        detail = run.stderr.decode("utf-8", "replace")[-300:]
        raise RenderError(f"pdftoppm 无法渲染第 {index + 1} 页：{detail}",
                          f"pdftoppm could not render page {index + 1}: {detail}")
    with Image.open(rendered) as im:
        pixels = np.asarray(im.convert("RGB"))
    path = out / f"page-{index + 1:04d}.png"
    if (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        grey = pixels[..., 0]
        bilevel = bool(np.isin(grey, (0, 255)).all())
        picture = Image.fromarray(grey > 127) if bilevel else Image.fromarray(grey)
    else:
        picture = Image.fromarray(pixels)
    picture.save(path, format="PNG", dpi=(dpi, dpi))
    rendered.unlink()
    return PageImage(index, path, dpi, "rendered")
