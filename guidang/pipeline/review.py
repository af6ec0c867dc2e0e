"""A person's decisions on decided items (the review desk, issue #15): return to the vendor, accept with an
override, re-run the checks, correct the catalogue metadata.

Each function needs a written reason, records a decision and an audit-log event in the same transaction as
the change, and writes the batch's receipt again (the vendor sees the result); the audit chain's head is
anchored beside the receipt (``<home>/audit``). The web layer checks who may do it; this layer checks what
may be done.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import CatalogueRow, Item, ItemStatus, PageFile
from guidang.packaging.fixity import digest_file
from guidang.packaging.metadata import Action, ProcessEvent
from guidang.pipeline import indexing, steps
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.outcome import BatchOutcome
from guidang.pipeline.problems import Problem
from guidang.pipeline.run import recorded_outcome, recorded_result, result_row
from guidang.reports.receipt import write_receipt
from guidang.storage import audit
from guidang.storage.catalogue import BatchRow, Catalogue, DecisionRow, FileRow, ItemRow
from guidang.storage.ocfl_store import OcflStore
from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Evidence, Status

RETURNED = "returned"  # a decision's status: the rejected item was returned to the vendor after review
# families whose results intake made (kept when the later steps run again); the others are made again
INTAKE_FAMILIES = ("INTAKE-", "FILE-", "PDF-")


@dataclass(frozen=True)
class ReviewResult:
    item_id: int
    status: str
    receipt: Path | None
    failed_checks: tuple[str, ...] = ()


def _item(s: Session, item_id: int) -> ItemRow:
    item = s.get(ItemRow, item_id)
    if item is None:
        raise InputError(f"没有编号为 {item_id} 的条目", f"no item {item_id}")
    return item


def returned(item: ItemRow) -> bool:
    return any(d.status == RETURNED for d in item.decisions)


def blocking_failures(item: ItemRow) -> list[str]:
    return sorted({r.check_id for r in item.results if r.status == Status.FAIL and r.blocking})


def not_overridable(item: ItemRow) -> list[str]:
    """The item's blocking failures that no person may override (registry data: ``overridable``)."""
    out = []
    for check_id in blocking_failures(item):
        spec = REGISTRY.spec_of_result(check_id)
        if spec is None or not spec.overridable:
            out.append(check_id)
    return out


# Receipt --------------------------------------------------------------------------------------------------


def batch_outcome(cat: Catalogue, batch_id: int) -> BatchOutcome:
    """The batch as the catalogue records it now: what a receipt written again says."""
    with cat.session() as s:
        batch = s.get(BatchRow, batch_id)
        if batch is None:
            raise InputError(f"没有编号为 {batch_id} 的批次", f"no batch {batch_id}")
        items = tuple(recorded_outcome(i) for i in sorted(batch.items, key=lambda i: i.id))
        batch_results = tuple(CheckResult(
            check_id=str(e["check"]), status=Status(str(e["status"])), message_zh=str(e["message_zh"]),
            message_en=str(e["message_en"]), blocking=bool(e.get("blocking", True)),
            evidence=tuple(Evidence(**x) for x in e.get("evidence", [])),
        ) for e in batch.errors if isinstance(e, dict) and "check" in e)
        return BatchOutcome(batch_id=batch.id, name=batch.name, profile=batch.profile, vendor=batch.vendor,
                            delivery=batch.delivery, content_digest=batch.content_digest, status=batch.status,
                            source=batch.source_path, items=items, batch_results=batch_results,
                            received_at=batch.received_at, finished_at=batch.finished_at,
                            redelivery_of=batch.redelivery_of)


def rewrite_receipt(settings: Settings, cat: Catalogue, batch_id: int, *, reason: str = "",
                    agent: str = "guidang") -> Path | None:
    """Write the batch's receipt again where it was written, as its next version saying what changed and why
    (None: the batch has none yet); anchor the audit chain's head beside the other anchors."""
    with cat.session() as s:
        batch = s.get(BatchRow, batch_id)
        where = batch.receipt_path if batch is not None else None
    if where is None:
        return None
    json_path, _ = write_receipt(Path(where).parent, batch_outcome(cat, batch_id), catalogue=cat, reason=reason,
                                 agent=agent)
    with cat.session() as s:
        audit.anchor_now(s, settings.audit_root, f"receipt of batch {batch_id}")
    return json_path


# Actions --------------------------------------------------------------------------------------------------


