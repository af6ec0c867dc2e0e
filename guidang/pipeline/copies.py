"""The copies of the store (DA/T 92: at least two copies on different media): the second storage root kept in
step after each acceptance, repair of a damaged copy from the good one, offline carriers (脱机载体) and their
restore test.

* :func:`replicate`: after an object is accepted (or corrected), copy it, verified, to the second root;
* :func:`repair`: audit both copies of one object; if exactly one is intact, copy it over the damaged one
  (the damaged copy goes to the target's quarantine, kept) and audit the result; logged;
* :func:`backup_to_carrier`: copy objects to a carrier (a folder standing for a disc or tape, written as an
  OCFL storage root), verify the carrier's copy, and record 脱机载体编号 / 脱机载体存址 as a new metadata
  version of each object (so that ``eep export`` can name the carrier, DA/T 48);
* :func:`restore_test`: restore a sample of a carrier's objects into a scratch area and verify them (BC 3-9).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from guidang.config import Settings
from guidang.errors import GuidangError, InputError, StorageError
from guidang.fsutil import replace_file
from guidang.packaging import aip
from guidang.packaging.metadata import StorageLocation
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline.audit import both_digests, defect_results, open_replica, result, sm3_results
from guidang.pipeline.corrections import correct_metadata
from guidang.storage.catalogue import Catalogue
from guidang.storage.object_audit import ObjectFixity, audit_object, stored_objects
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.preservation import sqlite_snapshot
from guidang.storage.replication import copy_object
from guidang.validators.result import CheckedSubject, CheckResult, Report, Status
from guidang.validators.spec import Stage

log = logging.getLogger(__name__)
AGENT = "guidang"


def _log(settings: Settings, agent: str, action: str, subject: str, **detail: object) -> None:
    cat = Catalogue(settings.db_url)
    with cat.session() as s:
        cat.log(s, agent, action, subject, **detail)


def _verified(store: OcflStore, code: str) -> tuple[ObjectFixity, list[CheckResult]]:
    """The object's fixity audit with its SM3 check: (fixity, failures)."""
    fixity = audit_object(store, code, both_digests)
    failures = defect_results(code, fixity.defects)
    if fixity.head:
        failures += sm3_results(fixity)
    return fixity, failures


# -- the second storage root -----------------------------------------------------------------------------
def replicate(settings: Settings, code: str, agent: str = AGENT) -> Path | None:
    """Bring the second copy of ``code`` (and its WORM copy in S3) up to date; returns the second copy's
    folder (None: no second root). Never raises for a failed copy: the object is safe in the first root;
    the failure is logged, and the audit reports it."""
    from guidang.pipeline.worm import push

    target = None
    replica = open_replica(settings)
    if replica is not None:
        try:
            target = copy_object(OcflStore(settings.store_root, create=False), replica, code, replace=True)
        except (GuidangError, OSError) as exc:
            log.warning("second copy of %s not written: %s", code, exc)
            _log(settings, agent, "replica.failed", code, error=str(exc))
    try:
        push(settings, code)  # the WORM copy in S3, when configured
    except (GuidangError, OSError) as exc:
        log.warning("S3 copy of %s not written: %s", code, exc)
        _log(settings, agent, "s3.failed", code, error=str(exc))
    return target


@dataclass(frozen=True)
class RepairOutcome:
    code: str
    repaired: str | None  # the root whose copy was restored (None: both intact, nothing to do)
    source: str | None  # the root it was restored from
    results: tuple[CheckResult, ...]  # the audit of the restored copy


def repair(settings: Settings, code: str, agent: str = AGENT) -> RepairOutcome:
    """Restore the damaged copy of ``code`` from the intact one, after verifying it; audit and log the result."""
    primary = OcflStore(settings.store_root, create=False)
    replica = open_replica(settings)
    if replica is None:
        raise InputError("未配置第二副本（[preservation] replica_root），无法修复",
                         "no second copy is configured ([preservation] replica_root): nothing to repair from")
    copies = [primary, replica]
    present = [s for s in copies if s.object_path(code).is_dir()]
    if not present:
        raise InputError(f"两个副本中都没有对象 {code}", f"neither copy holds object {code}")
    state = {s.root: (_verified(s, code)[1] if s in present else ["missing"]) for s in copies}
    good = [s for s in copies if not state[s.root]]
    bad = [s for s in copies if state[s.root]]
    if not bad:
        first, second = (audit_object(s, code) for s in copies)
        if first.inventory_digest == second.inventory_digest:
            return RepairOutcome(code, None, None, ())
        good, bad = [primary], [replica]  # both intact but different: the first root is the reference
    if not good:
        raise StorageError(f"对象 {code} 的两个副本都已损坏，无法自动修复；请从脱机载体恢复",
                           f"both copies of object {code} are damaged; restore it from an offline carrier")
    source, target = good[0], bad[0]
    copy_object(source, target, code, replace=True)
    _fixity, failures = _verified(target, code)
    if failures:
        raise StorageError(f"修复后的对象 {code} 仍未通过校验", f"object {code} still fails its audit after repair")
    _log(settings, agent, "object.repaired", code, source=str(source.root), target=str(target.root),
         found=[r.as_dict() for r in state[target.root] if isinstance(r, CheckResult)])
    ok = result("STORE-FIXITY", "intact", Status.PASS, code=code, files=_fixity.files, bytes=_fixity.bytes)
    return RepairOutcome(code, str(target.root), str(source.root), (ok,))


