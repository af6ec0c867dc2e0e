"""The ``guidang check`` report: one page an archivist reads (HTML), text for the terminal, JSON, CSV.

The HTML page is Chinese first (English beneath, smaller), one section per checked subject, results
grouped by the four properties (真实性, 完整性, 可用性, 安全性), failures first in each group, then
warnings, items for a person, not applicable, passes (template: ``templates/check.html.j2``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from guidang import csvout
from guidang.reports.registry import render_template, renderer
from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckedSubject, CheckResult, Report, Status, exit_code
from guidang.validators.spec import PROPERTY_ZH, Property

KIND = "check"
STATUS_ORDER = (Status.FAIL, Status.WARN, Status.MANUAL, Status.NOT_APPLICABLE, Status.PASS)
STATUS_ZH = {
    Status.FAIL: "不合格",
    Status.WARN: "警告",
    Status.MANUAL: "待人工检测",
    Status.NOT_APPLICABLE: "不适用",
    Status.PASS: "合格",
}
# the terminal's shorter labels
TEXT_STATUS_ZH = {"fail": "不合格", "warn": "警告", "manual": "待人工", "not_applicable": "不适用", "pass": "合格"}
PROPERTY_ORDER = (Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY)


# -- HTML --------------------------------------------------------------------------------------------------
@dataclass
class _Row:
    result: CheckResult
    name_zh: str
    name_en: str
    status_zh: str


@dataclass
class _Group:
    property_zh: str
    property_en: str
    rows: list[_Row] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(1 for r in self.rows if r.result.status is Status.FAIL)


def _groups(report: Report) -> list[_Group]:
    groups = {p: _Group(PROPERTY_ZH[p], p.value) for p in PROPERTY_ORDER}
    for r in report.results:
        spec = REGISTRY.spec_of_result(r.check_id)
        prop = spec.property if spec else Property.USABILITY
        groups[prop].rows.append(
            _Row(r, spec.name.zh if spec else r.check_id, spec.name.en if spec else "", STATUS_ZH[r.status])
        )
    for g in groups.values():
        g.rows.sort(key=lambda row: STATUS_ORDER.index(row.result.status))
    ordered = sorted((g for g in groups.values() if g.rows), key=lambda g: -g.failures)
    return ordered


def _version() -> str:
    try:
        return version("guidang")
    except PackageNotFoundError:
        return "?"


@renderer(KIND, "html")
def render_html(subjects: Sequence[CheckedSubject], /, title: str = "四性检测报告", **_: object) -> str:
    """The whole report page; subjects with failures come first."""
    ordered = sorted(subjects, key=lambda s: (not s.failed, s.path))
    counts = {st: sum(1 for s in subjects for r in s.report.results if r.status is st) for st in STATUS_ORDER}
    sections = [(s, _groups(s.report)) for s in ordered]
    return render_template(
        "check.html.j2",
        title=title,
        sections=sections,
        counts=[(STATUS_ZH[st], st.value, counts[st]) for st in STATUS_ORDER],
        subjects=len(subjects),
        failed_subjects=sum(1 for s in subjects if s.failed),
        generated=dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        version=_version(),
    )


# -- text, JSON, CSV ---------------------------------------------------------------------------------------
@renderer(KIND, "text")
def to_text(subjects: Sequence[CheckedSubject], /, language: str = "zh", **_: object) -> str:
    out = []
    for s in sorted(subjects, key=lambda s: (not s.failed, s.path)):
        results = s.report.results
        fails = sum(1 for r in results if r.status is Status.FAIL)
        passes = sum(1 for r in results if r.status is Status.PASS)
        stage = f" [{s.stage}]" if s.stage else ""
        out.append(f"{s.kind} {s.path}{stage}: 不合格 {fails} 项，合格 {passes} 项 / {fails} failed, {passes} passed")
        if s.error:
            out.append(f"  无法检测 / cannot check: {s.error}")
        order = ("fail", "warn", "manual", "not_applicable")
        for r in sorted((r for r in results if r.status is not Status.PASS), key=lambda r: order.index(r.status)):
            spec = REGISTRY.spec_of_result(r.check_id)
            name = f"{spec.name.zh} " if spec else ""
            out.append(f"  [{TEXT_STATUS_ZH[r.status]}] {r.check_id} {name}{r.message(language)}")
            if language == "zh":
                out.append(f"      {r.message_en}")
            for e in r.evidence[:5]:
                parts = [f"{k}={v}" for k, v in e.as_dict().items()]
                out.append(f"      · {'; '.join(parts)}")
    return "\n".join(out) + "\n"


@renderer(KIND, "json")
def to_json(subjects: Sequence[CheckedSubject], /, **_: object) -> str:
    data = {
        "subjects": [
            {
                "path": s.path,
                "kind": s.kind,
                "stage": s.stage,
                "error": s.error,
                "failed": s.failed,
                "results": s.report.as_dicts(),
            }
            for s in subjects
        ],
        "exit_code": int(exit_code(subjects)),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


CSV_COLUMNS = (
    "path",
    "stage",
    "check",
    "status",
    "blocking",
    "message_zh",
    "message_en",
    "file",
    "field",
    "expected",
    "found",
)


def _csv_rows(subjects: Sequence[CheckedSubject]) -> Iterator[list[object]]:
    for s in subjects:
        if s.error:
            yield [s.path, s.stage or "", "", "error", "", s.error, s.error, "", "", "", ""]
        for r in s.report.results:
            for e in r.evidence or (None,):
                ed = e.as_dict() if e is not None else {}
                yield [s.path, s.stage or "", r.check_id, r.status.value, r.blocking, r.message_zh, r.message_en,
                       *(ed.get(k, "") for k in ("file", "field", "expected", "found"))]


@renderer(KIND, "csv")
def to_csv(subjects: Sequence[CheckedSubject], /, **_: object) -> str:
    return csvout.to_csv(CSV_COLUMNS, _csv_rows(subjects))
