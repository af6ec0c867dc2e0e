"""Write vendor batches (the DESIGN.md "Vendor batch" drop) with their ground truth.

Layout written by :func:`make_batch`::

    <dest>/<batch-id>/catalogue.csv | 目录.xlsx     DA/T 22 columns, Chinese headers
    <dest>/<batch-id>/<档号>/<档号>-0001.tif …     page images, DA/T 31 naming, dpi in the header
    <dest>/<batch-id>/manifest-sha256.txt          optional, "digest  relpath" (BagIt form)
    <dest>/<batch-id>/READY                        optional, written last
    <dest>/<batch-id>.truth.json                   the answer key (outside the batch), or truth_path

Everything is drawn from ``seed``: the same arguments give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from guidang.samples.degrade import GREY_PAPER, Degradation, Profile, degrade, draw_degradation
from guidang.samples.render import RenderedPage, RenderOptions, render_document
from guidang.samples.texts import DocumentText, Kind, Script, compose_document
from guidang.samples.truth import BatchTruth, ItemTruth, PageTruth

ImageFormat = Literal["tiff", "jpeg", "mixed"]
Colour = Literal["red-pages", "all", "none"]
Encoding = Literal["utf-8", "utf-8-sig", "gb18030"]
CatalogueFormat = Literal["csv", "xlsx"]

DAT22_COLUMNS = ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "保管期限", "备注")
SERVICE_COLUMNS = ("事项名称", "事项编码", "办件编号", "申请人", "受理时间", "办结时间", "办理结果")
RETENTION_NAMES = {"Y": "永久", "D30": "30年", "D10": "10年"}
CATALOGUE_NAMES = {"csv": "catalogue.csv", "xlsx": "目录.xlsx"}
MANIFEST_NAME = "manifest-sha256.txt"
READY_NAME = "READY"
SUFFIX = {"tiff": ".tif", "jpeg": ".jpg"}
DEMO_TIFF_BATCH = "DEMO-TIF-{seed:03d}"
DEMO_JPEG_BATCH = "DEMO-JPG-{seed:03d}"
SCANNER = {"make": "guidang", "model": "samples virtual scanner", "software": "guidang.samples"}


def archival_code(fonds: str, year: int, retention: str, org: str, number: int) -> str:
    """档号 in the DA/T 22-2015 form 全宗号-WS·年度-保管期限-机构-件号, e.g. Z109-WS·2023-Y-BGS-0001."""
    return f"{fonds}-WS·{year}-{retention}-{org}-{number:04d}"


def make_batch(
    dest: Path,
    *,
    items: int = 3,
    pages: tuple[int, int] = (1, 3),
    page_counts: Sequence[int] | None = None,
    seed: int = 0,
    image_format: ImageFormat = "tiff",
    dpi: int = 300,
    fonds_code: str = "Z109",
    year: int = 2023,
    retention: str = "Y",
    org: str = "BGS",
    first_number: int = 1,
    catalogue: CatalogueFormat = "csv",
    encoding: Encoding = "utf-8",
    colour: Colour = "red-pages",
    bitonal: bool = False,
    profile: Profile = "clean",
    overrides: Mapping[tuple[int, int], Degradation] | None = None,
    service_fields: bool = False,
    scripts: Sequence[Script] | None = None,
    english: bool | None = None,
    manifest: bool = True,
    ready_marker: bool = True,
    batch_id: str | None = None,
    truth_path: Path | None = None,
    write_truth: bool = True,
    tiff_compression: Literal["lzw", "deflate"] = "lzw",
    jpeg_quality: int = 90,
    workers: int = 1,
) -> BatchTruth:
    """Write one vendor batch under ``dest`` and return (and save) its ground truth.

    items/pages: number of 件 and the inclusive range of pages per 件 (drawn per item);
    ``page_counts`` fixes the pages of each 件 in 件号 order instead (and sets ``items``).
    image_format "mixed" alternates TIFF and JPEG by item: against DA/T 31 (one storage
    format per batch), for tests of that rule only.
    colour: "red-pages" renders 红头 and seal and stores those pages in colour, the others in
    grey (DA/T 31 9.3); "all" stores every page in colour; "none" draws no red and stores grey.
    bitonal: store the grey pages as 1-bit (TIFF: CCITT G4); not with JPEG.
    profile + overrides: page degradations are drawn from the profile; ``overrides`` maps
    (item index, page index), both from 0, to the exact parameters to use instead. In a JPEG
    page a degradation's ``jpeg_quality`` is the quality the file is saved at (else
    ``jpeg_quality``, default 90); TIFF pages get a JPEG round trip at that quality.
    service_fields: every item is a 政务服务 case record and the catalogue has the
    事项名称 … 办理结果 columns. scripts: cycle of "hans"/"hant" per item (default: drawn).
    truth_path: where the truth JSON goes (default ``dest/<batch-id>.truth.json``).
    workers: write items in that many worker processes (same output as 1).
    """
    if page_counts is not None:
        items = len(page_counts)
        if min(page_counts, default=0) < 1:
            raise ValueError("page_counts must be >= 1 each")
    if items < 1 or pages[0] < 1 or pages[1] < pages[0]:
        raise ValueError("need items >= 1 and 1 <= pages[0] <= pages[1]")
    if bitonal and image_format != "tiff":
        raise ValueError("bitonal pages need TIFF (CCITT G4); JPEG cannot store 1-bit images")
    if retention not in RETENTION_NAMES:
        raise ValueError(f"retention must be one of {', '.join(RETENTION_NAMES)}")
    batch_id = batch_id or f"{fonds_code}-{year}-{org}-S{seed:03d}"
    root = dest / batch_id
    if root.exists():
        raise FileExistsError(f"batch folder exists already: {root}")
    overrides = overrides or {}
    opts = RenderOptions(dpi=dpi, red_header=colour != "none", seal=colour != "none", colour=True)

    docs: list[tuple[DocumentText, int, np.random.Generator]] = []
    for index in range(items):
        rng = np.random.default_rng([seed, index])
        script = scripts[index % len(scripts)] if scripts else None
        kind: Kind | None = "service" if service_fields else None
        doc = compose_document(rng, kind=kind, script=script, year=year, english=english)
        if not service_fields and doc.kind == "service":
            doc = compose_document(rng, kind="notice", script=doc.script, year=year, english=english)
        docs.append((doc, int(rng.integers(pages[0], pages[1] + 1)), rng))
    docs.sort(key=lambda d: d[0].date)  # DA/T 22: 件号 follows the date within the class

    jobs = []
    for index, (doc, n_pages, rng) in enumerate(docs):
        code = archival_code(fonds_code, year, retention, org, first_number + index)
        n = page_counts[index] if page_counts is not None else n_pages
        jobs.append(
            _ItemJob(
                root=root,
                index=index,
                code=code,
                doc=doc,
                pages=n,
                opts=replace(opts, last_page_fill=float(rng.uniform(0.3, 0.7))),
                image_format=image_format if image_format != "mixed" else ("tiff", "jpeg")[index % 2],
                degradations=tuple(overrides.get((index, p)) for p in range(n)),
                profile=profile,
                seed=seed,
                colour=colour,
                bitonal=bitonal,
                retention=retention,
                service_fields=service_fields,
                tiff_compression=tiff_compression,
                jpeg_quality=jpeg_quality,
            )
        )
    unknown = sorted(set(overrides) - {(j.index, p) for j in jobs for p in range(j.pages)})
    if unknown:
        raise ValueError(f"overrides name pages that the batch does not have: {unknown}")
    root.mkdir(parents=True)
    if workers > 1 and len(jobs) > 1:
        context = multiprocessing.get_context("spawn")  # no fork: callers may run threads
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
            item_truths = list(pool.map(_write_item, jobs))
    else:
        item_truths = [_write_item(job) for job in jobs]

    columns = DAT22_COLUMNS + (SERVICE_COLUMNS if service_fields else ())
    cat_name = CATALOGUE_NAMES[catalogue]
    write_catalogue(root / cat_name, columns, [it.catalogue_row for it in item_truths], encoding)
    if manifest:
        write_manifest(root)
    if ready_marker:
        (root / READY_NAME).write_bytes(b"")
    truth = BatchTruth(
        batch_id=batch_id,
        path=str(root.resolve()),
        catalogue=cat_name,
        encoding=encoding if catalogue == "csv" else "xlsx",
        image_format=image_format,
        dpi=dpi,
        profile=profile,
        seed=seed,
        manifest=MANIFEST_NAME if manifest else None,
        ready=ready_marker,
        items=tuple(item_truths),
    )
    if write_truth:
        truth.save(truth_path or dest / f"{batch_id}.truth.json")
    return truth


@dataclass(frozen=True)
class _ItemJob:
    """Everything needed to write one item's folder (picklable, for worker processes)."""

    root: Path
    index: int
    code: str
    doc: DocumentText
    pages: int
    opts: RenderOptions
    image_format: Literal["tiff", "jpeg"]
    degradations: tuple[Degradation | None, ...]  # fixed parameters per page, None: draw
    profile: Profile
    seed: int
    colour: Colour
    bitonal: bool
    retention: str
    service_fields: bool
    tiff_compression: Literal["lzw", "deflate"]
    jpeg_quality: int


