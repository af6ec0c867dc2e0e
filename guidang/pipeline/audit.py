"""``guidang audit``: the BC-stage audit of the long-term store, fixity first, streaming.

Every object is read once (SHA-256 and SM3 in one read, :func:`guidang.packaging.fixity.digest_file`) and
compared with its OCFL inventory (SHA-256) and its package's ``manifest-sm3.txt`` (SM3); its structure is
checked (:mod:`guidang.storage.object_audit`). With a second storage root configured, its copy is audited the
same way and compared. A sample (``--sample PCT``) or every object (``--full``) also gets the four-property
checks of the BC stage (the callback ``four_property``, given by the command, which owns the check context).

Nothing is touched: a damaged object is flagged (the last audit of every object is a row of the catalogue,
``object_audits``; every run is an ``audit_runs`` row and an ``audit.run`` event), and ``guidang repair``
restores it from the good copy. Memory is flat in the store's size: objects are streamed, results of intact
objects are counted, not kept (:attr:`StoreAudit.problems` holds the damaged ones).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import delete, insert, select

from guidang.config import Settings
from guidang.errors import GuidangError
from guidang.packaging import aip
from guidang.packaging.fixity import digest_file
from guidang.storage.catalogue import Catalogue, ItemRow, utcnow
from guidang.storage.object_audit import Defect, ObjectFixity, audit_object, stored_objects
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.preservation import AuditRunRow, ObjectAuditRow
from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckedSubject, CheckResult, Evidence, Finding, Report, Status
from guidang.validators.spec import Stage

AGENT = "guidang-audit"
KINDS = ("fixity", "sample", "full")
# the check each kind of defect is reported under (validators/checks/store.toml)
DEFECT_CHECK: Mapping[str, str] = {
    "digest_mismatch": "STORE-FIXITY",
    "missing_file": "STORE-FILES",
    "extra_file": "STORE-FILES",
    "inventory_changed": "STORE-INVENTORY",
    "object_truncated": "STORE-INVENTORY",
}
FLUSH_EVERY = 500  # objects per catalogue transaction
KIND_ZH = {"fixity": "固化信息", "sample": "抽样四性", "full": "全面四性"}

FourProperty = Callable[[str, OcflStore], CheckedSubject]


def both_digests(path: Path) -> dict[str, str]:
    d = digest_file(path)
    return {"sha256": d.sha256, "sm3": d.sm3}


def result(check_id: str, key: str, status: Status = Status.FAIL, file: str | None = None,
           expected: str | None = None, found: str | None = None, **params: object) -> CheckResult:
    evidence = (Evidence(file=file, expected=expected, found=found),) if (file or expected or found) else ()
    finding = Finding(status, key, {"file": file, "expected": expected, "found": found, **params}, evidence)
    return REGISTRY.result(check_id, finding, Stage.BC)


def defect_results(code: str, defects: tuple[Defect, ...]) -> list[CheckResult]:
    return [result(DEFECT_CHECK[d.kind], d.kind, file=d.path, expected=d.expected, found=d.found,
                   algorithm=d.algorithm or "", code=code) for d in defects]


def sm3_results(fixity: ObjectFixity) -> list[CheckResult]:
    """SM3 of the head's files against the package's manifest-sm3.txt (read from the store as audited)."""
    name = aip.manifest_name("sm3")
    files = fixity.head_files
    if name not in files or not files[name].is_file():
        return []  # reported by the structure check (missing_file) when the inventory names it
    recorded = aip.parse_manifest(files[name].read_bytes(), name)
    out = []
    for rel, expected in sorted(recorded.items()):
        found = fixity.head.get(rel, {}).get("sm3")
        if found is not None and found != expected:
            out.append(result("STORE-FIXITY", "digest_mismatch", file=rel, expected=expected, found=found,
                              algorithm="sm3", code=fixity.code))
    return out


def replica_results(replica: OcflStore, primary: ObjectFixity) -> list[CheckResult]:
    code = primary.code
    root = str(replica.root)
    copy_dir = replica.object_path(code)
    if not copy_dir.is_dir():
        return [result("STORE-REPLICA", "missing", code=code, root=root)]
    copy = audit_object(replica, code, both_digests, copy_dir)
    if copy.defects:
        detail = "；".join(f"{d.kind} {d.path}" for d in copy.defects[:5])
        evidence = [result("STORE-REPLICA", "damaged", file=d.path, expected=d.expected, found=d.found,
                           code=code, root=root, detail=detail) for d in copy.defects]
        return evidence
    if primary.intact and primary.inventory_digest != copy.inventory_digest:
        return [result("STORE-REPLICA", "differs", expected=primary.inventory_digest, found=copy.inventory_digest,
                       code=code, root=root)]
    return [result("STORE-REPLICA", "intact", Status.PASS, code=code, root=root)]


@dataclass
class Totals:
    objects: int = 0
    files: int = 0
    bytes: int = 0
    damaged: int = 0
    checked: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class StoreAudit:
    """One audit run over the store (and its second copy): iterate :meth:`run`, then read the totals."""

    settings: Settings
    kind: str = "fixity"
    sample_percent: float = 0.0
    four_property: FourProperty | None = None
    seed: int | None = None
    record: bool = True
    agent: str = AGENT
    progress: Callable[[int], None] | None = None
    totals: Totals = field(default_factory=Totals)
    problems: list[CheckedSubject] = field(default_factory=list)
    run_id: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"audit kind must be one of {KINDS}")
        self.store = OcflStore(self.settings.store_root, create=False)
        self.replica = open_replica(self.settings)
        from guidang.pipeline.worm import open_s3

        self.s3 = open_s3(self.settings)
        self.catalogue = Catalogue(self.settings.db_url) if self.record else None
        self._rows: list[tuple[str, str, list[str], list[dict[str, object]]]] = []

    def count(self) -> int:
        return sum(1 for _ in stored_objects(self.store))

    def _sample(self, total: int) -> set[int]:
        if self.kind == "full":
            return set(range(total))
        if self.kind == "sample" and total:
            want = min(total, math.ceil(total * self.sample_percent / 100))
            return set(random.Random(self.seed).sample(range(total), want))
        return set()

    def run(self, total: int | None = None) -> Iterator[CheckedSubject]:
        """Audit every object; yields one subject per object (intact or not)."""
        start = time.perf_counter()
        total = self.count() if total is None else total
        chosen = self._sample(total)
        self._begin()
        seen: set[str] = set()
        workers = max(2, _cpus())
        pending: deque[tuple[int, str, Future[ObjectFixity]]] = deque()
        with ThreadPoolExecutor(workers) as pool:
            objects = iter(enumerate(stored_objects(self.store)))
            while True:
                while len(pending) < 2 * workers and (nxt := next(objects, None)) is not None:
                    n, (code, path) = nxt
                    pending.append((n, code, pool.submit(audit_object, self.store, code, both_digests, path)))
                if not pending:
                    break
                n, code, future = pending.popleft()
                seen.add(code)
                subject = self._judge(code, future.result(), n in chosen)
                self._tally(subject)
                yield subject
        registered = set(self._registered_missing(seen))
        only_copy = {c for c, _p in stored_objects(self.replica)} - seen if self.replica is not None else set()
        for code in sorted(registered | only_copy):
            results = [result("STORE-FILES", "object_missing", code=code)] if code in registered else []
            if code in only_copy:
                results.append(result("STORE-REPLICA", "only_copy", code=code, root=str(self.replica.root)
                                      if self.replica else ""))
            subject = CheckedSubject(f"{self.store.root}#{code}", "保存对象", Report(tuple(results)), Stage.BC.value)
            self._remember(code, subject)
            self._tally(subject)
            yield subject
        self.totals.seconds = time.perf_counter() - start
        self._end()

    # -- one object ----------------------------------------------------------------------------------
    def _judge(self, code: str, fixity: ObjectFixity, four: bool) -> CheckedSubject:
        results = defect_results(code, fixity.defects)
        if fixity.head:  # the inventory was readable: SM3 against the package's own manifest too
            try:
                results += sm3_results(fixity)
            except (GuidangError, OSError, ValueError) as exc:
                results.append(result("STORE-FIXITY", "unreadable", file=aip.manifest_name("sm3"), code=code,
                                      detail=str(exc)))
        if not any(r.status is Status.FAIL for r in results):
            results.append(result("STORE-FIXITY", "intact", Status.PASS, code=code, files=fixity.files,
                                  bytes=fixity.bytes))
        if self.replica is not None:
            results += replica_results(self.replica, fixity)
        if self.s3 is not None and fixity.head:
            from guidang.pipeline.worm import audit_results

            try:
                results += audit_results(self.s3, self.settings, self.store, code)
            except GuidangError as exc:
                results.append(result("STORE-LOCK", "not_locked", file=f"s3://{self.s3.bucket}", code=code,
                                      expected="a reachable, locked copy", found=exc.message("en")))
        self.totals.files += fixity.files
        self.totals.bytes += fixity.bytes
        subject = CheckedSubject(f"{self.store.root}#{code}", "保存对象", Report(tuple(results)), Stage.BC.value)
        if four and self.four_property is not None and fixity.intact:
            self.totals.checked += 1
            checked = self.four_property(code, self.store)
            subject = replace(subject, report=subject.report + checked.report, error=checked.error)
        self._remember(code, subject)
        return subject

    def _tally(self, subject: CheckedSubject) -> None:
        self.totals.objects += 1
        if subject.failed:
            self.totals.damaged += 1
            self.problems.append(subject)
        if self.progress is not None:
            self.progress(1)

    # -- the catalogue -------------------------------------------------------------------------------
    def _begin(self) -> None:
        if self.catalogue is None:
            return
        with self.catalogue.session() as s:
            row = AuditRunRow(kind=self.kind, agent=self.agent)
            s.add(row)
            s.flush()
            self.run_id = row.id

    def _remember(self, code: str, subject: CheckedSubject) -> None:
        """Buffer the object's audit row; written in batches (one transaction per :data:`FLUSH_EVERY`
        objects), so the catalogue costs little per object and memory stays bounded."""
        if self.catalogue is None:
            return
        failed = [r for r in subject.report.results if r.status is Status.FAIL]
        checks = sorted({r.check_id for r in failed} | {i for r in failed for i in r.dat70})
        self._rows.append((code, "damaged" if subject.failed else "intact", checks, [r.as_dict() for r in failed]))
        if len(self._rows) >= FLUSH_EVERY:
            self._flush()

    def _flush(self) -> None:
        if self.catalogue is None or not self._rows:
            return
        now = utcnow()
        rows = [{"archival_code": code, "run_id": self.run_id, "audited_at": now, "kind": self.kind,
                 "status": status, "failed_checks": checks, "findings": findings}
                for code, status, checks, findings in self._rows]
        with self.catalogue.session() as s:
            codes = [r["archival_code"] for r in rows]
            s.execute(delete(ObjectAuditRow).where(ObjectAuditRow.archival_code.in_(codes)))
            s.execute(insert(ObjectAuditRow), rows)
            for code, status, checks, _findings in self._rows:
                if status == "damaged":
                    self.catalogue.log(s, self.agent, "audit.damaged", code, run=self.run_id, checks=checks)
        self._rows.clear()

    def _registered_missing(self, seen: set[str]) -> list[str]:
        if self.catalogue is None:
            return []
        with self.catalogue.session() as s:
            codes = set(s.scalars(select(ItemRow.object_id).where(ItemRow.object_id.is_not(None)).distinct()))
        from guidang.storage.preservation import DestructionRow

        with self.catalogue.session() as s:
            destroyed = set(s.scalars(select(DestructionRow.archival_code)))
        return sorted(str(c) for c in codes - seen - destroyed)

    def _end(self) -> None:
        if self.catalogue is None:
            return
        self._flush()
        with self.catalogue.session() as s:
            row = s.get(AuditRunRow, self.run_id)
            assert row is not None
            row.finished_at = utcnow()
            row.objects, row.damaged, row.checked = self.totals.objects, self.totals.damaged, self.totals.checked
            row.files, row.bytes = self.totals.files, self.totals.bytes
            self.catalogue.log(s, self.agent, "audit.run", str(self.store.root), run=self.run_id, kind=self.kind,
                               result="pass" if self.totals.damaged == 0 else "fail", **self.totals.as_dict())


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def replica_path(settings: Settings) -> Path | None:
    root = settings.preservation.replica_root
    if root is None:
        return None
    return root if root.is_absolute() else settings.home / root


def open_replica(settings: Settings) -> OcflStore | None:
    """The second storage root, created on first use (like the first)."""
    root = replica_path(settings)
    return OcflStore(root) if root is not None else None


def due(settings: Settings, now: dt.datetime | None = None) -> str | None:
    """The kind of audit the schedule asks for now (the widest one due), or None."""
    from guidang.storage.preservation import last_run

    now = now or utcnow()
    opts = settings.preservation
    every = {"full": opts.full_every_days, "sample": opts.sample_every_days, "fixity": opts.fixity_every_days}
    with Catalogue(settings.db_url).session() as s:
        for kind in KINDS[::-1]:
            wider = KINDS[KINDS.index(kind):]  # a full audit also counts as a sample and a fixity audit
            last = last_run(s, wider)
            finished = last.finished_at if last else None
            if finished is not None and finished.tzinfo is None:
                finished = finished.replace(tzinfo=dt.UTC)
            if finished is None or now - finished >= dt.timedelta(days=every[kind]):
                return kind
    return None

