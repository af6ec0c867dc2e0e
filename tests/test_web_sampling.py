"""DA/T 31 acceptance sampling: at least 5% of a batch's accepted items drawn (reproducibly), verdicts recorded
with reasons and in the audit log, the batch's sampled pass rate against 95%."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from web_support import Desk, seed_item

from guidang.storage.accounts import SampleRow
from guidang.storage.catalogue import BatchRow, EventRow, ItemRow
from guidang.web import sampling


def batch_of(desk: Desk, accepted: int, name: str = "b-accepted") -> int:
    first = seed_item(desk.catalogue, code=f"{name}-0001", batch=name, status="accepted", check="SCAN-SKEW",
                      check_status="pass")
    with desk.catalogue.session() as s:
        item = s.get(ItemRow, first)
        assert item is not None
        for n in range(2, accepted + 1):
            s.add(ItemRow(batch_id=item.batch_id, archival_code=f"{name}-{n:04d}", title=f"件 {n}", status="accepted",
                          row={}, page_count=1))
        return item.batch_id


def test_the_draw_takes_the_share_rounded_up_and_is_reproducible(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=())
    batch_id = batch_of(desk, 41)
    with desk.catalogue.session() as s:
        rows = sampling.draw(s, batch_id, 0.05, "web:test")
        first = sorted(r.item_id for r in rows)
        assert len(first) == 3  # ceil(41 × 5%)
        with pytest.raises(Exception, match="drawn already"):
            sampling.draw(s, batch_id, 0.05, "web:test")
        for r in rows:
            s.delete(r)
    with desk.catalogue.session() as s:
        assert sorted(r.item_id for r in sampling.draw(s, batch_id, 0.05, "web:test")) == first


def test_verdicts_give_the_batch_its_pass_rate_through_the_desk(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist", "auditor"])
    batch_id = batch_of(desk, 40)
    client = desk.client("archivist")
    csrf = desk.csrf(client)
    r = client.post(f"/samples/batches/{batch_id}/draw", data={"csrf": csrf})
    assert r.status_code == 303
    with desk.catalogue.session() as s:
        ids = [row.id for row in s.scalars(select(SampleRow).order_by(SampleRow.id))]
    assert len(ids) == 2
    r = client.post(f"/samples/{ids[0]}/verdict", data={"csrf": csrf, "verdict": "fail", "reason": ""})
    assert r.status_code == 400  # a failure needs its reason
    assert client.post(f"/samples/{ids[0]}/verdict", data={"csrf": csrf, "verdict": "pass"}).status_code == 303
    assert client.post(f"/samples/{ids[1]}/verdict",
                       data={"csrf": csrf, "verdict": "fail", "reason": "第2页模糊不清"}).status_code == 303
    with desk.catalogue.session() as s:
        view = next(b for b in sampling.overview(s, 0.05) if b.batch_id == batch_id)
        assert (view.drawn, view.judged, view.passed, view.pass_rate) == (2, 2, 1, 0.5)
        assert view.verdict(0.95) == "fail"
        actions = [e.action for e in s.scalars(select(EventRow).where(EventRow.agent == "web:u-archivist"))]
        assert actions.count("sample.judged") == 2 and "sample.drawn" in actions
        assert s.get(BatchRow, batch_id) is not None
    page = desk.client("auditor").get("/samples")
    assert page.status_code == 200 and "50.0%" in page.text and "不合格" in page.text
    assert desk.client("auditor").post(f"/samples/batches/{batch_id}/draw",
                                       data={"csrf": "x"}).status_code == 403
