"""The review desk's actions on real ingest output (real Tesseract, real clamd): return a rejected item to the
vendor, accept another over its overridable failure (carried through to the store), refuse overrides of checks
that never may be, correct an archived record by a new OCFL version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from web_support import review_batch, seed_item

from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import ItemStatus
from guidang.packaging import aip
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline import review
from guidang.pipeline.run import ingest_batch
from guidang.storage import audit
from guidang.storage.catalogue import Catalogue, EventRow, ItemRow, ReceiptRow
from guidang.storage.ocfl_store import OcflStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingested(home: Settings, tmp_path: Path) -> tuple[Settings, Catalogue, dict[str, int], Path]:
    batch = review_batch(tmp_path / "drop")
    outcome = ingest_batch(home, "demo", batch)
    cat = Catalogue(home.db_url)
    with cat.session() as s:
        ids = {i.archival_code: i.id for i in s.scalars(select(ItemRow).order_by(ItemRow.id))}
    statuses = {i.code: str(i.status) for i in outcome.items}
    assert list(statuses.values()) == ["rejected", "rejected", "accepted"], outcome.as_dict()
    return home, cat, ids, Path(outcome.receipt_paths[0])


def receipt_item(receipt: Path, code: str) -> dict[str, object]:
    data = json.loads(receipt.read_text("utf-8"))
    return next(i for i in data["items"] if i["id"] == code)


def test_return_then_override_reach_the_catalogue_the_store_the_receipt_and_the_audit_log(ingested) -> None:
    settings, cat, ids, receipt = ingested
    first, second, _ = ids
    done = review.return_item(settings, cat, ids[first], "黑边遮挡正文，请重新扫描", "web:archivist")
    assert done.receipt == receipt
    returned = receipt_item(receipt, first)
    assert returned["status"] == "rejected"
    assert any(p["check"] == "REVIEW-RETURNED" and "黑边遮挡正文" in p["message_zh"]
               for p in returned["problems"])  # type: ignore[union-attr]
    with pytest.raises(InputError):
        review.override_item(settings, cat, ids[first], "改主意了", "web:archivist")  # returned: awaits redelivery

    done = review.override_item(settings, cat, ids[second], "黑边仅遮挡页边空白处的批注，不影响正文", "web:archivist")
    assert done.status == "accepted", done
    accepted = receipt_item(receipt, second)
    assert accepted["status"] == "accepted" and accepted["object"] == second
    assert any(p["check"] == "REVIEW-OVERRIDE" for p in accepted["problems"])  # type: ignore[union-attr]
    assert any(p["check"] == "SCAN-BORDER" and p["status"] == "warn"
               for p in accepted["problems"])  # type: ignore[union-attr]
    store = OcflStore(settings.store_root)
    meta = from_xml(store.read_file(second, aip.METADATA_XML))
    reviewed = [e for e in meta.events if e.action == "人工审核"]
    assert reviewed and "不影响正文" in (reviewed[0].description or "") and reviewed[0].agent == "web:archivist"
    with cat.session() as s:
        item = s.get(ItemRow, ids[second])
        assert item is not None and item.status == ItemStatus.ACCEPTED and item.object_id == second
        assert item.decisions[-1].agent == "web:archivist"
        actions = [e.action for e in s.scalars(select(EventRow).where(EventRow.subject.in_([first, second])))]
        assert "item.returned" in actions and "item.overridden" in actions
        report = audit.verify(s, audit.read_anchors(settings.audit_root))
    assert report.ok, report.problems
    assert audit.read_anchors(settings.audit_root)  # anchored with the receipt
    # the vendor's receipt is versioned (issue #17): the first decision, the return, the override, each kept
    version = json.loads(receipt.read_text("utf-8"))["version"]
    assert version["version"] == 3 and version["agent"] == "web:archivist" and "不影响正文" in version["reason"]
    assert sorted(p.name for p in (receipt.parent / "versions").glob("receipt.v*.json")) == [
        "receipt.v1.json", "receipt.v2.json", "receipt.v3.json"]
    with cat.session() as s:
        rows = s.scalars(select(ReceiptRow).order_by(ReceiptRow.version)).all()
        assert [(r.version, r.agent) for r in rows] == [(1, "guidang"), (2, "web:archivist"), (3, "web:archivist")]
        assert "请重新扫描" in rows[1].reason


def test_an_archived_record_is_corrected_by_a_new_version(ingested) -> None:
    settings, cat, ids, _ = ingested
    third = list(ids)[2]
    store = OcflStore(settings.store_root)
    before = len(store.versions(third)) if hasattr(store, "versions") else None
    review.correct_item(settings, cat, ids[third], "title", "更正后的题名", "题名错字", "web:archivist")
    meta = from_xml(store.read_file(third, aip.METADATA_XML))
    assert meta.record.content.title == "更正后的题名"
    assert meta.events[-1].action == "修改" and meta.events[-1].description == "题名错字"
    if before is not None:
        assert len(store.versions(third)) == before + 1


def test_checks_that_never_may_be_overridden_are_refused(home: Settings) -> None:
    cat = Catalogue(home.db_url)
    for check in ("SCAN-READ", "4-2", "GD-2-1", "INTAKE-MANIFEST"):
        item_id = seed_item(cat, code=f"X-{check}", batch=f"b-{check}", check=check)
        with pytest.raises(InputError, match="cannot be overridden"):
            review.override_item(home, cat, item_id, "我坚持接收", "web:archivist")
