"""Checks of one PDF as delivered: structure, encryption, active content, embedded files, PDF/A.

PDF/A conformance is pikepdf's allowlist validator (``pikepdf.pdfa.validate_written``) *plus* the
file-syntax rules it leaves to its own writer, checked on the delivered bytes by
:mod:`guidang.validators.pdf_structure`. A file is approved only when both find nothing: on the
veraPDF corpus this approves no "fail" file (see tests/test_pdf_validation.py).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pikepdf
import pikepdf.pdfa as pdfa

from guidang.validators.pdf_structure import StructureIssue, check_structure
from guidang.validators.pdfa_xmp import XmpIssue, as_utf8, check_properties, packet_encoding
from guidang.validators.registry import REGISTRY, check
from guidang.validators.result import Evidence, Finding, Report, Status

log = logging.getLogger(__name__)

PDF_CHECKS = ("PDF-STRUCT", "PDF-ENCRYPT", "PDF-JS", "PDF-ACTION", "PDF-EMBED", "PDF-PDFA")
SUPPORTED_PARTS = ("1b", "2b", "3b")
MAX_LISTED = 20

DANGEROUS_ACTIONS = frozenset({"Launch", "ImportData", "SubmitForm", "RichMediaExecute", "Movie", "Sound", "Rendition"})
REMOTE_ACTIONS = frozenset({"GoToR", "GoToE"})

EXECUTABLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows PE/DOS executable"),
    (b"\x7fELF", "ELF executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O universal / Java class"),
    (b"#!", "script"),
)
EXECUTABLE_SUFFIXES = frozenset(
    {
        ".exe",
        ".dll",
        ".com",
        ".scr",
        ".bat",
        ".cmd",
        ".ps1",
        ".vbs",
        ".js",
        ".jse",
        ".wsf",
        ".msi",
        ".jar",
        ".sh",
    }
)


@dataclass
class PdfSubject:
    """One PDF file and the PDF/A part it is held to (None: the part it claims, else 2b)."""

    path: Path
    part: str | None = None
    relpath: str | None = None  # as shown in evidence (inside a package)
    _pdf: pikepdf.Pdf | None = field(default=None, repr=False)

    @property
    def shown(self) -> str:
        return self.relpath or str(self.path)

    @cached_property
    def structure(self) -> list[StructureIssue]:
        return check_structure(self.path)

    @cached_property
    def open_error(self) -> str | None:
        try:
            with pikepdf.open(self.path):
                return None
        except pikepdf.PasswordError:
            return "password"
        except (pikepdf.PdfError, OSError) as exc:
            return str(exc)

    def open(self) -> pikepdf.Pdf:
        return pikepdf.open(self.path)

    @cached_property
    def xmp(self) -> bytes | None:
        """The catalog's XMP packet as stored (None: none, or unreadable)."""
        try:
            with self.open() as pdf:
                stream = pdf.Root.get("/Metadata")
                return stream.read_bytes() if isinstance(stream, pikepdf.Stream) else None
        except pikepdf.PdfError:
            return None

    @cached_property
    def claimed_part(self) -> str | None:
        """The PDF/A part and conformance declared in XMP (e.g. "2b"), if any."""
        xmp = as_utf8(self.xmp) if self.xmp is not None else None
        if xmp is None:
            return None  # no or unreadable XMP is no claim; PDF-PDFA reports the validator's findings
        part = _XMP_FIELD["part"].search(xmp)
        if part is None:
            return None
        conformance = _XMP_FIELD["conformance"].search(xmp)
        return part[1].decode() + (conformance[1].decode().lower() if conformance else "")


def _ev(
    s: PdfSubject, where: str | None = None, expected: str | None = None, found: str | None = None
) -> tuple[Evidence, ...]:
    return (Evidence(file=s.shown, field=where, expected=expected, found=found),)


