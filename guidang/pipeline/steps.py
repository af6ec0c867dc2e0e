"""The steps of ingest for the items of one batch, over explicit, picklable job objects.

The heavy unit is one page: prepare its derivative and OCR it (:func:`page_task`), run in a
process pool with Tesseract limited to one thread. An item is then assembled (PDF/A, metadata XML,
package, DA/T 70 checks, stage GD) and archived by one item task (``packing.pack_task``). Every step
returns what it made and what it found; nothing here decides where files finally go (see ``packing``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from guidang import __version__, names
from guidang.config import OcrOptions, Profile, Settings
from guidang.errors import GuidangError, InputError
from guidang.ingest.ocr import OcrPage, document_text
from guidang.ingest.ocr_engines import engine_for
from guidang.ingest.ocr_scan import ocr_prepared
from guidang.ingest.pdfa import PdfaValidationError, PdfPage, XmpFields, write_pdfa
from guidang.ingest.placement import Placement
from guidang.ingest.prepare import ImageOperation, prepare_page
from guidang.ingest.scanqa.inspect import PageMeasurement, inspect_batch
from guidang.ingest.scanqa.metadata import COLOUR_MODE_ZH
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.models import Item, ItemStatus
from guidang.packaging import aip
from guidang.packaging.archival_code import ArchivalCodeRule, get_rule, volume_rule
from guidang.packaging.metadata import (
    Action,
    ComputerFile,
    DigitisationAttributes,
    ElectronicAttributes,
    ProcessEvent,
    RecordMetadata,
)
from guidang.packaging.metadata_xml import to_xml
from guidang.packaging.ocfl_package import package_digests, store_package
from guidang.pipeline import volume_package
from guidang.pipeline.copies import replicate
from guidang.pipeline.intake import BatchIntake
from guidang.pipeline.lookups import CatalogueDbLookups
from guidang.pipeline.outcome import ItemOutcome, document_outcomes
from guidang.pipeline.page_pool import TaskRunner, run_tasks
from guidang.pipeline.problems import Problem
from guidang.pipeline.progress import QUIET, Progress
from guidang.pipeline.row_checks import db_record
from guidang.pipeline.volumes import Volume
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import ObjectExistsError, OcflStore
from guidang.validators.clamav import Scanner
from guidang.validators.dat70 import Dat70Context, IntakeRegistration, run_dat70
from guidang.validators.result import CheckResult, Report, Status
from guidang.validators.scan_checks import BatchContext, ScanItemSubject, batch_context, run_scan_checks
from guidang.validators.spec import Stage

log = logging.getLogger(__name__)
AGENT = f"guidang {__version__}"


@dataclass(frozen=True)
class StoredFile:
    """A file recorded in the catalogue DB for an item."""

    role: str  # master | pdf | text | metadata | report
    relpath: str
    size: int
    sha256: str
    sm3: str


@dataclass(frozen=True)
class PageJob:
    source: Path
    measurement: PageMeasurement
    options: ScanQAOptions
    languages: str
    ocr_dpi: float | None
    engine: str = "tesseract"  # ocr.engine: "ppocr" or "tesseract" (guidang.ingest.ocr_engines)


@dataclass(frozen=True)
class PageWork:
    """One page read: OCR of its prepared derivative, and how the untouched master maps onto it."""

    source: Path
    ocr: OcrPage | None
    placement: Placement | None = None
    operations: tuple[ImageOperation, ...] = ()
    error: str | None = None
    blank: bool = False


@dataclass
class ItemWork:
    """One item's state through the steps: its findings and what was built for it."""

    item: Item
    results: list[CheckResult] = field(default_factory=list)
    measurements: tuple[PageMeasurement, ...] = ()
    pages: list[PageWork] = field(default_factory=list)
    package_dir: Path | None = None
    volume: Volume | None = None  # the item is a volume (案卷): its documents (pipeline/volumes.py)
    # checks an archivist overrode (review desk): their failures are kept as non-blocking warnings
    overrides: frozenset[str] = frozenset()
    review_events: list[ProcessEvent] = field(default_factory=list)  # go into the process metadata

    @property
    def code(self) -> str:
        return self.item.archival_code

    @property
    def accepted(self) -> bool:
        return self.package_dir is not None and not Report(tuple(self.results)).failures

    @property
    def blocked(self) -> bool:
        return bool(Report(tuple(self.results)).failures)

    def add(self, report: Report) -> None:
        self.results.extend(replace(r, blocking=False, status=Status.WARN)
                            if r.check_id in self.overrides and r.status is Status.FAIL else r
                            for r in report.results)

    def outcome(self, status: ItemStatus, *, object_id: str | None = None,
                rejected_path: str | None = None) -> ItemOutcome:
        return ItemOutcome(
            code=self.code, title=self.item.row.title, status=status, results=tuple(self.results),
            object_id=object_id, rejected_path=rejected_path, pages=len(self.item.pages),
            bytes=sum(p.size for p in self.item.pages), documents=document_outcomes(self.volume),
        )

    def delivered_files(self) -> list[StoredFile]:
        return [StoredFile("master", p.relpath, p.size, p.sha256, p.sm3) for p in self.item.pages]


