"""Everything a reader opens is escaped: every HTML template of the package, and every CSV cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from markup import injected_markup

import guidang
from guidang import csvout
from guidang.models import ItemStatus
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome
from guidang.reports.check import render_html, to_csv
from guidang.reports.receipt import write_receipt
from guidang.storage.catalogue import Catalogue
from guidang.validators.result import CheckedSubject, CheckResult, Evidence, Report, Status

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)><a href='javascript:alert(3)'>x</a>"
PACKAGE = Path(guidang.__file__).parent


def hostile_result() -> CheckResult:
    return CheckResult(check_id="INTAKE-ROW", status=Status.FAIL, message_zh=HOSTILE, message_en=HOSTILE,
                       evidence=(Evidence(file=HOSTILE, field=HOSTILE, expected=HOSTILE, found=HOSTILE),))


def render_receipt(tmp_path: Path) -> str:
    item = ItemOutcome(code=HOSTILE, title=HOSTILE, status=ItemStatus.REJECTED, results=(hostile_result(),),
                       rejected_path=HOSTILE, pages=1, bytes=1)
    outcome = BatchOutcome(batch_id=1, name=HOSTILE, profile=HOSTILE, vendor=HOSTILE, delivery=1,
                           content_digest=HOSTILE, status="done", source=HOSTILE, items=(item,),
                           batch_results=(hostile_result(),))
    write_receipt(tmp_path, replace(outcome, items=(replace(item, status=ItemStatus.ACCEPTED),)))
    _, html = write_receipt(tmp_path, outcome, reason=HOSTILE, agent=HOSTILE)  # version 2: its changes shown
    return html.read_text("utf-8")


def render_ops_report(tmp_path: Path) -> str:
    import datetime as dt

    from guidang.pipeline.ops_report import CheckTally, OpsReport, ReportFilter, StageTime, Tally
    from guidang.reports.registry import render

    t = Tally(1, 0, 1, 0)
    report = OpsReport(ReportFilter(vendor=HOSTILE), dt.datetime.now(dt.UTC), 1, 1, 1, t, {HOSTILE: 1},
                       {HOSTILE: t}, (CheckTally(HOSTILE, HOSTILE, HOSTILE, 1, 1, 0),), ((HOSTILE, t),),
                       (StageTime(HOSTILE, HOSTILE, HOSTILE, 1, 1.0),),
                       ({"at": HOSTILE, "action": HOSTILE, "subject": HOSTILE, "result": HOSTILE},),
                       ({"id": 1, "name": HOSTILE, "vendor": HOSTILE, "status": HOSTILE, "received_at": HOSTILE,
                         "items": 1, "accepted": 0, "rejected": 1, "pages": 1},))
    return render("report", "html", report)


def render_form(tmp_path: Path) -> str:
    from guidang.pipeline.forms import PropertyResult, RegistrationForm
    from guidang.reports.registry import render

    names = ("单位名称", "归档时间", "归档电子文件门类", "归档电子文件数量", "归档方式", "档案部门",
             "技术方法与相关软件说明登记表、软件、说明资料检验")
    checks = ("载体外观检验", "病毒检验", "真实性检验", "可靠性检验", "完整性检验", "可用性检验")
    form = RegistrationForm("a1", 1, dict.fromkeys(names, HOSTILE),
                            {c: PropertyResult(HOSTILE, 1, 1, ((HOSTILE, 1),)) for c in checks})
    return render("form", "html", form)


def render_report(tmp_path: Path) -> str:
    subject = CheckedSubject(path=HOSTILE, kind=HOSTILE, report=Report((hostile_result(),)), stage=HOSTILE,
                             error=HOSTILE)
    return render_html([subject], title=HOSTILE)


# every template in the package, with the function that renders it with hostile values
RENDERERS: dict[str, Callable[[Path], str]] = {
    "reports/templates/receipt.html.j2": render_receipt,
    "reports/templates/check.html.j2": render_report,
    "reports/templates/report.html.j2": render_ops_report,
    "reports/templates/form.html.j2": render_form,
}


def web_page(tmp_path: Path, value: str, path: str, role: str = "admin") -> str:
    """A page of the web app whose catalogue holds ``value`` in every field a vendor or user supplies."""
    from web_support import Desk, seed_item

    desk = Desk.make(tmp_path, roles=())
    desk.add("hostile", [role], display_name=value)
    seed_item(desk.catalogue, code=value, title=value, vendor=value, batch=value, check="SCAN-BORDER",
              message=value, evidence={"file": value, "found": f"左/left 40.0mm {value}", "page": 1, "field": value},
              row={"题名": value, value: value}, kept=tmp_path / "kept",
              relpath=f"item-0001/{value.replace('/', '_')}.png")  # a file name holding markup
    seed_item(desk.catalogue, code=value + "2", title=value, vendor=value, batch=value + "2", check="SCAN-SKEW",
              check_status="warn", status="accepted", message=value)
    with desk.catalogue.session() as s:
        desk.catalogue.log(s, value, "item.note", value, reason=value, **{value: value})
        from guidang.web.sampling import draw

        draw(s, 2, 0.05, value)
    seed_search_record(desk.catalogue, value)  # issue #20: an indexed record holding the value everywhere
    client = desk.client(name="hostile")
    return client.get(path.replace("{value}", quote(value)), follow_redirects=True).text


# every template of the web app, with the page that shows it ({value}: the hostile value in the URL)
WEB_PAGES: dict[str, tuple[str, str]] = {
    "web/templates/base.html.j2": ("/queue", "admin"),
    "web/templates/queue.html.j2": ("/queue?q={value}&vendor={value}", "admin"),
    "web/templates/item.html.j2": ("/items/1", "admin"),
    "web/templates/page.html.j2": ("/items/1/pages/1", "admin"),
    "web/templates/batches.html.j2": ("/batches", "admin"),
    "web/templates/audit.html.j2": ("/audit?agent={value}", "admin"),
    "web/templates/login.html.j2": ("/login?next=/{value}", "admin"),
    "web/templates/error.html.j2": ("/audit", "archivist"),
    "web/templates/search.html.j2": ("/search?q=hostile+{value}&vendor={value}", "admin"),  # issue #20
    "web/templates/record.html.j2": ("/record?code={value}&q={value}", "admin"),  # issue #20
    "web/templates/samples.html.j2": ("/samples", "admin"),
    "web/templates/users.html.j2": ("/admin/users", "admin"),
}


def seed_search_record(cat: Catalogue, value: str) -> None:
    from guidang.storage import search_index

    with cat.engine.begin() as conn:
        search_index.put(conn, search_index.IndexedRecord(
            code=value, version="v1", title=value, level=0, pages=(f"hostile {value}",), metadata_text=value,
            vendor=value, batch=value, matter=value, classification="公开", fields={value: value}))


def test_every_template_has_a_hostile_rendering() -> None:
    found = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*") if p.suffix in (".j2", ".jinja", ".jinja2")
             or p.name.endswith((".html", ".htm"))}
    assert found == set(RENDERERS) | set(WEB_PAGES), "a template was added or removed: render it hostile here"


@pytest.mark.parametrize("template", sorted(WEB_PAGES))
def test_web_pages_show_hostile_values_as_text(template: str, tmp_path: Path) -> None:
    from web_support import injected_by

    path, role = WEB_PAGES[template]
    hostile = web_page(tmp_path / "hostile", HOSTILE, path, role)
    benign = web_page(tmp_path / "benign", "benign value", path, role)
    assert not injected_by(hostile, benign), template
    assert "&lt;script&gt;" in hostile or "%3Cscript%3E" in hostile  # the value is shown, as text


@pytest.mark.parametrize("template", sorted(RENDERERS))
def test_templates_escape_hostile_values(template: str, tmp_path: Path) -> None:
    html = RENDERERS[template](tmp_path)
    assert not injected_markup(html), template
    assert "&lt;script&gt;" in html  # the value is shown, as text


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell: str) -> None:
    assert csvout.neutralise(cell) == "'" + cell
    back = list(csv.reader(io.StringIO(csvout.to_csv(["h"], [[cell]]))))
    assert back == [["h"], ["'" + cell]]


@pytest.mark.parametrize("cell", ["档号", "a=b", "", "1.5", None])
def test_csv_plain_cells_are_unchanged(cell: str | None) -> None:
    assert csvout.neutralise(cell) == ("" if cell is None else cell)


def test_check_csv_output_neutralises_vendor_values() -> None:
    result = CheckResult(check_id="GD-1-1", status=Status.FAIL, message_zh="=cmd|' /c calc'!A0",
                         message_en="@x", evidence=(Evidence(file="=HYPERLINK(\"http://evil\")"),))
    rows = list(csv.reader(io.StringIO(to_csv([CheckedSubject("+p", "文件", Report((result,)))]))))
    cells = [c for row in rows[1:] for c in row]
    assert not any(c.startswith(csvout.FORMULA_STARTS) for c in cells), cells
