"""Ingest one born-digital case (办件) from a business system: one case is one item (件).

Order of business:
1. read ``case.json`` / ``办件.json`` (:mod:`guidang.pipeline.case_file`) and list the folder safely;
2. digest every delivered file, identify it by content (PRONOM through pygfried) and check its
   extension (CASE-FORMAT);
3. normalise each file to its preservation copy, keeping the original byte for byte
   (:mod:`guidang.ingest.normalise`, CASE-NORMALISE): a valid PDF/A is kept as it is, other PDFs and
   office documents become a verified PDF/A-2b, a PDF without a text layer (a scan) has its pages read by
   OCR as scans are (the same engine, page runner and PDF/A writer), an OFD is kept (its structure and seal
   digests checked, its text extracted), an image is kept with a PDF/A access copy; signed files are never rewritten;
   encrypted or corrupt files are refused, a conversion that would substitute a font goes to review;
4. the 档号: the case's own, or the next one by the profile's rule;
5. an accepted case becomes one archival package (content: the PDF/A copies joined in the order of the
   materials list, verified again; masters: every original as delivered; metadata with each file's
   格式信息) stored as one OCFL object; anything else is kept whole in the rejected area with its reasons.

The outcome has the ``guidang ingest --json`` shape of a scan batch, with one entry in ``items``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pikepdf
from pikepdf import pdfa
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidang import __version__, names
from guidang.config import OcrOptions, Profile, Settings
from guidang.errors import GuidangError
from guidang.ingest import normalise, pdfraster
from guidang.ingest.ocr import OcrPage
from guidang.ingest.office import SUFFIX_FAMILY, LibreOffice
from guidang.ingest.pdfa import PdfPage
from guidang.ingest.pdftext import extract_text
from guidang.models import CatalogueRow, ItemStatus
from guidang.packaging import aip
from guidang.packaging.archival_code import ArchivalCodeError, allocate, get_rule
from guidang.packaging.domains import retention_code
from guidang.packaging.fixity import digest_file
from guidang.packaging.metadata import Action, ComputerFile, ElectronicAttributes, ProcessEvent, RecordMetadata
from guidang.packaging.metadata_xml import to_xml
from guidang.packaging.ocfl_package import store_package
from guidang.pipeline import indexing
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.case_file import OTHER_KIND, CaseDescription, Material, read_case
from guidang.pipeline.intake import scan_entry
from guidang.pipeline.listing import Entry, list_tree
from guidang.pipeline.lookups import CatalogueDbLookups
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome, Link
from guidang.pipeline.page_pool import TaskRunner, run_tasks
from guidang.pipeline.problems import Problem
from guidang.pipeline.row_checks import db_record
from guidang.pipeline.steps import ImagePageJob, doubtful, gd_checks, image_page_task, ocr_summary, worker_init
from guidang.reports.receipt import receipt_dir, write_receipt
from guidang.storage.catalogue import BatchRow, Catalogue, DecisionRow, FileRow, ItemRow
from guidang.storage.ocfl_store import ObjectExistsError, OcflStore
from guidang.validators.clamav import Scanner
from guidang.validators.dat70 import IntakeRegistration
from guidang.validators.file_checks import check_file
from guidang.validators.formats import FormatId, extension_fits, identify
from guidang.validators.pdf_checks import PdfSubject, pdfa_approved
from guidang.validators.result import CheckResult, Report, Status

log = logging.getLogger(__name__)
AGENT = f"guidang {__version__}"
IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/tiff"})
OFFICE_MIME_WORDS = ("msword", "officedocument", "opendocument", "ms-excel", "ms-powerpoint", "wps", "rtf")


@dataclass
class FileOutcome:
    """One delivered file: what it is, what became of it."""

    relpath: str
    size: int
    sha256: str
    sm3: str
    kind: str
    title: str
    format: FormatId
    route: str = ""  # pdfa-kept | pdf-to-pdfa | pdf-ocr | office-to-pdfa | ofd-kept | image-kept | none
    disposition: str = "review"  # kept | converted | review | rejected (ocr: waiting for the OCR pass)
    preservation: Path | None = None  # the preservation copy (the original itself when kept)
    access: Path | None = None  # a PDF/A access copy (images)
    text: str = ""
    signed: bool = False
    problems: list[Problem] = field(default_factory=list)
    ocr: tuple[OcrPage | None, ...] = ()  # the pages read by OCR (pdf-ocr, image-kept), for the process metadata
    note: str = ""  # what was done, for the process metadata (Chinese)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.relpath, "kind": self.kind, "title": self.title, "size": self.size, "sha256": self.sha256,
            "format": self.format.label(), "puid": self.format.puid, "mime": self.format.mime,
            "route": self.route, "disposition": self.disposition, "signed": self.signed,
            "preservation": self.preservation.name if self.preservation else None,
            "access": self.access.name if self.access else None, "text_chars": len(self.text),
            "ocr_pages": len(self.ocr),
        }  # fmt: skip


def _format_problem(f: FileOutcome, path: Path) -> Problem:
    fid = f.format
    if not fid.identified:
        return Problem.fail("CASE-FORMAT", "unidentified", file=f.relpath, detail=fid.basis or "none")
    params = {"format": fid.label(), "puid": fid.puid, "mime": fid.mime or "?"}
    if not extension_fits(path, fid):
        return Problem.fail("CASE-FORMAT", "extension", file=f.relpath, suffix=path.suffix or "''", **params)
    return Problem.of(Status.PASS, "CASE-FORMAT", "identified", file=f.relpath, **params)


def _is_office(path: Path, fid: FormatId) -> bool:
    return path.suffix.lower() in SUFFIX_FAMILY and (
        any(w in fid.mime for w in OFFICE_MIME_WORDS) or fid.puid.startswith(("fmt/", "x-fmt/"))
    )


def normalise_file(f: FileOutcome, path: Path, out: Path, lo: LibreOffice | None, scratch: Path) -> None:
    """Route one identified file to its preservation copy; the result and its reason go into ``f``."""
    fid, stem = f.format, names.component_or_stand_in(Path(f.relpath).stem)
    copy = out / f"{stem}.pdf"
    try:
        if fid.mime == "application/pdf":
            _pdf(f, path, copy)
        elif fid.mime == "application/ofd":
            _ofd(f, path)
        elif fid.mime in IMAGE_MIMES:  # kept; its access copy is made once the case's OCR pass has read it
            normalise.image_resolution(path)  # refuses a corrupt image before any OCR
            f.route, f.preservation, f.disposition = "image-kept", path, "ocr"
        elif _is_office(path, fid) and lo is not None:
            f.route = "office-to-pdfa"
            done = normalise.office_to_pdfa(path, copy, lo, scratch / stem)
            f.preservation, f.text, f.disposition = done.path, done.text, "converted"
            f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", "converted", file=f.relpath, copy=copy.name))
        else:
            f.route, f.disposition = "none", "review"
            f.problems.append(Problem.fail("CASE-NORMALISE", "unsupported", file=f.relpath, format=fid.label()))
    except (normalise.Unreadable, normalise.NeedsReview) as exc:
        _refused(f, exc)


def _refused(f: FileOutcome, exc: normalise.Unreadable | normalise.NeedsReview) -> None:
    """A file refused (unreadable) or sent to review, with the reason."""
    key = "rejected" if isinstance(exc, normalise.Unreadable) else "review"
    f.disposition = key
    f.problems.append(Problem.fail("CASE-NORMALISE", key, file=f.relpath, detail_zh=exc.message("zh"),
                                   detail_en=exc.message("en"), reason=exc.key))


def _pdf(f: FileOutcome, path: Path, copy: Path) -> None:
    with normalise.open_pdf(path) as pdf:  # refuses encrypted, password-protected, corrupt
        f.signed = normalise.is_signed(pdf)
    claimed = PdfSubject(path).claimed_part
    if claimed and pdfa_approved(path, claimed[0] + "b")[0]:
        f.route, f.disposition, f.preservation = "pdfa-kept", "kept", path
        f.text = extract_text(path)
        f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", "kept", file=f.relpath,
                                     detail=f"已是有效的 PDF/A-{claimed[0]}b"))
        return
    f.route = "pdf-to-pdfa"
    pages, with_text = pdfraster.text_pages(path)
    if len(with_text) < pages:  # pages without a text layer (a scan): read by the case's OCR pass
        f.route = "pdf-ocr"
        if with_text:  # a mixed PDF keeps its text pages: refused before any OCR when they would lose a font
            with normalise.open_pdf(path) as pdf:
                normalise.require_embedded_fonts(pdf)
        f.disposition = "ocr"
        return
    done = normalise.pdf_to_pdfa(path, copy)
    f.preservation, f.text, f.disposition = done.path, done.text, "converted"
    key = "signed" if f.signed else "converted"
    f.problems.append(Problem.of(Status.PASS if not f.signed else Status.WARN, "CASE-NORMALISE", key,
                                 file=f.relpath, copy=copy.name))


# -- scanned PDFs: OCR as scans ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseOcr:
    """How a case's scanned PDFs are read: the profile's OCR engine and languages, the page runner."""

    languages: str
    engine: str
    options: OcrOptions
    run_pages: TaskRunner = run_tasks

    @classmethod
    def of(cls, settings: Settings, profile: Profile | None = None, run_pages: TaskRunner = run_tasks) -> CaseOcr:
        if profile is None:
            return cls(settings.ocr.languages, settings.ocr.engine, settings.ocr, run_pages)
        return cls(settings.ocr_languages(profile), settings.ocr_engine(profile), settings.ocr, run_pages)


def ocr_files(files: list[tuple[Path, FileOutcome]], copies: Path, scratch: Path, setup: CaseOcr) -> None:
    """The pages without text of every PDF waiting for OCR (their images: :mod:`guidang.ingest.pdfraster`) and
    every delivered image, read in one run of the page runner (the local pool or Celery, as scans); then each
    PDF's PDF/A copy, and each image's PDF/A access copy with its text layer."""
    plans: list[tuple[Path, FileOutcome, pdfraster.PagePlan]] = []
    jobs: list[ImagePageJob] = []
    for n, (path, f) in enumerate(files, 1):  # numbered: two folders of a case may hold PDFs of one name
        folder = scratch / "pages" / f"{n:03d}-{names.component_or_stand_in(Path(f.relpath).stem)}"
        try:  # a signed PDF's pages are all rendered: its seal appearances are annotations
            plan = _image_plan(path) if f.route == "image-kept" else pdfraster.page_images(path, folder,
                                                                                          render_all=f.signed)
        except GuidangError as exc:  # pdftoppm failed or is missing, pdfium could not read the text
            _refused(f, normalise.NeedsReview("no_page_images", exc.message("zh"), exc.message("en")))
            continue
        except (pikepdf.PdfError, OSError) as exc:
            _refused(f, normalise.NeedsReview("no_page_images", f"无法取出页面图像：{exc}",
                                              f"the page images cannot be taken: {exc}"))
            continue
        plans.append((path, f, plan))
        jobs += [ImagePageJob(i.path, i.dpi, setup.languages, setup.options.dpi, setup.engine) for i in plan.images]
    results = iter(setup.run_pages(image_page_task, jobs, workers=setup.options.jobs,
                                   attempts=setup.options.page_attempts, initializer=worker_init) if jobs else [])
    for path, f, plan in plans:
        works = [next(results) for _ in plan.images]
        failed = [(i, w) for i, w in zip(plan.images, works, strict=True) if w is None or w.ocr is None]
        for image, work in failed:
            detail = work.error if work is not None and work.error else (
                f"处理该页的工作进程 {setup.options.page_attempts} 次异常退出（崩溃或内存不足）")
            f.problems.append(Problem.fail("INGEST-PAGE", "pdf_page", file=f.relpath, page=image.index + 1,
                                           detail=detail))
        if failed:
            f.disposition = "review"
            continue
        read = [w for w in works if w is not None]
        pages = [PdfPage(w.source, w.ocr, placement=w.placement) for w in read]
        stem = names.component_or_stand_in(Path(f.relpath).stem)
        copy = copies / (f"{stem}.access.pdf" if f.route == "image-kept" else f"{stem}.pdf")
        try:
            if f.route == "image-kept":  # the image is the preservation copy; the PDF/A is for access
                done = normalise.image_to_pdfa(path, copy, pages[0])
                f.access, f.text, f.disposition = done.path, done.text, "kept"
                f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", "access_copy", file=f.relpath,
                                             copy=copy.name))
            else:
                done = normalise.scanned_pdf_to_pdfa(path, pages, plan, copy, signed=f.signed)
                f.preservation, f.text, f.note, f.disposition = done.path, done.text, done.note, "converted"
        except (normalise.Unreadable, normalise.NeedsReview) as exc:
            _refused(f, exc)
            continue
        f.ocr = tuple(w.ocr for w in read)
        _ocr_findings(f, plan, copy.name, setup.options)


def _image_plan(path: Path) -> pdfraster.PagePlan:
    """A delivered image as a one-page plan: the image itself is the page the OCR reads."""
    image = pdfraster.PageImage(0, path, normalise.image_resolution(path), "delivered")
    return pdfraster.PagePlan(page_count=1, text_pages=(), images=(image,))


def _ocr_findings(f: FileOutcome, plan: pdfraster.PagePlan, copy: str, options: OcrOptions) -> None:
    engines = "、".join(sorted({p.engine for p in f.ocr if p}))
    languages = "、".join(sorted({p.languages for p in f.ocr if p}))
    key = "ocr_image" if f.route == "image-kept" else "ocr_mixed" if plan.text_pages else "ocr"
    f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", key, file=f.relpath, pages=len(plan.images),
                                 text_pages=len(plan.text_pages), engine=engines, languages=languages, copy=copy))
    if f.signed:
        f.problems.append(Problem.warn("CASE-NORMALISE", "signed", file=f.relpath, copy=copy))
    for image, page in zip(plan.images, f.ocr, strict=True):  # the scans' rule: a warning, never a rejection
        figures = doubtful(page, options)
        if figures is not None:
            f.problems.append(Problem.warn("INGEST-OCR", "low_confidence_page", None, f.relpath,
                                           page=image.index + 1, **figures))


def _ofd(f: FileOutcome, path: Path) -> None:
    f.route = "ofd-kept"
    report = check_file(path, shown=f.relpath)  # FILE-FORMAT and FILE-OFD: structure, encryption, seal digests
    failures = [r for r in report.results if r.status is Status.FAIL]
    if failures:  # broken, encrypted, oversized or with seal digests that do not match: refused, with why
        raise normalise.Unreadable("ofd_invalid", "；".join(r.message_zh for r in failures[:3]),
                                   "; ".join(r.message_en for r in failures[:3]))
    f.text = normalise.ofd_text(path)
    f.preservation, f.disposition = path, "kept"
    f.signed = any(r.status is Status.WARN and r.check_id == "FILE-OFD" for r in report.results)
    f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", "kept", file=f.relpath, detail="OFD（GB/T 33190）"))
    f.problems.append(Problem.of(Status.PASS, "CASE-NORMALISE", "no_access_copy", file=f.relpath,
                                 chars=len(f.text)))


# -- the case as a whole ------------------------------------------------------------------------------------------
@dataclass
class CaseWork:
    root: Path
    description: CaseDescription
    files: list[FileOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    code: str = ""
    checks: list[CheckResult] = field(default_factory=list)  # DA/T 70 at GD on the case's package

    @property
    def all_problems(self) -> list[Problem]:
        return [*self.description.problems, *self.problems, *(p for f in self.files for p in f.problems)]

    @property
    def results(self) -> tuple[CheckResult, ...]:
        """Every finding of the case: intake, each file's, and the DA/T 70 checks of its package."""
        return (*(p.result() for p in self.all_problems), *self.checks)

    @property
    def blocked(self) -> bool:
        return any(p.finding.status is Status.FAIL for p in self.all_problems)


