"""Write an item's PDF/A: page images embedded losslessly, an invisible OCR text layer,
XMP with the item's title, creator and 档号, an sRGB output intent, and verification.

Every file is written through `pikepdf.pdfa.save`, which prepares the document (output
intent, XMP declaration), writes it to a temporary file, validates what was written
with pikepdf's allow-list validator and only then moves it into place. Anything but an
approval raises `PdfaValidationError` with the findings; nothing is left at *out*.

Parts: ``2b`` (default), ``1b`` (GB/T 18894 cites PDF/A-1, GB/T 23286.1) and ``3b``
(the only part that may carry the metadata XML as an associated file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import pdfa

from guidang import __version__
from guidang.errors import GuidangError, InputError
from guidang.ingest.fonts import CodeMap, make_font
from guidang.ingest.ocr import OcrPage
from guidang.ingest.pdfimages import embed_image
from guidang.ingest.placement import IDENTITY, Matrix, Placement, apply, compose, turn_clockwise
from guidang.ingest.textlayer import FONT_RESOURCE, text_layer

PARTS = ("1b", "2b", "3b")


class PdfaValidationError(GuidangError):
    """The written PDF was not approved as PDF/A; the item fails (findings in the message)."""

    code = "PDFA"

    def __init__(self, part: str, findings: Sequence[str]) -> None:
        listed = "; ".join(findings[:20]) + (f"; … ({len(findings)} in all)" if len(findings) > 20 else "")
        super().__init__(
            f"生成的 PDF 未通过 PDF/A-{part} 校验（pikepdf.pdfa）：{listed}",
            f"the PDF written did not pass PDF/A-{part} validation (pikepdf.pdfa): {listed}",
        )
        self.part = part
        self.findings = tuple(findings)


@dataclass(frozen=True)
class PdfPage:
    """One page: the image as delivered (path or bytes), its OCR (or None), its resolution.

    *dpi* is the resolution of the frame the OCR ran in: by default the OCR's, then the one
    recorded in the image. With a *placement* (the OCR read a turned, deskewed, cropped or
    resized derivative) the master is drawn through it, so the page shows the derivative's
    geometry while the embedded image stays the master's bytes.
    """

    image: Path | bytes
    ocr: OcrPage | None = None
    dpi: float | None = None
    placement: Placement | None = None  # OCR ran on a derivative: how the master maps onto it


@dataclass(frozen=True)
class XmpFields:
    """Descriptive metadata written to XMP (dc:*) and the document information dictionary."""

    title: str
    archival_code: str  # 档号 → dc:identifier
    creator: str | None = None  # 责任者 → dc:creator
    description: str | None = None  # → dc:description
    keywords: str | None = None  # → pdf:Keywords
    language: str = "zh-CN"  # → dc:language
    created: dt.datetime | None = None  # → xmp:CreateDate; default: now


@dataclass(frozen=True)
class Attachment:
    """A file embedded as a PDF/A-3 associated file (e.g. the item's metadata.xml)."""

    name: str
    data: bytes
    mime_type: str = "application/xml"
    description: str = ""
    relationship: str = "Data"  # /AFRelationship: Source, Data, Alternative, Supplement, Unspecified


@dataclass(frozen=True)
class PdfaResult:
    path: Path
    part: str
    pages: int
    size: int
    sha256: str
    image_methods: tuple[str, ...]  # per page, how the image was embedded
    verdict: str  # pikepdf.pdfa's verdict on the written bytes (only "pass" is ever returned)
    prepared: tuple[str, ...] = field(default_factory=tuple)  # what pikepdf.pdfa.prepare changed

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def _check_part(part: str, attachment: Attachment | None) -> None:
    if part not in PARTS:
        raise InputError(
            f"不支持的 PDF/A 部分：{part}（可选 {', '.join(PARTS)}）",
            f"unsupported PDF/A part {part!r} (one of {', '.join(PARTS)})",
        )
    if attachment is not None and part != "3b":
        raise InputError(
            f"嵌入附件（{attachment.name}）需要 PDF/A-3b，当前为 PDF/A-{part}",
            f"embedding a file ({attachment.name}) needs PDF/A-3b, not PDF/A-{part}",
        )


def _frame(page: PdfPage, size: tuple[int, int], number: int) -> tuple[Matrix, tuple[float, float]]:
    """Master pixels → pixels of the upright page the OCR describes, and that page's size."""
    matrix, frame = (page.placement.matrix, page.placement.size) if page.placement else (IDENTITY, size)
    if page.ocr is None:
        return matrix, (float(frame[0]), float(frame[1]))
    if page.ocr.image_size != tuple(frame):
        raise InputError(
            f"第 {number} 页的 OCR 结果（{page.ocr.image_size}）与所读图像尺寸（{frame}）不符",
            f"page {number}: the OCR ({page.ocr.image_size}) does not match the image it read ({frame})",
        )
    turn, upright = turn_clockwise(page.ocr.rotation, *frame)
    return compose(turn, matrix), upright


def _draw_matrix(
    frame: Matrix, image_size: tuple[int, int], page_px: tuple[float, float], dpi: tuple[float, float]
) -> str:
    """The ``cm`` drawing the image's unit square where *frame* puts the master on the page."""
    w, h = image_size
    sx, sy = 72.0 / dpi[0], 72.0 / dpi[1]

    def to_pdf(u: float, v: float) -> tuple[float, float]:
        x, y = apply(frame, u * w, (1 - v) * h)
        return x * sx, (page_px[1] - y) * sy

    (e, f), (x1, y1), (x2, y2) = to_pdf(0, 0), to_pdf(1, 0), to_pdf(0, 1)
    return " ".join(f"{v:.6f}".rstrip("0").rstrip(".") for v in (x1 - e, y1 - f, x2 - e, y2 - f, e, f))


def _set_metadata(pdf: pikepdf.Pdf, xmp: XmpFields | None, part: str) -> None:
    created = (xmp.created if xmp and xmp.created else dt.datetime.now(dt.UTC)).astimezone()
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as meta:
        meta["xmp:CreatorTool"] = f"guidang {__version__}"
        meta["pdf:Producer"] = f"guidang {__version__} (pikepdf {pikepdf.__version__})"
        meta["xmp:CreateDate"] = created.isoformat(timespec="seconds")
        meta["xmp:ModifyDate"] = created.isoformat(timespec="seconds")
        if xmp is not None:
            meta["dc:title"] = xmp.title
            meta["dc:identifier"] = xmp.archival_code
            meta["dc:language"] = [xmp.language]
            if xmp.creator:
                meta["dc:creator"] = [xmp.creator]
            if xmp.description:
                meta["dc:description"] = xmp.description
            if xmp.keywords:
                meta["pdf:Keywords"] = xmp.keywords


def _set_outline(pdf: pikepdf.Pdf, outline: Sequence[tuple[str, int]]) -> None:
    for title, index in outline:
        if not 0 <= index < len(pdf.pages):
            raise InputError(f"书签“{title}”指向不存在的第 {index + 1} 页",
                             f"bookmark {title!r} points to page {index + 1}, which does not exist")
    with pdf.open_outline() as tree:
        tree.root.extend(pikepdf.OutlineItem(title, index) for title, index in outline)
    pdf.Root.PageMode = pikepdf.Name.UseOutlines


def _attach(pdf: pikepdf.Pdf, attachment: Attachment) -> None:
    spec = pikepdf.AttachedFileSpec(
        pdf,
        attachment.data,
        description=attachment.description,
        filename=attachment.name,
        mime_type=attachment.mime_type,
        relationship=pikepdf.Name("/" + attachment.relationship),
    )
    pdf.attachments[attachment.name] = spec
    pdf.Root.AF = pikepdf.Array([spec.obj])


def write_pdfa(
    pages: Sequence[PdfPage],
    out: Path,
    *,
    part: str = "2b",
    xmp: XmpFields | None = None,
    attachment: Attachment | None = None,
    outline: Sequence[tuple[str, int]] = (),
) -> PdfaResult:
    """Write *pages* as one PDF/A file at *out* and verify it; raise `PdfaValidationError` if not approved.

    *outline* gives bookmarks (title, index of the page from 0), e.g. one per document of a volume;
    the file then opens with its bookmarks shown.

    Raises `InputError` for an image that cannot be embedded losslessly or OCR that does not
    belong to its image. An existing *out* is left untouched when anything fails.
    """
    _check_part(part, attachment)
    if not pages:
        raise InputError("没有页面，无法生成 PDF/A", "no pages: nothing to write as PDF/A")
    part_no = int(part[0])
    pdf = pikepdf.new()
    codes = CodeMap()
    layers: list[tuple[pikepdf.Page, bytes]] = []
    methods: list[str] = []
    for number, page in enumerate(pages, start=1):
        image = embed_image(pdf, page.image, part=part_no)
        dpi_x = page.dpi or (page.ocr.dpi if page.ocr else None)
        dpi = (dpi_x, dpi_x) if dpi_x else (None if page.placement else image.dpi)
        if not dpi:
            raise InputError(
                f"第 {number} 页图像未记录分辨率（dpi）",
                f"page {number}: the image records no resolution (dpi)",
            )
        frame, page_px = _frame(page, (image.width, image.height), number)
        draw = f"q {_draw_matrix(frame, (image.width, image.height), page_px, dpi)} cm /Im0 Do Q\n"
        width_pt, height_pt = page_px[0] * 72.0 / dpi[0], page_px[1] * 72.0 / dpi[1]
        text = text_layer(page.ocr, codes, (width_pt, height_pt)) if page.ocr is not None else b""
        pdf_page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=pikepdf.Array([0, 0, round(width_pt, 4), round(height_pt, 4)]),
                Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pdf.make_indirect(image.stream))),
            )
        )
        pdf.pages.append(pdf_page)
        layers.append((pdf.pages[-1], draw.encode("ascii") + text))
        methods.append(image.method)
    font = make_font(pdf, codes.used) if codes.used else None
    for pdf_page, content in layers:
        if font is not None and b" Tf" in content:
            pdf_page.obj.Resources.Font = pikepdf.Dictionary({FONT_RESOURCE: font})
        pdf_page.obj.Contents = pdf.make_stream(content)
    _set_metadata(pdf, xmp, part)
    if outline:
        _set_outline(pdf, outline)
    if attachment is not None:
        _attach(pdf, attachment)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = pdfa.save(pdf, out, part, compress_streams=True)
    except pdfa.PdfaError as exc:
        raise PdfaValidationError(part, [str(f) for f in exc.report.findings]) from exc
    data = out.read_bytes()
    return PdfaResult(
        path=out,
        part=part,
        pages=len(pages),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        image_methods=tuple(methods),
        verdict=report.verdict,
        prepared=tuple(report.prepared.describe()) if report.prepared else (),
    )


def validate_pdfa(path: Path, part: str = "2b") -> tuple[str, tuple[str, ...]]:
    """Verdict and findings of pikepdf's validator on a file guidang wrote (not sound for others' files)."""
    report = pdfa.validate_written(path, part)
    return report.verdict, tuple(str(f) for f in report.findings)