def page_task(job: PageJob) -> PageWork:
    """Prepare the derivative of one page in memory and OCR it (runs in a worker process)."""
    m = job.measurement
    if m.blank:  # bleed-through makes Tesseract read text that is not there: no text layer
        return PageWork(job.source, None, None, blank=True)

    def read() -> PageWork:
        if m.header is None:
            raise InputError(f"无法读取 {job.source.name}", f"cannot read {job.source.name}")
        prepared = prepare_page(job.source, m, job.options, grey=True)
        ocr, placement = ocr_prepared(prepared.image, prepared.dpi or m.dpi, prepared.operations,
                                      (m.header.width, m.header.height), job.languages, ocr_dpi=job.ocr_dpi,
                                      engine=engine_for(job.engine, job.languages))
        return PageWork(job.source, ocr, placement, prepared.operations)

    return _guarded(job.source, read)


@dataclass(frozen=True)
class ImagePageJob:
    """A page image read as it is, without the scans' preparation: a page of a born-digital PDF without a
    text layer (:mod:`guidang.ingest.pdfraster`), at ``dpi``."""

    source: Path
    dpi: float
    languages: str
    ocr_dpi: float | None
    engine: str = "tesseract"


def image_page_task(job: ImagePageJob) -> PageWork:
    """OCR one page image as it is (runs in a worker process, as :func:`page_task`)."""

    def read() -> PageWork:
        with Image.open(job.source) as im:
            grey = np.asarray(im.convert("L"))
        ocr, placement = ocr_prepared(grey, job.dpi, (), (grey.shape[1], grey.shape[0]), job.languages,
                                      ocr_dpi=job.ocr_dpi, engine=engine_for(job.engine, job.languages))
        return PageWork(job.source, ocr, placement)

    return _guarded(job.source, read)


def _guarded(source: Path, read: Callable[[], PageWork]) -> PageWork:
    """``read()``, or a page that records why it failed: one bad page must not take the batch down."""
    try:
        return read()
    except GuidangError as exc:
        return PageWork(source, None, error=exc.message("zh"))
    except Exception as exc:
        log.exception("page %s failed", source)
        return PageWork(source, None, error=f"{type(exc).__name__}: {exc}")


def worker_init() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"  # Tesseract's threads fight the outer parallelism


def _fail(check_id: str, key: str, file: str | None = None, **params: object) -> Report:
    """One failed step of an item, as a report (rendered like the intake problems)."""
    return Report((Problem.fail(check_id, key, None, file, **params).result(),))


def measure(works: dict[str, ItemWork], options: ScanQAOptions, jobs: int,
            on_file: Callable[[], None] | None = None, *, ocr_follows: bool = True) -> BatchContext | None:
    """Measure every page of the items still in the running; the batch-wide facts for the checks
    (``on_file``: called after each file, for a progress display). Without ``ocr_follows`` (preflight:
    no OCR pass) the orientation is measured as ``options`` say (Tesseract OSD where unsure).

    Tesseract OSD is left to the OCR pass, which finds the orientation at no extra cost
    (scan QA with OSD would cost about 15% of the OCR time; without, under 5%).
    """
    todo = {code: [p.path for p in w.item.pages] for code, w in works.items() if not w.blocked}
    if not todo:
        return None
    if not ocr_follows:
        measured = inspect_batch(todo, options, jobs=jobs, on_file=on_file)
        for code, item_measurement in measured.items.items():
            works[code].measurements = item_measurement.pages
        return batch_context(measured, options)
    measured = inspect_batch(todo, options.model_copy(update={"osd": "never"}), jobs=jobs, on_file=on_file)
    for code, item_measurement in measured.items.items():
        works[code].measurements = tuple(_upright_or_unsure(m) for m in item_measurement.pages)
    return batch_context(measured, options)


