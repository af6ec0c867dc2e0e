"""In-memory scanned pages with known degradations, for the scan QA tests (and their own tests).

A page is rendered with a real CJK font (Noto) as a 公文-like page: optional red header
(红头) and red seal, indented paragraphs. Degradations have exact, known parameters.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
COMMON = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    "而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好"
    "应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道"
    "命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长"
)


def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), px, index=2)


def render_page(
    dpi: int = 150,
    size_mm: tuple[float, float] = (210.0, 297.0),
    *,
    seed: int = 0,
    paragraphs: int = 4,
    red_header: bool = False,
    seal: bool = False,
    text_pt: float = 14.0,
    colour: bool = True,
) -> NDArray[np.uint8]:
    """A white page with Chinese text; BGR uint8 (or grey when ``colour`` is False)."""
    rng = random.Random(seed)
    w, h = round(size_mm[0] / 25.4 * dpi), round(size_mm[1] / 25.4 * dpi)
    page = Image.new("RGB", (w, h), (250, 250, 247))
    draw = ImageDraw.Draw(page)
    margin = round(25 / 25.4 * dpi)
    char = round(text_pt / 72 * dpi)
    y = margin
    if red_header:
        hfont = _font(round(char * 2.2))
        title = "某某市人民政府办公室文件"
        tw = draw.textlength(title, font=hfont)
        draw.text(((w - tw) / 2, y), title, font=hfont, fill=(200, 20, 30))
        y += round(char * 3.2)
        draw.rectangle((margin, y, w - margin, y + max(2, dpi // 75)), fill=(200, 20, 30))
        y += char * 2
    font = _font(char)
    per_line = (w - 2 * margin) // char
    for _ in range(paragraphs):
        n = rng.randint(per_line * 2 + 3, per_line * 5)
        text = "".join(rng.choice(COMMON) + ("，" if rng.random() < 0.09 else "") for _ in range(n)) + "。"
        first, col = True, 2
        while text and y < h - margin - char:
            room = per_line - (2 if first else 0)
            line, text = text[:room], text[room:]
            draw.text((margin + col * char if first else margin, y), line, font=font, fill=(20, 20, 20))
            y += round(char * 1.6)
            first, col = False, 0
        y += round(char * 0.6)
    if seal:
        r = round(21 / 25.4 * dpi)
        cx, cy = w - margin - r * 2, min(y + r, h - margin - r)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(210, 30, 40), width=max(2, dpi // 40))
        sfont = _font(round(r / 3))
        draw.text((cx - r * 0.8, cy - r / 6), "某某办公室", font=sfont, fill=(210, 30, 40))
    arr = np.asarray(cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR), dtype=np.uint8)
    return arr if colour else np.asarray(cv2.cvtColor(arr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def blank_page(
    dpi: int = 150,
    size_mm: tuple[float, float] = (210.0, 297.0),
    *,
    seed: int = 0,
    bleed_through: bool = False,
) -> NDArray[np.uint8]:
    """Paper only (with scanner noise); with ``bleed_through``: mirrored faint text of the back."""
    w, h = round(size_mm[0] / 25.4 * dpi), round(size_mm[1] / 25.4 * dpi)
    rng = np.random.default_rng(seed)
    page = np.clip(rng.normal(245, 3, (h, w)), 0, 255).astype(np.uint8)
    if bleed_through:
        back = render_page(dpi, size_mm, seed=seed + 99, colour=False)[:, ::-1]
        faint = 245 - (245 - back.astype(np.int16)) * 0.18  # about 200 where the back has ink
        page = np.minimum(page, faint.astype(np.uint8))
    return np.asarray(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def skew(img: NDArray[np.uint8], degrees: float) -> NDArray[np.uint8]:
    """Rotate the content counter-clockwise by ``degrees`` (as a skewed sheet), paper-coloured fill."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    fill = (250, 250, 247) if img.ndim == 3 else 250
    return np.asarray(cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill), dtype=np.uint8)


def rotate(img: NDArray[np.uint8], clockwise: int) -> NDArray[np.uint8]:
    """The page as scanned upside down or sideways: content turned ``clockwise`` degrees."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return img if clockwise % 360 == 0 else np.asarray(cv2.rotate(img, codes[clockwise % 360]), dtype=np.uint8)


def black_border(img: NDArray[np.uint8], dpi: int, mm: tuple[float, float, float, float]) -> NDArray[np.uint8]:
    """Scanner bed around the sheet: black bands (left, top, right, bottom) in mm, same image size."""
    out = img.copy()
    h, w = img.shape[:2]
    left, top, right, bottom = (round(v / 25.4 * dpi) for v in mm)
    for sl in (np.s_[:, :left], np.s_[:top, :], np.s_[:, w - right :], np.s_[h - bottom :, :]):
        out[sl] = 12
    return out


def on_scanner_bed(img: NDArray[np.uint8], dpi: int, margin_mm: float, degrees: float) -> NDArray[np.uint8]:
    """The sheet lying skewed by ``degrees`` on a black scanner bed ``margin_mm`` larger on each side."""
    pad = round(margin_mm / 25.4 * dpi)
    fill = (12, 12, 12) if img.ndim == 3 else 12
    canvas = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=fill)
    h, w = canvas.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.asarray(cv2.warpAffine(canvas, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill), dtype=np.uint8)


def encode(img: NDArray[np.uint8], fmt: str = "TIFF", dpi: float | None = 150, **save: object) -> bytes:
    """The page as file bytes (TIFF/JPEG/JPEG2000/PNG) with the given header resolution."""
    pil = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if img.ndim == 3 else img)
    if save.pop("bitonal", False):
        pil = pil.convert("L").point(lambda v: 255 if v > 160 else 0).convert("1")
    kwargs: dict[str, object] = dict(save)
    if dpi is not None:
        kwargs["dpi"] = (dpi, dpi)
    if fmt == "TIFF" and "compression" not in kwargs:
        kwargs["compression"] = "group4" if pil.mode == "1" else "tiff_lzw"
    buf = io.BytesIO()
    pil.save(buf, fmt, **kwargs)
    return buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# The generator's own promises --------------------------------------------------------------


def test_render_page_has_text_and_red_only_when_asked() -> None:
    plain = render_page(seed=1)
    red = render_page(seed=1, red_header=True, seal=True)
    assert plain.shape == (1754, 1240, 3)
    assert (plain < 100).mean() > 0.01
    hsv_plain = cv2.cvtColor(plain, cv2.COLOR_BGR2HSV)
    hsv_red = cv2.cvtColor(red, cv2.COLOR_BGR2HSV)
    assert (hsv_plain[..., 1] > 100).mean() == 0
    assert (hsv_red[..., 1] > 100).mean() > 0.001


def test_encode_writes_the_requested_header() -> None:
    data = encode(render_page(seed=2), "TIFF", dpi=300)
    img = Image.open(io.BytesIO(data))
    assert img.info["dpi"] == pytest.approx((300, 300))
    assert img.info["compression"] == "tiff_lzw"