# -- offline carriers ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupOutcome:
    carrier: str
    written: tuple[str, ...]  # objects copied and verified on the carrier
    registered: tuple[str, ...]  # objects whose metadata now names the carrier (new version)


def _register_carrier(store: OcflStore, code: str, carrier: str, location: str, agent: str) -> bool:
    meta = from_xml(store.read_file(code, aip.METADATA_XML))
    st = meta.record.storage or StorageLocation()
    ids = tuple(i for i in st.offline_ids if i not in ("无", ""))
    if carrier in ids and location in st.offline_locations:
        return False
    new = st.model_copy(update={
        "offline_ids": (*ids, carrier) if carrier not in ids else ids,
        "offline_locations": (*st.offline_locations, location) if location not in st.offline_locations
        else st.offline_locations,
    })
    corrected = meta.model_copy(update={"record": meta.record.model_copy(update={"storage": new})})
    correct_metadata(store, code, corrected, agent=agent, agent_type="个人",
                     reason=f"登记脱机备份载体 {carrier}（{location}）/ offline copy on carrier {carrier}")
    return True


def backup_to_carrier(settings: Settings, carrier: str, dest: Path, *, codes: list[str] | None = None,
                      location: str | None = None, agent: str = AGENT) -> BackupOutcome:
    """Write objects (default: all) to the carrier folder ``dest``, verify the carrier's copy, then record the
    carrier in each object's metadata (a new version, carried to the second copy too)."""
    if not carrier.strip() or any(c in carrier for c in "/\\\x00"):
        raise InputError(f"载体编号不可用：{carrier!r}", f"unusable carrier id: {carrier!r}")
    store = OcflStore(settings.store_root, create=False)
    target = OcflStore(dest)
    where = location or str(dest)
    todo = codes if codes else [c for c, _p in stored_objects(store)]
    written: list[str] = []
    registered: list[str] = []
    for code in todo:
        # register first: the carrier then holds the version that names it
        if _register_carrier(store, code, carrier, where, agent):
            registered.append(code)
            replicate(settings, code, agent)
        copy_object(store, target, code, replace=True)
        _fixity, failures = _verified(target, code)
        if failures:
            raise StorageError(f"载体 {carrier} 上的对象 {code} 校验失败：{failures[0].message_zh}",
                               f"object {code} on carrier {carrier} fails verification: {failures[0].message_en}")
        written.append(code)
    snapshot = sqlite_snapshot(settings.db_url)  # the catalogue travels with the store (db rebuild needs none)
    if snapshot is not None:
        folder = carrier_catalogue_dir(target)
        folder.mkdir(parents=True, exist_ok=True)
        replace_file(folder / f"catalogue-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.sqlite", snapshot)
    _log(settings, agent, "carrier.written", carrier, location=where, objects=written, registered=registered)
    return BackupOutcome(carrier, tuple(written), tuple(registered))


def carrier_catalogue_dir(carrier: OcflStore) -> Path:
    """Where a carrier keeps the catalogue snapshots written with it (inside its layout extension folder)."""
    return carrier.staging.parent / "catalogue"


def restore_test(settings: Settings, carrier: str, source: Path, *, percent: float = 5.0,
                 seed: int | None = None, agent: str = AGENT) -> list[CheckedSubject]:
    """Restore a random ``percent`` of the carrier's objects (at least one) into a scratch store and verify
    each against its inventory and SM3 manifest (BC 3-9, STORE-CARRIER); logged."""
    carrier_store = OcflStore(source, create=False)
    objects = [c for c, _p in stored_objects(carrier_store)]
    if not objects:
        raise InputError(f"载体 {carrier}（{source}）上没有对象", f"carrier {carrier} ({source}) holds no objects")
    want = max(1, math.ceil(len(objects) * percent / 100))
    sample = sorted(random.Random(seed).sample(objects, min(want, len(objects))))
    subjects = []
    with tempfile.TemporaryDirectory(prefix="guidang-restore-") as tmp:
        scratch = OcflStore(Path(tmp) / "restored")
        for code in sample:
            try:
                copy_object(carrier_store, scratch, code)
                fixity, failures = _verified(scratch, code)
            except (GuidangError, OSError, ValueError, KeyError) as exc:
                failures, fixity = [result("STORE-CARRIER", "damaged", code=code, carrier=carrier,
                                           detail=str(exc))], None
            if failures:
                detail = "; ".join(r.message_en for r in failures[:3])
                results = (result("STORE-CARRIER", "damaged", code=code, carrier=carrier, detail=detail),
                           *failures)
            else:
                assert fixity is not None
                results = (result("STORE-CARRIER", "restored", Status.PASS, code=code, carrier=carrier,
                                  files=fixity.files),)
            subjects.append(CheckedSubject(f"{source}#{code}", "脱机载体对象", Report(tuple(results)), Stage.BC.value))
    _log(settings, agent, "carrier.restore_test", carrier, source=str(source), sample=sample,
         damaged=[s.path for s in subjects if s.failed])
    return subjects