def return_item(settings: Settings, cat: Catalogue, item_id: int, reason: str, agent: str) -> ReviewResult:
    """Return a rejected item to the vendor: the decision, the reason in its results (so the receipt shows
    it), the receipt written again."""
    with cat.session() as s:
        item = _item(s, item_id)
        if item.status != ItemStatus.REJECTED:
            raise InputError("只有被拒收的条目可以退回厂商", "only a rejected item can be returned to the vendor")
        if returned(item):
            raise InputError("该条目已退回厂商", "the item was returned to the vendor already")
        result = Problem.fail("REVIEW-RETURNED", "returned", item.archival_code, reason=reason).result()
        item.results.append(result_row(result))
        item.failed_checks = sorted({*item.failed_checks, "REVIEW-RETURNED"})
        item.decisions.append(DecisionRow(status=RETURNED, failed_checks=item.failed_checks, reason=reason,
                                          agent=agent))
        Catalogue.log(s, agent, "item.returned", item.archival_code, item_id=item.id, batch_id=item.batch_id,
                      reason=reason, failed=blocking_failures(item))
        batch_id = item.batch_id
    receipt = rewrite_receipt(settings, cat, batch_id, reason=reason, agent=agent)
    return ReviewResult(item_id, RETURNED, receipt)


def _kept_item(item: ItemRow) -> Item:
    """The item as delivered, from the copy kept in the rejected area, each file's digests checked against
    those recorded at intake (a kept copy that changed is never run again)."""
    if not item.rejected_path:
        raise InputError("该条目没有保留的交付文件", "the item has no kept delivery to run again")
    delivered = Path(item.rejected_path) / "delivered"
    pages = []
    for f in sorted((f for f in item.files if f.role == "master"), key=lambda f: f.relpath):
        path = delivered / f.relpath
        found = digest_file(path)  # FixityError (an InputError) when missing or unreadable
        if found.sha256 != f.sha256 or found.sm3 != f.sm3:
            raise InputError(f"保留的交付文件 {f.relpath} 与接收时的摘要不符，不能再处理",
                             f"the kept file {f.relpath} does not match the digests taken at intake")
        pages.append(PageFile(path=path, relpath=f.relpath, size=f.size, sha256=f.sha256, sm3=f.sm3))
    row = CatalogueRow.model_validate(item.row)
    return Item(row=row, folder=delivered, pages=pages)


def _run_again(settings: Settings, cat: Catalogue, item_id: int, reason: str, agent: str,
               overrides: frozenset[str], action: str) -> ReviewResult:
    """Run every step after intake again for a rejected item (with ``overrides``); archive it when nothing
    blocks any more; record the decision and write the receipt again."""
    with cat.session() as s:
        row = _item(s, item_id)
        if row.status != ItemStatus.REJECTED:
            raise InputError("只有被拒收的条目可以重新处理", "only a rejected item can be run again")
        if returned(row):
            raise InputError("该条目已退回厂商；等待厂商重新交付",
                             "the item was returned to the vendor; await its redelivery")
        kept = _kept_item(row)
        batch = row.batch
        profile, received, code = batch.profile, batch.received_at, row.archival_code
        intake_results = [recorded_result(r) for r in row.results if r.check_id.startswith(INTAKE_FAMILIES)]
    now = dt.datetime.now(dt.UTC)
    work = steps.ItemWork(kept, overrides=overrides)
    if overrides:
        note = Problem.warn("REVIEW-OVERRIDE", "accepted", code, agent=agent, checks="、".join(sorted(overrides)),
                            reason=reason).result()
        work.results.append(note)
        work.review_events.append(ProcessEvent(
            action=Action.REVIEWED, time=now.replace(microsecond=0), agent=agent, agent_type="个人",
            description=f"越过检查 {'、'.join(sorted(overrides))} 接收：{reason}"))
    work.results.extend(intake_results)
    work_root = settings.work_root / f"review-{item_id}"
    shutil.rmtree(work_root, ignore_errors=True)
    work_root.mkdir(parents=True)
    try:
        with open_scanner(settings) as scanner:
            steps.process_item(settings, profile, work, work_root, cat,
                               received if received.tzinfo else received.replace(tzinfo=dt.UTC), scanner)
            object_id: str | None = None
            stored: list[steps.StoredFile] = []
            if work.accepted:
                work, object_id, stored = steps.archive(settings, work)
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
    status = ItemStatus.ACCEPTED if object_id is not None else ItemStatus.REJECTED
    with cat.session() as s:
        item = _item(s, item_id)
        if item.status != ItemStatus.REJECTED or returned(item):  # someone else decided it meanwhile
            raise InputError("处理期间该条目已被他人处理，本次结果未记录",
                             "someone else decided the item meanwhile; this run was not recorded")
        item.status = status
        item.results = [result_row(r) for r in work.results]
        item.failed_checks = sorted({r.check_id for r in work.results if r.status is Status.FAIL and r.blocking})
        if object_id is not None:
            item.object_id = object_id
            item.rejected_path = None  # the kept copy stays where it was, for the record
            item.files = [f for f in item.files if f.role == "master"] + [
                FileRow(role=f.role, relpath=f.relpath, size=f.size, sha256=f.sha256, sm3=f.sm3)
                for f in stored if f.role != "master"]
        item.decisions.append(DecisionRow(status=status, failed_checks=item.failed_checks, reason=reason,
                                          agent=agent))
        Catalogue.log(s, agent, action, code, item_id=item_id, batch_id=item.batch_id, reason=reason,
                      overrides=sorted(overrides), status=str(status), object=object_id,
                      failed=item.failed_checks)
        batch_id = item.batch_id
        failed = tuple(item.failed_checks)
    if object_id is not None:  # issue #20: the search index follows the store
        indexing.keep_in_step(cat, OcflStore(settings.store_root), object_id)
    receipt = rewrite_receipt(settings, cat, batch_id, reason=reason, agent=agent)
    return ReviewResult(item_id, str(status), receipt, failed)


