"""Write volume batches (案卷): 案卷目录 + 卷内目录 + each volume's pages in order (docs/volumes.md).

Layout written by :func:`make_volume_batch`::

    <dest>/<batch-id>/案卷目录.csv                   one row per volume (档号 全宗号-目录号-案卷号, dat13-catalogue)
    <dest>/<batch-id>/卷内目录.csv                   one row per document: 案卷档号, 序号, …, 起始页号, 终止页号
    <dest>/<batch-id>/<案卷档号>/<案卷档号>-0001.jpg …   the volume's pages in order, then its 备考表
    <dest>/<batch-id>/manifest-sha256.txt, READY

The documents are rendered by :func:`guidang.samples.batch.make_batch` (several documents per volume,
realistic 文号, 责任者, 题名, 日期) and laid into volumes. ``defects`` plants one page-range defect per
volume (by volume index, from 0), so each defect of the 卷内目录 checks can be produced on demand.
Everything is drawn from ``seed``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

from guidang.samples.batch import (
    MANIFEST_NAME,
    READY_NAME,
    RETENTION_NAMES,
    make_batch,
    write_catalogue,
    write_manifest,
)
from guidang.samples.render import find_cjk_font
from guidang.samples.truth import ItemTruth

Defect = Literal["overlap", "gap", "beyond", "order", "page_count", "no_documents", "orphan"]
DEFECTS: tuple[Defect, ...] = ("overlap", "gap", "beyond", "order", "page_count", "no_documents", "orphan")
VOLUME_COLUMNS = ("档号", "案卷题名", "起止日期", "保管期限", "密级", "页数", "立卷单位", "备注")
DOCUMENT_COLUMNS = ("案卷档号", "序号", "文号", "责任者", "题名", "日期", "起始页号", "终止页号", "密级", "备注")
VOLUME_CATALOGUE = "案卷目录.csv"
DOCUMENT_LIST = "卷内目录.csv"


@dataclass(frozen=True)
class DocumentTruth:
    number: int  # place in the volume (件号)
    title: str
    first_page: int
    last_page: int
    item: ItemTruth  # the rendered document: its lines per page

    @property
    def text(self) -> str:
        return self.item.text


@dataclass(frozen=True)
class VolumeTruth:
    code: str
    title: str
    documents: tuple[DocumentTruth, ...]
    images: int  # page images delivered (with the 备考表)
    defect: Defect | None = None


@dataclass(frozen=True)
class VolumeBatchTruth:
    batch_id: str
    path: Path
    volumes: tuple[VolumeTruth, ...] = field(default_factory=tuple)


def volume_code(fonds: str, catalogue: int, volume: int) -> str:
    """档号 of a volume under dat13-catalogue: 全宗号-目录号-案卷号, e.g. Z109-001-002."""
    return f"{fonds}-{catalogue:03d}-{volume:03d}"


def make_volume_batch(
    dest: Path,
    *,
    documents: Sequence[Sequence[int]] = ((2, 1), (1, 2, 1)),
    seed: int = 0,
    fonds_code: str = "Z109",
    catalogue_number: int = 1,
    first_volume: int = 1,
    retention: str = "Y",
    dpi: int = 200,
    backsheet: bool = True,
    defects: Mapping[int, Defect] | None = None,
    batch_id: str | None = None,
    ready_marker: bool = True,
) -> VolumeBatchTruth:
    """Write one volume batch under ``dest``: ``documents`` gives, per volume, the pages of each
    document. ``backsheet`` ends every volume with its 备考表 (an image with no 页号)."""
    defects = dict(defects or {})
    batch_id = batch_id or f"{fonds_code}-V{catalogue_number:03d}-S{seed:03d}"
    root = dest / batch_id
    if root.exists():
        raise FileExistsError(f"batch folder exists already: {root}")
    counts = [n for volume in documents for n in volume]
    with tempfile.TemporaryDirectory(prefix="guidang-volumes-") as tmp:
        rendered = make_batch(Path(tmp), page_counts=counts, seed=seed, image_format="jpeg", dpi=dpi,
                              colour="none", profile="clean", retention=retention, manifest=False, scripts=("hans",),
                              ready_marker=False, write_truth=False, batch_id="render")
        root.mkdir(parents=True)
        items = iter(rendered.items)
        volumes: list[VolumeTruth] = []
        volume_rows: list[dict[str, str]] = []
        document_rows: list[dict[str, str]] = []
        for v, pages in enumerate(documents):
            code = volume_code(fonds_code, catalogue_number, first_volume + v)
            folder = root / code
            folder.mkdir()
            docs: list[DocumentTruth] = []
            page = 0
            for n, _count in enumerate(pages, 1):
                item = next(items)
                first = page + 1
                for p in item.pages:
                    page += 1
                    shutil.copyfile(Path(tmp) / "render" / p.file, folder / f"{code}-{page:04d}.jpg")
                docs.append(DocumentTruth(n, item.title, first, page, item))
            numbered = page
            if backsheet:
                page += 1
                _backsheet(folder / f"{code}-{page:04d}.jpg", code, len(docs), numbered, dpi)
            title = f"{docs[0].item.creator}{docs[0].item.date[:4]}年文书（第{first_volume + v}卷）"
            defect = defects.get(v)
            volume_rows.append({
                "档号": code, "案卷题名": title, "起止日期": f"{docs[0].item.date}-{docs[-1].item.date}",
                "保管期限": RETENTION_NAMES[retention], "密级": "公开",
                "页数": str(numbered + (1 if defect == "page_count" else 0)),
                "立卷单位": docs[0].item.creator, "备注": "",
            })
            document_rows += _document_rows(code, docs, defect)
            volumes.append(VolumeTruth(code, title, tuple(docs), page, defect))
    write_catalogue(root / VOLUME_CATALOGUE, VOLUME_COLUMNS, volume_rows)
    write_catalogue(root / DOCUMENT_LIST, DOCUMENT_COLUMNS, document_rows)
    write_manifest(root, MANIFEST_NAME)
    if ready_marker:
        (root / READY_NAME).write_bytes(b"")
    return VolumeBatchTruth(batch_id, root, tuple(volumes))


DEMO_VOLUME_BATCH = "DEMO-VOL-{seed:03d}"


def generate_volume_demo(dest: Path, seed: int = 0) -> Path:
    """The volume batch of `make run`'s demo: two volumes of 2 and 3 documents, each ending with its
    备考表; the second volume's 卷内目录 leaves one document out, so it is returned with VOLUME-RANGE
    (pages that belong to no document) while the first is archived."""
    truth = make_volume_batch(dest, documents=((2, 1), (1, 2, 1)), seed=seed, defects={1: "gap"},
                              batch_id=DEMO_VOLUME_BATCH.format(seed=seed))
    return truth.path


def _document_rows(code: str, docs: Sequence[DocumentTruth], defect: Defect | None) -> list[dict[str, str]]:
    """The 卷内目录 rows of one volume, with its planted defect."""
    ranges = [[d.first_page, d.last_page] for d in docs]
    keep = list(range(len(docs)))
    volume = code
    if defect == "overlap":  # the second document starts on the first one's last page
        ranges[1][0] -= 1
    elif defect == "gap":  # a document left out of the list: its pages belong to none
        keep.remove(1)
    elif defect == "beyond":  # the last document runs past the images (past the 备考表 too)
        ranges[-1][1] += 2
    elif defect == "order":  # 序号 1, 2 but the second document's pages come first
        ranges[0], ranges[1] = ranges[1], ranges[0]
    elif defect == "no_documents":
        keep = []
    elif defect == "orphan":  # the rows name a volume the 案卷目录 does not list
        volume = code[:-3] + "999"
    rows = []
    for seq, i in enumerate(keep, 1):
        item = docs[i].item
        rows.append({
            "案卷档号": volume, "序号": str(seq), "文号": item.doc_number, "责任者": item.creator,
            "题名": item.title, "日期": item.date, "起始页号": str(ranges[i][0]), "终止页号": str(ranges[i][1]),
            "密级": "公开", "备注": "",
        })
    return rows


def _backsheet(path: Path, code: str, documents: int, pages: int, dpi: int) -> None:
    """A 卷内备考表 as a volume's last sheet (GB/T 9705): the count of documents and pages, signatures."""
    from PIL import ImageFont

    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    image = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(find_cjk_font()), round(dpi * 0.22))
    lines = ["卷内备考表", f"案卷档号：{code}", f"本卷共有文件 {documents} 件，{pages} 页。", "立卷人：张某某",
             "检查人：李某某", "立卷时间：2024年3月1日"]
    for i, line in enumerate(lines):
        draw.text((round(dpi * 1.1), round(dpi * (1.2 + i * 0.6))), line, font=font, fill=20)
    image.save(path, format="JPEG", quality=90, dpi=(dpi, dpi))