def _write_item(job: _ItemJob) -> ItemTruth:
    code, fmt, dpi = job.code, job.image_format, job.opts.dpi
    (job.root / code).mkdir()
    page_truths = []
    for p, page in enumerate(render_document(job.doc, job.pages, job.opts)):
        page_rng = np.random.default_rng([job.seed, job.index, p, 1])
        fixed = job.degradations[p] if p < len(job.degradations) else None
        d = fixed or draw_degradation(job.profile, page_rng, dpi=dpi)
        rel = f"{code}/{code}-{p + 1:04d}{SUFFIX[fmt]}"
        mode = _mode(page, job.colour, job.bitonal)
        want = "RGB" if mode == "RGB" else "L"
        # a JPEG page gets its artefacts from its own compression, not from a round trip first
        in_file = fmt == "jpeg" and d.jpeg_quality is not None
        effects = replace(d, jpeg_quality=None) if in_file else d
        image = degrade(page.image if page.image.mode == want else page.image.convert(want), effects, page_rng)
        if mode == "1":
            image = _binarise(image)
        when = _scan_time(job.doc.date.year, job.index, p)
        quality = d.jpeg_quality if in_file and d.jpeg_quality is not None else job.jpeg_quality
        _save_image(image, job.root / rel, fmt, dpi, when, job.tiff_compression, quality)
        page_truths.append(
            PageTruth(
                file=rel,
                sequence=p + 1,
                lines=() if d.blank else page.lines,
                char_boxes=() if d.blank else page.char_boxes,
                seal_text=None if d.blank else page.seal_text,
                mode=mode,
                image_format=fmt,
                width=image.width,
                height=image.height,
                dpi=dpi,
                degradation=d,
            )
        )
    doc = job.doc
    return ItemTruth(
        archival_code=code,
        folder=code,
        title=doc.title,
        doc_number=doc.doc_number,
        creator=doc.issuer,
        date=doc.date_yyyymmdd,
        retention=RETENTION_NAMES[job.retention],
        script=doc.script,
        kind=doc.kind,
        catalogue_row=_catalogue_row(job.index + 1, code, doc, job.retention, page_truths, job.service_fields),
        pages=tuple(page_truths),
        service=doc.service,
    )