def _unreadable(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error is not None and s.open_error != "password":
        yield Finding(Status.FAIL, "unreadable", {"detail": s.open_error}, _ev(s, found=s.open_error))


@check("PDF-STRUCT")
def pdf_structure(s: PdfSubject) -> Iterator[Finding]:
    severe = [i for i in s.structure if i.severe and not i.pdfa_only]
    for issue in severe[:MAX_LISTED]:
        where = f"offset {issue.offset}" if issue.offset is not None else issue.rule
        yield Finding(
            Status.FAIL,
            "broken",
            {"rule": issue.rule, "detail": issue.message},
            _ev(s, where, found=issue.message),
        )
    if len(severe) > MAX_LISTED:
        yield Finding(Status.FAIL, "more", {"count": len(severe) - MAX_LISTED})
    for issue in [i for i in s.structure if not i.severe and not i.pdfa_only][:MAX_LISTED]:
        yield Finding(
            Status.WARN,
            "tolerated",
            {"rule": issue.rule, "detail": issue.message},
            _ev(s, issue.rule, found=issue.message),
        )


@check("PDF-ENCRYPT")
def pdf_encryption(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error == "password":
        yield Finding(Status.FAIL, "password", evidence=_ev(s, "/Encrypt", "none", "user password"))
        return
    if s.open_error is not None:
        return  # PDF-STRUCT reports it
    with s.open() as pdf:
        if pdf.is_encrypted:
            info = pdf.encryption
            method = f"{info.stream_method.name}, R{info.R}"
            yield Finding(Status.FAIL, "encrypted", {"method": method}, _ev(s, "/Encrypt", "none", method))


def _direct_containers(values: Iterable[object]) -> Iterator[pikepdf.Dictionary | pikepdf.Array]:
    for v in values:
        if isinstance(v, pikepdf.Dictionary | pikepdf.Array) and not v.is_indirect:
            yield v


def _objects(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    """(where, dictionary) for every dictionary reachable as an indirect object or nested in one."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            root: pikepdf.Object = obj.stream_dict
        else:
            root = obj
        if not isinstance(root, pikepdf.Dictionary | pikepdf.Array):
            continue
        where = f"obj {obj.objgen[0]} {obj.objgen[1]}" if obj.is_indirect else "trailer"
        stack = [root]
        depth = 0
        while stack and depth < 10000:
            depth += 1
            node = stack.pop()
            if isinstance(node, pikepdf.Dictionary):
                yield where, node
                stack.extend(_direct_containers(node.values()))
            elif isinstance(node, pikepdf.Array):
                stack.extend(_direct_containers(node))


@check("PDF-JS")
def pdf_javascript(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error is not None:
        return
    with s.open() as pdf:
        places = []
        names = pdf.Root.get("/Names")
        if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
            places.append("Names/JavaScript")
        for where, d in _objects(pdf):
            if d.get("/S") == pikepdf.Name.JavaScript or "/JS" in d:
                places.append(where)
        for where in sorted(set(places))[:MAX_LISTED]:
            yield Finding(Status.FAIL, "javascript", {"where": where}, _ev(s, where, "none", "JavaScript"))


@check("PDF-ACTION")
def pdf_actions(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error is not None:
        return
    with s.open() as pdf:
        seen = set()
        for where, d in _objects(pdf):
            action = d.get("/S")
            if not isinstance(action, pikepdf.Name):
                continue
            name = str(action)[1:]
            if (name, where) in seen:
                continue
            seen.add((name, where))
            if name in DANGEROUS_ACTIONS:
                yield Finding(Status.FAIL, "dangerous", {"action": name, "where": where}, _ev(s, where, "none", name))
            elif name in REMOTE_ACTIONS:
                yield Finding(Status.WARN, "remote", {"action": name, "where": where}, _ev(s, where, found=name))


def _executable_kind(name: str, data: bytes) -> str | None:
    for magic, kind in EXECUTABLE_MAGIC:
        if data.startswith(magic):
            return kind
    suffix = Path(name).suffix.lower()
    return f"{suffix} file" if suffix in EXECUTABLE_SUFFIXES else None


@check("PDF-EMBED")
def pdf_embedded(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error is not None:
        return
    with s.open() as pdf:
        seen: set[tuple[int, int]] = set()
        for where, d in _objects(pdf):
            ef = d.get("/EF")
            if not isinstance(ef, pikepdf.Dictionary):
                continue
            name = str(d.get("/UF", d.get("/F", "?")))
            for stream in ef.values():
                if not isinstance(stream, pikepdf.Stream) or stream.objgen in seen:
                    continue
                seen.add(stream.objgen)
                try:
                    head = stream.read_bytes()[:16]
                except pikepdf.PdfError as exc:
                    head = b""
                    log.debug("embedded file of %s unreadable: %s", s.shown, exc)
                kind = _executable_kind(name, head)
                if kind:
                    yield Finding(Status.FAIL, "executable", {"name": name, "kind": kind}, _ev(s, where, "none", name))
                else:
                    yield Finding(Status.WARN, "embedded", {"name": name}, _ev(s, where, found=name))


_RULE_ID = re.compile(r"^ISO_19005_\d:")
# pdfaid:part / pdfaid:conformance as element or attribute (both are valid RDF/XML)
_XMP_FIELD = {
    name: re.compile(rb"pdfaid:" + name.encode() + rb"(?:>\s*|\s*=\s*[\"'])\s*([0-9A-Za-z]+)")
    for name in ("part", "conformance")
}


@check("PDF-PDFA")
def pdf_pdfa(s: PdfSubject) -> Iterator[Finding]:
    if s.open_error is not None:
        if s.open_error != "password":
            yield Finding(Status.FAIL, "unreadable", {"detail": s.open_error}, _ev(s, found=s.open_error))
        else:
            yield Finding(
                Status.FAIL,
                "not_conforming",
                {"part": s.part or "?", "rule": "6.1.3-2", "detail": "encrypted"},
            )
        return
    claimed = s.claimed_part
    part = s.part or (claimed[0] + "b" if claimed and claimed[0] in "123" else "2b")
    if claimed is None:
        yield Finding(Status.FAIL, "no_claim", evidence=_ev(s, "pdfaid:part", part, "none"))
    elif s.part is not None and claimed[0] != s.part[0]:
        yield Finding(
            Status.FAIL,
            "claim_differs",
            {"claimed": claimed, "part": s.part},
            _ev(s, "pdfaid:part", s.part, claimed),
        )
    if part not in SUPPORTED_PARTS:
        part = part[0] + "b"
    broken = [i for i in s.structure if i.severe]
    for issue in broken[:MAX_LISTED]:
        yield Finding(
            Status.FAIL,
            "structure",
            {"part": part, "rule": issue.rule, "detail": issue.message},
            _ev(s, issue.rule, f"PDF/A-{part}", issue.message),
        )
    if broken:
        return  # the file syntax already rules PDF/A out; the object-level validator would add nothing
    problems = _pdfa_problems(s, part)
    for rule, detail, unsupported in problems[:MAX_LISTED]:
        key = "unsupported" if unsupported else "not_conforming"
        yield Finding(
            Status.FAIL,
            key,
            {"part": part, "rule": rule, "detail": detail},
            _ev(s, rule, f"PDF/A-{part}", detail),
        )
    if len(problems) > MAX_LISTED:
        yield Finding(Status.FAIL, "more", {"count": len(problems) - MAX_LISTED})


# the XMP rules on properties and their value types that guidang.validators.pdfa_xmp decides, in place of
# pikepdf.pdfa's narrower allowlist (which knows only a few predefined schemas and no extension schemas)
XMP_PROPERTY_RULES = frozenset({"6.7.9-2", "6.7.9-3", "6.6.2.3.1-1", "6.6.2.3.1-2"})


def _with_utf8_xmp(path: Path, utf8: bytes) -> io.BytesIO:
    """A copy of the file in memory whose catalog XMP is the same packet re-encoded as UTF-8."""
    out = io.BytesIO()
    with pikepdf.open(path) as pdf:
        pdf.Root.Metadata.write(utf8)
        pdf.save(out)
    out.seek(0)
    return out


def _pdfa_problems(s: PdfSubject, part: str) -> list[tuple[str, str, bool]]:
    """(rule, detail, unsupported) for every reason the object-level rules refuse the file."""
    raw = s.xmp
    utf8 = as_utf8(raw) if raw is not None else None
    source: Path | io.BytesIO = s.path
    if raw is not None and utf8 is not None and part[0] == "1" and packet_encoding(raw) != "utf-8":
        # ISO 19005-1 6.7.5 bars only the bytes and encoding attributes; the XMP Specification (2004) it
        # cites lets a packet be UTF-16 or UTF-32: the same packet, as UTF-8, goes through the same rules
        source = _with_utf8_xmp(s.path, utf8)
    report = pdfa.validate_written(source, part)
    mine: list[XmpIssue] | None = check_properties(utf8, int(part[0])) if utf8 is not None else None
    problems = []
    for f in report.findings:
        rule = _RULE_ID.sub("", f.rule)
        if mine is not None and rule in XMP_PROPERTY_RULES:
            continue  # decided below, by the XMP schema tables
        problems.append((rule, f"{f.where}: {f.message}", f.kind == "unsupported"))
    problems += [(i.rule, f"XMP: {i.message}", False) for i in mine or ()]
    return problems


def check_pdf(
    path: Path, part: str | None = None, relpath: str | None = None, ids: tuple[str, ...] = PDF_CHECKS
) -> Report:
    """Run the PDF family on one file."""
    return REGISTRY.run(ids, PdfSubject(path, part, relpath))


def pdfa_approved(path: Path, part: str) -> tuple[bool, list[str]]:
    """(approved, problems) for PDF/A-``part``: what DA/T 70 3-3 and 3-5 ask of a content PDF."""
    report = REGISTRY.run(("PDF-PDFA",), PdfSubject(path, part))
    problems = [r.message_zh for r in report.results if r.status is Status.FAIL]
    return not problems, problems
