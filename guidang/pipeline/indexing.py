"""Keep the search index in step with the store: a record is (re)indexed from its stored package when it is
accepted or corrected, taken out when it is destroyed, and the whole index is rebuilt from the store alone.

What is indexed comes from the head version of the OCFL object: ``content/<档号>.txt`` (pages separated by a
form feed, as OCR writes it) and ``metadata/metadata.xml`` (题名, 责任者, 档号 parts, 密级, 控制标识, 事项, …).
The vendor is read from the metadata too (the masters' 文档创建程序 names it); the batch is not in the store and
comes from the catalogue when it knows the object (empty after a rebuild on a catalogue that lost it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from guidang.errors import GuidangError
from guidang.packaging import aip
from guidang.packaging.metadata import RecordMetadata
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline.access import rules
from guidang.storage import search_index
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow
from guidang.storage.ocfl_store import OcflStore

log = logging.getLogger(__name__)
DIGITISED_BY = "（纸质档案数字化）"  # steps._computer_files: "<vendor>（纸质档案数字化）" on every master


def _vendor(meta: RecordMetadata) -> str:
    for f in meta.record.files:
        app = f.electronic.creating_application or ""
        if app.endswith(DIGITISED_BY):
            return app.removesuffix(DIGITISED_BY)
    return ""


def metadata_text(meta: RecordMetadata, code: str) -> str:
    """The metadata a query should find, one field a line (page 0 of the record in the index)."""
    c = meta.record.content
    g = meta.government
    lines: list[str | None] = [code, c.title, c.parallel_title, c.subtitle, c.doc_number, c.abstract,
                               *c.creators, *c.keywords, *c.subject_terms, *c.personal_names, *meta.record.notes]
    if g is not None:
        lines += [g.matter_name, g.matter_code, g.case_number, g.applicant, g.outcome]
    return "\n".join(x for x in lines if x)


def _fields(meta: RecordMetadata) -> dict[str, str]:
    c = meta.record.content
    g = meta.government
    shown = {"责任者": "、".join(c.creators), "日期": str(c.date or ""), "文件编号": c.doc_number or "",
             "页数": str(meta.record.form.page_count or "")}
    if g is not None:
        shown |= {"事项编码": g.matter_code or "", "办件编号": g.case_number or "", "申请人": g.applicant or ""}
    return {k: v for k, v in shown.items() if v}


def record_of(store: OcflStore, code: str, batch: str = "") -> search_index.IndexedRecord:
    """What the index holds of an archived record, read from the head version of its object."""
    head = str(store.inventory(code)["head"])
    files = store.logical_files(code, head)
    meta = from_xml(files[aip.METADATA_XML].read_bytes())
    texts = sorted(p for p in files if p.startswith(f"{aip.CONTENT_DIR}/") and p.endswith(".txt"))
    pages: tuple[str, ...] = ()
    if texts:
        pages = tuple(files[texts[0]].read_bytes().decode("utf-8", errors="replace").split("\f"))
    a = meta.record.archival_code
    rights = meta.record.rights
    classification = meta.record.content.classification or ""
    return search_index.IndexedRecord(
        code=code, version=head, title=meta.record.content.title, level=rules().rank(classification),
        pages=pages, metadata_text=metadata_text(meta, code),
        fonds=(a.fonds_code or "") if a else "", year=a.year if a else None,
        retention=(a.retention or "") if a else "", classification=classification,
        control=(rights.control or "") if rights else "",
        matter=(meta.government.matter_name or "") if meta.government else "",
        vendor=_vendor(meta), batch=batch, fields=_fields(meta))


def _batch_of(cat: Catalogue, code: str) -> str:
    with cat.session() as s:
        found = s.execute(select(BatchRow.name).join(ItemRow, ItemRow.batch_id == BatchRow.id)
                          .where(ItemRow.object_id == code).order_by(ItemRow.id)).scalar()
    return found or ""


def index_object(cat: Catalogue, store: OcflStore, code: str) -> None:
    """(Re)index one archived record from its head version (acceptance, correction)."""
    record = record_of(store, code, _batch_of(cat, code))
    with cat.engine.begin() as conn:
        search_index.put(conn, record)


def keep_in_step(cat: Catalogue, store: OcflStore, code: str) -> bool:
    """Index a record the pipeline has just stored; a failure is logged, never raised: the record is archived
    whatever the index says, and ``guidang index rebuild`` (or the next correction) brings it in."""
    try:
        index_object(cat, store, code)
    except Exception:  # the index is derived data: it must not cost the archived record its verdict
        log.exception("检索索引未更新 search index not updated for %s; run `guidang index rebuild`", code)
        return False
    return True


def unindex(cat: Catalogue, code: str) -> bool:
    """Take a destroyed (销毁) record out of the index; True when it was there."""
    with cat.engine.begin() as conn:
        return search_index.remove(conn, code)


@dataclass(frozen=True)
class RebuildResult:
    indexed: int
    pages: int
    failed: tuple[tuple[str, str], ...]  # 档号, why (zh)


REBUILD_GROUP = 200  # records written per transaction by a rebuild (bench/bench_search.py: one commit per
# record spends most of a rebuild in the database's sync; 200 holds a few MB of text in memory at most)


def rebuild(cat: Catalogue, store: OcflStore,
            progress: Callable[[str], None] | None = None) -> RebuildResult:
    """Empty the index and index every object in the store (a record that cannot be read is listed, the
    others are indexed; records are written :data:`REBUILD_GROUP` to a transaction)."""
    with cat.engine.begin() as conn:
        search_index.clear(conn)
    indexed = pages = 0
    failed: list[tuple[str, str]] = []
    group: list[search_index.IndexedRecord] = []

    def write() -> None:
        with cat.engine.begin() as conn:
            for record in group:
                search_index.put(conn, record)
        group.clear()

    for code in sorted(store.list_codes()):
        try:
            record = record_of(store, code, _batch_of(cat, code))
        except GuidangError as exc:
            failed.append((code, exc.message("zh")))
            continue
        except (KeyError, OSError, UnicodeError) as exc:
            failed.append((code, f"{type(exc).__name__}: {exc}"))
            continue
        group.append(record)
        indexed += 1
        pages += len(record.pages)
        if progress is not None:
            progress(code)
        if len(group) >= REBUILD_GROUP:
            write()
    write()
    return RebuildResult(indexed, pages, tuple(failed))
