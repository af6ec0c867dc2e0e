"""What a volume (案卷) adds to its package: the bookmarks of its PDF/A (one per document), its
DA/T 46 metadata at the 案卷 level, and one document-level (文件) metadata file per document.

The package of a volume is the item package (``packaging/aip``) with the volume's 档号: its masters
once, one PDF/A of the whole volume with a bookmark per document, the OCR text, ``metadata.xml``
at 聚合层次 案卷 (件数 = its documents, 页数 = its numbered pages) and ``metadata/文件-0001.xml`` … at
聚合层次 文件, each with the document's own 档号 (件号 under the by-volume rule), its 页号 (the first page,
as the 卷内目录 gives it) and its pages' masters. Why one volume PDF and no PDF per document:
docs/volumes.md (measured).
"""

from __future__ import annotations

from collections.abc import Sequence

from guidang.errors import GuidangError
from guidang.models import CatalogueRow
from guidang.packaging import aip
from guidang.packaging.archival_code import ArchivalCodeRule
from guidang.packaging.dates import normalise_date
from guidang.packaging.metadata import ComputerFile, ProcessEvent, RecordMetadata
from guidang.packaging.metadata_xml import to_xml
from guidang.pipeline.volumes import Volume, VolumeDocument


def outline(volume: Volume) -> list[tuple[str, int]]:
    """One bookmark per document: "序号 题名（第 a-b 页）", at its first page (index from 0)."""
    return [(f"{d.row.seq or d.number} {d.row.title}（第 {d.first_page}-{d.last_page} 页）", d.first_page - 1)
            for d in volume.documents]


def volume_metadata(meta: RecordMetadata, volume: Volume, row: CatalogueRow) -> RecordMetadata:
    """The 案卷-level record: 聚合层次 案卷, 件数, the 起止日期 and the 备考表 noted."""
    notes = list(meta.record.notes)
    if row.date_range:
        notes.append(f"起止日期：{row.date_range}")
    if volume.backsheet:
        notes.append(f"卷内备考表：第 {volume.images} 幅图像（不编页号）")
    form = meta.record.form.model_copy(update={"item_count": len(volume.documents), "composition": "组合文件"})
    update: dict[str, object] = {"aggregation": "案卷", "form": form, "notes": tuple(notes)}
    start = _start_date(row.date_range)
    content, code = meta.record.content, meta.record.archival_code
    if content.date is None and start is not None:  # 日期 of a volume: the first of its 起止日期
        update["content"] = content.model_copy(update={"date": start})
    if code is not None and code.year is None and (start or content.date):  # a rule without 年度 (dat13-catalogue)
        update["archival_code"] = code.model_copy(update={"year": int(str(start or content.date)[:4])})
    return meta.model_copy(update={"record": meta.record.model_copy(update=update)})


def _start_date(date_range: str | None) -> str | None:
    """The first date of an 起止日期 such as ``20230105-20231220``, ISO 8601 (None when it cannot be read)."""
    first = (date_range or "").replace("—", "-").replace("～", "-").split("-")[0].strip()
    try:
        return normalise_date(first) if first else None
    except (ValueError, GuidangError):
        return None


def document_row(volume: Volume, document: VolumeDocument, volume_row: CatalogueRow) -> CatalogueRow:
    """The document's row as an item row: its own 档号 (or the volume's), its pages, the volume's
    保管期限 and 密级 where the 卷内目录 gives none."""
    row = document.row
    return row.model_copy(update={
        "archival_code": document.code or volume.code,
        "page_count": document.pages,
        "retention": row.retention or volume_row.retention,
        "classification": row.classification or volume_row.classification,
    })


def document_metadata(volume: Volume, volume_row: CatalogueRow, rule: ArchivalCodeRule,
                      masters: Sequence[ComputerFile], events: Sequence[ProcessEvent], *,
                      archive_name: str | None, fonds_name: str | None, unit_name: str | None,
                      language: str) -> dict[str, bytes]:
    """``文件-0001.xml`` … : each document's DA/T 46 record at 聚合层次 文件 (``masters``: one per image,
    in page order). Raises MetadataError / ArchivalCodeError as RecordMetadata.from_catalogue does."""
    out: dict[str, bytes] = {}
    for doc in volume.documents:
        row = document_row(volume, doc, volume_row)
        meta = RecordMetadata.from_catalogue(
            row, rule, archive_name=archive_name, fonds_name=fonds_name, unit_name=unit_name,
            files=masters[doc.first_page - 1:doc.last_page], events=events, language=language)
        code = meta.record.archival_code
        if code is not None:
            code = code.model_copy(update={"page_number": str(doc.first_page)})
        if code is not None and code.year is None and meta.record.content.date is not None:
            code = code.model_copy(update={"year": int(str(meta.record.content.date)[:4])})
        notes = (*meta.record.notes, f"所属案卷：{volume.code}；起止页号：{doc.first_page}-{doc.last_page}")
        record = meta.record.model_copy(update={"archival_code": code, "notes": notes})
        out[aip.DOCUMENT_RECORD.format(number=doc.number)] = to_xml(meta.model_copy(update={"record": record}))
    return out