def override_item(settings: Settings, cat: Catalogue, item_id: int, reason: str, agent: str) -> ReviewResult:
    """Accept a rejected item over its failed checks, when every one of them is overridable: the item is
    carried through the rest of the pipeline; the override and its reason go into its process metadata."""
    with cat.session() as s:
        item = _item(s, item_id)
        refused = not_overridable(item)
        failing = frozenset(blocking_failures(item))
    if refused:
        raise InputError(f"以下检查项不允许越过：{'、'.join(refused)}（病毒、摘要不符、文件不可读等永不越过）",
                         f"these checks cannot be overridden: {', '.join(refused)} (never a virus, a fixity "
                         "mismatch or an unreadable file)")
    if not failing:
        raise InputError("该条目没有可越过的不合格项", "the item has no failed check to override")
    return _run_again(settings, cat, item_id, reason, agent, failing, "item.overridden")


def rerun_item(settings: Settings, cat: Catalogue, item_id: int, reason: str, agent: str) -> ReviewResult:
    """Run the checks of a rejected item again (e.g. after its catalogue row was corrected)."""
    return _run_again(settings, cat, item_id, reason, agent, frozenset(), "item.rerun")


CORRECTABLE = ("title",)  # the catalogue fields the desk corrects (题名); others by a re-delivery


def correct_item(settings: Settings, cat: Catalogue, item_id: int, field: str, value: str, reason: str,
                 agent: str) -> ReviewResult:
    """Correct the 题名 of an item: a rejected item's catalogue row (run it again to check it), or an archived
    record by a new OCFL version of its metadata (never by returning it)."""
    if field not in CORRECTABLE:
        raise InputError(f"不能在审核台更正“{field}”", f"the desk cannot correct {field!r}")
    value = value.strip()
    if not value:
        raise InputError("更正后的值不能为空", "the corrected value cannot be empty")
    with cat.session() as s:
        item = _item(s, item_id)
        old = item.title
        if old == value:
            raise InputError("更正后的值与原值相同", "the corrected value equals the current one")
        object_id = item.object_id
        status = item.status
    if object_id is not None:
        from guidang.packaging import aip
        from guidang.packaging.metadata_xml import from_xml
        from guidang.pipeline.copies import replicate
        from guidang.pipeline.corrections import correct_metadata

        store = OcflStore(settings.store_root)
        current = from_xml(store.read_file(object_id, aip.METADATA_XML))
        content = current.record.content.model_copy(update={"title": value})
        corrected = current.model_copy(update={"record": current.record.model_copy(update={"content": content})})
        version = correct_metadata(store, object_id, corrected, agent=agent, reason=reason, catalogue=cat)
        replicate(settings, object_id)  # the second copy follows the new version (issue #18)
        detail_version: object = str(getattr(version, "version", version))
    else:
        detail_version = None
    with cat.session() as s:
        item = _item(s, item_id)
        item.title = value
        item.row = {**item.row, "title": value}
        item.decisions.append(DecisionRow(status=status, failed_checks=item.failed_checks,
                                          reason=f"更正题名 corrected title: {reason}", agent=agent))
        Catalogue.log(s, agent, "item.corrected", item.archival_code, item_id=item_id, batch_id=item.batch_id,
                      field=field, old=old, new=value, reason=reason, version=detail_version)
    return ReviewResult(item_id, str(status), None)

