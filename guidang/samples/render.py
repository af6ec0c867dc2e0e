"""Lay out a document on A4 pages with a CJK font, in the manner of GB/T 9704 公文.

Returns each page as a Pillow image together with the exact text drawn on it, line by
line in reading order (masthead, document number, title, body, closing, signature, page
number). The seal text is kept apart: it is drawn on an arc and no OCR engine reads it.

Fonts come from fonts-noto-cjk (Noto Serif/Sans CJK .ttc): the SC face for simplified and
the TC face for traditional text. Text is laid out with Pillow's basic layout engine so the
same input gives the same pixels with or without libraqm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from guidang.errors import MissingDependencyError
from guidang.samples.texts import DocumentText, Script

A4_MM = (210.0, 297.0)
A3_MM = (297.0, 420.0)
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
RED = (200, 16, 24)
BLACK = (0, 0, 0)

Style = Literal["serif", "sans"]
Weight = Literal["Regular", "Bold"]
Align = Literal["left", "center", "right"]

# Characters that must not start a line (they hang into the margin) or end one (moved down).
_NO_START = set("，。、；：？！）》」』】〕”’,.;:?!)%·—…")
_NO_END = set("（《「『【〔“‘(")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:;'’/@%+()\-]*[ ]*|[ ]+|.", re.S)


@dataclass(frozen=True)
class RenderOptions:
    """Page geometry and decoration. Sizes in points (1/72 in) and millimetres."""

    dpi: int = 300
    body_pt: float = 16.0  # 3号 (GB/T 9704 body size)
    line_spacing: float = 1.75  # baseline distance as a multiple of the body size
    margins_mm: tuple[float, float, float, float] = (37.0, 26.0, 35.0, 28.0)  # top, right, bottom, left
    style: Style = "serif"
    red_header: bool = True  # 红头: masthead in red and a red rule under the document number
    seal: bool = True  # red seal over the signature on the last page
    colour: bool = True  # RGB pages; False gives greyscale ("L") pages, red drawn as dark grey
    page_numbers: bool = True
    last_page_fill: float = 0.55  # stop the body once this fraction of the last page is used
    paper_mm: tuple[float, float] = A4_MM  # width, height (A3_MM for a large-format page)

    def px(self, pt: float) -> int:
        return round(pt * self.dpi / 72.0)

    def mm(self, mm: float) -> int:
        return round(mm * self.dpi / 25.4)

    @property
    def size(self) -> tuple[int, int]:
        return self.mm(self.paper_mm[0]), self.mm(self.paper_mm[1])


# One character drawn and its ink box in pixels of the page as drawn: (char, left, top, right, bottom).
CharBox = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class RenderedPage:
    image: Image.Image  # "RGB" or "L"
    lines: tuple[str, ...]  # text drawn, in reading order
    seal_text: str | None  # text of a seal drawn on this page
    red: bool  # red elements (红头, seal) are on this page
    # per line of ``lines``, the box of every character with ink (spaces have none)
    char_boxes: tuple[tuple[CharBox, ...], ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def find_cjk_font(style: Style = "serif", weight: Weight = "Regular") -> Path:
    """Path of the Noto CJK collection for ``style``/``weight``; MissingDependencyError if absent."""
    return _find_font(style, weight)


@cache
def _find_font(style: Style, weight: Weight) -> Path:
    family = "Serif" if style == "serif" else "Sans"
    name = f"Noto{family}CJK-{weight}.ttc"
    for root in FONT_DIRS:
        if root.is_dir():
            found = sorted(root.rglob(name))
            if found:
                return found[0]
    raise MissingDependencyError(
        f"未找到中文字体 {name}（请安装 fonts-noto-cjk：apt-get install fonts-noto-cjk）；"
        f"已查找：{', '.join(str(d) for d in FONT_DIRS)}",
        f"CJK font {name} not found (install fonts-noto-cjk: apt-get install fonts-noto-cjk); "
        f"searched {', '.join(str(d) for d in FONT_DIRS)}",
    )


@cache
def _face_index(path: Path, script: Script) -> int:
    want = "SC" if script == "hans" else "TC"
    for index in range(8):
        try:
            family = ImageFont.truetype(str(path), 12, index=index).getname()[0] or ""
        except OSError:
            break
        if family.endswith(f" {want}"):
            return index
    return 0


@lru_cache(maxsize=64)
def _font(style: Style, weight: Weight, script: Script, size_px: int) -> ImageFont.FreeTypeFont:
    path = _find_font(style, weight)
    return ImageFont.truetype(str(path), size_px, index=_face_index(path, script), layout_engine=ImageFont.Layout.BASIC)


class _Measure:
    """Cached token widths for one font (wrapping sums them, then draws whole lines)."""

    def __init__(self, font: ImageFont.FreeTypeFont) -> None:
        self.font = font
        self.cache: dict[str, float] = {}

    def __call__(self, token: str) -> float:
        width = self.cache.get(token)
        if width is None:
            width = self.cache[token] = float(self.font.getlength(token))
        return width


def wrap(text: str, measure: _Measure, width: float, first_indent: float = 0.0) -> list[str]:
    """Greedy line breaking for mixed CJK/Latin text: any CJK character may break, Latin words
    stay whole; closing punctuation hangs rather than start a line; opening brackets move down."""
    lines: list[str] = []
    line: list[str] = []
    used = first_indent
    for token in _TOKEN.findall(text):
        w = measure(token)
        if line and used + w > width and token[0] not in _NO_START and not token.isspace():
            carry = [line.pop()] if line and line[-1] in _NO_END else []
            lines.append("".join(line).rstrip())
            line, used = carry, sum(measure(t) for t in carry)
        if not line and token.isspace():
            continue
        if w > width and len(token) > 1:  # a Latin run longer than the line: break it by character
            for ch in token:
                if line and used + measure(ch) > width:
                    lines.append("".join(line).rstrip())
                    line, used = [], 0.0
                line.append(ch)
                used += measure(ch)
            continue
        line.append(token)
        used += w
    if line:
        lines.append("".join(line).rstrip())
    return [ln for ln in lines if ln]


@dataclass(frozen=True)
class _Block:
    text: str
    pt: float
    weight: Weight = "Regular"
    align: Align = "left"
    indent_em: float = 0.0  # first-line indent
    colour: tuple[int, int, int] = BLACK
    space_before: float = 0.0  # extra space before, in body lines


class _Page:
    def __init__(self, opts: RenderOptions, number: int) -> None:
        self.opts = opts
        self.number = number
        self.image = Image.new("RGB", opts.size, (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[str] = []
        self.char_boxes: list[tuple[CharBox, ...]] = []
        self.y = opts.mm(opts.margins_mm[0])
        self.red = False
        self.seal_text: str | None = None


class _Layout:
    def __init__(self, opts: RenderOptions, script: Script) -> None:
        self.opts = opts
        self.script = script
        w, h = opts.size
        top, right, bottom, left = (opts.mm(m) for m in opts.margins_mm)
        self.left, self.right, self.top, self.bottom = left, w - right, top, h - bottom
        self.body_line = opts.px(opts.body_pt) * opts.line_spacing
        self.pages: list[_Page] = []

    def font(self, pt: float, weight: Weight = "Regular") -> ImageFont.FreeTypeFont:
        return _font(self.opts.style, weight, self.script, self.opts.px(pt))

    def new_page(self) -> _Page:
        page = _Page(self.opts, len(self.pages) + 1)
        self.pages.append(page)
        return page

    def block_lines(self, block: _Block) -> list[str]:
        font = self.font(block.pt, block.weight)
        indent = block.indent_em * self.opts.px(block.pt)
        return wrap(block.text, _measure(font), self.right - self.left, indent)

    def line_height(self, block: _Block) -> float:
        return max(self.body_line, self.opts.px(block.pt) * 1.45)

    def height(self, blocks: Sequence[_Block]) -> float:
        return sum(b.space_before * self.body_line + len(self.block_lines(b)) * self.line_height(b) for b in blocks)

    def put(self, page: _Page, block: _Block, lines: Sequence[str]) -> None:
        """Draw ``lines`` of ``block`` at the page's current position (no page break)."""
        font = self.font(block.pt, block.weight)
        measure = _measure(font)
        page.y += round(block.space_before * self.body_line)
        lh = self.line_height(block)
        for i, line in enumerate(lines):
            width = measure(line)
            if block.align == "center":
                x = (self.left + self.right - width) / 2
            elif block.align == "right":
                x = self.right - width - self.opts.px(block.pt) * 2
            else:
                x = self.left + (block.indent_em * self.opts.px(block.pt) if i == 0 else 0)
            baseline_pad = (lh - self.opts.px(block.pt)) / 2
            page.draw.text((x, page.y + baseline_pad), line, font=font, fill=block.colour)
            page.lines.append(line)
            page.char_boxes.append(char_boxes(line, font, (x, page.y + baseline_pad)))
            page.y += round(lh)
        if block.colour != BLACK:
            page.red = True