def _mode(page: RenderedPage, colour: Colour, bitonal: bool) -> str:
    if colour == "all" or (colour == "red-pages" and page.red):
        return "RGB"
    return "1" if bitonal else "L"


def _binarise(image: Image.Image) -> Image.Image:
    """Global threshold between ink and paper (Otsu), as a bitonal scanner mode does."""
    import cv2

    _, bw = cv2.threshold(np.asarray(image), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return Image.fromarray(bw).convert("1", dither=Image.Dither.NONE)


def _scan_time(year: int, item: int, page: int) -> str:
    t = dt.datetime(year + 1, 3, 1, 9, 0) + dt.timedelta(minutes=3 * item, seconds=20 * page)
    return t.strftime("%Y:%m:%d %H:%M:%S")


def _save_image(
    image: Image.Image,
    path: Path,
    fmt: Literal["tiff", "jpeg"],
    dpi: int,
    when: str,
    tiff_compression: Literal["lzw", "deflate"],
    jpeg_quality: int,
) -> None:
    exif = Image.Exif()
    exif[271] = SCANNER["make"]
    exif[272] = SCANNER["model"]
    exif[305] = SCANNER["software"]
    exif[306] = when
    if fmt == "tiff":
        compression = (
            "group4" if image.mode == "1" else {"lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate"}[tiff_compression]
        )
        image.save(path, format="TIFF", compression=compression, dpi=(dpi, dpi), tiffinfo=exif)
    else:
        image.save(path, format="JPEG", quality=jpeg_quality, dpi=(dpi, dpi), exif=exif.tobytes())


def _catalogue_row(
    seq: int,
    code: str,
    doc: DocumentText,
    retention: str,
    pages: Sequence[PageTruth],
    service_fields: bool,
) -> dict[str, str]:
    blanks = sum(1 for p in pages if p.blank)
    row = {
        "序号": str(seq),
        "档号": code,
        "文号": doc.doc_number,
        "责任者": doc.issuer,
        "题名": doc.title,
        "日期": doc.date_yyyymmdd,
        "密级": "公开",  # DA/T 46 value domain (GB/T 7156): 公开 限制 秘密 机密 绝密
        "页数": str(len(pages)),
        "保管期限": RETENTION_NAMES[retention],
        "备注": f"含空白页{blanks}页" if blanks else "",
    }
    if service_fields and doc.service is not None:
        s = doc.service
        row |= {
            "事项名称": s.matter_name,
            "事项编码": s.matter_code,
            "办件编号": s.case_number,
            "申请人": s.applicant,
            "受理时间": s.accepted_at,
            "办结时间": s.completed_at,
            "办理结果": s.outcome,
        }
    return row


def write_catalogue(
    path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]], encoding: str = "utf-8"
) -> None:
    """Write the 归档文件目录 as CSV (``encoding``) or, for a .xlsx path, as a workbook.

    In the workbook every cell is text except 序号 and 页数 (numbers), as a spreadsheet
    user would type them; 日期 stays text so YYYYMMDD keeps its form.
    """
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "归档文件目录"
        ws.append(list(columns))
        for row in rows:
            ws.append([_xlsx_cell(c, row.get(c, "")) for c in columns])
        buf = io.BytesIO()
        wb.save(buf)
        path.write_bytes(buf.getvalue())
        return
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes(out.getvalue().encode(encoding))


