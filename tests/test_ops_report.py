"""`guidang report`: rendered from a generated history in a real SQLite catalogue; numbers, labels and check
IDs are asserted in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from report_history import write_history

from guidang.cli import main
from guidang.config import Settings
from guidang.storage.catalogue import Catalogue


@pytest.fixture
def history(home: Settings) -> Settings:
    write_history(Catalogue(home.db_url))
    return home


def _report(*args: str) -> bytes:
    result = CliRunner().invoke(main, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_json_holds_the_numbers_of_the_history(history: Settings) -> None:
    r = json.loads(_report("--format", "json"))
    assert r["summary"] == {"batches": 3, "pages": 24, "bytes": 12000, "items": 12, "accepted": 9, "rejected": 3,
                            "duplicate": 0, "acceptance_rate": 0.75}
    assert r["by_vendor"]["甲扫描公司"] == {"items": 9, "accepted": 7, "rejected": 2, "duplicate": 0,
                                          "acceptance_rate": 0.7778}
    checks = {c["check"]: c for c in r["by_check"]}
    assert (checks["SCAN-DPI"]["items"], checks["SCAN-DPI"]["failed"]) == (12, 2)
    assert checks["SCAN-DPI"]["name_zh"] and checks["SCAN-DPI"]["pass_rate"] == round(10 / 12, 4)
    assert r["top_failing_checks"][0] == "SCAN-DPI" and set(r["top_failing_checks"]) == {
        "SCAN-DPI", "GD-1-7", "INTAKE-FOLDER"}
    assert [(w["week"], w["items"], w["rejected"]) for w in r["weeks"]] == [
        ("2026-W47", 5, 2), ("2026-W48", 3, 1), ("2026-W49", 4, 0)]
    stages = {s["stage"]: s for s in r["stages"]}
    assert (stages["intake"]["total_seconds"], stages["checks"]["mean_seconds"], stages["receipt"]["batches"]) == (
        30, 100, 3)
    assert r["audits"][0]["action"] == "audit.run" and r["audits"][0]["result"] == "pass"


def test_filters_select_batches(history: Settings) -> None:
    by_vendor = json.loads(_report("--format", "json", "--vendor", "甲扫描公司"))
    assert by_vendor["summary"]["batches"] == 2 and by_vendor["summary"]["items"] == 9
    one_week = json.loads(_report("--format", "json", "--since", "2026-11-23", "--until", "2026-11-29"))
    assert one_week["summary"]["items"] == 3 and list(one_week["by_vendor"]) == ['=HYPERLINK("http://x")']
    assert json.loads(_report("--format", "json", "--batch", "3"))["summary"]["accepted"] == 4


def test_csv_has_a_bom_chinese_intact_and_no_formula(history: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    _report("--format", "csv", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["分类 section", "项 key", "指标 metric", "值 value"]
    assert ["提交方 vendor", "甲扫描公司", "accepted", "7"] in rows
    assert ["检测项 check", "SCAN-DPI", "failed", "2"] in rows
    cells = [c for row in rows for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=HYPERLINK(\"http://x\")" in cells


def test_xlsx_has_a_sheet_per_section_and_no_formula(history: Settings, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    _report("--format", "xlsx", "-o", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["合计", "提交方", "检测项", "周", "环节", "批次"]
    vendors = {r[0]: r for r in book["提交方"].iter_rows(min_row=2, values_only=True)}
    assert vendors["甲扫描公司"][1:4] == (9, 7, 2)
    assert "'=HYPERLINK(\"http://x\")" in vendors
    assert all(c.data_type != "f" for row in book["提交方"].iter_rows() for c in row)


def test_html_has_the_charts_and_labels_a_person_reads(history: Settings) -> None:
    html = _report("--format", "html").decode("utf-8")
    assert "归档运行报告" in html and "接收率" in html and "75.0%" in html
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 2
    trend, failures = svgs
    assert "2026-W47" in trend and "2026-W49" in trend and "退回 rejected 2" in trend
    assert "SCAN-DPI" in failures and ">2</text>" in failures
    # a vendor's name is data: escaped, never markup
    assert '=HYPERLINK(&#34;http://x&#34;)' in html or "=HYPERLINK(&quot;http://x&quot;)" in html


def test_no_catalogue_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIDANG_HOME", str(tmp_path / "empty"))
    result = CliRunner().invoke(main, ["report", "--format", "json"])
    assert result.exit_code == 2 and "guidang init" in result.output


def test_a_bad_date_is_a_clear_error(history: Settings) -> None:
    result = CliRunner().invoke(main, ["report", "--since", "last tuesday"])
    assert result.exit_code == 2 and "--since" in result.output
