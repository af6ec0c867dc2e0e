"""Metadata XML: lossless round trips (examples and hypothesis), XSD validity, XSD ⇄ model agreement."""

from __future__ import annotations

import base64
import datetime as dt
import types
from importlib.resources import files
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from annotated_types import Ge, Le, MinLen
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from guidang.models import CatalogueRow
from guidang.packaging import dates
from guidang.packaging import metadata as md
from guidang.packaging.archival_code import builtin_rule
from guidang.packaging.metadata import (
    NAMESPACE,
    Action,
    ComputerFile,
    DigitisationAttributes,
    ElectronicAttributes,
    Grant,
    ProcessEvent,
    RecordMetadata,
    Rights,
    Signature,
    StorageLocation,
    element_of,
)
from guidang.packaging.metadata_xml import MetadataXmlError, from_xml, schema, to_xml, validate_xml

XS = "{http://www.w3.org/2001/XMLSchema}"
NS = {"m": NAMESPACE}


def _example() -> RecordMetadata:
    row = CatalogueRow(
        row=1,
        archival_code="Z109-WS·2011·Y·办公室-0001",
        title="关于开展档案数字化工作的通知",
        creator="某市档案局",
        date="20110305",
        doc_number="某档发〔2011〕5号",
        classification="公开",
        page_count=2,
        retention="永久",
        matter_name="档案查阅",
        matter_code="11350100MB0000000X",
        case_number="BJ2011030100001",
        applicant="张三",
        accepted_at="2011-03-01 09:30",
        completed_at="2011-03-02 16:00",
        outcome="准予查阅",
    )
    scan = ComputerFile(
        role="附属文档",
        electronic=ElectronicAttributes(
            format_info="TIFF 6.0", file_name="Z109-WS·2011·Y·办公室-0001-0001.tif", file_size=123
        ),
        digitisation=DigitisationAttributes(
            object_form="A4",
            resolution="300dpi",
            colour_mode="灰度",
            compression="LZW",
            digitised_at="2026-11-20T10:00:00+08:00",
            scanner="Fujitsu fi-7160",
            software="Kodak Capture Pro 5",
        ),
    )
    events = [
        ProcessEvent(action=a, time=dt.datetime(2026, 11, 25, 16, i, tzinfo=dt.UTC), agent="guidang")
        for i, a in enumerate([Action.RECEIVED, Action.CHECKED, Action.OCR, Action.CONVERTED, Action.ARCHIVED])
    ]
    meta = RecordMetadata.from_catalogue(
        row,
        builtin_rule("dat13"),
        archive_name="某市档案馆",
        archive_code="350100",
        fonds_name="某市档案局",
        unit_name="某市档案局",
        files=[scan],
        events=events,
        language="汉语",
    )
    extra = {
        "signatures": (
            Signature(
                rule="SM2 over the SM3 digest of 被签名对象",
                time=dt.datetime(2026, 11, 25, 16, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
                signer="某市档案局",
                result=b"\x00\x01sig\xff",
                certificates=(b"cert-1", b"cert-2"),
                certificate_ref="http://ca.example/crl",
                algorithm="1.2.156.10197.1.501",
            ),
        ),
        "storage": StorageLocation(current="store/Z109/WS·2011·Y·办公室", offline_ids=("BD-0001",)),
        "rights": Rights(grants=(Grant(grantee="社会公众", action="浏览"),), control="开放"),
    }
    return meta.model_copy(update={"record": meta.record.model_copy(update=extra)})


def test_example_round_trips_and_validates() -> None:
    meta = _example()
    xml = to_xml(meta)
    assert validate_xml(xml) == []
    assert from_xml(xml) == meta
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<\xe7\x94\xb5')  # 电子文件元数据
    root = etree.fromstring(xml)
    assert root.nsmap == {None: NAMESPACE}
    assert root.findtext("m:文件实体/m:内容描述/m:日期", namespaces=NS) == "2011-03-05"
    code = root.find("m:文件实体/m:档号", NS)
    assert code is not None and code.get("值") == "Z109-WS·2011·Y·办公室-0001"
    assert root.findtext("m:文件实体/m:档号/m:保管期限", namespaces=NS) == "永久"
    assert (
        root.findtext("m:文件实体/m:电子签名/m:签名结果", namespaces=NS)
        == base64.b64encode(b"\x00\x01sig\xff").decode()
    )
    actions = root.xpath("m:业务实体块/m:业务实体/m:业务行为/text()", namespaces=NS)
    assert actions == ["接收", "检测", "文字识别", "格式转换", "归档"]
    assert root.findtext("m:政务服务/m:受理时间", namespaces=NS) == "2011-03-01T09:30:00"


def test_every_element_of_the_model_is_written_by_the_full_example() -> None:
    root = etree.fromstring(to_xml(_example()))
    written = {
        "/".join(etree.QName(e).localname for e in [*reversed(list(el.iterancestors())), el][1:])
        for el in root.iter()
        if el is not root
    }
    unused = {e.path for e in md.ALL_ELEMENTS} - written
    # Optional elements the example leaves out; everything else is exercised by the round trip.
    assert unused <= {e.path for e in md.ALL_ELEMENTS if not e.container} | {"文件实体/计算机文件/电子属性"}


def test_text_is_kept_exactly() -> None:
    meta = _example()
    tricky = '  前后空格\t制表\r\n换行 & <尖括号> "引号" ]]> 😀 \u2028 '
    content = meta.record.content.model_copy(update={"title": tricky, "keywords": ("", " ", "a")})
    meta = meta.model_copy(update={"record": meta.record.model_copy(update={"content": content})})
    xml = to_xml(meta)
    assert validate_xml(xml) == []
    assert from_xml(xml).record.content == content


def test_not_well_formed() -> None:
    with pytest.raises(MetadataXmlError) as info:
        from_xml(b"<a><b></a>")
    assert "第 1 行" in info.value.zh and "not well-formed" in info.value.en
    assert validate_xml(b"<a><b></a>") == info.value.problems


def test_invalid_against_the_xsd_lists_the_problems() -> None:
    xml = to_xml(_example())
    bad = xml.replace("<扫描色彩模式>灰度</扫描色彩模式>".encode(), "<扫描色彩模式>RGB</扫描色彩模式>".encode())
    bad = bad.replace("<题名>".encode(), "<标题>".encode()).replace("</题名>".encode(), "</标题>".encode())
    problems = validate_xml(bad)
    assert len(problems) == 2
    assert any("扫描色彩模式" in p and "RGB" in p for p in problems)
    assert any("标题" in p for p in problems)
    with pytest.raises(MetadataXmlError) as info:
        from_xml(bad)
    assert info.value.problems == problems and "2 处" in info.value.zh


def test_values_the_xsd_cannot_see_are_still_checked() -> None:
    xml = to_xml(_example()).replace("<日期>2011-03-05</日期>".encode(), "<日期>2011-02-30</日期>".encode())
    assert validate_xml(xml) == []  # the pattern is right, the day does not exist
    with pytest.raises(MetadataXmlError) as info:
        from_xml(xml)
    assert "文件实体/内容描述/日期" in info.value.zh and "no such date" in info.value.en


def test_entities_are_not_expanded() -> None:
    xml = to_xml(_example()).replace(b"\n", b'\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n', 1)
    xml = xml.replace("<题名>".encode(), "<题名>&e;".encode())
    with pytest.raises(MetadataXmlError):
        from_xml(xml)


# -- the XSD and the model agree --------------------------------------------------------------------


def _children(xsd: etree._Element, decl: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """Element declarations and attribute names of an element's (named or anonymous) complex type."""
    type_name = decl.get("type")
    ctype = xsd.find(f"{XS}complexType[@name='{type_name}']") if type_name else decl.find(f"{XS}complexType")
    if ctype is None:
        return [], []
    return ctype.findall(f"{XS}sequence/{XS}element"), [str(a.get("name")) for a in ctype.findall(f"{XS}attribute")]


def _compare(xsd: etree._Element, decl: etree._Element, model: type[BaseModel]) -> None:
    elements, attributes = _children(xsd, decl)
    by_name = {e.get("name"): e for e in elements}
    expected: list[str] = []
    expected_attrs: list[str] = []
    for info in model.model_fields.values():
        el = element_of(info.metadata)
        assert el is not None
        if el.attribute:
            expected_attrs.append(el.zh)
            continue
        repeated, inner = md.field_shape(info.annotation)
        name = el.wrapper or el.zh
        expected.append(name)
        child = by_name[name]
        required = info.is_required() and not (repeated and not any(isinstance(m, MinLen) for m in info.metadata))
        assert (child.get("minOccurs", "1") == "1") == required, name
        if el.wrapper:
            inner_elements, _ = _children(xsd, child)
            (child,) = inner_elements
            assert child.get("name") == el.zh and child.get("maxOccurs") == "unbounded"
        else:
            assert (child.get("maxOccurs") == "unbounded") == repeated, name
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            _compare(xsd, child, inner)
    assert [e.get("name") for e in elements] == expected, model.__name__
    assert attributes == expected_attrs, model.__name__


def test_xsd_declares_exactly_the_model_in_order() -> None:
    xsd = etree.fromstring(files("guidang.schemas").joinpath("guidang-metadata.xsd").read_bytes())
    (root,) = xsd.findall(f"{XS}element")
    assert root.get("name") == md.ROOT_ELEMENT
    _compare(xsd, root, RecordMetadata)
    assert schema() is schema()  # loaded once from package data


# -- property: any model value survives the trip ----------------------------------------------------

_ILLEGAL = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]) + "\ufffe\uffff"
_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters=_ILLEGAL), max_size=12)
_zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5, minutes=-30))])
_aware = st.datetimes(timezones=_zones)