def _upright_or_unsure(m: PageMeasurement) -> PageMeasurement:
    """Without OSD only an upright layout verdict is trusted; any other is left to the OCR pass,
    which reads the master as delivered and finds its orientation (the layout cues alone have
    called upright 公文 pages upside down)."""
    o = m.orientation
    if o is None or not o.confident or o.rotation == 0:
        return m
    return replace(m, orientation=replace(o, confident=False, detail=f"{o.detail}; left to the OCR pass"))


def scan_checks(work: ItemWork, options: ScanQAOptions, context: BatchContext | None) -> None:
    """The SCAN-* checks of one item; pages whose orientation the measurement left unsure take the OCR's."""
    rotations = {n: (360 - p.ocr.rotation) % 360 for n, p in enumerate(work.pages, 1) if p.ocr is not None}
    expected = work.item.row.page_count
    if work.volume is not None:  # a volume's 页数 counts its numbered pages: its 备考表 is one image more
        expected = work.volume.expected_images(expected)
    subject = ScanItemSubject(work.code, work.measurements, expected, options, context, rotations)
    work.add(run_scan_checks(subject))


def _ocr_all(works: list[ItemWork], options: ScanQAOptions, languages: str, ocr: OcrOptions,
             engine: str, progress: Progress = QUIET, run_pages: TaskRunner = run_tasks) -> None:
    """Prepare and OCR every page; a page whose process died (crash, OOM kill) is run again."""
    jobs = [(w, PageJob(m.path, m, options, languages, ocr.dpi, engine)) for w in works for m in w.measurements]
    progress.start(len(jobs))
    results = run_pages(page_task, [j for _, j in jobs], workers=ocr.jobs, attempts=ocr.page_attempts,
                        initializer=worker_init, on_done=progress.advance)
    for w in works:
        w.pages = []
    died = (f"处理该页的工作进程 {ocr.page_attempts} 次异常退出（崩溃或内存不足） / the process working on this page "
            f"died {ocr.page_attempts} times (crash or out of memory)")
    for (w, job), result in zip(jobs, results, strict=True):
        w.pages.append(result or PageWork(job.source, None, error=died))


def process_batch(settings: Settings, profile_name: str, intake: BatchIntake,
                  decided: frozenset[str] = frozenset(), progress: Progress = QUIET,
                  run_pages: TaskRunner = run_tasks) -> list[ItemWork]:
    """Measure, OCR and scan-check every item of the batch; return the items still to decide, ready for
    :func:`guidang.pipeline.packing.pack_task` (assemble, check, archive). ``run_pages`` runs the page tasks (the
    local process pool unless a distributed back end is given).

    Items in ``decided`` (decided by an interrupted run of the same delivery) are measured, since
    the batch-wide scan checks compare every page, but neither run again nor returned.
    """
    profile = settings.profile(profile_name)
    works: dict[str, ItemWork] = {}
    for item in intake.items:
        work = works.setdefault(item.archival_code, ItemWork(item, volume=intake.volumes.get(item.archival_code)))
        work.add(Report(tuple(p.result() for p in intake.problems_of(item.archival_code))))
    return _read(settings, profile, works, decided, progress, run_pages)


def process_item(settings: Settings, profile_name: str, work: ItemWork, work_root: Path, cat: Catalogue,
                 received: dt.datetime, scanner: Scanner | None = None) -> ItemWork:
    """Every step after intake for one item on its own (the review desk: checks re-run, or an item carried
    through after an archivist's override). The batch-wide comparisons see this item only; the vendor's
    manifest is not taken as covering it."""
    profile = settings.profile(profile_name)
    for ready in _read(settings, profile, {work.code: work}, frozenset(), QUIET, run_tasks):
        if not ready.blocked:
            assemble(settings, profile, ready, work_root, received, CatalogueDbLookups(cat), scanner,
                     intake_registration(ready.item, vendor_manifest=False))
    return work


