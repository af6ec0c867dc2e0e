"""The ops report (``guidang report``) in JSON, CSV, HTML (with inline SVG charts) and XLSX; Chinese first.

The document is a :class:`guidang.pipeline.ops_report.OpsReport`. The CSV is one long table
(section, key, metric, value) through :mod:`guidang.csvout`, so a cell a vendor's name or a title
begins with ``=`` is never a formula; written to a file it gets a UTF-8 byte order mark
(:func:`guidang.reports.registry.render_bytes`) and opens in Excel with its Chinese intact. The XLSX
holds one sheet per section, with every text cell neutralised the same way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence

from guidang import csvout
from guidang.pipeline.ops_report import OpsReport
from guidang.reports.charts import hbars, stacked_columns
from guidang.reports.registry import binary_renderer, render_template, renderer

KIND = "report"
CSV_COLUMNS = ("分类 section", "项 key", "指标 metric", "值 value")


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _secs(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@renderer(KIND, "json")
def report_json(report: OpsReport, /, **_: object) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"


@renderer(KIND, "html")
def report_html(report: OpsReport, /, **_: object) -> str:
    data = report.as_dict()
    trend = stacked_columns([(w, t.accepted, t.rejected) for w, t in report.weeks],
                            title="每周接收与退回件数 / items accepted and rejected per week")
    failures = hbars([(f"{c.check_id} {c.name_zh}", c.failed) for c in report.top_failing],
                     title="不合格件数最多的检测项 / checks failing the most items")
    return render_template("report.html.j2", r=data, f=data["filter"], trend=trend, failures=failures,
                           pct=_pct, secs=_secs, size=_size(report.bytes))


def _rows(report: OpsReport) -> Iterator[Sequence[object]]:
    for key, value in report.filter.as_dict().items():
        yield "范围 filter", key, "", value
    for key, value in report.summary().items():
        yield "合计 summary", "", key, value
    for status, n in report.batch_status.items():
        yield "批次状态 batch status", status, "batches", n
    for vendor, tally in report.by_vendor.items():
        for metric, value in tally.as_dict().items():
            yield "提交方 vendor", vendor, metric, value
    for check in report.by_check:
        for metric, value in check.as_dict().items():
            if metric != "check":
                yield "检测项 check", check.check_id, metric, value
    for week, tally in report.weeks:
        for metric, value in tally.as_dict().items():
            yield "周 week", week, metric, value
    for stage in report.stages:
        for metric, value in stage.as_dict().items():
            if metric != "stage":
                yield "环节 stage", stage.stage, metric, value
    for audit in report.audits:
        yield "审计 audit", audit["at"], audit["action"], audit["subject"]
    for batch in report.batch_rows:
        for metric, value in batch.items():
            if metric != "id":
                yield "批次 batch", batch["id"], metric, value


@renderer(KIND, "csv")
def report_csv(report: OpsReport, /, **_: object) -> str:
    return csvout.to_csv(CSV_COLUMNS, _rows(report))


SHEETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("合计 summary", ("指标 metric", "值 value")),
    ("提交方 vendor", ("提交方 vendor", "件 items", "接收 accepted", "退回 rejected", "已归档未重复 duplicate",
                       "接收率 acceptance_rate")),
    ("检测项 check", ("检测项 check", "名称 name_zh", "name_en", "件 items", "不合格 failed", "警告 warned",
                      "通过率 pass_rate")),
    ("周 week", ("周 week", "件 items", "接收 accepted", "退回 rejected", "已归档未重复 duplicate",
                 "接收率 acceptance_rate")),
    ("环节 stage", ("环节 stage", "名称 name_zh", "name_en", "批次 batches", "合计秒 total_seconds",
                    "平均秒 mean_seconds")),
    ("批次 batch", ("#", "批次 name", "提交方 vendor", "档案 profile", "提交次数 delivery", "状态 status",
                    "接收时间 received_at", "件 items", "接收 accepted", "退回 rejected", "页 pages")),
)


def _sheet_rows(report: OpsReport) -> dict[str, list[list[object]]]:
    return {
        "合计 summary": [[k, v] for k, v in report.summary().items()],
        "提交方 vendor": [[v, *t.as_dict().values()] for v, t in report.by_vendor.items()],
        "检测项 check": [list(c.as_dict().values()) for c in report.by_check],
        "周 week": [[w, *t.as_dict().values()] for w, t in report.weeks],
        "环节 stage": [list(s.as_dict().values()) for s in report.stages],
        "批次 batch": [list(b.values()) for b in report.batch_rows],
    }


@binary_renderer(KIND, "xlsx")
def report_xlsx(report: OpsReport, /, **_: object) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    rows = _sheet_rows(report)
    for title, header in SHEETS:
        sheet = book.create_sheet(title.split(" ")[0])
        sheet.append(list(header))
        for row in rows[title]:
            sheet.append([csvout.neutralise(v) if isinstance(v, str) else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
