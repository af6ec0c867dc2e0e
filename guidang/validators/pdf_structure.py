"""PDF file-structure checks on the bytes as delivered (ISO 19005 6.1.2–6.1.9 file syntax, plus qpdf --check).

``pikepdf.pdfa`` leaves the file-syntax clauses to qpdf's writer ("writer" disposition): they hold
for files it wrote, not for files a vendor delivers. This module checks them on the delivered
bytes: header and binary comment, data after ``%%EOF``, the cross-reference table's keyword and
subsection headers, ``stream``/``endstream`` end-of-line markers and ``/Length``, the spacing of
indirect object headers and ``endobj``, the trailer ID of linearized files, and whatever qpdf's
own ``--check`` finds (damaged xref, bad streams). Object offsets come from ``qpdf --show-xref``
(qpdf reconstructs them when the table is broken, and says so).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf

EOL = (b"\r\n", b"\n", b"\r")
WS = b" \t\r\n\f\0"
DELIMS = b"()<>[]{}/%"


@dataclass(frozen=True)
class StructureIssue:
    rule: str  # veraPDF-style clause id (e.g. "6.1.7-1") or "qpdf"
    message: str
    offset: int | None = None
    severe: bool = True  # False: reported as a warning only
    pdfa_only: bool = False  # a PDF/A file-syntax rule that a plain PDF may break and still be sound


def qpdf_check(pdf: pikepdf.Pdf) -> list[StructureIssue]:
    """qpdf's --check, in process: damage qpdf recovered from (warnings) and errors it could not."""
    problems = list(pdf.get_warnings())  # from opening: damaged xref, reconstruction
    try:
        problems += pdf.check_pdf_syntax()
    except pikepdf.PdfError as exc:
        problems.append(f"ERROR: {exc}")
    name = str(pdf.filename)
    problems = [p.replace(f"{name}: ", "").replace(f"{name} ", "") for p in problems]
    return [
        StructureIssue("qpdf", p.removeprefix("WARNING: "), severe=not any(b in p for b in BENIGN_QPDF))
        for p in dict.fromkeys(problems)
    ]


# qpdf warnings that do not touch ISO 19005 (linearization hints are optional data; PDF/A does not
# require a valid linearization) and that every reader handles: reported as warnings only
BENIGN_QPDF = (
    "hint table",
    "page length mismatch",
    "object count mismatch",
    "(/E) mismatch",
    "linearized file contains",
    "xref stream itself is missing",
    "extraneous whitespace seen before xref",
    "shared identifier entries",
)


