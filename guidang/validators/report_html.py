"""The check report as one self-contained HTML page an archivist can read.

Chinese first (English beneath, smaller), one section per checked subject, results grouped by the
four properties (真实性, 完整性, 可用性, 安全性), failures first in each group, then warnings, items
for a person, not applicable, passes. The template is package data (templates/report.html.j2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import PackageNotFoundError, version

from jinja2 import Environment, PackageLoader

from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Report, Status
from guidang.validators.spec import PROPERTY_ZH, CheckSpec, Property

STATUS_ORDER = (Status.FAIL, Status.WARN, Status.MANUAL, Status.NOT_APPLICABLE, Status.PASS)
STATUS_ZH = {
    Status.FAIL: "不合格",
    Status.WARN: "警告",
    Status.MANUAL: "待人工检测",
    Status.NOT_APPLICABLE: "不适用",
    Status.PASS: "合格",
}
PROPERTY_ORDER = (Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY)


@dataclass(frozen=True)
class CheckedSubject:
    """One thing that was checked: a file, a package, a stored object."""

    path: str
    kind: str  # 文件 / 信息包 / …, as shown
    report: Report
    stage: str | None = None
    error: str | None = None  # could not be checked at all

    @property
    def failed(self) -> bool:
        return self.error is not None or any(r.status is Status.FAIL for r in self.report.results)


def spec_of(check_id: str) -> CheckSpec | None:
    """The spec of a result ID (``GD-1-7`` → DA/T 70 item ``1-7``; ``PDF-JS`` → itself)."""
    if check_id in REGISTRY.specs:
        return REGISTRY.specs[check_id]
    head, _, rest = check_id.partition("-")
    return REGISTRY.specs.get(rest) if head in ("GD", "YJ", "BC") else None


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
        spec = spec_of(r.check_id)
        prop = spec.property if spec else Property.USABILITY
        groups[prop].rows.append(
            _Row(r, spec.name.zh if spec else r.check_id, spec.name.en if spec else "", STATUS_ZH[r.status])
        )
    for g in groups.values():
        g.rows.sort(key=lambda row: STATUS_ORDER.index(row.result.status))
    ordered = sorted((g for g in groups.values() if g.rows), key=lambda g: -g.failures)
    return ordered


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("guidang.validators", "templates"),
        autoescape=True,  # HTML only: escape always
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _version() -> str:
    try:
        return version("guidang")
    except PackageNotFoundError:
        return "?"


def render_html(subjects: Sequence[CheckedSubject], title: str = "四性检测报告") -> str:
    """The whole report page; subjects with failures come first."""
    ordered = sorted(subjects, key=lambda s: (not s.failed, s.path))
    counts = {st: sum(1 for s in subjects for r in s.report.results if r.status is st) for st in STATUS_ORDER}
    sections = [(s, _groups(s.report)) for s in ordered]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            sections=sections,
            counts=[(STATUS_ZH[st], st.value, counts[st]) for st in STATUS_ORDER],
            subjects=len(subjects),
            failed_subjects=sum(1 for s in subjects if s.failed),
            generated=dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
            version=_version(),
        )
    )
