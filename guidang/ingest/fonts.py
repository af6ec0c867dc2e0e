"""A glyphless TrueType font for invisible OCR text, and the PDF objects around it.

The text layer is drawn in rendering mode 3 (invisible), so the font needs no outlines,
but PDF/A still requires it to be embedded and every code shown to select a real glyph
(not ``.notdef``). The font has two glyphs: ``.notdef`` and one glyph one em wide that
paints nothing.
It is used as a CIDFontType2 under a Type 0 font with Identity-H encoding: the code
shown for a character is its CID, every CID maps to glyph 1 (a /CIDToGIDMap stream),
and a /ToUnicode CMap per document says which character each code stands for.

CIDs are the characters' Unicode code points for the Basic Multilingual Plane; a
character outside it (rare CJK extension characters do occur in names) gets a CID
from the surrogate range D800–DFFF, which no BMP character uses.
"""

from __future__ import annotations

import functools
import io
import zlib
from typing import Any

import pikepdf
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

FONT_NAME = "GuidangGlyphless"
UNITS_PER_EM = 1000
ADVANCE = 1000  # the one glyph's advance, in 1/1000 em: a full-width (CJK) cell
ASCENT = 880  # the text box spans [baseline - descent, baseline + ascent] of the font size
DESCENT = 120
_ASTRAL_FIRST = 0xD800
_ASTRAL_LAST = 0xDFFF


def _cell_glyph() -> Any:
    """A zero-area contour whose bounding box is the whole cell.

    It paints nothing even if drawn, but gives the glyph a bounding box: pdfium drops a
    text object whose box has no width, which an outline-less glyph would have.
    """
    pen = TTGlyphPen(None)
    pen.moveTo((0, -DESCENT))
    pen.lineTo((ADVANCE, ASCENT))
    pen.closePath()
    return pen.glyph()


@functools.cache
def glyphless_ttf() -> bytes:
    """Return the TrueType program: ``.notdef`` and the cell glyph, both one em wide."""
    fb = FontBuilder(UNITS_PER_EM, isTTF=True)
    names = [".notdef", "blank"]
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({0x20: "blank"})
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "blank": _cell_glyph()})
    fb.setupHorizontalMetrics({name: (ADVANCE, 0) for name in names})
    fb.setupHorizontalHeader(ascent=ASCENT, descent=-DESCENT)
    fb.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=ASCENT, sTypoDescender=-DESCENT, usWinAscent=ASCENT, usWinDescent=DESCENT)
    fb.setupPost()
    fb.setupMaxp()
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


@functools.cache
def _cid_to_gid_map() -> bytes:
    """Every CID but 0 selects glyph 1."""
    return b"\x00\x00" + b"\x00\x01" * 0xFFFF


class CodeMap:
    """Assigns the 2-byte code (= CID) shown for each character of one document."""

    def __init__(self) -> None:
        self._astral: dict[str, int] = {}
        self.used: dict[int, str] = {}

    def code(self, char: str) -> int:
        cp = ord(char)
        if cp < 0x10000 and not _ASTRAL_FIRST <= cp <= _ASTRAL_LAST and cp != 0:
            cid = cp
        else:
            cid = self._astral.get(char, 0)
            if not cid:
                cid = _ASTRAL_FIRST + len(self._astral)
                if cid > _ASTRAL_LAST:
                    raise ValueError("more than 2048 distinct characters outside the BMP in one document")
                self._astral[char] = cid
        self.used[cid] = char
        return cid

    def encode(self, text: str) -> bytes:
        """The string operand that shows *text*, two bytes per character."""
        return b"".join(self.code(c).to_bytes(2, "big") for c in text)


def _utf16_hex(char: str) -> str:
    return char.encode("utf-16-be").hex().upper()


def to_unicode_cmap(used: dict[int, str]) -> bytes:
    """A ToUnicode CMap for the codes in *used* (bfchar blocks of at most 100 entries)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    items = sorted(used.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{cid:04X}> <{_utf16_hex(ch)}>" for cid, ch in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return ("\n".join(lines) + "\n").encode("ascii")


def _flate(pdf: pikepdf.Pdf, data: bytes, **extra: int) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, zlib.compress(data, 9))
    stream.Filter = pikepdf.Name.FlateDecode
    for key, value in extra.items():
        stream[f"/{key}"] = value
    return stream


def make_font(pdf: pikepdf.Pdf, used: dict[int, str]) -> pikepdf.Object:
    """Add the Type 0 font to *pdf* and return it (an indirect object)."""
    program = glyphless_ttf()
    font_file = _flate(pdf, program, Length1=len(program))
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor,
        FontName=pikepdf.Name("/" + FONT_NAME),
        Flags=4,  # symbolic
        FontBBox=pikepdf.Array([0, -DESCENT, ADVANCE, ASCENT]),
        ItalicAngle=0,
        Ascent=ASCENT,
        Descent=-DESCENT,
        CapHeight=ASCENT,
        StemV=80,
        FontFile2=pdf.make_indirect(font_file),
    )
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.CIDFontType2,
        BaseFont=pikepdf.Name("/" + FONT_NAME),
        CIDSystemInfo=pikepdf.Dictionary(
            Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
        ),
        FontDescriptor=pdf.make_indirect(descriptor),
        DW=ADVANCE,
        CIDToGIDMap=pdf.make_indirect(_flate(pdf, _cid_to_gid_map())),
    )
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name("/" + FONT_NAME),
        Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=pikepdf.Array([pdf.make_indirect(cid_font)]),
        ToUnicode=pdf.make_indirect(_flate(pdf, to_unicode_cmap(used))),
    )
    return pdf.make_indirect(font)
