"""DA/T 46 metadata model: catalogue → metadata, dates, mandatory elements, value domains."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import pytest
from pydantic import ValidationError

from guidang.errors import InputError
from guidang.models import CatalogueRow
from guidang.packaging import metadata as md
from guidang.packaging.archival_code import ArchivalCodeError, ArchivalCodeRule, builtin_rule, parse
from guidang.packaging.domains import default_domains, retention_code, retention_term
from guidang.packaging.metadata import (
    ALL_ELEMENTS,
    ELEMENTS_BY_PATH,
    Action,
    ArchivalCodeMeta,
    ComputerFile,
    ContentDescription,
    DigitisationAttributes,
    ElectronicAttributes,
    MetadataError,
    ProcessEvent,
    RecordEntity,
    RecordMetadata,
    normalise_date,
    normalise_date_or_time,
)
from guidang.packaging.metadata_rules import MANDATORY_ELEMENTS

DAT22 = builtin_rule("dat22")
T0 = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _row(**changes: object) -> CatalogueRow:
    base: dict[str, object] = {
        "row": 3,
        "archival_code": "Z109-WS·2011-Y-BGS-0001",
        "title": "关于开展档案数字化工作的通知",
        "creator": "某市档案局",
        "date": "20110305",
        "doc_number": "某档发〔2011〕5号",
        "classification": "公开",
        "page_count": 3,
        "retention": "永久",
        "remarks": "原件有修补",
    }
    return CatalogueRow.model_validate(base | changes)


def _pdf() -> ComputerFile:
    return ComputerFile(
        role="主文档",
        electronic=ElectronicAttributes(
            format_info="格式名称：PDF/A，格式版本：2b，MIME媒体类型：application/pdf",
            file_name="Z109-WS·2011-Y-BGS-0001.pdf",
            file_size=48213,
            creating_application="guidang 0.1.0",
        ),
    )


def _scan(**digitisation: object) -> ComputerFile:
    attrs = {"object_form": "A4", "resolution": "300dpi", "colour_mode": "彩色", "compression": "LZW"}
    return ComputerFile(
        role="附属文档",
        electronic=ElectronicAttributes(
            format_info="TIFF",
            file_name="Z109-WS·2011-Y-BGS-0001-0001.tif",
            file_size=2_000_000,
            creating_application="Kodak Capture Pro",
        ),
        digitisation=DigitisationAttributes.model_validate(attrs | digitisation),
    )


def _event(action: str = Action.RECEIVED) -> ProcessEvent:
    return ProcessEvent(action=action, time=T0, agent="guidang", agent_type="单位")


def _complete() -> RecordMetadata:
    return RecordMetadata.from_catalogue(
        _row(), DAT22, unit_name="某市档案局", fonds_name="某市档案局", files=[_pdf()], events=[_event()]
    )


# -- from the catalogue -----------------------------------------------------------------------------


def test_from_catalogue_maps_the_dat22_columns() -> None:
    meta = RecordMetadata.from_catalogue(
        _row(matter_name="档案查阅", accepted_at="20110301 0930", completed_at="2011-03-02"),
        DAT22,
        archive_name="某市档案馆",
        unit_name="某市档案局",
    )
    rec = meta.record
    assert rec.aggregation == "文件"
    assert rec.provenance.archive_name == "某市档案馆" and rec.provenance.fonds_name is None
    assert rec.e_record_number == "Z109-WS·2011-Y-BGS-0001"
    assert rec.archival_code == ArchivalCodeMeta(
        code="Z109-WS·2011-Y-BGS-0001",
        rule="dat22",
        fonds_code="Z109",
        year=2011,
        retention="永久",
        org="BGS",
        class_code="WS",
        item_number=1,
    )
    assert rec.content.title == "关于开展档案数字化工作的通知"
    assert rec.content.creators == ("某市档案局",)
    assert rec.content.date == "2011-03-05"
    assert (rec.content.doc_number, rec.content.classification) == ("某档发〔2011〕5号", "公开")
    assert rec.form.page_count == 3 and rec.form.composition == "单件"
    assert rec.notes == ("原件有修补",)
    assert meta.government is not None
    assert meta.government.matter_name == "档案查阅"
    assert (meta.government.accepted_at, meta.government.completed_at) == (
        "2011-03-01T09:30:00",
        "2011-03-02",
    )


def test_volume_code_maps_to_dat46_parts() -> None:
    meta = ArchivalCodeMeta.from_code(parse("J019-ZY·JC·CC·2019·D30-001-002", builtin_rule("dat13-volume")))
    assert (meta.class_code, meta.volume_number, meta.item_number, meta.retention) == (
        "ZY·JC·CC",
        "001",
        2,
        "定期30年",
    )
    optional = ArchivalCodeRule(name="opt", template="{全宗号}-{目录号?}-{案卷号}-{件号}")
    meta = ArchivalCodeMeta.from_code(parse("C038-002-0003", optional))
    assert (meta.catalogue_number, meta.volume_number, meta.item_number) == (None, "002", 3)
    meta = ArchivalCodeMeta.from_code(parse("C038-001-002-003", builtin_rule("dat13-catalogue")))
    assert (meta.catalogue_number, meta.volume_number, meta.item_number, meta.year) == ("001", "002", 3, None)


@pytest.mark.parametrize("retention", ["永久", "Y", " 永久 "])
def test_catalogue_retention_agreeing_with_the_code(retention: str) -> None:
    meta = RecordMetadata.from_catalogue(_row(retention=retention), DAT22)
    assert meta.record.archival_code and meta.record.archival_code.retention == "永久"


@pytest.mark.parametrize("retention", ["30年", "定期30年", "D30"])
def test_old_and_new_spellings_of_thirty_years(retention: str) -> None:
    meta = RecordMetadata.from_catalogue(_row(archival_code="Z109-WS·2011-D30-BGS-0001", retention=retention), DAT22)
    assert meta.record.archival_code and meta.record.archival_code.retention == "定期30年"


def test_catalogue_retention_contradicting_the_code_is_refused() -> None:
    with pytest.raises(MetadataError) as info:
        RecordMetadata.from_catalogue(_row(retention="定期10年"), DAT22)
    assert "第 3 行" in info.value.zh and "定期10年" in info.value.zh and "Z109-WS·2011-Y-BGS-0001" in info.value.zh
    assert "row 3" in info.value.en


def test_bad_archival_code_in_the_catalogue_names_the_part() -> None:
    with pytest.raises(ArchivalCodeError) as info:
        RecordMetadata.from_catalogue(_row(archival_code="Z109-WS·2011-Y-BGS-001"), DAT22)
    assert info.value.part == "件号"


def test_xml_illegal_character_is_a_clear_error_naming_the_element() -> None:
    with pytest.raises(MetadataError) as info:
        RecordMetadata.from_catalogue(_row(title="通知\x0c附件"), DAT22)
    assert "文件实体/内容描述/题名" in info.value.zh and "U+000C" in info.value.zh
    assert "U+000C" in info.value.en
    assert isinstance(info.value, InputError)
    with pytest.raises(ValidationError, match="U\\+FFFF"):
        ContentDescription(title="ok", abstract="\uffff")


def test_times_must_carry_a_whole_minute_offset() -> None:
    with pytest.raises(ValidationError, match="时区"):
        ProcessEvent(action="接收", time=dt.datetime(2026, 1, 1, 12), agent="guidang")
    odd = dt.timezone(dt.timedelta(hours=5, seconds=30))
    with pytest.raises(ValidationError, match="whole minutes"):
        ProcessEvent(action="接收", time=dt.datetime(2026, 1, 1, 12, tzinfo=odd), agent="guidang")


def test_closed_domains_are_enforced_by_the_model() -> None:
    with pytest.raises(ValidationError):
        _scan(colour_mode="RGB")
    with pytest.raises(ValidationError):
        RecordEntity.model_validate({"aggregation": "卷宗", "content": {"title": "x"}})


def test_history_is_appended_not_edited() -> None:
    meta = _complete()
    later = meta.with_event(_event(Action.ARCHIVED))
    assert [e.action for e in later.events] == ["接收", "归档"] and len(meta.events) == 1
    with pytest.raises(ValidationError):
        meta.record.content.title = "改"


# -- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("20110305", "2011-03-05"),
        (" 20110305 ", "2011-03-05"),
        ("2011-3-5", "2011-03-05"),
        ("2011/03/05", "2011-03-05"),
        ("2011.03.05", "2011-03-05"),
        ("2011年3月5日", "2011-03-05"),
        ("19950300", "1995-03"),
        ("19950000", "1995"),
        ("199503", "1995-03"),
        ("1995", "1995"),
        ("1995年", "1995"),
        ("20000229", "2000-02-29"),
    ],
)
def test_catalogue_dates_become_iso_8601(text: str, iso: str) -> None:
    assert normalise_date(text) == iso


@pytest.mark.parametrize("text", ["", "2011-13-01", "20110230", "19000229", "2011年13月", "三月五日", "11-03-05"])
def test_bad_dates_are_clear_errors(text: str) -> None:
    with pytest.raises(MetadataError) as info:
        normalise_date(text)
    assert "YYYYMMDD" in info.value.zh and "YYYYMMDD" in info.value.en


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2011-03-01 09:30", "2011-03-01T09:30:00"),
        ("2011-03-01 09:30:15", "2011-03-01T09:30:15"),
        ("20110301093015", "2011-03-01T09:30:15"),
        ("2011-03-01T09:30:15+0800", "2011-03-01T09:30:15+08:00"),
        ("2011-03-01T09:30:15Z", "2011-03-01T09:30:15Z"),
        ("20110301", "2011-03-01"),
    ],
)
def test_service_times_become_iso_8601(text: str, iso: str) -> None:
    assert normalise_date_or_time(text) == iso


def test_bad_service_time() -> None:
    with pytest.raises(MetadataError, match="hh:mm"):
        normalise_date_or_time("2011-03-01 25:30")


# -- mandatory elements -----------------------------------------------------------------------------


def test_element_table_has_the_dat46_numbers() -> None:
    numbers = {e.m for e in ALL_ELEMENTS if e.m}
    expected = {f"M{i}" for i in [*range(1, 84 + 1)]} - {"M78", "M79", "M85"}
    assert expected <= numbers
    assert ELEMENTS_BY_PATH["文件实体/内容描述/题名"].m == "M22"
    assert ELEMENTS_BY_PATH["文件实体/计算机文件/数字化属性/扫描色彩模式"].m == "M55"
    assert ELEMENTS_BY_PATH["业务实体块/业务实体/行为时间"].m == "M82"
    for req in MANDATORY_ELEMENTS:
        assert all(p in ELEMENTS_BY_PATH for p in req.paths), req


def test_retention_terms_and_codes() -> None:
    assert [retention_term(c) for c in ("Y", "D30", "D10", "D5", "C", "D", "X")] == [
        "永久",
        "定期30年",
        "定期10年",
        "定期5年",
        "长期",
        "短期",
        None,
    ]
    assert retention_term("C", legacy=False) is None
    assert [retention_code(t) for t in ("永久", "定期30年", "30年", "10年", "长期", "短期", "很久")] == [
        "Y",
        "D30",
        "D30",
        "D10",
        "C",
        "D",
        None,
    ]
    assert retention_code("长期", legacy=False) is None


def test_closed_domains_in_the_model_match_the_data() -> None:
    closed = {name: d.values for name, d in default_domains().domains.items() if d.closed}
    literals = {
        "聚合层次": md.Aggregation,
        "文件组合类型": md.Composition,
        "扫描色彩模式": md.ColourMode,
        "文档主从声明": md.DocRole,
        "机构人员类型": md.AgentType,
        "业务状态": md.EventStatus,
    }
    assert {name: get_args(lit) for name, lit in literals.items()} == closed
    assert {a.value for a in Action} <= set(default_domains()["业务行为"].values)