@lru_cache(maxsize=16)
def _measure(font: ImageFont.FreeTypeFont) -> _Measure:
    return _Measure(font)


def render_document(doc: DocumentText, pages: int, opts: RenderOptions | None = None) -> list[RenderedPage]:
    """Lay ``doc`` out on exactly ``pages`` A4 pages.

    The body runs over the pages; on the last page it stops once ``last_page_fill`` of the page
    is used, and the closing lines and signature (with the seal) follow. ValueError if the
    document has too little text for the pages asked for.
    """
    if pages < 1:
        raise ValueError("pages must be >= 1")
    opts = opts or RenderOptions()
    lay = _Layout(opts, doc.script)
    page = lay.new_page()
    red = RED
    head: list[_Block] = []
    if opts.red_header:
        head.append(_Block(doc.header, _fit_pt(lay, doc.header, 30.0), "Bold", "center", colour=red))
        head.append(_Block(doc.doc_number, opts.body_pt, align="center", space_before=0.6))
    else:
        head.append(_Block(doc.doc_number, opts.body_pt, align="right"))
    head.append(_Block(doc.title, 22.0, "Bold", "center", space_before=1.0))
    for i, block in enumerate(head):
        lay.put(page, block, lay.block_lines(block))
        if opts.red_header and i == 1:
            y = page.y + lay.opts.mm(2)
            page.draw.rectangle((lay.left, y, lay.right, y + lay.opts.mm(0.8)), fill=red)
            page.y = y + lay.opts.mm(4)
    if doc.addressee:
        lay.put(page, _Block(doc.addressee, opts.body_pt, space_before=0.5), [doc.addressee])

    end_blocks = [_Block(t, opts.body_pt, indent_em=2.0) for t in doc.closing]
    end_blocks += [
        _Block(t, opts.body_pt, align="right", space_before=1.5 if i == 0 else 0.0) for i, t in enumerate(doc.signature)
    ]
    end_height = lay.height(end_blocks) + (lay.opts.mm(12) if opts.seal else 0)
    fill_y = lay.top + opts.last_page_fill * (lay.bottom - lay.top)
    body = iter(doc.paragraphs)
    while True:
        last = page.number == pages
        if last and page.y >= fill_y:
            break
        text = next(body, None)
        if text is None:
            raise ValueError(f"document has too little text for {pages} pages (draw more paragraphs)")
        block = _Block(text, opts.body_pt, indent_em=2.0)
        lines = lay.block_lines(block)
        lh = lay.line_height(block)
        if last and page.y + len(lines) * lh + end_height > lay.bottom:
            break
        while lines:
            room = int((lay.bottom - (end_height if page.number == pages else 0) - page.y) // lh)
            if room <= 0:
                if page.number == pages:
                    break
                page = lay.new_page()
                continue
            lay.put(page, block, lines[:room])
            block = _Block(text, opts.body_pt)  # continuation lines have no indent
            lines = lines[room:]
        if lines:  # the last page is full: the rest of this paragraph is dropped
            break
    for block in end_blocks:
        lay.put(page, block, lay.block_lines(block))
    if opts.seal:
        _draw_seal(page, lay, doc.seal, red)
    out = []
    for pg in lay.pages:
        if opts.page_numbers:
            label = f"— {pg.number} —"
            font = lay.font(14.0)
            width = _measure(font)(label)
            x = lay.right - width if pg.number % 2 else lay.left
            pg.draw.text((x, lay.bottom + opts.mm(10)), label, font=font, fill=BLACK)
            pg.lines.append(label)
            pg.char_boxes.append(char_boxes(label, font, (x, lay.bottom + opts.mm(10))))
        image = pg.image if opts.colour else pg.image.convert("L")
        out.append(RenderedPage(image, tuple(pg.lines), pg.seal_text, pg.red, tuple(pg.char_boxes)))
    return out


def render_text_page(text: str, *, script: Script = "hans", opts: RenderOptions | None = None) -> RenderedPage:
    """One page of plain paragraphs (split on newlines), no masthead: a quick OCR fixture."""
    opts = opts or RenderOptions(red_header=False, seal=False, colour=False)
    lay = _Layout(opts, script)
    page = lay.new_page()
    for para in text.splitlines():
        block = _Block(para, opts.body_pt, indent_em=2.0)
        lines = lay.block_lines(block)
        room = int((lay.bottom - page.y) // lay.line_height(block))
        lay.put(page, block, lines[: max(room, 0)])
    image = page.image if opts.colour else page.image.convert("L")
    return RenderedPage(image, tuple(page.lines), None, False, tuple(page.char_boxes))


def char_boxes(line: str, font: ImageFont.FreeTypeFont, origin: tuple[float, float]) -> tuple[CharBox, ...]:
    """The ink box of every character of *line* drawn at *origin* with *font* (basic layout: advances add up)."""
    x0, y0 = origin
    out: list[CharBox] = []
    for i, char in enumerate(line):
        if char.isspace():
            continue
        left, top, right, bottom = font.getbbox(char)
        if right <= left or bottom <= top:
            continue
        x = x0 + font.getlength(line[:i])
        out.append((char, round(x + left), round(y0 + top), round(x + right), round(y0 + bottom)))
    return tuple(out)


def render_vertical_page(columns: Sequence[str], *, script: Script = "hant",
                         opts: RenderOptions | None = None) -> RenderedPage:
    """竖排: *columns* of characters top to bottom, the first column at the right (old records).

    ``lines`` are the columns in reading order (right to left); no column wraps (a longer one is cut
    at the bottom margin).
    """
    opts = opts or RenderOptions(red_header=False, seal=False, colour=False)
    lay = _Layout(opts, script)
    page = lay.new_page()
    font = lay.font(opts.body_pt)
    em = opts.px(opts.body_pt)
    pitch = round(em * opts.line_spacing)
    x = lay.right - em
    for column in columns:
        if x < lay.left:
            break
        y = float(lay.top)
        drawn: list[str] = []
        boxes: list[CharBox] = []
        for char in column:
            if y + em > lay.bottom:
                break
            page.draw.text((x, y), char, font=font, fill=BLACK)
            drawn.append(char)
            boxes.extend(char_boxes(char, font, (x, y)))
            y += em * 1.05
        page.lines.append("".join(drawn))
        page.char_boxes.append(tuple(boxes))
        x -= pitch
    image = page.image if opts.colour else page.image.convert("L")
    return RenderedPage(image, tuple(page.lines), None, False, tuple(page.char_boxes))


def _fit_pt(lay: _Layout, text: str, pt: float) -> float:
    """Largest size up to ``pt`` at which the masthead fits on one line."""
    width = lay.right - lay.left
    while pt > 12 and _measure(lay.font(pt, "Bold"))(text) > width:
        pt -= 1
    return pt


def _draw_seal(page: _Page, lay: _Layout, text: str, colour: tuple[int, int, int]) -> None:
    """A round seal (42 mm) with the text on the upper arc and a star, laid over the
    signature like ink: darker of page and seal per channel, so the text shows through."""
    opts = lay.opts
    r = opts.mm(21)
    size = 2 * r + 4
    seal = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(seal)
    c = size / 2
    ring = opts.mm(1.2)
    draw.ellipse((c - r, c - r, c + r, c + r), outline=colour, width=ring)
    star_r = r * 0.3
    pts = [
        (
            c + (star_r if k % 2 == 0 else star_r * 0.4) * math.sin(math.pi * k / 5),
            c - (star_r if k % 2 == 0 else star_r * 0.4) * math.cos(math.pi * k / 5),
        )
        for k in range(10)
    ]
    draw.polygon(pts, fill=colour)
    span = min(250.0, 24.0 * len(text))
    text_r = r - ring - opts.mm(4.0)
    char_mm = min(6.5, 0.8 * (2 * math.pi * text_r * span / 360) / len(text) * 25.4 / opts.dpi)
    font = _font(opts.style, "Bold", lay.script, opts.mm(char_mm))
    for i, ch in enumerate(text):
        angle = -span / 2 + span * (i + 0.5) / len(text)
        glyph = Image.new("L", (opts.mm(8), opts.mm(8)), 0)
        ImageDraw.Draw(glyph).text((glyph.width / 2, glyph.height / 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC)
        gx = c + text_r * math.sin(math.radians(angle)) - glyph.width / 2
        gy = c - text_r * math.cos(math.radians(angle)) - glyph.height / 2
        seal.paste(Image.new("RGB", glyph.size, colour), (round(gx), round(gy)), glyph)
    # centre over the signature block (the last two lines drawn, right-aligned)
    x0 = round(lay.right - opts.px(opts.body_pt) * 2 - opts.mm(40) - size / 2 + opts.mm(20))
    y0 = round(page.y - lay.body_line * 1.5 - size / 2)
    x0 = max(0, min(x0, page.image.width - size))
    y0 = max(0, min(y0, page.image.height - size))
    region = np.asarray(page.image.crop((x0, y0, x0 + size, y0 + size)))
    inked = np.minimum(region, np.asarray(seal))
    page.image.paste(Image.fromarray(inked), (x0, y0))
    page.seal_text = text
    page.red = True
