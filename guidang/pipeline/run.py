"""Ingest one batch from intake to receipt. Orchestration only: the work is in ``steps``.

Order of business, each recorded in the catalogue DB:
1. intake (list, catalogue, digests, manifest, each row's metadata); a byte-identical re-delivery
   is recognised and nothing is archived twice; a problem of the whole batch (scope "batch")
   rejects every item; a re-delivered item is linked to the returned one it replaces, and an item
   archived already with the same content is not archived again;
2. scan QA over the whole batch (cross-item duplicates, one format per batch);
3. per page in a process pool: image preparation and OCR;
4. per item, one task (``packing``): PDF/A, metadata XML, package, DA/T 70 checks (stage GD), then
   accept into the OCFL store, or keep the item whole in the rejected area with its reasons;
5. each item's decision recorded (by this process only, whichever ran its tasks);
6. the receipt for the vendor.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

from guidang import names
from guidang.config import Settings
from guidang.models import BatchStatus, ItemStatus
from guidang.packaging.archival_code import get_rule
from guidang.pipeline import indexing, steps
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.intake import BatchIntake, IntakePolicy, read_batch
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome, Link, document_outcomes
from guidang.pipeline.packing import Packed, PackJob, keep_rejected, pack_task
from guidang.pipeline.page_pool import TaskRunner, run_here, run_tasks
from guidang.pipeline.problems import Problem
from guidang.pipeline.progress import QUIET, Progress
from guidang.reports.receipt import receipt_dir, write_receipt
from guidang.storage import audit
from guidang.storage.catalogue import (
    BatchRow,
    Catalogue,
    CheckResultRow,
    DecisionRow,
    FileRow,
    ItemRow,
    VolumeDocumentRow,
)
from guidang.storage.ocfl_store import OcflStore
from guidang.validators.clamav import Scanner
from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Evidence, Report, Status

log = logging.getLogger(__name__)
AGENT = "guidang"


def _register_batch(cat: Catalogue, profile: str, vendor: str, intake: BatchIntake,
                    received: dt.datetime | None = None) -> tuple[int, int, int | None]:
    """Record the batch, received when its intake began; return (batch id, delivery number, id of an
    identical earlier delivery)."""
    name = intake.root.name
    with cat.session() as s:
        earlier = cat.batches_named(s, profile, name)
        same = next((b for b in earlier if b.content_digest == intake.content_digest
                     and b.status == BatchStatus.DONE), None)
        resumed = next((b for b in earlier if b.status == BatchStatus.PROCESSING and b.source_path == str(intake.root)
                        and b.content_digest == intake.content_digest), None)
        if resumed is not None:  # the same delivery run again after an interruption: not a new delivery
            cat.log(s, AGENT, "batch.resumed", name, batch_id=resumed.id)
            return resumed.id, resumed.delivery, (same.id if same else None)
        row = BatchRow(
            profile=profile, vendor=vendor, name=name, content_digest=intake.content_digest,
            delivery=len(earlier) + 1, status=BatchStatus.PROCESSING, source_path=str(intake.root),
            received_at=received or dt.datetime.now(dt.UTC),  # intake's start: the report's "intake" stage
        )
        s.add(row)
        s.flush()
        cat.log(s, AGENT, "batch.received", name, batch_id=row.id, digest=intake.content_digest,
                delivery=row.delivery)
        return row.id, row.delivery, (same.id if same else None)


def _register_items(cat: Catalogue, batch_id: int, intake: BatchIntake) -> dict[str, int]:
    """Record every item of the batch with its delivered files before any work starts."""
    with cat.session() as s:
        batch = s.get(BatchRow, batch_id)
        ids = {r.archival_code: r.id for r in batch.items} if batch is not None else {}
        for item in intake.items:
            if item.archival_code in ids:
                continue  # a duplicated 档号 row (reported by INTAKE-ROW), or registered before a resume
            row = ItemRow(batch_id=batch_id, archival_code=item.archival_code, title=item.row.title,
                          row=item.row.model_dump(), status=ItemStatus.PROCESSING,
                          page_count=len(item.pages), byte_count=sum(p.size for p in item.pages))
            row.files = [FileRow(role="master", relpath=p.relpath, size=p.size, sha256=p.sha256, sm3=p.sm3)
                         for p in item.pages]
            volume = intake.volumes.get(item.archival_code)
            row.documents = [VolumeDocumentRow(number=d.number, archival_code=d.code, seq=d.row.seq, title=d.row.title,
                                               first_page=d.first_page, last_page=d.last_page)
                             for d in (volume.documents if volume else ())]
            s.add(row)
            s.flush()
            ids[item.archival_code] = row.id
            cat.log(s, AGENT, "item.received", item.archival_code, batch_id=batch_id, files=len(item.pages))
    return ids


def _record_decision(cat: Catalogue, item_id: int, outcome: ItemOutcome, stored: list[steps.StoredFile]) -> None:
    with cat.session() as s:
        item = s.get(ItemRow, item_id)
        assert item is not None
        item.status = outcome.status
        item.failed_checks = outcome.failed_checks
        # an item archived before names that object in its outcome; its own row does not hold it
        item.object_id = None if outcome.status is ItemStatus.DUPLICATE else outcome.object_id
        item.rejected_path = outcome.rejected_path
        item.files = [f for f in item.files if f.role == "master"] + [  # a resumed item: replaced, not added
            FileRow(role=f.role, relpath=f.relpath, size=f.size, sha256=f.sha256, sm3=f.sm3)
            for f in stored if f.role != "master"]
        item.results = [result_row(r) for r in outcome.results]
        item.duplicate_of = outcome.duplicate_of.item_id if outcome.duplicate_of else None
        item.decisions.append(DecisionRow(status=outcome.status, failed_checks=outcome.failed_checks,
                                          reason="automatic checks", agent=AGENT))
        action = {ItemStatus.ACCEPTED: "item.accepted", ItemStatus.DUPLICATE: "item.archived_before"}.get(
            outcome.status, "item.rejected")
        cat.log(s, AGENT, action, outcome.code, batch_id=item.batch_id, object=outcome.object_id,
                failed=outcome.failed_checks)


def _decided_items(cat: Catalogue, batch_id: int) -> dict[str, ItemOutcome]:
    """Items of the batch a run before an interruption decided: their outcomes as recorded.
    They are not run again (the 1-8 check would find an item's own record and call it a double)."""
    with cat.session() as s:
        batch = s.get(BatchRow, batch_id)
        decided = (ItemStatus.ACCEPTED, ItemStatus.REJECTED, ItemStatus.DUPLICATE)
        rows = [i for i in batch.items if i.status in decided] if batch else []
        links = {i.id: _link(s.get(ItemRow, i.duplicate_of)) for i in rows if i.duplicate_of is not None}
        return {i.archival_code: recorded_outcome(i, links.get(i.id)) for i in rows}


def recorded_outcome(item: ItemRow, duplicate_of: Link | None = None) -> ItemOutcome:
    """An item's outcome as the catalogue records it (a duplicate's object is its twin's)."""
    return ItemOutcome(
        code=item.archival_code, title=item.title, status=ItemStatus(item.status),
        results=tuple(recorded_result(r) for r in item.results),
        object_id=duplicate_of.object_id if duplicate_of is not None else item.object_id, duplicate_of=duplicate_of,
        rejected_path=item.rejected_path, pages=item.page_count, bytes=item.byte_count)


def _link(item: ItemRow | None) -> Link:
    assert item is not None  # a foreign key
    return Link(item.id, item.batch_id, item.batch.name, item.status, item.object_id)


def recorded_result(row: CheckResultRow) -> CheckResult:
    spec = REGISTRY.spec_of_result(row.check_id)
    return CheckResult(check_id=row.check_id, status=Status(row.status), message_zh=row.message_zh,
                       message_en=row.message_en, evidence=tuple(Evidence(**e) for e in row.evidence),
                       blocking=row.blocking, system=spec.system if spec else False, dat70=tuple(row.dat70))


def result_row(r: CheckResult) -> CheckResultRow:
    return CheckResultRow(check_id=r.check_id, status=str(r.status), blocking=r.blocking,
                          message_zh=r.message_zh, message_en=r.message_en,
                          evidence=[e.as_dict() for e in r.evidence], dat70=list(r.dat70))


def _finish_batch(cat: Catalogue, outcome: BatchOutcome) -> None:
    with cat.session() as s:
        row = s.get(BatchRow, outcome.batch_id)
        assert row is not None
        row.status = BatchStatus(outcome.status)
        row.errors = [r.as_dict() for r in outcome.batch_results]
        row.summary = outcome.summary
        row.finished_at = outcome.finished_at
        row.receipt_path = outcome.receipt_paths[0] if outcome.receipt_paths else None
        row.redelivery_of = outcome.redelivery_of
        cat.log(s, AGENT, "batch.finished", outcome.name, batch_id=outcome.batch_id, summary=outcome.summary)


def _security_events(cat: Catalogue, batch_id: int, intake: BatchIntake) -> None:
    """A virus found at intake is a security event: a structured log record and an audit-log row."""
    found = [p for p in intake.problems if p.check_id == "4-2" and p.finding.key == "infected"]
    if not found:
        return
    with cat.session() as s:
        for p in found:
            event = {"event": "virus_found", "batch": intake.root.name, "batch_id": batch_id, "item": p.item_code,
                     "file": p.finding.params.get("file"), "signature": p.finding.params.get("signature")}
            log.warning("安全事件 security event: virus %s in %s", event["signature"], event["file"],
                        extra={"security_event": event})
            cat.log(s, AGENT, "security.virus_found", p.item_code or intake.root.name, **event)


def ingest_batch(settings: Settings, profile_name: str, batch_dir: Path, progress: Progress = QUIET, *,
                 run_pages: TaskRunner = run_tasks, run_items: TaskRunner = run_here) -> BatchOutcome:
    """Process one delivered batch with the configured antivirus held for the length of the run
    (``progress``: told the pages to OCR and each page done). ``run_pages`` runs the page tasks (the local
    process pool by default), ``run_items`` the item tasks (assemble, check, archive: in this process by
    default), or a distributed back end runs them."""
    settings.profile(profile_name)  # a bad profile is refused before any daemon starts
    with open_scanner(settings) as scanner:
        return _ingest(settings, profile_name, batch_dir, scanner, progress, run_pages, run_items)


def _ingest(settings: Settings, profile_name: str, batch_dir: Path, scanner: Scanner | None,
            progress: Progress = QUIET, run_pages: TaskRunner = run_tasks,
            run_items: TaskRunner = run_here) -> BatchOutcome:
    profile = settings.profile(profile_name)
    cat = Catalogue(settings.db_url)
    received = dt.datetime.now(dt.UTC)
    policy = IntakePolicy(rule=get_rule(profile.archival_code_rule, settings.archival_code_rules),
                          dat70=settings.dat70, classified_system=settings.classified_system,
                          limits=profile.limits)
    intake = read_batch(batch_dir, policy, scanner)
    batch_id, delivery, duplicate_of = _register_batch(cat, profile_name, profile.vendor, intake, received)
    _security_events(cat, batch_id, intake)
    batch_results = tuple(p.result() for p in intake.batch_problems)
    common = dict(batch_id=batch_id, name=batch_dir.name, profile=profile_name, vendor=profile.vendor,
                  delivery=delivery, content_digest=intake.content_digest, source=str(batch_dir),
                  received_at=received)
    if duplicate_of is not None:
        outcome = BatchOutcome(**common, status="duplicate", duplicate_of=duplicate_of,  # type: ignore[arg-type]
                               batch_results=batch_results, finished_at=dt.datetime.now(dt.UTC))
    else:
        # an unreadable catalogue: the batch failed, and each delivered folder is returned with the reason
        label = names.batch_folder(batch_dir.name, delivery)
        redelivery_of, links = _redelivery(cat, profile_name, batch_id, intake)
        items = _process_items(settings, cat, profile_name, batch_id, label, intake, received, links, scanner,
                               progress, run_pages, run_items)
        status = "done" if intake.catalogue.usable else "failed"
        outcome = BatchOutcome(**common, status=status, items=tuple(items),  # type: ignore[arg-type]
                               batch_results=batch_results, finished_at=dt.datetime.now(dt.UTC),
                               redelivery_of=redelivery_of)
    folder = receipt_dir(settings.outbox_root, profile_name, outcome)
    paths = write_receipt(folder, outcome, catalogue=cat)
    outcome = BatchOutcome(**{**outcome.__dict__, "receipt_paths": tuple(str(p) for p in paths)})
    _finish_batch(cat, outcome)
    with cat.session() as s:  # the audit chain's head, written outside the database with each receipt
        audit.anchor_now(s, settings.audit_root, f"receipt of batch {batch_id}")
    summary = outcome.summary
    log.info("批次 batch %s: %s, %d items (%d accepted, %d rejected); 回执 receipt %s", outcome.name, outcome.status,
             summary["items"], summary["accepted"], summary["rejected"], paths[1])
    return outcome


def _redelivery(cat: Catalogue, profile: str, batch_id: int,
                intake: BatchIntake) -> tuple[int | None, dict[str, tuple[str, Link]]]:
    """Items of this batch delivered before under the same 档号, in the profile's earlier batches.

    Each code maps to ("supersedes", the returned item it replaces) or ("archived", the archived item
    when the delivered masters are the same bytes: nothing to archive again). An archived item with
    other content is left to the checks (GD-1-8, INGEST-STORE). The batch re-delivers the batch most
    of the superseded items came from (the latest on a tie)."""
    links: dict[str, tuple[str, Link]] = {}
    with cat.session() as s:
        for item in intake.items:
            if not item.row.row:
                continue  # a folder no row names is not an item of the catalogue
            earlier = cat.latest_item(s, profile, item.archival_code, batch_id)
            if earlier is None:
                continue
            link = _link(earlier)
            if earlier.status == ItemStatus.REJECTED:
                links[item.archival_code] = ("supersedes", link)
                continue
            theirs = sorted(f.sha256 for f in earlier.files if f.role == "master")
            if theirs and theirs == sorted(p.sha256 for p in item.pages):
                links[item.archival_code] = ("archived", link)
    counts = Counter(link.batch_id for kind, link in links.values() if kind == "supersedes")
    redelivery_of = max(counts, key=lambda b: (counts[b], b)) if counts else None
    return redelivery_of, links


def _already_archived(cat: Catalogue, item_id: int, intake: BatchIntake, code: str, link: Link) -> ItemOutcome:
    """The outcome of an item archived already with the same content: recorded, not run again."""
    item = next(i for i in intake.items if i.archival_code == code)
    problem = Problem.warn("INTAKE-REDELIVERY", "already_archived", code, code=code, batch=link.batch,
                           batch_id=link.batch_id)
    outcome = ItemOutcome(code=code, title=item.row.title, status=ItemStatus.DUPLICATE, results=(problem.result(),),
                          object_id=link.object_id, pages=len(item.pages), bytes=sum(p.size for p in item.pages),
                          duplicate_of=link)
    _record_decision(cat, item_id, outcome, [])
    return outcome


def _process_items(settings: Settings, cat: Catalogue, profile_name: str, batch_id: int, label: str,
                   intake: BatchIntake, received: dt.datetime,
                   links: dict[str, tuple[str, Link]], scanner: Scanner | None,
                   progress: Progress = QUIET, run_pages: TaskRunner = run_tasks,
                   run_items: TaskRunner = run_here) -> list[ItemOutcome]:
    item_ids = _register_items(cat, batch_id, intake)
    work_root = settings.work_root / f"batch-{batch_id}"
    shutil.rmtree(work_root, ignore_errors=True)  # scratch of an interrupted attempt: rebuilt, never reused
    work_root.mkdir(parents=True)
    outcomes = _decided_items(cat, batch_id)
    with cat.session() as s:
        for code, (kind, link) in links.items():
            row = s.get(ItemRow, item_ids[code])
            if kind == "supersedes" and row is not None:
                row.supersedes = link.item_id
    for code, (kind, link) in links.items():
        failing = [p for p in intake.problems_of(code) if p.finding.status is Status.FAIL]
        if kind == "archived" and code not in outcomes and not failing:
            outcomes[code] = _already_archived(cat, item_ids[code], intake, code, link)
    try:
        works = steps.process_batch(settings, profile_name, intake, decided=frozenset(outcomes), progress=progress,
                                    run_pages=run_pages)
        jobs = [PackJob(settings, profile_name, w, work_root, received,
                        steps.intake_registration(w.item, intake.vendor_manifest_covers(w.item)), scanner, label,
                        batch_id) for w in works]
        packed = run_items(pack_task, jobs, workers=settings.ocr.jobs, attempts=settings.distributed.item_attempts)
        store: OcflStore | None = None
        for job, result in zip(jobs, packed, strict=True):
            result = result or _lost(settings, job)
            outcome = result.outcome
            _record_decision(cat, item_ids[job.code], outcome, result.stored)
            if outcome.object_id is not None and outcome.status is ItemStatus.ACCEPTED:
                store = store or OcflStore(settings.store_root)  # opened once per batch, when first needed
                indexing.keep_in_step(cat, store, outcome.object_id)  # a failure there is only logged
            outcomes[job.code] = outcome
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    return _verdicts(intake, outcomes, links)


def _lost(settings: Settings, job: PackJob) -> Packed:
    """The outcome of an item whose task was given up (every worker that took it died under it): returned
    with the reason, its delivered files kept."""
    attempts = settings.distributed.item_attempts
    job.work.add(Report((Problem.fail("INGEST-PACKAGE", "failed", job.code, detail=(
        f"处理该条目的工作进程 {attempts} 次异常退出（崩溃或内存不足） / the process working on this item died "
        f"{attempts} times (crash or out of memory)")).result(),)))
    where = keep_rejected(settings, job.profile, job.label, job.work, job.batch_id)
    return Packed(job.work.outcome(ItemStatus.REJECTED, rejected_path=str(where)), [])


def _verdicts(intake: BatchIntake, outcomes: dict[str, ItemOutcome],
              links: dict[str, tuple[str, Link]]) -> list[ItemOutcome]:
    """One outcome per delivered thing: every catalogue row (each row of a repeated 档号 gets the
    outcome of its 档号, under its own row and title), then every folder no row names."""
    verdicts: list[ItemOutcome] = []
    for unit in intake.units:
        row = unit.row
        supersedes = links[unit.code][1] if links.get(unit.code, ("", None))[0] == "supersedes" else None
        if unit.code in outcomes:
            outcome = outcomes[unit.code]
            documents = outcome.documents
            if documents is None and intake.volumes:  # a volume decided before (resumed, archived already)
                documents = document_outcomes(intake.volumes.get(unit.code))
            verdicts.append(replace(outcome, row=row.row if row else None, title=row.title if row else "",
                                    folder=unit.folder, supersedes=supersedes, documents=documents))
        elif row is not None and not unit.code:
            results = tuple(p.result() for p in intake.problems_of_row(row.row))
            verdicts.append(ItemOutcome(code="", title=row.title, status=ItemStatus.REJECTED, results=results,
                                        row=row.row))
    return verdicts
