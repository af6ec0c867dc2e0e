"""Format identification by content (PRONOM, through Siegfried embedded by pygfried; no JVM).

Identification reads signatures only: the file extension never decides (Siegfried's
extension matches are ignored when a byte signature exists, and a name-only match is
reported as unidentified).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pygfried

from guidang.validators import dat70_options


@dataclass(frozen=True)
class FormatId:
    puid: str  # PRONOM id, "UNKNOWN" when nothing matched by content
    name: str
    version: str
    mime: str
    basis: str
    warning: str = ""

    @property
    def identified(self) -> bool:
        if self.puid in ("", "UNKNOWN"):
            return False
        return any(k in self.basis for k in ("byte match", "container", "text match", "xml match"))

    def label(self) -> str:
        return f"{self.name} {self.version}".strip() if self.identified else "unidentified"


# extensions expected for a MIME type (3-3: the name must not lie about the content)
EXTENSIONS: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({".pdf"}),
    "image/tiff": frozenset({".tif", ".tiff"}),
    "image/jpeg": frozenset({".jpg", ".jpeg", ".jpe"}),
    "image/png": frozenset({".png"}),
    "image/jp2": frozenset({".jp2"}),
    "text/plain": frozenset({".txt"}),
    "application/xml": frozenset({".xml"}),
    "text/xml": frozenset({".xml"}),
    "application/ofd": frozenset({".ofd"}),
    "application/zip": frozenset({".zip", ".ofd"}),
    # office documents (issue #16: every delivered file of a case is identified and checked against its name).
    # Kingsoft WPS Office's .wps/.et/.dps names are allowed where the content is identified as the Microsoft
    # binary format WPS Office can save them in (not tested: no Kingsoft sample here); a file in a format PRONOM
    # does not identify is refused as unidentified before its name is looked at.
    "application/msword": frozenset({".doc", ".dot", ".wps"}),
    "application/vnd.ms-excel": frozenset({".xls", ".xlt", ".et"}),
    "application/vnd.ms-powerpoint": frozenset({".ppt", ".pot", ".pps", ".dps"}),
    "application/rtf": frozenset({".rtf"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({".docx", ".dotx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({".xlsx", ".xltx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset({".pptx", ".ppsx",
                                                                                            ".potx"}),
    "application/vnd.oasis.opendocument.text": frozenset({".odt", ".ott"}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({".ods", ".ots"}),
    "application/vnd.oasis.opendocument.presentation": frozenset({".odp", ".otp"}),
    "application/vnd.oasis.opendocument.graphics": frozenset({".odg", ".otg"}),
}

# words by which metadata (格式信息) names a format family, keyed by MIME type (1-10)
FAMILY_WORDS: dict[str, frozenset[str]] = {
    "application/pdf": frozenset({"PDF", "PDF/A", "PDFA"}),
    "image/tiff": frozenset({"TIFF", "TIF"}),
    "image/jpeg": frozenset({"JPEG", "JPG"}),
    "image/png": frozenset({"PNG"}),
    "image/jp2": frozenset({"JPEG2000", "JP2", "JPEG 2000"}),
    "text/plain": frozenset({"TXT", "TEXT", "纯文本", "文本"}),
    "application/xml": frozenset({"XML"}),
    "text/xml": frozenset({"XML"}),
    "application/ofd": frozenset({"OFD"}),
}

OFD_MIME = "application/ofd"
OFD_ID = dat70_options.OFD_ID  # not a PRONOM id: PRONOM has none for OFD


def _zip_is_ofd(path: Path) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return "OFD.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


@lru_cache(maxsize=4096)
def _identify_cached(path: str, size: int, mtime_ns: int) -> FormatId:
    del size, mtime_ns  # part of the cache key only
    try:
        raw: dict[str, Any] = dict(pygfried.identify(path, detailed=True))
    except pygfried.GoError as exc:  # empty file, unreadable
        return FormatId("UNKNOWN", "", "", "", f"error: {exc}")
    files = raw.get("files") or [{}]
    matches = files[0].get("matches") or [{}]
    m = matches[0]
    fid = FormatId(
        puid=str(m.get("id", "UNKNOWN")),
        name=str(m.get("format", "")),
        version=str(m.get("version", "")),
        mime=str(m.get("mime", "")),
        basis=str(m.get("basis", "")),
        warning=str(m.get("warning", "")),
    )
    if fid.mime == "application/zip" and _zip_is_ofd(Path(path)):
        # PRONOM (DROID signature file v125) has no OFD signature: a ZIP holding OFD.xml is an OFD
        return FormatId(OFD_ID, "Open Fixed-layout Document (OFD, GB/T 33190)", "", OFD_MIME, "container: OFD.xml")
    return fid


def identify(path: Path) -> FormatId:
    """PRONOM identification of one file by its content."""
    st = path.stat()
    return _identify_cached(str(path), st.st_size, st.st_mtime_ns)


def extension_fits(path: Path, fid: FormatId) -> bool:
    expected = EXTENSIONS.get(fid.mime)
    return expected is None or path.suffix.lower() in expected


def recorded_format_fits(recorded: str, fid: FormatId) -> bool:
    """Does the 格式信息 recorded in metadata name the format found by content?"""
    text = recorded.upper()
    if fid.mime and fid.mime.upper() in text:
        return True
    if "MIME" in text and "/" in text:
        return False  # a MIME type is recorded and it is another one
    if fid.puid.upper() in text.replace(" ", ""):
        return True
    words = FAMILY_WORDS.get(fid.mime, frozenset())
    return any(w.upper() in text for w in words)
