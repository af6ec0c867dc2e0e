"""The WORM copy in S3 with Object Lock: its retention derived from the record's 保管期限, the copy written after
acceptance, its audit, legal holds, and the lock a destruction must respect.

Retention (docs/storage.md):

* 永久 (permanent): compliance mode for ``[preservation.s3] permanent_years`` (default 100, the longest
  retention S3 accepts), renewed by a later write (no one, not even the bucket's owner, can shorten it);
* 定期 N 年 (D30, D10): compliance mode until the term ends: 1 January of the year after the record's year
  plus N years (DA/T 22-2015: the term counts from the year after the record was made); after that, an
  appraisal may destroy it. A term that has already ended writes no retention (appraisal is due);
* a legal hold (``guidang hold``) for disputes, on top of either, until lifted.
"""

from __future__ import annotations

import datetime as dt
import re

from guidang.config import Settings
from guidang.errors import InputError
from guidang.packaging import aip
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline.audit import defect_results, result
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.s3_store import COMPLIANCE, Lock, S3LockedStore, object_digests
from guidang.validators.result import CheckResult, Status

PERMANENT = "永久"
_YEARS = re.compile(r"(?:定期)?(\d+)年$|^D(\d+)$")


def lock_for(retention: str | None, year: int | None, permanent_years: int, now: dt.datetime) -> Lock:
    """The Object Lock retention of a record kept for ``retention`` (DA/T 46 term or code), made in ``year``."""
    term = (retention or "").strip()
    if term in (PERMANENT, "Y"):
        days = 365 * permanent_years + permanent_years // 4  # leap days
        return Lock(COMPLIANCE, now.replace(microsecond=0) + dt.timedelta(days=days))
    m = _YEARS.search(term)
    if m is None or year is None:
        raise InputError(f"无法由保管期限“{term}”（年度 {year}）确定锁定期限",
                         f"cannot derive a retention from 保管期限 {term!r} (year {year})")
    years = int(m.group(1) or m.group(2))
    ends = dt.datetime(year + 1 + years, 1, 1, tzinfo=dt.UTC)
    return Lock(COMPLIANCE, ends) if ends > now else Lock(None, None)


def open_s3(settings: Settings) -> S3LockedStore | None:
    opts = settings.preservation.s3
    if not opts.endpoint_url or not opts.bucket:
        return None
    return S3LockedStore.from_options(opts)


def record_lock(settings: Settings, store: OcflStore, code: str, now: dt.datetime | None = None) -> Lock:
    meta = from_xml(store.read_file(code, aip.METADATA_XML))
    ac = meta.record.archival_code
    return lock_for(ac.retention if ac else None, ac.year if ac else None,
                    settings.preservation.s3.permanent_years, now or dt.datetime.now(dt.UTC))


def push(settings: Settings, code: str, *, legal_hold: bool = False) -> int | None:
    """Write (or bring up to date) the WORM copy of ``code``; None when no bucket is configured."""
    s3 = open_s3(settings)
    if s3 is None:
        return None
    store = OcflStore(settings.store_root, create=False)
    s3.ensure_bucket()
    lock = record_lock(settings, store, code)
    return s3.put_object(store, code, object_digests(store, code), Lock(lock.mode, lock.until, legal_hold))


def audit_results(s3: S3LockedStore, settings: Settings, store: OcflStore, code: str) -> list[CheckResult]:
    """The bucket's copy of ``code`` against the store's (bytes) and the retention its 保管期限 asks (lock)."""
    lock = record_lock(settings, store, code)
    fixity, locks = s3.audit(store, code, object_digests(store, code), lock)
    out = defect_results(code, tuple(fixity))
    out += [result("STORE-LOCK", d.kind, file=d.path, expected=d.expected, found=d.found, code=code) for d in locks]
    if not fixity and not locks:
        files = sum(1 for _ in s3.keys(store, code))
        out.append(result("STORE-LOCK", "locked", Status.PASS, code=code, files=files, expected=lock.describe()))
    return out


def set_legal_hold(settings: Settings, code: str, on: bool) -> int:
    s3 = open_s3(settings)
    if s3 is None:
        raise InputError("未配置 S3 存储（[preservation.s3]），无法设置法律保留",
                         "no S3 bucket is configured ([preservation.s3]): no legal hold to set")
    return s3.set_legal_hold(OcflStore(settings.store_root, create=False), code, on)
