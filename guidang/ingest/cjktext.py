"""CJK text without spaces: which characters are written without spaces around them, and how words join.

Chinese (and Japanese, Korean Hangul in running text aside) is written without spaces between words; OCR
engines report words with boxes, and Latin words and numbers need a space between them. Used by the OCR
text (``ingest.ocr``), the PDF text layer, the text-layer checks and the zip name decoding, with no image
or OCR code behind it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable


def is_cjk(char: str) -> bool:
    """True for characters written without spaces around them (Han, kana, CJK punctuation…)."""
    cp = ord(char)
    if (
        0x2E80 <= cp <= 0x9FFF  # radicals, CJK symbols & punctuation, kana, CJK unified + ext A
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= cp <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= cp <= 0xFFEF  # half-/full-width forms (，：；（）etc.)
        or 0x20000 <= cp <= 0x3FFFF  # ideographs outside the BMP
    ):
        return True
    return unicodedata.east_asian_width(char) in ("W", "F")


def needs_space(before: str, after: str) -> bool:
    """Whether a space separates two adjacent words: only between two non-CJK words."""
    return bool(before and after) and not is_cjk(before[-1]) and not is_cjk(after[0])


def join_words(words: Iterable[str]) -> str:
    out = ""
    for word in words:
        if not word:
            continue
        if out and needs_space(out, word):
            out += " "
        out += word
    return out
