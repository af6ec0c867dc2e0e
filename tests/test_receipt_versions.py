"""Receipt versions: a later return or override gives the vendor a new receipt that says what changed; the
earlier versions are kept byte for byte, and each version's digest is in the catalogue."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from guidang.models import ItemStatus
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome
from guidang.reports.receipt import write_receipt
from guidang.storage.catalogue import BatchRow, Catalogue, EventRow, ReceiptRow
from guidang.validators.result import CheckResult, Status

A, B = "Z109-WS·2026-Y-BGS-0001", "Z109-WS·2026-Y-BGS-0002"
DPI = CheckResult("SCAN-DPI", Status.FAIL, "分辨率 150 dpi，低于 200 dpi", "150 dpi, below 200 dpi")


def _catalogue(tmp_path: Path) -> tuple[Catalogue, int]:
    cat = Catalogue(f"sqlite:///{tmp_path / 'c.db'}")
    with cat.session() as s:
        row = BatchRow(profile="demo", vendor="v", name="b1", content_digest="0" * 64, status="done", source_path="/b1")
        s.add(row)
        s.flush()
        return cat, row.id


def _outcome(batch_id: int, a: ItemStatus) -> BatchOutcome:
    items = (ItemOutcome(A, "甲", a, (DPI,) if a is ItemStatus.REJECTED else (), pages=1),
             ItemOutcome(B, "乙", ItemStatus.ACCEPTED, pages=2))
    return BatchOutcome(batch_id, "b1", "demo", "v", 1, "0" * 64, "done", "/in/b1", items=items)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_override_gives_a_new_version_that_says_what_changed(tmp_path: Path) -> None:
    cat, batch_id = _catalogue(tmp_path)
    folder = tmp_path / "outbox" / "b1"
    json_path, html_path = write_receipt(folder, _outcome(batch_id, ItemStatus.REJECTED), catalogue=cat)
    first = json.loads(json_path.read_text("utf-8"))
    assert first["version"]["version"] == 1 and first["version"]["changes"] == []
    v1 = folder / "versions" / "receipt.v1.json"
    v1_bytes = v1.read_bytes()
    assert v1_bytes == json_path.read_bytes()

    # the same receipt again (the batch run twice): no new version
    write_receipt(folder, _outcome(batch_id, ItemStatus.REJECTED), catalogue=cat)
    assert sorted(p.name for p in (folder / "versions").iterdir()) == ["receipt.v1.html", "receipt.v1.json"]

    # the archivist overrides the rejection: version 2, with the change and the reason
    override = replace(_outcome(batch_id, ItemStatus.ACCEPTED))
    write_receipt(folder, override, catalogue=cat, reason="档案员复核：原件即为 150 dpi 传真件，予以接收",
                  agent="archivist li")
    second = json.loads(json_path.read_text("utf-8"))
    assert second["version"] == {
        "version": 2, "previous_sha256": hashlib.sha256(v1_bytes).hexdigest(),
        "changes": [{"id": A, "from": "rejected", "to": "accepted", "failed_before": ["SCAN-DPI"], "failed_now": []}],
        "reason": "档案员复核：原件即为 150 dpi 传真件，予以接收", "agent": "archivist li"}
    assert v1.read_bytes() == v1_bytes  # the earlier version kept as it was
    html = html_path.read_text("utf-8")
    assert "第 2 版" in html and "本版变更" in html and "原件即为 150 dpi 传真件" in html and A in html
    assert (folder / "versions" / "receipt.v2.html").read_bytes() == html_path.read_bytes()

    with cat.session() as s:
        rows = list(s.scalars(select(ReceiptRow).order_by(ReceiptRow.version)))
        assert [(r.version, r.json_sha256) for r in rows] == [
            (1, hashlib.sha256(v1_bytes).hexdigest()), (2, _sha(json_path))]
        assert rows[1].html_sha256 == _sha(html_path) and rows[1].agent == "archivist li"
        assert rows[1].changes[0]["to"] == "accepted"
        events = [e.detail["version"] for e in s.scalars(select(EventRow).where(EventRow.action == "receipt.written"))]
        assert events == [1, 2]


def test_the_old_call_without_a_catalogue_still_keeps_versions(tmp_path: Path) -> None:
    _, batch_id = _catalogue(tmp_path)
    folder = tmp_path / "r"
    write_receipt(folder, _outcome(batch_id, ItemStatus.ACCEPTED))
    json_path, _ = write_receipt(folder, _outcome(batch_id, ItemStatus.REJECTED))
    data = json.loads(json_path.read_text("utf-8"))
    assert data["version"]["version"] == 2 and data["version"]["changes"][0]["to"] == "rejected"
    assert data["summary"]["rejected"] == 1  # the public receipt contract is unchanged beside the new key
