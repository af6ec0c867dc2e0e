"""The invisible text layer of a page, built from Tesseract's word boxes.

Why not Tesseract's own PDF renderer: it gives every word its own box and leaves the
gaps between words empty, and text extractors (poppler's pdftotext, pdfium) insert a
space wherever the gap between one glyph's end and the next glyph's start is large
against the font size. For Chinese, where Tesseract calls every character a word, that
puts a space between most characters.

Here each line is one run on one baseline, and each word is stretched (horizontal
scaling, ``Tz``) from its own left edge to the next word's left edge, so consecutive
glyphs abut and extractors see no gap. Where the text has a real space (between two
non-CJK words, `guidang.ingest.cjktext.needs_space`) a space glyph is shown, so the space
is in the text itself, not inferred from geometry. The copied-out text then equals
`OcrPage.text` line by line.
"""

from __future__ import annotations

from guidang.ingest.cjktext import needs_space
from guidang.ingest.fonts import ADVANCE, DESCENT, CodeMap
from guidang.ingest.ocr import OcrLine, OcrPage

FONT_RESOURCE = "/FGd"
_MIN_SIZE = 1.0  # pt: Tesseract occasionally reports a line 1 px high


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _line_ops(line: OcrLine, codes: CodeMap, sx: float, sy: float, page_h: float) -> list[str]:
    box = line.box
    size = max(box.height * sy, _MIN_SIZE)
    baseline = page_h - box.bottom * sy + size * DESCENT / 1000
    ops = [f"{FONT_RESOURCE} {_num(size)} Tf"]
    words = line.words
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else None
        text = word.text + (" " if nxt is not None and needs_space(word.text, nxt.text) else "")
        x0 = word.box.left * sx
        if nxt is not None and nxt.box.left > word.box.left:
            x1 = nxt.box.left * sx
        else:
            x1 = max(word.box.right, word.box.left + 1) * sx
        natural = len(text) * size * ADVANCE / 1000
        scale = 100 * (x1 - x0) / natural
        ops.append(f"1 0 0 1 {_num(x0)} {_num(baseline)} Tm {_num(scale)} Tz <{codes.encode(text).hex()}> Tj")
    return ops


def text_layer(page: OcrPage, codes: CodeMap, page_size: tuple[float, float]) -> bytes:
    """Content stream operators drawing *page*'s text invisibly on an upright page of *page_size* pt."""
    width_pt, height_pt = page_size
    sx = width_pt / page.width
    sy = height_pt / page.height
    ops: list[str] = []
    for line in page.lines:
        if line.words:
            ops.extend(_line_ops(line, codes, sx, sy, height_pt))
    if not ops:
        return b""
    return ("BT\n3 Tr\n" + "\n".join(ops) + "\nET\n").encode("ascii")
