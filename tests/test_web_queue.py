"""The queue: rejected and warned items, filters, counts; a returned item leaves the open queue."""

from __future__ import annotations

from pathlib import Path

from web_support import Desk, seed_item

from guidang.storage.catalogue import DecisionRow, ItemRow


def test_filters_counts_and_returned_items(tmp_path: Path) -> None:
    desk = Desk.make(tmp_path, roles=["archivist"])
    cat = desk.catalogue
    a = seed_item(cat, code="A-0001", title="关于甲的通知", vendor="甲公司", batch="b1", check="SCAN-SKEW")
    seed_item(cat, code="B-0001", title="关于乙的报告", vendor="乙公司", batch="b2", check="SCAN-BORDER")
    seed_item(cat, code="C-0001", title="丙", vendor="乙公司", batch="b3", status="accepted", check="SCAN-DPI",
              check_status="warn")
    seed_item(cat, code="D-0001", title="丁", vendor="乙公司", batch="b4", status="accepted", check="SCAN-DPI",
              check_status="pass")
    client = desk.client("archivist")

    def codes(query: str) -> list[str]:
        page = client.get("/queue?" + query)
        assert page.status_code == 200, page.text
        return sorted(c for c in ("A-0001", "B-0001", "C-0001", "D-0001") if f">{c}</a>" in page.text)

    assert codes("") == ["A-0001", "B-0001", "C-0001"]
    assert codes("state=rejected") == ["A-0001", "B-0001"]
    assert codes("state=warned") == ["C-0001"]
    assert codes("vendor=乙公司") == ["B-0001", "C-0001"]
    assert codes("check=SCAN-SKEW") == ["A-0001"]
    assert codes("q=报告") == ["B-0001"]
    assert codes("q=%25") == []  # a LIKE wildcard is a character, not a pattern
    assert "待处理 <b>3</b>" in client.get("/queue").text
    with cat.session() as s:
        item = s.get(ItemRow, a)
        assert item is not None
        item.decisions.append(DecisionRow(status="returned", reason="重扫", agent="web:u-archivist"))
    assert codes("") == ["B-0001", "C-0001"]  # it waits for the vendor now, not for a person
    assert codes("state=rejected") == ["A-0001", "B-0001"]
    assert client.get("/queue?since=not-a-date").status_code == 422