def _read(settings: Settings, profile: Profile, works: dict[str, ItemWork], decided: frozenset[str],
          progress: Progress, run_pages: TaskRunner) -> list[ItemWork]:
    """Measure, OCR and scan-check ``works`` (the batch-wide scan checks compare all of them); return those not
    in ``decided``."""
    context = measure(works, profile.scan_qa, settings.ocr.jobs)
    ready = [w for w in works.values() if not w.blocked and w.code not in decided]
    if ready:
        _ocr_all(ready, profile.scan_qa, settings.ocr_languages(profile), settings.ocr,
                 settings.ocr_engine(profile), progress, run_pages)
    for work in ready:
        scan_checks(work, profile.scan_qa, context)
    return [w for w in works.values() if w.code not in decided]


def _events(work: ItemWork, profile: Profile, received: dt.datetime) -> list[ProcessEvent]:
    now = dt.datetime.now(dt.UTC)
    pages = len(work.item.pages)
    scan = "；".join(f"{r.check_id} {r.status}" for r in work.results if r.check_id.startswith("SCAN"))
    events = [
        ProcessEvent(action=Action.RECEIVED, time=received, agent=AGENT,
                     description=f"接收{profile.vendor}提交的 {pages} 个图像文件，计算 SM3 与 SHA-256 摘要"),
        ProcessEvent(action=Action.CHECKED, time=now, agent=AGENT, description=f"扫描质量检测（DA/T 31-2017）：{scan}"),
    ]
    for page in work.pages:
        for op in page.operations:
            events.append(ProcessEvent(action=Action.CONVERTED, time=now, agent=AGENT,
                                       description=f"{page.source.name}：{op.describe()}（仅衍生图像，原图未改动）"))
        if page.ocr is not None and page.ocr.rotation:  # the orientation the OCR found: the PDF shows it turned
            events.append(ProcessEvent(action=Action.CONVERTED, time=now, agent=AGENT, description=(
                f"{page.source.name}：旋转：顺时针旋转{page.ocr.rotation}度，使页面正向（方向由文字识别判定；"
                "PDF 中按此显示，原图未改动）")))
    events.append(ProcessEvent(action=Action.OCR, time=now, agent=AGENT,
                               description=ocr_summary([p.ocr for p in work.pages])))
    events.append(ProcessEvent(action=Action.CONVERTED, time=now, agent=AGENT,
                               description="生成带文本层的 PDF/A 文件"))
    events.extend(e.model_copy(update={"time": now}) for e in work.review_events)  # in order with the rest
    events.append(ProcessEvent(action=Action.PACKAGED, time=now, agent=AGENT, description="生成归档信息包"))
    return events


def ocr_summary(pages: Sequence[OcrPage | None]) -> str:
    """What the OCR was, for the process metadata: engine and version, pages, languages."""
    languages = {p.languages for p in pages if p}
    engines = {p.engine for p in pages if p}
    return f"{'、'.join(sorted(engines))} 识别 {len(pages)} 页，语言 {'、'.join(sorted(languages))}"


def _computer_files(work: ItemWork, vendor: str, pdf: tuple[str, int], text: tuple[str, int],
                    part: str) -> list[ComputerFile]:
    """电子属性 of every content file: the PDF/A, the OCR text, and the masters with what was measured."""
    files = [
        ComputerFile(role="主文档", electronic=ElectronicAttributes(
            format_info=f"格式名称：PDF/A-{part}，MIME媒体类型：application/pdf", file_name=pdf[0],
            file_size=pdf[1], creating_application=AGENT)),
        ComputerFile(role="附属文档", electronic=ElectronicAttributes(
            format_info="格式名称：纯文本（UTF-8，文字识别结果），MIME媒体类型：text/plain", file_name=text[0],
            file_size=text[1], creating_application=AGENT)),
    ]
    for page, m in zip(work.item.pages, work.measurements, strict=False):
        header = m.header
        mode = COLOUR_MODE_ZH.get(m.effective_mode or "")
        digitisation = DigitisationAttributes(
            object_form=(m.paper.paper or m.paper.inferred_paper) if m.paper else None,
            resolution=f"{m.dpi:g}dpi" if m.dpi else None,
            colour_mode=mode,  # type: ignore[arg-type]  # one of the three DA/T 46 terms
            compression=header.compression if header else None,
        )
        files.append(ComputerFile(role="附属文档", electronic=ElectronicAttributes(
            format_info=f"格式名称：{header.format if header else '不详'}（扫描原图）",
            file_name=Path(page.relpath).name, file_size=page.size,
            creating_application=f"{vendor}（纸质档案数字化）"), digitisation=digitisation))
    return files