def _xlsx_cell(column: str, value: str) -> str | int:
    return int(value) if column in ("序号", "页数") and value.isdigit() else value


def write_manifest(root: Path, name: str = MANIFEST_NAME) -> Path:
    """(Re)write ``name`` with the SHA-256 of every file in the batch except the manifest
    itself and READY, sorted by relative path, in BagIt form "digest  relpath"."""
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel in (name, READY_NAME):
            continue
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {rel}\n")
    target = root / name
    target.write_text("".join(lines), encoding="utf-8")
    return target


DEMO_SKEWS = (0.6, -0.4, 0.7, -0.8, 0.3, -0.5, 0.5, -0.7, 0.4)  # degrees, one per demo page
# The demo's two black borders, in pixels at 300 dpi (scaled to the batch's dpi): 3.8 mm on the right,
# over the 26 mm blank margin (cropped, archived with a warning); 40 mm on the left, 12 mm into the
# text behind the 28 mm margin (render.py's margins_mm), which no crop brings back (returned).
DEMO_MARGIN_BORDER_PX = 45
DEMO_COVER_BORDER_PX = 472


def generate_demo(dest: Path, seed: int = 0, *, truth_dir: Path | None = None, dpi: int = 300) -> Path:
    """Write the `guidang demo` drop into ``dest`` and return ``dest``.

    Two batches, because DA/T 31 wants one storage format per batch: ``DEMO-TIF-<seed>``
    (3 件, 6 pages, TIFF/LZW, catalogue.csv) and ``DEMO-JPG-<seed>`` (2 件 of 政务服务 case
    records, 3 pages, JPEG, 目录.xlsx with the 政务服务 columns). 档号 run on from one batch
    to the other (0001-0005). Every page is scanned as a decent vendor would (slight skew
    under the 1° warning limit, light noise and blur, grey paper), and the receipt shows both
    outcomes: four 件 are archived, the first of them with a SCAN-BORDER warning (its first page
    has a 3.8 mm black border on its right edge, over the blank margin: cropped on the derivative,
    "已自动裁边"); the second 件 is returned with SCAN-BORDER (a 40 mm black band on the left edge
    of its page lies over the text). Truth files go to ``truth_dir`` when given (never into
    ``dest``, which may be an inbox).
    """

    def page(n: int, border: Literal["", "margin", "cover"] = "") -> Degradation:
        px = {"": 0, "margin": DEMO_MARGIN_BORDER_PX, "cover": DEMO_COVER_BORDER_PX}[border]
        return Degradation(
            skew_deg=DEMO_SKEWS[n % len(DEMO_SKEWS)], noise_sigma=3.0, blur_sigma=0.7 * dpi / 300,
            paper=GREY_PAPER, border_px=round(px * dpi / 300),
            border_edges={"": "", "margin": "r", "cover": "l"}[border], specks=3 if border else 0,
        )  # fmt: skip

    def overrides(page_counts: Sequence[int], first: int) -> dict[tuple[int, int], Degradation]:
        pages = [(i, p) for i, count in enumerate(page_counts) for p in range(count)]
        borders: dict[int, Literal["margin", "cover"]] = {0: "margin", 2: "cover"} if first == 0 else {}
        return {ip: page(first + n, borders.get(n, "")) for n, ip in enumerate(pages)}

    tiff_id = DEMO_TIFF_BATCH.format(seed=seed)
    jpeg_id = DEMO_JPEG_BATCH.format(seed=seed)
    make_batch(
        dest,
        page_counts=(2, 1, 3),
        seed=seed,
        image_format="tiff",
        overrides=overrides((2, 1, 3), 0),
        batch_id=tiff_id,
        truth_path=truth_dir / f"{tiff_id}.truth.json" if truth_dir else None,
        dpi=dpi,
        profile="scan",
        write_truth=truth_dir is not None,
    )
    make_batch(
        dest,
        page_counts=(1, 2),
        seed=seed + 1,
        first_number=4,
        image_format="jpeg",
        catalogue="xlsx",
        service_fields=True,
        overrides=overrides((1, 2), 6),
        batch_id=jpeg_id,
        truth_path=truth_dir / f"{jpeg_id}.truth.json" if truth_dir else None,
        dpi=dpi,
        profile="scan",
        write_truth=truth_dir is not None,
    )
    return dest
