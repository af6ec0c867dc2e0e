"""The vendor's receipt: what concerns the archive's own systems is said once, not on every item."""

from __future__ import annotations

import json
from pathlib import Path

from guidang.models import ItemStatus
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome
from guidang.reports.receipt import write_receipt
from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Finding, Status
from guidang.validators.spec import Stage

STALE = Finding(Status.WARN, "stale", {"db_date": "2026-01-01", "age": 328, "limit": 7})


def _result(check_id: str, finding: Finding) -> CheckResult:
    return REGISTRY.render(REGISTRY.specs[check_id], finding, Stage.GD)


def _outcome() -> BatchOutcome:
    stale, gone = _result("4-1", STALE), _result("4-1", Finding(Status.FAIL, "unreachable", {"detail": "no socket"}))
    bad_code = _result("1-7", Finding(Status.FAIL, "name_mismatch", {"code": "X", "metadata_code": "Y"}))
    items = (
        ItemOutcome("Z109-WS·2026-Y-0001", "甲", ItemStatus.ACCEPTED, (stale,), pages=1),
        ItemOutcome("Z109-WS·2026-Y-0002", "乙", ItemStatus.ACCEPTED, (stale,), pages=1),
        ItemOutcome("Z109-WS·2026-Y-0003", "丙", ItemStatus.REJECTED, (stale, bad_code), pages=1),
        ItemOutcome("Z109-WS·2026-Y-0004", "丁", ItemStatus.REJECTED, (gone,), pages=1),
    )
    return BatchOutcome(1, "b", "demo", "v", 1, "0" * 64, "done", "/in/b", items=items)


def test_system_problems_are_listed_once_for_the_batch_and_not_on_each_item(tmp_path: Path) -> None:
    json_path, html_path = write_receipt(tmp_path, _outcome())
    data = json.loads(json_path.read_text("utf-8"))
    system = data["batch"]["system_problems"]
    assert [(p["check"], p["status"]) for p in system] == [("GD-4-1", "warn"), ("GD-4-1", "fail")]
    assert all(p["system"] for p in system)
    problems = {i["id"][-1]: [p["check"] for p in i["problems"]] for i in data["items"]}
    assert problems == {"1": [], "2": [], "3": ["GD-1-7"], "4": []}
    assert data["items"][3]["failed_checks"] == ["GD-4-1"]  # still says why it was rejected
    html = html_path.read_text("utf-8")
    assert html.count("328 天") == 1 and html.count("归档系统提示") == 2  # the section, and the item's pointer to it
    assert "no socket" in html


def test_a_batch_without_system_problems_has_no_such_section(tmp_path: Path) -> None:
    only = ItemOutcome("Z109-WS·2026-Y-0001", "甲", ItemStatus.ACCEPTED)
    clean = BatchOutcome(**{**_outcome().__dict__, "items": (only,)})
    _json, html = write_receipt(tmp_path, clean)
    assert "归档系统提示" not in html.read_text("utf-8")


def test_a_recorded_result_id_leads_back_to_its_check() -> None:
    """Results read back from the DB (a resumed batch) find their check, and so their scope."""
    four_one = REGISTRY.spec_of_result("GD-4-1")
    assert four_one is not None and four_one.id == "4-1" and four_one.system
    dpi = REGISTRY.spec_of_result("SCAN-DPI")
    assert dpi is not None and not dpi.system
    assert REGISTRY.spec_of_result("XX-4-1") is None and REGISTRY.spec_of_result("worker_crashed") is None