def intake_registration(item: Item, vendor_manifest: bool) -> IntakeRegistration:
    """What intake registered for the item, keyed by the masters' place in the package (aip)."""
    return IntakeRegistration(
        digests={f"{aip.MASTERS_DIR}/{Path(p.relpath).name}": p.sha256 for p in item.pages},
        total_bytes=sum(p.size for p in item.pages), vendor_manifest=vendor_manifest)


def doubtful(page: OcrPage | None, ocr: OcrOptions) -> dict[str, object] | None:
    """The INGEST-OCR figures of a page with too many lines read with low confidence, else None."""
    if page is None or not page.lines:
        return None
    threshold = ocr.low_confidence(page.engine)
    lines = page.doubtful_lines(threshold)
    if lines > ocr.low_confidence_share * len(page.lines):
        return {"doubtful": lines, "lines": len(page.lines), "threshold": f"{threshold:g}"}
    return None


def _doubtful_pages(work: ItemWork, ocr: OcrOptions) -> None:
    """An OCR warning (never a rejection) for each page with too many lines read with low confidence."""
    for page in work.pages:
        figures = doubtful(page.ocr, ocr)
        if figures is not None:
            warning = Problem.warn("INGEST-OCR", "low_confidence", work.code, page.source.name, **figures)
            work.add(Report((warning.result(),)))


def assemble(settings: Settings, profile: Profile, work: ItemWork, work_root: Path, received: dt.datetime,
             lookups: CatalogueDbLookups, scanner: Scanner | None = None,
             registration: IntakeRegistration | None = None) -> None:
    """PDF/A, metadata XML, package and the DA/T 70 checks for one item; findings go into ``work``."""
    failed_pages = [p for p in work.pages if p.ocr is None and not p.blank]
    for page in failed_pages:
        work.add(_fail("INGEST-PAGE", "failed", file=page.source.name, detail=page.error or ""))
    if failed_pages:
        return
    _doubtful_pages(work, settings.ocr)
    code = work.code
    item_dir = names.child(work_root, "items", code, max_bytes=names.ARCHIVAL_CODE_MAX_BYTES)
    item_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = item_dir / f"{code}.pdf"
    row = work.item.row
    part = settings.pdfa.part
    rule = get_rule(profile.archival_code_rule, settings.archival_code_rules)
    document_rule, volume = rule, work.volume
    if volume is not None:  # intake refused volumes under a rule that numbers none (VOLUME-LIST)
        rule = volume_rule(rule) or rule
    try:
        pdf = write_pdfa(
            [PdfPage(p.source, p.ocr, placement=p.placement) for p in work.pages], pdf_path, part=part,
            xmp=XmpFields(title=row.title, archival_code=code, creator=row.creator),
            outline=volume_package.outline(volume) if volume else (),
        )
        text = document_text(p.ocr for p in work.pages).encode("utf-8")
        files = _computer_files(work, profile.vendor, (pdf_path.name, pdf.size), (f"{code}.txt", len(text)), part)
        events = _events(work, profile, received)
        source = dict(archive_name=profile.archive_name or None, fonds_name=profile.fonds_name or None,
                      unit_name=profile.unit_name or None)
        meta = RecordMetadata.from_catalogue(row, rule, **source, files=files, events=events, language="汉语")
        documents: dict[str, bytes] = {}
        if volume is not None:
            meta = volume_package.volume_metadata(meta, volume, row)
            masters = files[2:]  # _computer_files: the PDF, the text, then one per master in page order
            documents = volume_package.document_metadata(volume, row, document_rule, masters, events, **source,
                                                         language="汉语")
        package = aip.build_package(item_dir / "package", code=code, pdf=pdf_path, text=text,
                                    masters=work.item.pages, metadata_xml=to_xml(meta), extra_metadata=documents)
    except PdfaValidationError as exc:
        work.add(_fail("INGEST-PDFA", "not_conformant", file=pdf_path.name, part=part,
                       findings="；".join(exc.findings[:5])))
        return
    except aip.PackageError as exc:
        work.add(_fail("INGEST-PACKAGE", "failed", detail=exc.message("zh")))
        return
    except GuidangError as exc:
        check = "INGEST-PDFA" if not pdf_path.exists() else "INGEST-METADATA"
        key = "failed" if check == "INGEST-PDFA" else "invalid"
        work.add(_fail(check, key, file=pdf_path.name, row=row.row, detail=exc.message("zh")))
        return
    work.package_dir = package.root
    # 1-14, 2-1, 2-2 compare with what intake registered (and the vendor's manifest), never with figures
    # taken from the package itself; 1-7 derives a volume's rule from the document rule
    work.add(gd_checks(settings, profile, package.root, meta, lookups=lookups, scanner=scanner, part=part,
                       rule=document_rule, record=db_record(work.item.row),
                       intake=registration or intake_registration(work.item, vendor_manifest=False)))