@st.composite
def _iso_date(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=dt.date(1, 1, 1)))
    return day.isoformat()[: draw(st.sampled_from([4, 7, 10]))]


@st.composite
def _iso_date_or_time(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(_iso_date())
    moment = draw(st.datetimes(timezones=st.none() | _zones))
    return moment.isoformat(timespec=draw(st.sampled_from(["seconds", "microseconds"])))


def _strategy(annotation: Any, metadata: tuple[Any, ...] = ()) -> st.SearchStrategy[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        flat = [x for m in extra for x in (m.metadata if isinstance(m, FieldInfo) else [m])]
        return _strategy(base, (*metadata, *flat))
    if origin in (Union, types.UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        return st.none() | _strategy(inner, metadata)
    if origin is tuple:
        min_size = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
        return st.lists(_strategy(get_args(annotation)[0]), min_size=min_size, max_size=3).map(tuple)
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation)
    validators = {m.func for m in metadata if isinstance(m, AfterValidator)}
    if annotation is str:
        if dates.check_iso_date in validators:
            return _iso_date()
        if dates.check_iso_date_or_time in validators:
            return _iso_date_or_time()
        return _text
    if annotation is int:
        low: Any = next((m.ge for m in metadata if isinstance(m, Ge)), None)
        high: Any = next((m.le for m in metadata if isinstance(m, Le)), 2**63)
        return st.integers(min_value=low, max_value=high)
    if annotation is bytes:
        return st.binary(max_size=24)
    if annotation is dt.datetime:
        return _aware
    raise AssertionError(f"no strategy for {annotation!r}")


def _model(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    fields = {
        name: _strategy(info.annotation, tuple(m for m in info.metadata if not isinstance(m, md.El)))
        for name, info in model.model_fields.items()
    }
    return st.fixed_dictionaries(fields).map(model.model_validate)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_model(RecordMetadata))
def test_any_metadata_survives_xml_losslessly(meta: RecordMetadata) -> None:
    xml = to_xml(meta)
    assert validate_xml(xml) == []
    assert from_xml(xml) == meta
