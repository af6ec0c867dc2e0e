"""``guidang db rebuild``: the catalogue database rebuilt from the store alone.

Every object carries what the catalogue needs of an archived record: its 档号 (the object id), the DA/T 46
metadata (题名, 责任者, 日期, 密级, 保管期限, 页数), its files with SHA-256 and SM3 (the package manifests)
and sizes, the GD check report (``metadata/checks.json``) and the archiving event (业务实体). Rebuilt items
hang under one batch named ``rebuilt-<time>`` (profile ``rebuilt``): which vendor delivery brought each
record, the rejected items and the events log live only in the database and its backups (a snapshot is
written to every offline carrier, see :func:`guidang.pipeline.copies.backup_to_carrier`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import BatchStatus, ItemStatus
from guidang.packaging import aip
from guidang.packaging.metadata import Action
from guidang.packaging.metadata_xml import from_xml
from guidang.packaging.ocfl_package import package_digests
from guidang.pipeline.steps import file_role
from guidang.storage.catalogue import BatchRow, Catalogue, CheckResultRow, DecisionRow, FileRow, ItemRow, utcnow
from guidang.storage.object_audit import stored_objects
from guidang.storage.ocfl_store import OcflStore

AGENT = "guidang-rebuild"


def _item(store: OcflStore, code: str) -> ItemRow:
    meta = from_xml(store.read_file(code, aip.METADATA_XML))
    rec = meta.record
    ac = rec.archival_code
    digests = package_digests(store, code)
    files = [FileRow(role=file_role(rel), relpath=rel, size=d.size, sha256=d.sha256, sm3=d.sm3)
             for rel, d in sorted(digests.items())]
    row = {"archival_code": code, "title": rec.content.title, "creator": "；".join(rec.content.creators),
           "date": rec.content.date, "classification": rec.content.classification,
           "page_count": rec.form.page_count, "retention": ac.retention if ac else None,
           "doc_number": rec.content.doc_number}
    item = ItemRow(archival_code=code, title=rec.content.title, row={k: v for k, v in row.items() if v},
                   status=ItemStatus.ACCEPTED, object_id=code, page_count=rec.form.page_count or 0,
                   byte_count=sum(f.size for f in files if f.role == "master"))
    item.files = files
    archived = [e for e in meta.events if e.action == Action.ARCHIVED]
    at = archived[-1].time if archived else utcnow()
    item.decisions = [DecisionRow(status=ItemStatus.ACCEPTED, reason="由存储重建 / rebuilt from the store",
                                  agent=archived[-1].agent if archived else AGENT, at=at)]
    logical = store.logical_files(code)
    if aip.CHECKS_JSON in logical:
        report: dict[str, Any] = json.loads(logical[aip.CHECKS_JSON].read_bytes())
        item.results = [CheckResultRow(check_id=str(r["check"]), status=str(r["status"]),
                                       blocking=bool(r.get("blocking", True)), message_zh=str(r.get("message_zh", "")),
                                       message_en=str(r.get("message_en", "")), evidence=list(r.get("evidence", [])),
                                       dat70=list(r.get("dat70", [])))
                        for r in report.get("results", [])]
    return item


def rebuild_catalogue(settings: Settings) -> int:
    """Fill an empty catalogue from the store; returns the number of records. Refuses a catalogue that holds
    items (it is not overwritten: move it away first)."""
    store = OcflStore(settings.store_root, create=False)
    cat = Catalogue(settings.db_url)
    with cat.session() as s:
        if s.scalars(select(ItemRow.id).limit(1)).first() is not None:
            raise InputError("编目数据库不是空的，不会覆盖；请先移走它再重建",
                             "the catalogue database is not empty and is never overwritten; move it away first")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        batch = BatchRow(profile="rebuilt", vendor="", name=f"rebuilt-{stamp}", content_digest="0" * 64,
                         status=BatchStatus.DONE, source_path=str(store.root), finished_at=utcnow())
        s.add(batch)
        count = 0
        for code, _path in stored_objects(store):
            batch.items.append(_item(store, code))
            count += 1
        batch.summary = {"items": count, "accepted": count, "rebuilt_from": str(store.root)}
        cat.log(s, AGENT, "catalogue.rebuilt", str(store.root), items=count)
    return count
