"""Text as it copies out of a PDF (pdfium, as in Chrome), and how many spaces it puts in Chinese.

`extract_text` is what a reader gets from select-all + copy; the tests and the benchmark
compare it with the OCR text. `cjk_spaces_per_char` measures the OCRmyPDF/Tesseract
defect this module exists to catch: a space between two CJK characters.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2

from guidang.errors import InputError
from guidang.ingest.cjktext import is_cjk


def extract_text(pdf: Path | bytes) -> str:
    """The text of every page, pages separated by a form feed, lines by ``\\n``."""
    try:
        doc = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        name = pdf.name if isinstance(pdf, Path) else "<bytes>"
        raise InputError(f"无法打开 PDF {name}：{exc}", f"cannot open the PDF {name}: {exc}") from exc
    try:
        pages = []
        for page in doc:
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            page.close()
            pages.append(text.replace("\r\n", "\n").replace("\r", "\n"))
        return "\f".join(pages)
    finally:
        doc.close()


_SPACED = re.compile(r"(?=(\S)[ \t\u3000]+(\S))")


def cjk_spaces_per_char(text: str) -> float:
    """Runs of spaces between two CJK characters on a line, per CJK character (0 when there are none)."""
    cjk = sum(1 for c in text if is_cjk(c))
    if not cjk:
        return 0.0
    spaced = sum(1 for a, b in _SPACED.findall(text) if is_cjk(a) and is_cjk(b))
    return spaced / cjk