def read_files(root: Path, description: CaseDescription) -> tuple[list[tuple[Path, FileOutcome]], list[Problem]]:
    listing = list_tree(root)
    problems = [Problem.fail("INTAKE-UNSAFE", u.kind, file=u.relpath, detail=u.detail) for u in listing.unsafe]
    listed: dict[str, Material] = {m.file: m for m in description.materials}
    found: list[tuple[Path, FileOutcome]] = []
    skip = {description.path.name if description.path else "", "READY"}
    for entry in listing.files:
        if entry.relpath in skip:
            continue
        material = listed.get(entry.relpath)
        if material is None and description.materials:
            problems.append(Problem.warn("CASE-JSON", "unlisted", file=entry.relpath))
        d = digest_file(entry.path)
        found.append((entry.path, FileOutcome(
            entry.relpath, d.size, d.sha256, d.sm3, material.kind if material else OTHER_KIND,
            material.title if material else "", identify(entry.path))))
    present = {f.relpath for _, f in found}
    problems += [Problem.fail("CASE-JSON", "material_missing", file=m.file) for m in description.materials
                 if m.file not in present]
    if not found:
        problems.append(Problem.fail("CASE-JSON", "no_files"))
    order = {m.file: i for i, m in enumerate(description.materials)}
    found.sort(key=lambda pf: (order.get(pf[1].relpath, len(order)), pf[1].relpath))
    return found, problems


