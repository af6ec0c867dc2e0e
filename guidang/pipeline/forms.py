"""The registration forms the standards ask for, filled from the catalogue for one batch (``guidang form``).

* GB/T 18894-2016 Appendix A, Table A.1 电子文件归档登记表 (8.1.1, 8.1.5: filled per batch after the count
  and the appraisal): unit, archiving time, category, counts in 卷/件/张/分钟/字节, method, and the
  result of each check the table names.
* GB/T 18894-2016 Table A.3 电子档案格式转换与迁移登记表 (10.2.5): ingest converts every scanned item to
  PDF/A, a format conversion; the form records it per batch. Tables A.2 (offline media) and A.4
  (destruction) describe work guidang does not do, and are not produced.
* DA/T 93-2022 Appendix C, Table C.1 电子档案移交接收登记表: the receiving side's column is filled from
  the DA/T 70 results by property; the transferring side's column is left for the unit to fill (guidang
  does not know what the unit checked), as are the signatures and seals of both.

Each field holds only what the catalogue records; what a person must judge or sign is left blank or
says so. The field names are the tables' own (transcription: Rilzh/Archive-KnowledgeBase, see
docs/reports.md). Rendering (HTML, PDF, JSON) is in :mod:`guidang.reports.forms`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from guidang import __version__
from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import ItemStatus
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow, as_utc
from guidang.validators.registry import REGISTRY
from guidang.validators.spec import PROPERTY_ZH, Property

FORMS = {
    "a1": ("GB/T 18894-2016 表 A.1", "电子文件归档登记表", "Electronic records archiving register"),
    "a3": ("GB/T 18894-2016 表 A.3", "电子档案格式转换与迁移登记表", "Format conversion and migration register"),
    "c1": ("DA/T 93-2022 表 C.1", "电子档案移交接收登记表", "Transfer and accession register"),
}
# 门类 codes of DA/T 22 / DA/T 93 Appendix D as they appear in a 档号, and the category names of Table A.1's note
CATEGORY = {"WS": "文书", "KJ": "科技", "ZY": "专业", "ZP": "声像", "LY": "声像", "LX": "声像"}
PROPERTIES = (Property.AUTHENTICITY, Property.INTEGRITY, Property.USABILITY, Property.SECURITY)
ONLINE_CARRIER = "在线归档，无载体，不适用 / online: no carrier, not applicable"
RELIABILITY = ("DA/T 70-2018 未设可靠性检测项，由档案部门人工鉴定 / DA/T 70 has no reliability item: "
               "appraised by the archives department")


@dataclass(frozen=True)
class PropertyResult:
    """Items of the batch checked under one property, and those with a failure under it."""

    property_zh: str
    checked: int
    failed: int
    failing_checks: tuple[tuple[str, int], ...] = ()  # check ID, items
    note: str = ""  # said instead of counts (a row guidang does not check)
    warned: int = 0  # items with a warning or a manual item and no failure (never counted as 合格)
    warning_checks: tuple[tuple[str, int], ...] = ()

    @property
    def text(self) -> str:
        if self.note:
            return self.note
        if not self.checked:
            return "未检测 / not checked"
        passed = self.checked - self.failed - self.warned
        head = f"检测 {self.checked} 件，合格 {passed} 件"
        if self.warned:
            head += f"，有警告或待人工确认 {self.warned} 件（{'；'.join(f'{c} ×{n}' for c, n in self.warning_checks)}）"
        head += f"，不合格 {self.failed} 件"
        detail = "；".join(f"{c} ×{n}" for c, n in self.failing_checks)
        return head + (f"（{detail}；不合格件已退回，未归档）" if detail else "")

    def as_dict(self) -> dict[str, object]:
        return {"property": self.property_zh, "checked": self.checked, "failed": self.failed,
                "warned": self.warned,
                "failing_checks": [{"check": c, "items": n} for c, n in self.failing_checks],
                "warning_checks": [{"check": c, "items": n} for c, n in self.warning_checks], "text": self.text}


def _tally(name: str, checked: set[int], failed: set[int], warned: set[int], failing: Counter[str],
           warning: Counter[str]) -> PropertyResult:
    def order(c: Counter[str]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    return PropertyResult(name, len(checked), len(failed), order(failing), warned=len(warned - failed),
                          warning_checks=order(warning))


@dataclass(frozen=True)
class RegistrationForm:
    form: str  # a1 | a3 | c1
    batch_id: int
    fields: dict[str, str]  # the table's own field names, in its order
    results: dict[str, PropertyResult] = field(default_factory=dict)  # the table's check rows
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def standard(self) -> str:
        return FORMS[self.form][0]

    @property
    def title(self) -> str:
        return FORMS[self.form][1]

    @property
    def title_en(self) -> str:
        return FORMS[self.form][2]

    def as_dict(self) -> dict[str, object]:
        return {"form": self.form, "standard": self.standard, "title": self.title, "title_en": self.title_en,
                "batch_id": self.batch_id, "fields": self.fields,
                "results": {k: v.as_dict() for k, v in self.results.items()},
                "generated_at": self.generated_at.isoformat(timespec="seconds")}


@dataclass(frozen=True)
class _Batch:
    row: BatchRow
    items: list[ItemRow]

    @property
    def archived(self) -> list[ItemRow]:
        return [i for i in self.items if i.status == ItemStatus.ACCEPTED]



def _day(t: dt.datetime | None) -> str:
    return as_utc(t).strftime("%Y年%m月%d日") if t is not None else ""


def _category(codes: list[str]) -> str:
    found = sorted({CATEGORY.get(m.group(1), "其他") for c in codes if (m := re.search(r"-([A-Z]{2})[·.]", c))})
    return "、".join(found) or "其他"


def _property_results(items: list[ItemRow], only: str | None = None) -> dict[Property, PropertyResult]:
    """Items checked, failed and warned under each property (``only``: the results of one DA/T 70 item)."""
    checked: dict[Property, set[int]] = defaultdict(set)
    failed: dict[Property, set[int]] = defaultdict(set)
    warned: dict[Property, set[int]] = defaultdict(set)
    failing: dict[Property, Counter[str]] = defaultdict(Counter)
    warning: dict[Property, Counter[str]] = defaultdict(Counter)
    for item in items:
        seen: set[tuple[str, str]] = set()
        for r in item.results:
            spec = REGISTRY.spec_of_result(r.check_id)
            if spec is None or (only is not None and spec.id != only):
                continue
            checked[spec.property].add(item.id)
            if r.status in ("fail", "warn", "manual") and (r.status, r.check_id) not in seen:
                seen.add((r.status, r.check_id))
                (failed if r.status == "fail" else warned)[spec.property].add(item.id)
                (failing if r.status == "fail" else warning)[spec.property][r.check_id] += 1
    return {p: _tally(PROPERTY_ZH[p], checked[p], failed[p], warned[p], failing[p], warning[p]) for p in PROPERTIES}


def _virus_result(items: list[ItemRow]) -> PropertyResult:
    """病毒检验: the DA/T 70 4-2 results (recorded for the items that reached the DA/T 70 checks; every
    delivered file was scanned at intake, where only a finding is recorded). A scan with test signatures
    only is a warning, never 合格."""
    result = _property_results(items, only="4-2")[Property.SECURITY]
    return replace(result, property_zh="病毒")


def _load(s: Session, batch_id: int) -> _Batch:
    row = s.get(BatchRow, batch_id)
    if row is None:
        raise InputError(f"编目数据库中没有批次 #{batch_id}", f"no batch #{batch_id} in the catalogue")
    if row.status not in ("done", "duplicate"):
        raise InputError(f"批次 #{batch_id} 尚未处理完毕（{row.status}），登记表只为处理完毕的批次填写",
                         f"batch #{batch_id} is not done ({row.status}); a register is filled for a finished batch")
    return _Batch(row, list(row.items))


def _unit(settings: Settings, profile: str) -> tuple[str, str]:
    p = settings.profiles.get(profile)
    if p is None:
        return "", ""
    return p.unit_name or p.vendor, p.archive_name


def _a1(settings: Settings, b: _Batch) -> RegistrationForm:
    archived = b.archived
    unit, archive = _unit(settings, b.row.profile)
    props = _property_results(b.items)  # every delivered item was checked; the failed ones were returned
    counts = (f"— 卷　{len(archived)} 件　{sum(i.page_count for i in archived)} 张　— 分钟　"
              f"{sum(i.byte_count for i in archived)} 字节")
    fields = {
        "单位名称": unit,
        "归档时间": _day(b.row.finished_at),
        "归档电子文件门类": _category([i.archival_code for i in archived]),
        "归档电子文件数量": counts,
        "归档方式": "☑在线归档 ☐离线归档",
        "技术方法与相关软件说明登记表、软件、说明资料检验": (
            f"guidang {__version__}：扫描图像按 DA/T 31 检测，OCR 后转为 PDF/A-{settings.pdfa.part}，"
            f"元数据按 DA/T 46，四性检测按 DA/T 70（归档环节）；批次 {b.row.name}，"
            f"提交方 {b.row.vendor}，本批次退回 {sum(1 for i in b.items if i.status == ItemStatus.REJECTED)} 件"),
        "档案部门": archive,
    }
    results = {
        "载体外观检验": PropertyResult("载体外观", 0, 0, note=ONLINE_CARRIER),
        "病毒检验": _virus_result(b.items),
        "真实性检验": props[Property.AUTHENTICITY],
        "可靠性检验": PropertyResult("可靠性", 0, 0, note=RELIABILITY),
        "完整性检验": props[Property.INTEGRITY],
        "可用性检验": props[Property.USABILITY],
    }
    return RegistrationForm("a1", b.row.id, fields, results)


def _formats(items: list[ItemRow], role: str) -> str:
    found = Counter(PurePosixPath(f.relpath).suffix.lower().lstrip(".").upper() or "?"
                    for i in items for f in i.files if f.role == role)
    return "、".join(f"{ext} {n} 个文件" for ext, n in sorted(found.items())) or "—"


def _a3(settings: Settings, b: _Batch) -> RegistrationForm:
    archived = b.archived
    unit, _ = _unit(settings, b.row.profile)
    pdfs = sum(1 for i in archived for f in i.files if f.role == "pdf")
    pages = sum(i.page_count for i in archived)
    fields = {
        "单位名称": unit,
        "管理授权": "",
        "责任部门": "",
        "管理类型": "☑格式转换 ☐迁移",
        "源格式或系统描述": f"纸质档案数字化扫描图像：{_formats(archived, 'master')}",
        "目标格式或系统描述": (f"PDF/A-{settings.pdfa.part}（含 OCR 文本层）：{_formats(archived, 'pdf')}；"
                               "原始图像一并保存"),
        "完成情况": (f"转换前 {len(archived)} 件 {pages} 页图像；转换后 {pdfs} 个 PDF/A 文件；"
                     f"{'件数一致' if pdfs == len(archived) else '件数不一致'}；每件经 DA/T 70 归档环节检测合格后入库"),
        "操作起止时间": f"{as_utc(b.row.received_at).isoformat(timespec='seconds')} — "
                        f"{as_utc(b.row.finished_at).isoformat(timespec='seconds') if b.row.finished_at else ''}",
        "操作者": f"guidang {__version__}（自动）",
    }
    return RegistrationForm("a3", b.row.id, fields)


def _c1(settings: Settings, b: _Batch) -> RegistrationForm:
    archived = b.archived
    codes = sorted(i.archival_code for i in archived)
    size = sum(i.byte_count for i in archived)
    years = sorted({m.group(1) for c in codes if (m := re.search(r"·(\d{4})", c))})
    fonds = codes[0].split("-", 1)[0] if codes else ""
    props = _property_results(b.items)
    fields = {
        "移交接收事项": f"{b.row.vendor}；全宗 {fonds}；年度 {'、'.join(years)}；批次 {b.row.name}"
                        f"（第 {b.row.delivery} 次提交）",
        "内容描述": f"{_category(codes)}档案；纸质档案数字化扫描图像及 PDF/A、元数据（DA/T 46）；在线交接",
        "移交电子档案数量": f"文件 {len(archived)} 件，案卷 0 卷",
        "移交数据量": f"{size / 1e9:.3f} GB",
        "载体起止顺序号(或起止档号)": f"{codes[0]} — {codes[-1]}" if codes else "—",
        "移交载体类型、规格、数量": "在线",
        "移交单位": b.row.vendor,
        "接收单位": _unit(settings, b.row.profile)[1],
    }
    results = {f"{PROPERTY_ZH[p]}检测": props[p] for p in PROPERTIES}
    return RegistrationForm("c1", b.row.id, fields, results)


BUILDERS = {"a1": _a1, "a3": _a3, "c1": _c1}


def build_form(cat: Catalogue, settings: Settings, form: str, batch_id: int) -> RegistrationForm:
    """Form ``form`` (a1, a3, c1) filled for one finished batch."""
    if form not in BUILDERS:
        raise InputError(f"没有登记表 {form}（可用：{', '.join(BUILDERS)}）",
                         f"no form {form} (known: {', '.join(BUILDERS)})")
    with cat.session() as s:
        return BUILDERS[form](settings, _load(s, batch_id))
