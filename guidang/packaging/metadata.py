"""DA/T 46-2009 record metadata: the model every AIP's ``metadata/metadata.xml`` is written from.

Attributes have English names; each carries its DA/T 46 element name (and M-number) once, as an
:class:`El` in its ``Annotated`` type, so the XML writer and reader in :mod:`metadata_xml` are generic
and :data:`ALL_ELEMENTS` is derived from the model instead of kept by hand. Containers follow DA/T 46
(来源, 档号, 内容描述, 形式特征, 电子签名, 存储位置, 权限管理) with three project choices:

* 电子属性 (M46) and 数字化属性 (M52) are given per computer file, grouped in a ``计算机文件``
  container, because an AIP holds several files (PDF/A, OCR text, page images) and the DA/T 48
  exporter needs them per 编码 anyway.
* 业务实体 (M80–M84) events carry the agent's 机构人员名称/类型 (M77/M76) inline; the EEP exporter
  builds the 机构人员实体块 from them.
* 政务服务 fields (GB/T 42727-2023 / DA/T 85-2019; element names [U], see STANDARDS §8.3) are an
  extension block outside the 文件实体.

Required-ness in the model is structural only (what a metadata record cannot exist without). What
DA/T 46 / DA/T 48 / GB/T 18894 call mandatory is data in :mod:`guidang.packaging.metadata_rules`, checked by
DA/T 70 items 2-3 and 2-4 (:mod:`guidang.validators.dat70.integrity`) on the package, so an incomplete
record can still be written, stored with its rejection and reported, instead of failing to exist. Value
domains are checked by item 1-4 (:mod:`guidang.validators.dat70.authenticity`).
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from guidang.errors import MetadataError
from guidang.models import CatalogueRow
from guidang.packaging.archival_code import PART_SEP, ArchivalCode, ArchivalCodeRule, parse
from guidang.packaging.dates import (
    check_aware,
    check_iso_date,
    check_iso_date_or_time,
    normalise_date,
    normalise_date_or_time,
)
from guidang.packaging.domains import retention_code

NAMESPACE = "urn:guidang:metadata:1"
ROOT_ELEMENT = "电子文件元数据"


@dataclass(frozen=True)
class El:
    """The XML name of a field (DA/T 46 element name), its M-number, and whether it is an attribute."""

    zh: str
    m: str | None = None
    attribute: bool = False
    wrapper: str | None = None  # repeated elements grouped in a container element (e.g. 业务实体块)


# -- text and date types ----------------------------------------------------------------------------

# XML 1.0 Char production: no C0 controls but TAB/LF/CR, no surrogates, no U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: str) -> str:
    bad = _XML_ILLEGAL.search(value)
    if bad:
        raise ValueError(
            f"含 XML 不允许的字符 U+{ord(bad.group()):04X}（第 {bad.start() + 1} 个字符）/ "
            f"contains U+{ord(bad.group()):04X}, which XML 1.0 does not allow (character {bad.start() + 1})"
        )
    return value


XmlText = Annotated[str, AfterValidator(_xml_safe)]

IsoDate = Annotated[str, AfterValidator(check_iso_date)]
IsoDateOrTime = Annotated[str, AfterValidator(check_iso_date_or_time)]
AwareDatetime = Annotated[dt.datetime, AfterValidator(check_aware)]
PositiveInt = Annotated[int, Field(ge=1)]
Year = Annotated[int, Field(ge=1000, le=9999)]

# -- closed value domains (also enumerated in the XSD and in domains.toml) ---------------------------

Aggregation = Literal["文件", "案卷"]
Composition = Literal["单件", "组合文件"]
ColourMode = Literal["黑白二值", "灰度", "彩色"]
DocRole = Literal["主文档", "附属文档"]
# how the record came to be (DA/T 46 separates 电子属性 from 数字化属性; GB/T 18894-2016 3: born-digital records
# vs digitised copies of paper): the DA/T 70 checks that are about scans apply to 数字化 only
Origin = Literal["原生电子", "数字化"]
AgentType = Literal["单位", "内设机构", "个人"]
EventStatus = Literal["历史行为", "计划任务"]


class Action(StrEnum):
    """业务行为 values for what guidang does (domains.toml lists them with GB/T 18894's own)."""

    DIGITISED = "数字化"
    RECEIVED = "接收"
    CHECKED = "检测"
    OCR = "文字识别"
    CONVERTED = "格式转换"
    CATALOGUED = "著录"
    PACKAGED = "封装"
    ARCHIVED = "归档"
    CORRECTED = "修改"
    RETURNED = "退回"
    REVIEWED = "人工审核"
    MIGRATED = "迁移"


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- containers -------------------------------------------------------------------------------------


class Provenance(_Node):
    """来源 M2."""

    archive_name: Annotated[XmlText | None, El("档案馆名称", "M3")] = None
    archive_code: Annotated[XmlText | None, El("档案馆代码", "M4")] = None
    fonds_name: Annotated[XmlText | None, El("全宗名称", "M5")] = None
    unit_name: Annotated[XmlText | None, El("立档单位名称", "M6")] = None


class ArchivalCodeMeta(_Node):
    """档号 M8: the full code (attribute 值, with the rule that parsed it) and its DA/T 46 parts."""

    code: Annotated[XmlText, El("值", attribute=True)]
    rule: Annotated[XmlText | None, El("规则", attribute=True)] = None
    fonds_code: Annotated[XmlText | None, El("全宗号", "M9")] = None
    catalogue_number: Annotated[XmlText | None, El("目录号", "M10")] = None
    year: Annotated[Year | None, El("年度", "M11")] = None
    retention: Annotated[XmlText | None, El("保管期限", "M12")] = None
    org: Annotated[XmlText | None, El("机构或问题", "M13")] = None
    class_code: Annotated[XmlText | None, El("类别号", "M14")] = None
    volume_number: Annotated[XmlText | None, El("室编案卷号", "M15")] = None
    archive_volume_number: Annotated[XmlText | None, El("馆编案卷号", "M16")] = None
    item_number: Annotated[PositiveInt | None, El("室编件号", "M17")] = None
    archive_item_number: Annotated[PositiveInt | None, El("馆编件号", "M18")] = None
    document_sequence: Annotated[PositiveInt | None, El("文档序号", "M19")] = None
    page_number: Annotated[XmlText | None, El("页号", "M20")] = None

    @classmethod
    def from_code(cls, code: ArchivalCode) -> ArchivalCodeMeta:
        """Map a parsed 档号 onto the DA/T 46 parts; 保管期限 as the DA/T 46 term (Y → 永久)."""
        classes = [c for c in (code.category, *code.class_codes) if c]
        return cls(
            code=code.text,
            rule=code.rule.name,
            fonds_code=code.fonds,
            catalogue_number=code.part_for("catalogue"),
            year=code.year,
            retention=code.retention_term or code.retention,
            org=code.org,
            class_code=PART_SEP.join(classes) or None,
            volume_number=code.part_for("volume"),
            item_number=code.item,
            page_number=code.part_for("page"),
        )


class ContentDescription(_Node):
    """内容描述 M21."""

    title: Annotated[XmlText, El("题名", "M22")]
    parallel_title: Annotated[XmlText | None, El("并列题名", "M23")] = None
    subtitle: Annotated[XmlText | None, El("副题名", "M24")] = None
    title_note: Annotated[XmlText | None, El("说明题名文字", "M25")] = None
    subject_terms: Annotated[tuple[XmlText, ...], El("主题词", "M26")] = ()
    keywords: Annotated[tuple[XmlText, ...], El("关键词", "M27")] = ()
    personal_names: Annotated[tuple[XmlText, ...], El("人名", "M28")] = ()
    abstract: Annotated[XmlText | None, El("摘要", "M29")] = None
    class_number: Annotated[XmlText | None, El("分类号", "M30")] = None
    doc_number: Annotated[XmlText | None, El("文件编号", "M31")] = None
    creators: Annotated[tuple[XmlText, ...], El("责任者", "M32")] = ()
    date: Annotated[IsoDate | None, El("日期", "M33")] = None
    genre: Annotated[XmlText | None, El("文种", "M34")] = None
    urgency: Annotated[XmlText | None, El("紧急程度", "M35")] = None
    recipients: Annotated[tuple[XmlText, ...], El("主送", "M36")] = ()
    copied_to: Annotated[tuple[XmlText, ...], El("抄送", "M37")] = ()
    classification: Annotated[XmlText | None, El("密级", "M38")] = None
    secrecy_period: Annotated[XmlText | None, El("保密期限", "M39")] = None


class FormalCharacteristics(_Node):
    """形式特征 M40."""

    composition: Annotated[Composition, El("文件组合类型", "M41")] = "单件"
    item_count: Annotated[PositiveInt | None, El("件数", "M42")] = None
    page_count: Annotated[PositiveInt | None, El("页数", "M43")] = None
    language: Annotated[XmlText | None, El("语种", "M44")] = None
    draft: Annotated[XmlText | None, El("稿本", "M45")] = None
    origin: Annotated[Origin | None, El("形成方式")] = None  # guidang extension; absent: digitised (scans)


class ElectronicAttributes(_Node):
    """电子属性 M46 of one computer file."""

    format_info: Annotated[XmlText | None, El("格式信息", "M47")] = None
    file_name: Annotated[XmlText, El("计算机文件名", "M48")]
    file_size: Annotated[int, Field(ge=0), El("计算机文件大小", "M49")]
    creating_application: Annotated[XmlText | None, El("文档创建程序", "M50")] = None
    system_description: Annotated[XmlText | None, El("信息系统描述", "M51")] = None


class DigitisationAttributes(_Node):
    """数字化属性 M52 (DA/T 31-2017) plus the process fields seen in practice (STANDARDS §7.6, [U])."""

    object_form: Annotated[XmlText | None, El("数字化对象形态", "M53")] = None
    resolution: Annotated[XmlText | None, El("扫描分辨率", "M54")] = None  # e.g. "300dpi"
    colour_mode: Annotated[ColourMode | None, El("扫描色彩模式", "M55")] = None
    compression: Annotated[XmlText | None, El("图像压缩方案", "M56")] = None
    digitised_at: Annotated[IsoDateOrTime | None, El("数字化时间")] = None
    scanner: Annotated[XmlText | None, El("扫描设备")] = None
    software: Annotated[XmlText | None, El("数字化软件")] = None


class ComputerFile(_Node):
    """One computer file of the record (project container for M46 + M52, per file as DA/T 48's 编码)."""

    role: Annotated[DocRole | None, El("文档主从声明", "M216")] = None
    electronic: Annotated[ElectronicAttributes, El("电子属性", "M46")]
    digitisation: Annotated[DigitisationAttributes | None, El("数字化属性", "M52")] = None


class Signature(_Node):
    """电子签名 M57."""

    rule: Annotated[XmlText, El("签名规则", "M58")]
    time: Annotated[AwareDatetime | None, El("签名时间", "M59")] = None
    signer: Annotated[XmlText | None, El("签名人", "M60")] = None
    result: Annotated[bytes, El("签名结果", "M61")]
    certificates: Annotated[tuple[bytes, ...], Field(min_length=1), El("证书", "M62")]
    certificate_ref: Annotated[XmlText | None, El("证书引证", "M63")] = None
    algorithm: Annotated[XmlText, El("签名算法标识", "M64")]


class StorageLocation(_Node):
    """存储位置 M65."""

    current: Annotated[XmlText | None, El("当前位置", "M66")] = None
    offline_ids: Annotated[tuple[XmlText, ...], El("脱机载体编号", "M67")] = ()
    offline_locations: Annotated[tuple[XmlText, ...], El("脱机载体存址", "M68")] = ()
    microfilm_number: Annotated[XmlText | None, El("缩微号", "M69")] = None


class Grant(_Node):
    """授权: 授权对象 M72 + 授权行为 M73."""

    grantee: Annotated[XmlText, El("授权对象", "M72")]
    action: Annotated[XmlText, El("授权行为", "M73")]


class Rights(_Node):
    """权限管理 M70."""

    ip_statement: Annotated[XmlText | None, El("知识产权说明", "M71")] = None
    grants: Annotated[tuple[Grant, ...], El("授权")] = ()
    control: Annotated[XmlText | None, El("控制标识", "M74")] = None


class RecordEntity(_Node):
    """文件实体 M1–M75."""

    aggregation: Annotated[Aggregation, El("聚合层次", "M1")] = "文件"
    provenance: Annotated[Provenance, El("来源", "M2")] = Provenance()
    e_record_number: Annotated[XmlText | None, El("电子文件号", "M7")] = None
    archival_code: Annotated[ArchivalCodeMeta | None, El("档号", "M8")] = None
    content: Annotated[ContentDescription, El("内容描述", "M21")]
    form: Annotated[FormalCharacteristics, El("形式特征", "M40")] = FormalCharacteristics()
    files: Annotated[tuple[ComputerFile, ...], El("计算机文件")] = ()
    signatures: Annotated[tuple[Signature, ...], El("电子签名", "M57")] = ()
    storage: Annotated[StorageLocation | None, El("存储位置", "M65")] = None
    rights: Annotated[Rights | None, El("权限管理", "M70")] = None
    notes: Annotated[tuple[XmlText, ...], El("附注", "M75")] = ()


class ProcessEvent(_Node):
    """业务实体 M80–M84: one action on the record, when, by whom (agent inline: M76/M77)."""

    status: Annotated[EventStatus, El("业务状态", "M80")] = "历史行为"
    action: Annotated[XmlText, El("业务行为", "M81")]
    time: Annotated[AwareDatetime, El("行为时间", "M82")]
    agent: Annotated[XmlText, El("机构人员名称", "M77")]
    agent_type: Annotated[AgentType | None, El("机构人员类型", "M76")] = None
    basis: Annotated[XmlText | None, El("行为依据", "M83")] = None
    description: Annotated[XmlText | None, El("行为描述", "M84")] = None


class GovernmentService(_Node):
    """政务服务 extension (GB/T 42727-2023 / DA/T 85-2019 case fields; names [U], STANDARDS §8.3)."""

    matter_name: Annotated[XmlText | None, El("事项名称")] = None
    matter_code: Annotated[XmlText | None, El("事项编码")] = None
    case_number: Annotated[XmlText | None, El("办件编号")] = None
    applicant: Annotated[XmlText | None, El("申请人")] = None
    accepted_at: Annotated[IsoDateOrTime | None, El("受理时间")] = None
    completed_at: Annotated[IsoDateOrTime | None, El("办结时间")] = None
    outcome: Annotated[XmlText | None, El("办理结果")] = None


class RecordMetadata(_Node):
    """The metadata of one 件: 文件实体, its 业务实体 events, and the 政务服务 block when present."""

    record: Annotated[RecordEntity, El("文件实体")]
    events: Annotated[tuple[ProcessEvent, ...], El("业务实体", wrapper="业务实体块")] = ()
    government: Annotated[GovernmentService | None, El("政务服务")] = None

    def with_event(self, event: ProcessEvent) -> RecordMetadata:
        """A copy with one more 业务实体 event (the model is frozen: history is appended, never edited)."""
        return self.model_copy(update={"events": (*self.events, event)})

    @classmethod
    def from_catalogue(
        cls,
        row: CatalogueRow,
        rule: ArchivalCodeRule,
        *,
        archive_name: str | None = None,
        archive_code: str | None = None,
        fonds_name: str | None = None,
        unit_name: str | None = None,
        e_record_number: str | None = None,
        files: Sequence[ComputerFile] = (),
        events: Sequence[ProcessEvent] = (),
        language: str | None = None,
        origin: str | None = None,  # an Origin term (validated with the rest)
    ) -> RecordMetadata:
        """Build from a DA/T 22 catalogue row and the profile's 来源 fields.

        The 档号 is parsed with ``rule`` (an :class:`ArchivalCodeError` names the wrong part); the
        catalogue's 保管期限, when given, must agree with the 档号's. The date is normalised to ISO 8601.
        电子文件号 defaults to the 档号, which is unique within the archive.
        """
        code = parse(row.archival_code, rule)
        code_meta = ArchivalCodeMeta.from_code(code)
        if row.retention and row.retention.strip():
            given = retention_code(row.retention, legacy=True) or row.retention.strip()
            if code.retention is not None and given != code.retention:
                raise MetadataError(
                    f"第 {row.row} 行：目录中的保管期限“{row.retention}”与档号“{code.text}”中的“{code.retention}”不符",
                    f"row {row.row}: retention {row.retention!r} in the catalogue disagrees with "
                    f"{code.retention!r} in the archival code {code.text!r}",
                )
            if code.retention is None:
                code_meta = code_meta.model_copy(update={"retention": row.retention.strip()})
        gov_fields = {
            "matter_name": row.matter_name,
            "matter_code": row.matter_code,
            "case_number": row.case_number,
            "applicant": row.applicant,
            "accepted_at": normalise_date_or_time(row.accepted_at) if row.accepted_at else None,
            "completed_at": normalise_date_or_time(row.completed_at) if row.completed_at else None,
            "outcome": row.outcome,
        }

        def clean(value: str | None) -> str | None:
            return value.strip() if value and value.strip() else None

        data = {
            "record": {
                "provenance": {
                    "archive_name": clean(archive_name),
                    "archive_code": clean(archive_code),
                    "fonds_name": clean(fonds_name),
                    "unit_name": clean(unit_name),
                },
                "e_record_number": e_record_number or code.text,
                "archival_code": code_meta,
                "content": {
                    "title": row.title.strip(),
                    "doc_number": clean(row.doc_number),
                    "creators": tuple(c for c in [clean(row.creator)] if c),
                    "date": normalise_date(row.date) if row.date and row.date.strip() else None,
                    "classification": clean(row.classification),
                },
                "form": {"page_count": row.page_count or None, "language": language, "origin": origin},
                "files": tuple(files),
                "notes": tuple(n for n in [clean(row.remarks)] if n),
            },
            "events": tuple(events),
            "government": gov_fields if any(gov_fields.values()) else None,
        }
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise MetadataError(
                f"第 {row.row} 行（档号 {code.text}）的元数据无效：{explain(exc, 'zh')}",
                f"row {row.row} (archival code {code.text}): invalid metadata: {explain(exc, 'en')}",
            ) from exc


def explain(exc: ValidationError, language: str = "zh") -> str:
    """Pydantic's errors of a RecordMetadata with DA/T 46 element paths, in one language."""
    parts = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        if " / " in msg:  # the model's own validators write "中文 / English"
            zh, en = msg.split(" / ", 1)
            msg = zh if language == "zh" else en
        parts.append(f"{'/'.join(_zh_path(err['loc']))}: {msg}")
    return "; ".join(parts)


def _zh_path(loc: tuple[int | str, ...]) -> list[str]:
    """Translate a pydantic error location (attribute names) into element names where possible."""
    names: list[str] = []
    model: type[BaseModel] | None = RecordMetadata
    for key in loc:
        if isinstance(key, int) or model is None:
            names.append(str(key))
            continue
        info = model.model_fields.get(key)
        if info is None:
            names.append(key)
            model = None
            continue
        el = element_of(info.metadata)
        names.append(el.zh if el else key)
        model = _model_in(info.annotation)
    return names


# -- model introspection (shared with metadata_xml) -------------------------------------------------


def element_of(metadata: Sequence[Any]) -> El | None:
    return next((m for m in metadata if isinstance(m, El)), None)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional: ``Annotated[X | None, …]`` → X; ``tuple[X, ...]`` stays."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def field_shape(annotation: Any) -> tuple[bool, Any]:
    """(repeated, item type) of a field annotation, with Annotated/Optional removed."""
    inner = _unwrap(annotation)
    if get_origin(inner) is tuple:
        return True, _unwrap(get_args(inner)[0])
    return False, inner


def _model_in(annotation: Any) -> type[BaseModel] | None:
    _, inner = field_shape(annotation)
    return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


@dataclass(frozen=True)
class ElementInfo:
    """One element of the metadata XML: its path from the root, DA/T 46 number, attribute path."""

    path: str  # e.g. 文件实体/内容描述/题名
    name: str
    m: str | None
    attr_path: str  # e.g. record.content.title
    repeatable: bool
    container: bool


def _walk(model: type[BaseModel], prefix: str, attr_prefix: str) -> Iterator[ElementInfo]:
    for attr, info in model.model_fields.items():
        el = element_of(info.metadata)
        if el is None or el.attribute:
            continue
        base = f"{prefix}{el.wrapper}/" if el.wrapper else prefix
        path = f"{base}{el.zh}"
        repeated, _ = field_shape(info.annotation)
        sub = _model_in(info.annotation)
        yield ElementInfo(path, el.zh, el.m, f"{attr_prefix}{attr}", repeated, sub is not None)
        if sub is not None:
            yield from _walk(sub, f"{path}/", f"{attr_prefix}{attr}.")


ALL_ELEMENTS: tuple[ElementInfo, ...] = tuple(_walk(RecordMetadata, "", ""))
"""Every element the project's metadata XML can hold, in document order (paths from the root)."""

ELEMENTS_BY_PATH = {e.path: e for e in ALL_ELEMENTS}


__all__ = [
    "ALL_ELEMENTS",
    "NAMESPACE",
    "ROOT_ELEMENT",
    "Action",
    "ArchivalCodeMeta",
    "ComputerFile",
    "ContentDescription",
    "DigitisationAttributes",
    "El",
    "ElectronicAttributes",
    "ElementInfo",
    "FormalCharacteristics",
    "GovernmentService",
    "Grant",
    "MetadataError",
    "ProcessEvent",
    "Provenance",
    "RecordEntity",
    "RecordMetadata",
    "Rights",
    "Signature",
    "StorageLocation",
    "normalise_date",
    "normalise_date_or_time",
]