class NoCode(Exception):
    """No 档号 given, and the rule's parts cannot be found in the case to allocate one."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.finding.key)
        self.problem = problem


def archival_code(row: CatalogueRow, profile: Profile, settings: Settings, session: Session) -> str:
    """The case's 档号, or the next one by the profile's rule, numbered in ``session``: committed with the
    archiving, rolled back with a failure, so that archived records have no gaps or repeats."""
    if row.archival_code:
        return row.archival_code
    rule = get_rule(profile.archival_code_rule, settings.archival_code_rules)
    year = next((v[:4] for v in (row.date, row.completed_at, row.accepted_at) if v and v[:4].isdigit()), None)
    retention = retention_code(row.retention, legacy=True) if row.retention else None
    missing = [n for n, v in (("年度/date", year), ("保管期限/retention", retention)) if not v]
    if missing:
        raise NoCode(Problem.fail("CASE-JSON", "no_code", rule=rule.name, missing="、".join(missing)))
    parts = {"全宗号": profile.fonds_code, "门类": "WS", "年度": year, "保管期限": retention}
    try:
        return allocate(rule, parts, session).text
    except ArchivalCodeError as exc:
        raise NoCode(Problem.fail("CASE-JSON", "no_code", rule=rule.name, missing=str(exc))) from exc


def _joined_pdfa(copies: list[Path], out: Path) -> Path:
    """The PDF/A copies as one PDF/A-2b (the item's content file), verified by pikepdf.pdfa.save."""
    joined = pikepdf.new()
    for c in copies:
        with pikepdf.open(c) as src:
            joined.pages.extend(src.pages)
    pdfa.save(joined, out, normalise.PART, compress_streams=True)
    return out


def _computer_files(work: CaseWork, system: str, content: Path, text: tuple[str, int]) -> list[ComputerFile]:
    """电子属性 of every file of the package: the preservation copy (主文档, ``content/<档号>.pdf|.ofd``), its
    text, then each original as delivered, with the system it was formed in (信息系统描述, required of
    born-digital records)."""
    ofd = content.suffix.lower() == ".ofd"
    content_format = ("格式名称：OFD（GB/T 33190-2016），MIME媒体类型：application/ofd" if ofd
                      else f"格式名称：PDF/A-{normalise.PART}，MIME媒体类型：application/pdf")
    out = [
        ComputerFile(role="主文档", electronic=ElectronicAttributes(
            format_info=content_format, file_name=f"{work.code}{'.ofd' if ofd else '.pdf'}",
            file_size=content.stat().st_size, creating_application=system if ofd else AGENT,
            system_description=system)),
        ComputerFile(role="附属文档", electronic=ElectronicAttributes(
            format_info="格式名称：纯文本（UTF-8，从各材料提取的文字），MIME媒体类型：text/plain", file_name=text[0],
            file_size=text[1], creating_application=AGENT, system_description=system)),
    ]
    for f in work.files:
        fmt = f"格式名称：{f.format.label()}，PRONOM：{f.format.puid}，MIME媒体类型：{f.format.mime or '不详'}"
        out.append(ComputerFile(role="附属文档", electronic=ElectronicAttributes(
            format_info=fmt, file_name=Path(f.relpath).name, file_size=f.size,
            creating_application=system, system_description=system)))
    return out


def _file_events(f: FileOutcome, now: dt.datetime) -> list[ProcessEvent]:
    """What was done to one file: its OCR (engine and version, pages, languages, as for scans), its copy."""
    events = []
    if f.ocr:
        events.append(ProcessEvent(action=Action.OCR, time=now, agent=AGENT,
                                   description=f"{f.relpath}：{ocr_summary(f.ocr)}"))
    note = f"：{f.note}" if f.note else ""
    events.append(ProcessEvent(action=Action.CONVERTED, time=now, agent=AGENT,
                               description=f"{f.relpath}：{f.route}（原件保留不变）{note}"))
    return events


def _content(work: CaseWork, item_dir: Path) -> Path:
    """The case's preservation copy: its PDF/A copies joined in the materials' order; or, for a case whose only
    fixed-layout material is one OFD (GB/T 33190, kept as delivered), that OFD."""
    copies = [f.access or f.preservation for f in work.files if f.disposition in ("kept", "converted")]
    pdfs = [c for c in copies if c is not None and c.suffix.lower() == ".pdf"]
    ofds = [f.preservation for f in work.files
            if f.route == "ofd-kept" and f.disposition == "kept" and f.preservation is not None]
    item_dir.mkdir(parents=True, exist_ok=True)
    if pdfs:
        return _joined_pdfa(pdfs, names.child(item_dir, f"{work.code}.pdf", max_bytes=names.ARCHIVAL_CODE_MAX_BYTES))
    if len(ofds) == 1:
        return ofds[0]
    if ofds:
        raise normalise.NeedsReview(
            "no_pdf", f"办件有 {len(ofds)} 个 OFD 而无可形成 PDF/A 的材料，无法合成一个保存副本，须人工处理",
            f"the case has {len(ofds)} OFDs and no material that gives a PDF/A: several OFDs cannot be joined "
            "into one preservation copy here; review")
    raise normalise.NeedsReview("no_pdf", "办件没有可形成保存副本（PDF/A 或 OFD）的材料，须人工处理",
                                "the case has no material that gives a preservation copy (PDF/A or OFD): review")


def build_case_package(settings: Settings, profile: Profile, work: CaseWork, item_dir: Path,
                       received: dt.datetime) -> tuple[Path, RecordMetadata]:
    """The case's archival package under ``item_dir`` (its 档号 already in ``work.code``) and its metadata, which
    says the record was born digital (形成方式 原生电子: the DA/T 70 rules about scans do not apply)."""
    row = work.description.row
    assert row is not None
    row = row.model_copy(update={"archival_code": work.code})
    content = _content(work, item_dir)
    now = dt.datetime.now(dt.UTC)
    events = [
        ProcessEvent(action=Action.RECEIVED, time=received, agent=AGENT,
                     description=f"接收{profile.vendor}在线归档的办件 {row.case_number}，{len(work.files)} 个文件"),
        *(event for f in work.files for event in _file_events(f, now)),
        ProcessEvent(action=Action.PACKAGED, time=now, agent=AGENT, description="生成归档信息包"),
    ]
    rule = get_rule(profile.archival_code_rule, settings.archival_code_rules)
    text = "\f".join(f.text for f in work.files).encode("utf-8")
    system = f"业务系统：{profile.vendor}（在线归档）"
    files = _computer_files(work, system, content, (f"{work.code}.txt", len(text)))
    meta = RecordMetadata.from_catalogue(
        row, rule, archive_name=profile.archive_name or None, fonds_name=profile.fonds_name or None,
        unit_name=profile.unit_name or None, files=files, events=events, language="汉语", origin="原生电子")
    masters = [work.root / f.relpath for f in work.files]
    root = aip.build_package(item_dir / "package", code=work.code, pdf=content, text=text, masters=masters,
                             metadata_xml=to_xml(meta)).root
    return root, meta


def process_case(settings: Settings, root: Path, out: Path, scanner: Scanner | None = None,
                 ocr: CaseOcr | None = None) -> CaseWork:
    """Steps 1–3 for one case folder; everything made goes under ``out``. With ``scanner`` every delivered
    file is scanned for viruses first (DA/T 70 4-2, as for scan batches); an infected file is refused.
    ``ocr``: how scanned PDFs are read (default: the settings' engine and languages, the local pool)."""
    work = CaseWork(root, read_case(root))
    files, problems = read_files(root, work.description)
    work.problems += problems
    if scanner is not None:
        clean = []
        for path, f in files:
            entry = Entry(path, f.relpath, f.size, is_dir=False)
            virus = scan_entry(entry, None, scanner)
            if virus is not None:
                f.disposition = "rejected"
                f.problems.append(virus)
                work.files.append(f)
            else:
                clean.append((path, f))
        files = clean
    lo = LibreOffice.find(out / "lo", tuple(settings.fonts_dirs)) if _needs_office(files) else None
    copies = out / "copies"
    copies.mkdir(parents=True, exist_ok=True)
    for path, f in files:
        f.problems.append(_format_problem(f, path))
        if f.format.identified:
            normalise_file(f, path, copies, lo, out / "scratch")
        else:
            f.disposition = "rejected"
        work.files.append(f)
    scanned = [(path, f) for path, f in files if f.disposition == "ocr"]
    if scanned:
        ocr_files(scanned, copies, out / "scratch", ocr or CaseOcr.of(settings))
    return work


def _needs_office(files: list[tuple[Path, FileOutcome]]) -> bool:
    return any(_is_office(p, f.format) for p, f in files)


# -- catalogue, store, receipt ------------------------------------------------------------------------------------
def ingest_case(settings: Settings, profile_name: str, case_dir: Path, *,
                run_pages: TaskRunner = run_tasks) -> BatchOutcome:
    """Process one case folder: archived as one object, or kept whole for review with its reasons.
    ``run_pages`` runs the OCR of scanned PDFs' pages (the local pool, or a distributed back end)."""
    settings.profile(profile_name)  # a bad profile is refused before any daemon starts
    with open_scanner(settings) as scanner:
        return _ingest_case(settings, profile_name, case_dir, scanner, run_pages)


def _ingest_case(settings: Settings, profile_name: str, case_dir: Path, scanner: Scanner | None,
                 run_pages: TaskRunner) -> BatchOutcome:
    profile = settings.profile(profile_name)
    cat = Catalogue(settings.db_url)
    received = dt.datetime.now(dt.UTC)
    with cat.session() as s:
        earlier = cat.batches_named(s, profile_name, case_dir.name)
        batch = BatchRow(profile=profile_name, vendor=profile.vendor, name=case_dir.name, content_digest="",
                         delivery=len(earlier) + 1, status="processing", source_path=str(case_dir))
        s.add(batch)
        s.flush()
        batch_id, delivery = batch.id, batch.delivery
    out = settings.work_root / f"case-{batch_id}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    duplicate_of: Link | None = None
    try:
        work = process_case(settings, case_dir, out, scanner, CaseOcr.of(settings, profile, run_pages))
        archived = _archived_case(cat, profile_name, work, batch_id)
        if archived is not None and archived[0]:
            status, object_id, where, duplicate_of = ItemStatus.DUPLICATE, archived[1].object_id, None, archived[1]
            work.code = archived[1].object_id or ""
        else:
            status, object_id, where = _decide(settings, cat, profile_name, work, out, received, batch_id,
                                               scanner)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    row = work.description.row
    results = work.results
    item = ItemOutcome(code=work.code or (row.case_number or "" if row else ""), title=row.title if row else "",
                       status=status, results=results, object_id=object_id, rejected_path=where,
                       pages=0, bytes=sum(f.size for f in work.files), row=1, folder=case_dir.name,
                       duplicate_of=duplicate_of)
    outcome = CaseOutcome(batch_id=batch_id, name=case_dir.name, profile=profile_name, vendor=profile.vendor,
                          delivery=delivery, content_digest=_digest(work), status="done", source=str(case_dir),
                          items=(item,), received_at=received, finished_at=dt.datetime.now(dt.UTC),
                          case_number=row.case_number if row else None, files=tuple(work.files))
    paths = write_receipt(receipt_dir(settings.outbox_root, profile_name, outcome), outcome)
    outcome = replace(outcome, receipt_paths=tuple(str(p) for p in paths))
    _record(cat, outcome, work)
    if status is ItemStatus.ACCEPTED and object_id:  # its text (OCR or born digital) searchable, as for scans
        indexing.keep_in_step(cat, OcflStore(settings.store_root), object_id)
    log.info("办件 case %s: %s (%s)", case_dir.name, status, object_id or where)
    return outcome


def _archived_case(cat: Catalogue, profile: str, work: CaseWork, batch_id: int) -> tuple[bool, Link] | None:
    """An archived case of the profile with the same 办件编号: (same content?, its item), or None.

    The same content is the same case posted again: its first result stands. Other content under the
    same 办件编号 is refused (CASE-REPEAT conflict), never a second record."""
    row = work.description.row
    if row is None or not row.case_number:
        return None
    digest = _digest(work)
    with cat.session() as s:
        item = first_archived(s, profile, row.case_number, other_than_batch=batch_id)
        if item is None:
            return None
        link = Link(item.id, item.batch_id, item.batch.name, item.status, item.object_id)
        same = item.batch.content_digest == digest
        key = "archived" if same else "conflict"
        problem = (Problem.warn if same else Problem.fail)(
            "CASE-REPEAT", key, case_number=row.case_number, batch_id=item.batch_id, code=item.object_id)
        work.problems.append(problem)
        return same, link


def first_archived(session: Session, profile: str, case_number: str, *,
                   other_than_batch: int | None = None) -> ItemRow | None:
    """The profile's first accepted item of this 办件编号 (outside ``other_than_batch``): what a case posted
    again is compared with, by its batch's content digest."""
    query = select(ItemRow).join(BatchRow).where(ItemRow.case_number == case_number, BatchRow.profile == profile,
                                                 ItemRow.status == ItemStatus.ACCEPTED)
    if other_than_batch is not None:
        query = query.where(BatchRow.id != other_than_batch)
    return session.scalars(query.order_by(ItemRow.id)).first()


def content_digest(files: Iterable[tuple[str, str]], description: bytes | None) -> str:
    """A delivered case's identity: each file's path and SHA-256, and the description's bytes. The same case
    posted again has the same digest (its first result stands); other content under its 办件编号 has another."""
    h = hashlib.sha256()
    for relpath, sha256 in sorted(files):
        h.update(f"{relpath}\0{sha256}\n".encode())
    if description is not None:
        h.update(description)
    return h.hexdigest()


def _digest(work: CaseWork) -> str:
    description = work.description.path.read_bytes() if work.description.path is not None else None
    return content_digest(((f.relpath, f.sha256) for f in work.files), description)


class ChecksFailed(Exception):
    """The case's package failed DA/T 70 at GD: nothing is archived, the 档号 is rolled back."""


def intake_registration(work: CaseWork) -> IntakeRegistration:
    """What was measured of each delivered file when the case was read, before any processing, keyed by its
    place in the package (``masters/<name>``): what 1-14, 2-1 and 2-2 compare the package with."""
    return IntakeRegistration(digests={f"{aip.MASTERS_DIR}/{Path(f.relpath).name}": f.sha256 for f in work.files},
                              total_bytes=sum(f.size for f in work.files), vendor_manifest=False)


def check_case_package(settings: Settings, profile: Profile, work: CaseWork, package: Path, meta: RecordMetadata,
                       lookups: CatalogueDbLookups, scanner: Scanner | None) -> Report:
    """DA/T 70 at GD on the case's package, as for every scanned item (steps.gd_checks); findings go into
    ``work.checks``."""
    row = work.description.row
    assert row is not None
    rule = get_rule(profile.archival_code_rule, settings.archival_code_rules)
    report = gd_checks(settings, profile, package, meta, lookups=lookups, scanner=scanner, part=normalise.PART,
                       rule=rule, record=db_record(row.model_copy(update={"archival_code": work.code})),
                       intake=intake_registration(work))
    work.checks = list(report.results)
    return report


def _decide(settings: Settings, cat: Catalogue, profile_name: str, work: CaseWork, out: Path,
            received: dt.datetime, batch_id: int, scanner: Scanner | None) -> tuple[ItemStatus, str | None, str | None]:
    """Step 4 and 5: the 档号, the package, its DA/T 70 checks and the archiving, in one transaction; else the
    case is kept for review."""
    profile = settings.profile(profile_name)
    row = work.description.row
    if row is not None and not work.blocked:
        try:
            with cat.session() as s:  # the 档号 is committed with the archiving, or not at all
                work.code = archival_code(row, profile, settings, s)
                cat.log(s, AGENT, "case.received", work.code, batch_id=batch_id, case_number=row.case_number,
                        files=len(work.files))
                package, meta = build_case_package(settings, profile, work, out / "item", received)
                report = check_case_package(settings, profile, work, package, meta, CatalogueDbLookups(cat, s),
                                            scanner)
                if not report.accepted:
                    raise ChecksFailed
                store = OcflStore(settings.store_root)
                stored = store_package(store, package, work.code, agent=AGENT, message="归档 archived (case)")
            return ItemStatus.ACCEPTED, stored.code, None
        except ChecksFailed:
            pass  # the failed checks are in work.checks
        except NoCode as exc:
            work.problems.append(exc.problem)
        except normalise.NeedsReview as exc:
            work.problems.append(Problem.fail("CASE-NORMALISE", "review", file=work.root.name,
                                              detail_zh=exc.message("zh"), detail_en=exc.message("en")))
        except ObjectExistsError:
            work.problems.append(Problem.fail("INGEST-STORE", "exists", code=work.code))
        except (GuidangError, pdfa.PdfaError, OSError) as exc:
            detail = exc.message("zh") if isinstance(exc, GuidangError) else str(exc)
            work.problems.append(Problem.fail("INGEST-PACKAGE", "failed", detail=detail))
    if row is not None and not row.archival_code:
        work.code = ""  # an allocated number was rolled back with the failure: it names nothing
    return ItemStatus.REJECTED, None, str(_keep(settings, profile_name, work, batch_id))


def _keep(settings: Settings, profile_name: str, work: CaseWork, batch_id: int) -> Path:
    """The case folder copied whole (every original byte for byte), with the reasons, for review."""
    base = names.child(settings.rejected_root, profile_name)
    base.mkdir(parents=True, exist_ok=True)
    dest = names.child(base, f"{names.component_or_stand_in(work.root.name)}~case{batch_id}")
    shutil.copytree(work.root, dest / "delivered", symlinks=True)
    reasons = {"case": work.root.name, "results": [r.as_dict() for r in work.results],
               "files": [f.as_dict() for f in work.files]}
    (dest / "reasons.json").write_text(json.dumps(reasons, ensure_ascii=False, indent=2), "utf-8")
    return dest


def _record(cat: Catalogue, outcome: CaseOutcome, work: CaseWork) -> None:
    item = outcome.items[0]
    with cat.session() as s:
        batch = s.get(BatchRow, outcome.batch_id)
        assert batch is not None
        batch.status, batch.content_digest = outcome.status, outcome.content_digest
        batch.summary, batch.finished_at = outcome.summary, outcome.finished_at
        batch.receipt_path = outcome.receipt_paths[0] if outcome.receipt_paths else None
        row = ItemRow(batch_id=outcome.batch_id, archival_code=item.code, title=item.title,
                      row=work.description.row.model_dump() if work.description.row else {},
                      status=item.status, page_count=0, byte_count=item.bytes, object_id=item.object_id,
                      case_number=outcome.case_number,
                      rejected_path=item.rejected_path, failed_checks=item.failed_checks)
        row.files = [FileRow(role="master", relpath=f.relpath, size=f.size, sha256=f.sha256, sm3=f.sm3)
                     for f in work.files]
        row.decisions.append(DecisionRow(status=item.status, failed_checks=item.failed_checks,
                                         reason="automatic checks (case)", agent=AGENT))
        s.add(row)
        cat.log(s, AGENT, "case.finished", outcome.name, batch_id=outcome.batch_id, status=str(item.status),
                case_number=outcome.case_number)


@dataclass(frozen=True)
class CaseOutcome(BatchOutcome):
    """A batch outcome whose one item is a case; ``as_dict`` adds ``case_number`` and each file's path."""

    case_number: str | None = None
    files: tuple[FileOutcome, ...] = ()

    def as_dict(self) -> dict[str, object]:
        data = super().as_dict()
        items = data.get("items")
        if isinstance(items, list) and items:
            items[0] = {**items[0], "case_number": self.case_number, "files": [f.as_dict() for f in self.files]}
        return data

    @property
    def report(self) -> Report:
        return Report(self.items[0].results if self.items else ())
