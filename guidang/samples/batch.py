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
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from guidang.samples.degrade import Degradation, Profile, degrade, draw_degradation
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
SCANNER = {"make": "guidang", "model": "samples virtual scanner", "software": "guidang.samples"}


def archival_code(fonds: str, year: int, retention: str, org: str, number: int) -> str:
    """档号 in the DA/T 22-2015 form 全宗号-WS·年度-保管期限-机构-件号, e.g. Z109-WS·2023-Y-BGS-0001."""
    return f"{fonds}-WS·{year}-{retention}-{org}-{number:04d}"


def make_batch(
    dest: Path,
    *,
    items: int = 3,
    pages: tuple[int, int] = (1, 3),
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
) -> BatchTruth:
    """Write one vendor batch under ``dest`` and return (and save) its ground truth.

    items/pages: number of 件 and the inclusive range of pages per 件 (drawn per item).
    image_format "mixed" alternates TIFF and JPEG by item: against DA/T 31 (one storage
    format per batch), for tests of that rule only.
    colour: "red-pages" renders 红头 and seal and stores those pages in colour, the others in
    grey (DA/T 31 9.3); "all" stores every page in colour; "none" draws no red and stores grey.
    bitonal: store the grey pages as 1-bit (TIFF: CCITT G4); not with JPEG.
    profile + overrides: page degradations are drawn from the profile; ``overrides`` maps
    (item index, page index), both from 0, to the exact parameters to use instead.
    service_fields: every item is a 政务服务 case record and the catalogue has the
    事项名称 … 办理结果 columns. scripts: cycle of "hans"/"hant" per item (default: drawn).
    truth_path: where the truth JSON goes (default ``dest/<batch-id>.truth.json``).
    """
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
    root.mkdir(parents=True)
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

    item_truths = []
    for index, (doc, n_pages, rng) in enumerate(docs):
        code = archival_code(fonds_code, year, retention, org, first_number + index)
        fmt: Literal["tiff", "jpeg"] = (
            image_format if image_format != "mixed" else ("tiff", "jpeg")[index % 2]
        )
        rendered = render_document(doc, n_pages, replace(opts, last_page_fill=float(rng.uniform(0.3, 0.7))))
        (root / code).mkdir()
        page_truths = []
        for p, page in enumerate(rendered):
            page_rng = np.random.default_rng([seed, index, p, 1])
            d = overrides.get((index, p)) or draw_degradation(profile, page_rng, dpi=dpi)
            rel = f"{code}/{code}-{p + 1:04d}{SUFFIX[fmt]}"
            mode = _mode(page, colour, bitonal)
            image = degrade(page.image.convert("RGB" if mode == "RGB" else "L"), d, page_rng)
            if mode == "1":
                image = _binarise(image)
            _save_image(
                image, root / rel, fmt, dpi, _scan_time(year, index, p), tiff_compression, jpeg_quality
            )
            page_truths.append(
                PageTruth(
                    file=rel,
                    sequence=p + 1,
                    lines=() if d.blank else page.lines,
                    seal_text=None if d.blank else page.seal_text,
                    mode=mode,
                    image_format=fmt,
                    width=image.width,
                    height=image.height,
                    dpi=dpi,
                    degradation=d,
                )
            )
        row = _catalogue_row(index + 1, code, doc, retention, page_truths, service_fields)
        item_truths.append(
            ItemTruth(
                archival_code=code,
                folder=code,
                title=doc.title,
                doc_number=doc.doc_number,
                creator=doc.issuer,
                date=doc.date_yyyymmdd,
                retention=RETENTION_NAMES[retention],
                script=doc.script,
                kind=doc.kind,
                catalogue_row=row,
                pages=tuple(page_truths),
                service=doc.service,
            )
        )

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
            "group4"
            if image.mode == "1"
            else {"lzw": "tiff_lzw", "deflate": "tiff_adobe_deflate"}[tiff_compression]
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
        "密级": "",
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
