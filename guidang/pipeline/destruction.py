"""Destruction (销毁) of a record after an appraisal decision (GB/T 18894-2016 10.3): its metadata moves into
the destruction register (``destructions``), the event is logged, then its object leaves every copy.

A permanent (永久) record is never destroyed. The register row is written (and committed) before any copy
is removed, so a destruction cut short is finished by running it again; an audit afterwards is clean (a
registered destruction is not a missing object).
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from guidang.config import Settings
from guidang.errors import InputError
from guidang.packaging import aip
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline import indexing
from guidang.pipeline.audit import open_replica
from guidang.pipeline.worm import open_s3
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import INVENTORY, ObjectNotFoundError, OcflStore
from guidang.storage.preservation import DestructionRow

PERMANENT = "永久"


def destroy(settings: Settings, code: str, *, decision: str, agent: str, reason: str = "") -> DestructionRow:
    """Destroy ``code`` as the appraisal ``decision`` (its reference or text) orders; returns the register row."""
    if not decision.strip():
        raise InputError("销毁须依据鉴定意见（--decision）", "a destruction needs the appraisal decision (--decision)")
    store = OcflStore(settings.store_root, create=False)
    cat = Catalogue(settings.db_url)
    s3 = open_s3(settings)
    with cat.session() as s:
        row = s.scalars(select(DestructionRow).where(DestructionRow.archival_code == code)).first()
        if row is None:
            if not store.exists(code):
                raise ObjectNotFoundError(f"存储中没有档号为 {code} 的对象", f"no object {code} in the store")
            xml = store.read_file(code, aip.METADATA_XML)
            meta = from_xml(xml)
            ac = meta.record.archival_code
            retention = (ac.retention if ac else None) or ""
            if retention == PERMANENT:
                raise InputError(f"{code} 的保管期限为永久，不能销毁",
                                 f"{code} is kept permanently (永久); never destroyed")
            if s3 is not None and (why := s3.locked(store, code, dt.datetime.now(dt.UTC))) is not None:
                raise InputError(f"{code} 的 S3 副本仍在锁定中，不能销毁：{why}",
                                 f"the S3 copy of {code} is still locked; not destroyed: {why}")
            inventory = json.loads((store.object_path(code) / INVENTORY).read_bytes())
            row = DestructionRow(archival_code=code, agent=agent, decision=decision, reason=reason,
                                 title=meta.record.content.title, retention=retention,
                                 metadata_xml=xml.decode("utf-8"), inventory=inventory)
            s.add(row)
            cat.log(s, agent, "object.destroyed", code, decision=decision, reason=reason, retention=retention)
    if s3 is not None:
        s3.delete_object(store, code)  # the server refuses a locked version (checked above)
    store.remove_object(code)
    replica = open_replica(settings)
    if replica is not None:
        replica.remove_object(code)
    indexing.unindex(cat, code)  # no longer found by search (查阅利用); its metadata stays in the register
    return row