def gd_checks(settings: Settings, profile: Profile, package_root: Path, meta: RecordMetadata, *,
              lookups: CatalogueDbLookups, scanner: Scanner | None, part: str, rule: ArchivalCodeRule,
              record: dict[str, str], intake: IntakeRegistration) -> Report:
    """The DA/T 70 checks at GD on a built package, as every item (a scan's or a case's) passes them before
    acceptance; when they pass, the checks and the archiving complete the process history (2-5). The report
    is written into the package (metadata/checks.json) either way."""
    context = Dat70Context(
        options=settings.dat70.model_copy(update={"pdfa_part": part}),  # one PDF/A setting: the copy's part
        db=lookups, clamd=scanner, test_signatures_block=not profile.accept_test_signatures,
        archival_code_rule=rule, db_record=record, fonds_code=profile.fonds_code, intake=intake,
    )
    report = run_dat70(package_root, Stage.GD, context)
    if report.accepted:
        now = dt.datetime.now(dt.UTC)
        summary = f"四性检测（DA/T 70-2018 归档环节）{len(report.results)} 项，无阻断性不合格"
        meta = meta.with_event(ProcessEvent(action=Action.CHECKED, time=now, agent=AGENT, description=summary))
        meta = meta.with_event(ProcessEvent(action=Action.ARCHIVED, time=now, agent=AGENT,
                                            description="存入长期保存库（OCFL 对象，标识为档号）"))
        aip.replace_files(package_root, {aip.METADATA_XML: to_xml(meta)})
    aip.add_checks_report(package_root, {"stage": "GD", "results": report.as_dicts()})
    return report


def _same_masters(store: OcflStore, code: str, pkg: aip.Package) -> bool:
    """True when the stored object holds exactly these masters (a resumed ingest of the same delivery)."""
    stored = package_digests(store, code)
    ours = {rel: d.sha256 for rel, d in pkg.files.items() if rel.startswith(aip.MASTERS_DIR + "/")}
    theirs = {rel: d.sha256 for rel, d in stored.items() if rel.startswith(aip.MASTERS_DIR + "/")}
    return bool(ours) and ours == theirs


def archive(settings: Settings, work: ItemWork) -> tuple[ItemWork, str | None, list[StoredFile]]:
    """Put the item's package into the OCFL store; return the object id (None: refused) and its files.

    An object already stored with the same masters is the same delivery ingested again after an
    interruption: it is adopted, never written twice. A different object under the 档号 is a failure.
    """
    assert work.package_dir is not None
    store = OcflStore(settings.store_root)
    pkg = aip.read_package(work.package_dir)
    try:
        message = "归档 archived (GD checks passed)"
        code = store_package(store, work.package_dir, work.code, agent=AGENT, message=message).code
    except ObjectExistsError:
        if not _same_masters(store, work.code, pkg):
            work.add(_fail("INGEST-STORE", "exists", code=work.code))
            return work, None, []
        code = work.code
    except GuidangError as exc:
        work.add(_fail("INGEST-STORE", "failed", detail=exc.message("zh")))
        return work, None, []
    replicate(settings, code, AGENT)  # the second copy (DA/T 92), when configured; a failure is logged, audited
    files = [StoredFile(file_role(rel), rel, d.size, d.sha256, d.sm3) for rel, d in sorted(pkg.files.items())]
    return work, code, files


def file_role(relpath: str) -> str:
    """The role of a package file as the catalogue records it (master | pdf | text | metadata | other)."""
    roles = {aip.CONTENT_DIR: "pdf", aip.MASTERS_DIR: "master", aip.METADATA_DIR: "metadata"}
    return "text" if relpath.endswith(".txt") else roles.get(relpath.split("/", 1)[0], "other")