def object_offsets(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    """(num, gen) → offset of every uncompressed object (as qpdf read or reconstructed the xref)."""
    return {k: e.offset for k, e in pdf.get_xref_table().items() if e.type == 1 and e.offset is not None}


# -- a tiny lexer: enough to skip one object value -----------------------------------------------------------
def skip_ws(data: bytes, pos: int) -> int:
    n = len(data)
    while pos < n:
        c = data[pos]
        if c in WS:
            pos += 1
        elif c == 0x25:  # % comment to end of line
            while pos < n and data[pos] not in b"\r\n":
                pos += 1
        else:
            break
    return pos


def skip_value(data: bytes, pos: int) -> int:
    """Position just after one PDF object value starting at pos (after whitespace)."""
    pos = skip_ws(data, pos)
    n = len(data)
    if pos >= n:
        raise ValueError("end of file inside an object")
    c = data[pos : pos + 1]
    if data.startswith(b"<<", pos):
        pos += 2
        while True:
            pos = skip_ws(data, pos)
            if data.startswith(b">>", pos):
                return pos + 2
            if pos >= n:
                raise ValueError("unterminated dictionary")
            pos = skip_value(data, pos)
    if c == b"[":
        pos += 1
        while True:
            pos = skip_ws(data, pos)
            if data.startswith(b"]", pos):
                return pos + 1
            if pos >= n:
                raise ValueError("unterminated array")
            pos = skip_value(data, pos)
    if c == b"(":
        depth, pos = 1, pos + 1
        while pos < n and depth:
            ch = data[pos]
            if ch == 0x5C:  # backslash escape
                pos += 2
                continue
            depth += (ch == 0x28) - (ch == 0x29)
            pos += 1
        if depth:
            raise ValueError("unterminated string")
        return pos
    if c == b"<":
        end = data.find(b">", pos)
        if end < 0:
            raise ValueError("unterminated hex string")
        return end + 1
    if c == b"/":
        pos += 1
        while pos < n and data[pos] not in WS and data[pos] not in DELIMS:
            pos += 1
        return pos
    # number, keyword, or indirect reference "n g R"
    m = re.compile(rb"[+\-]?\d+\s+\d+\s+R(?![A-Za-z0-9])").match(data, pos)
    if m:
        return m.end()
    start = pos
    while pos < n and data[pos] not in WS and data[pos] not in DELIMS:
        pos += 1
    if pos == start:
        raise ValueError(f"unexpected byte {data[pos : pos + 1]!r}")
    return pos


def _eol_at(data: bytes, pos: int) -> int:
    """Length of the EOL marker at pos (2 for CRLF, 1 for CR or LF, 0 if none)."""
    if data.startswith(b"\r\n", pos):
        return 2
    if pos < len(data) and data[pos] in b"\r\n":
        return 1
    return 0


_LENGTH = re.compile(rb"/Length(?![0-9A-Za-z_.])\s*(\d+)(?:\s+(\d+)\s+R)?")
_HEADER = re.compile(rb"(\d+)([ \t\r\n\f\0]+)(\d+)([ \t\r\n\f\0]+)obj")


@dataclass
class _Object:
    num: int
    gen: int
    offset: int


def check_bytes(data: bytes, offsets: dict[tuple[int, int], int]) -> list[StructureIssue]:
    issues: list[StructureIssue] = []
    # 6.1.2: header at byte 0, then a binary comment of ≥ 4 bytes > 127
    header = re.match(rb"%PDF-(\d)\.(\d)", data)
    if not header:
        late = re.search(rb"%PDF-\d\.\d", data[:1024])  # ISO 32000 tolerates a header within the first KiB
        issues.append(StructureIssue("6.1.2-1", "file does not start with %PDF-n.m at byte 0", 0, pdfa_only=bool(late)))
    else:
        pos = header.end()
        eol = _eol_at(data, pos)
        if not eol:
            issues.append(StructureIssue("6.1.2-1", "header not followed by a single EOL marker", pos, pdfa_only=True))
        pos += eol
        comment = data[pos : pos + 5]
        if not (comment[:1] == b"%" and len(comment) == 5 and all(b > 127 for b in comment[1:5])):
            issues.append(
                StructureIssue(
                    "6.1.2-2", "no binary comment (% and 4 bytes > 127) after the header", pos, pdfa_only=True
                )
            )
    # 6.1.3: nothing after the last %%EOF but one optional EOL
    last = data.rfind(b"%%EOF")
    if last < 0:
        issues.append(StructureIssue("6.1.3-3", "no %%EOF marker"))
    else:
        tail = data[last + 5 :]
        if tail not in (b"", b"\r\n", b"\n", b"\r"):
            issues.append(
                StructureIssue("6.1.3-3", f"{len(tail)} bytes after the last %%EOF", last + 5, pdfa_only=True)
            )
    issues += _check_xref_tables(data)
    issues += _check_objects(data, offsets)
    issues += _check_linearized_ids(data)
    return issues


_STARTXREF = re.compile(rb"startxref\s+(\d+)")


def _last_startxref(data: bytes) -> re.Match[bytes] | None:
    found = None
    for found in _STARTXREF.finditer(data):  # noqa: B007 - the last one counts
        pass
    return found


_PREV = re.compile(rb"/Prev\s+(\d+)")


def _check_xref_tables(data: bytes) -> list[StructureIssue]:
    issues: list[StructureIssue] = []
    m = _last_startxref(data)
    if m is None:
        return [StructureIssue("6.1.4", "no startxref")]
    seen: set[int] = set()
    todo = [int(m[1])]
    while todo:
        off = todo.pop()
        if off in seen or off >= len(data):
            if off >= len(data):
                issues.append(StructureIssue("6.1.4", f"cross-reference offset {off} is past the end of the file", off))
            continue
        seen.add(off)
        if data[off : off + 1] in (b" ", b"\r", b"\n", b"\t") and not _HEADER.match(data, off):
            ws_end = skip_ws(data, off)
            if data.startswith(b"xref", ws_end):
                issues.append(StructureIssue("6.1.4", f"whitespace before 'xref' at offset {off}", off, severe=False))
                off = ws_end
        if data.startswith(b"xref", off):
            issues += _check_xref_table(data, off)
            trailer = data.find(b"trailer", off)
            if trailer >= 0:
                try:
                    end = skip_value(data, trailer + 7)
                except ValueError:
                    end = trailer + 7
                prev = _PREV.search(data, trailer, end)
                if prev:
                    todo.append(int(prev[1]))
        elif _HEADER.match(data, off):
            # a cross-reference stream; its dictionary may chain to /Prev too
            end = min(len(data), off + 4096)
            prev = _PREV.search(data, off, data.find(b"stream", off, end) if b"stream" in data[off:end] else end)
            if prev:
                todo.append(int(prev[1]))
        else:
            issues.append(
                StructureIssue("6.1.4", f"no cross-reference section at offset {off} given by startxref/Prev", off)
            )
    return issues


_SUBSECTION = re.compile(rb"(\d+)([ \t]+)(\d+)[ \t]*(\r\n|\n|\r)")


def _check_xref_table(data: bytes, off: int) -> list[StructureIssue]:
    issues = []
    pos = off + 4
    eol = _eol_at(data, pos)
    if not eol or (pos + eol < len(data) and data[pos + eol] in WS):
        issues.append(StructureIssue("6.1.4-2", "'xref' not followed by exactly one EOL marker", pos, pdfa_only=True))
    pos = skip_ws(data, pos)
    while pos < len(data) and not data.startswith(b"trailer", pos):
        m = _SUBSECTION.match(data, pos)
        if not m:
            issues.append(StructureIssue("6.1.4", "malformed cross-reference subsection header", pos))
            break
        if m[2] != b" ":
            issues.append(
                StructureIssue("6.1.4-1", "subsection header not separated by a single space", pos, pdfa_only=True)
            )
        count = int(m[3])
        entries = m.end()
        for i in range(count):
            entry = data[entries + 20 * i : entries + 20 * i + 20]
            if not re.fullmatch(rb"\d{10} \d{5} [nf](?: \r| \n|\r\n)", entry):
                issues.append(
                    StructureIssue("6.1.4", f"cross-reference entry {int(m[1]) + i} is not 20 bytes", entries)
                )
                return issues
        pos = skip_ws(data, entries + 20 * count)
    return issues


def _check_objects(data: bytes, offsets: dict[tuple[int, int], int]) -> list[StructureIssue]:
    issues: list[StructureIssue] = []
    lengths: dict[tuple[int, int], int] = {}
    for (num, gen), off in offsets.items():
        m = re.match(rb"(\d+)\s+(\d+)\s+obj\s*(\d+)\s*endobj", data[off : off + 64])
        if m:
            lengths[(num, gen)] = int(m[3])
    for (num, gen), off in sorted(offsets.items(), key=lambda kv: kv[1]):
        where = f"object {num} {gen}"
        m = _HEADER.match(data, off)
        if m is None and data[off : off + 1] in (b" ", b"\r", b"\n"):
            # an xref offset pointing at the whitespace before the object: readers cope; not a 19005 clause
            off = skip_ws(data, off)
            m = _HEADER.match(data, off)
            issues.append(StructureIssue("xref", f"{where}: xref offset points at whitespace", off, severe=False))
        if not m or (int(m[1]), int(m[3])) != (num, gen):
            issues.append(StructureIssue("6.1.8-1", f"{where}: no 'n g obj' header at offset {off}", off))
            continue
        if m[2] != b" " or m[4] != b" ":
            issues.append(
                StructureIssue(
                    "6.1.8-1", f"{where}: numbers and 'obj' not separated by single spaces", off, pdfa_only=True
                )
            )
        if off > 0 and data[off - 1] not in b"\r\n":
            issues.append(
                StructureIssue("6.1.8-1", f"{where}: object number not preceded by an EOL marker", off, pdfa_only=True)
            )
        if not _eol_at(data, m.end()):
            issues.append(
                StructureIssue("6.1.8-1", f"{where}: 'obj' not followed by an EOL marker", m.end(), pdfa_only=True)
            )
        try:
            value_end = skip_value(data, m.end())
        except ValueError as exc:
            issues.append(StructureIssue("6.1.8-1", f"{where}: unreadable object ({exc})", m.end()))
            continue
        pos = skip_ws(data, value_end)
        if data.startswith(b"stream", pos):
            issues += _check_stream(data, where, off, m.end(), value_end, pos, lengths)
            endstream = data.find(b"endstream", pos)
            pos = skip_ws(data, endstream + 9) if endstream >= 0 else pos
        if not data.startswith(b"endobj", pos):
            issues.append(StructureIssue("6.1.8-1", f"{where}: 'endobj' missing", pos))
            continue
        if data[pos - 1] not in b"\r\n":
            issues.append(
                StructureIssue("6.1.8-1", f"{where}: 'endobj' not preceded by an EOL marker", pos, pdfa_only=True)
            )
        after = pos + 6
        if after < len(data) and not _eol_at(data, after):
            issues.append(
                StructureIssue("6.1.8-1", f"{where}: 'endobj' not followed by an EOL marker", after, pdfa_only=True)
            )
    return issues


def _check_stream(
    data: bytes,
    where: str,
    off: int,
    dict_start: int,
    dict_end: int,
    kw: int,
    lengths: dict[tuple[int, int], int],
) -> list[StructureIssue]:
    issues = []
    after = kw + 6
    if data.startswith(b"\r\n", after):
        start = after + 2
    elif data.startswith(b"\n", after):
        start = after + 1
    else:
        issues.append(StructureIssue("6.1.7-2", f"{where}: 'stream' not followed by CRLF or LF", after, pdfa_only=True))
        start = after + (1 if data.startswith(b"\r", after) else 0)
    lm = _LENGTH.search(data, dict_start, dict_end)
    declared: int | None = None
    if lm is not None:
        declared = int(lm[1]) if lm[2] is None else lengths.get((int(lm[1]), int(lm[2])))
    if declared is None:
        return issues  # an indirect /Length in an object stream: qpdf --check covers it
    end = start + declared
    eol = _eol_at(data, end)
    if data.startswith(b"endstream", end + eol) and eol:
        return issues
    if data.startswith(b"endstream", end) and not eol:
        issues.append(
            StructureIssue("6.1.7-2", f"{where}: 'endstream' not preceded by an EOL marker", end, pdfa_only=True)
        )
        return issues
    found = data.find(b"endstream", start)
    if found < 0:
        issues.append(StructureIssue("6.1.7-1", f"{where}: no 'endstream'", start))
        return issues
    real = found - start
    if data[found - 1 : found] in (b"\n", b"\r"):
        real -= 2 if data[found - 2 : found] == b"\r\n" else 1
    else:
        issues.append(
            StructureIssue("6.1.7-2", f"{where}: 'endstream' not preceded by an EOL marker", found, pdfa_only=True)
        )
    if real != declared:
        issues.append(StructureIssue("6.1.7-1", f"{where}: /Length {declared} but the stream has {real} bytes", start))
    return issues


_ID = re.compile(rb"/ID\s*\[\s*(<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\))\s*(<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\))\s*\]")


def _check_linearized_ids(data: bytes) -> list[StructureIssue]:
    """6.1.3-4: in a linearized file the first-page trailer ID equals the last trailer ID."""
    if b"/Linearized" not in data[:2048]:
        return []
    ids = [m.group(0) for m in _ID.finditer(data)]
    if len(ids) >= 2:
        first, last = _ID.match(ids[0]), _ID.match(ids[-1])
        if first and last and re.sub(rb"\s", b"", first[1]) != re.sub(rb"\s", b"", last[1]):
            return [
                StructureIssue("6.1.3-4", "linearized file: first-page and last trailer IDs differ", pdfa_only=True)
            ]
    return []


def _check_trailer_id(data: bytes) -> list[StructureIssue]:
    """6.1.3-1: the last trailer (or xref stream dictionary) has an /ID of two non-empty strings."""
    m = _last_startxref(data)
    if m is None:
        return []
    off = skip_ws(data, int(m[1]))
    start = data.find(b"trailer", off) + 7 if data.startswith(b"xref", off) else off
    if start < 7:
        return []
    header = _HEADER.match(data, start)
    try:
        end = skip_value(data, header.end() if header else start)
    except ValueError:
        return []
    idm = _ID.search(data, start, end)
    if idm is None:
        return [StructureIssue("6.1.3-1", "the last trailer has no /ID", start, pdfa_only=True)]
    if any(re.sub(rb"[\s<>()]", b"", idm[k]) == b"" for k in (1, 2)):
        return [
            StructureIssue("6.1.3-1", "the trailer /ID holds an empty file identifier", idm.start(), pdfa_only=True)
        ]
    return []


def check_structure(path: Path) -> list[StructureIssue]:
    """Every file-structure problem found in the delivered bytes (empty: none found)."""
    data = path.read_bytes()
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        return [StructureIssue("encrypt", "the file is encrypted with a user password")]
    except (pikepdf.PdfError, OSError) as exc:
        return [StructureIssue("qpdf", f"qpdf cannot open the file: {exc}")]
    with pdf:
        issues = qpdf_check(pdf)
        offsets = object_offsets(pdf)
    return issues + check_bytes(data, offsets) + _check_trailer_id(data)
