"""Mandatory elements and value domains of DA/T 46 metadata, on the code that runs: DA/T 70 2-3, 2-4 and 1-4.

These cases were the tests of metadata.py's ``missing_mandatory`` / ``domain_issues``, test-only twins of
these checks (deleted). Each record is written as a package's metadata XML and the checks read it there, as
ingest does. A condition the twin took from its caller comes from where the running check finds it: a
digitised record has masters; a numbered one has a 文号 in the catalogue DB record.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from test_metadata import DAT22, _complete, _event, _pdf, _row, _scan

from guidang.packaging.metadata import RecordMetadata, Signature
from guidang.packaging.metadata_xml import to_xml
from guidang.validators.dat70 import Dat70Context
from guidang.validators.dat70.authenticity import metadata_domain
from guidang.validators.dat70.integrity import elements_present, mandatory_filled
from guidang.validators.dat70.package import PackageView
from guidang.validators.dat70.subject import Dat70Subject
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.result import Status
from guidang.validators.spec import Stage


def _subject(
    tmp_path: Path, meta: RecordMetadata, *, masters: bool = False, ctx: Dat70Context | None = None
) -> Dat70Subject:
    root = tmp_path / "pkg"
    (root / "metadata").mkdir(parents=True)
    (root / "content").mkdir()
    (root / "metadata" / "metadata.xml").write_bytes(to_xml(meta))
    if masters:
        (root / "masters").mkdir()
        (root / "masters" / "p-0001.tif").write_bytes(b"II*\x00")
    return Dat70Subject(PackageView(root), ctx or Dat70Context(), Stage.GD)


def missing(subject: Dat70Subject) -> list[str]:
    """What 2-3 (element absent) and 2-4 (element empty) report, in MANDATORY_ELEMENTS order."""
    found = [f for f in elements_present(subject) if f.status is Status.FAIL]
    found += [f for f in mandatory_filled(subject) if f.status is Status.FAIL]
    return [str(f.params["element"]) for f in found]


def test_complete_record_misses_nothing(tmp_path: Path) -> None:
    assert missing(_subject(tmp_path, _complete())) == []


def test_missing_elements_are_listed(tmp_path: Path) -> None:
    meta = RecordMetadata.from_catalogue(_row(classification=None, creator=" ", date=None), DAT22)
    assert missing(_subject(tmp_path, meta)) == [
        "立档单位名称",
        "责任者",
        "日期",
        "密级",
        "格式信息",
        "计算机文件名",
        "计算机文件大小",
        "文档创建程序",
        "业务状态",
        "业务行为",
        "行为时间",
        "机构人员名称",
    ]


def test_a_digitised_record_needs_its_scan_attributes(tmp_path: Path) -> None:
    assert missing(_subject(tmp_path / "a", _complete(), masters=True)) == [
        "数字化对象形态",
        "扫描分辨率",
        "扫描色彩模式",
        "图像压缩方案",
    ]
    meta = _complete()
    with_scan = meta.model_copy(
        update={"record": meta.record.model_copy(update={"files": (_pdf(), _scan(compression=None))})}
    )
    assert missing(_subject(tmp_path / "b", with_scan)) == ["图像压缩方案"]  # condition shown by the record


def test_a_numbered_record_needs_its_document_number(tmp_path: Path) -> None:
    no_number = RecordMetadata.from_catalogue(
        _row(doc_number=None), DAT22, unit_name="某市档案局", files=[_pdf()], events=[_event()]
    )
    assert missing(_subject(tmp_path / "a", no_number)) == []
    registered = Dat70Context(db_record={"文件编号": "某档发〔2011〕5号"})  # the catalogue has a 文号
    assert missing(_subject(tmp_path / "b", no_number, ctx=registered)) == ["文件编号"]


def test_an_organisation_class_present_must_be_filled(tmp_path: Path) -> None:
    """2-3/2-4 cannot know whether a fonds is classified by organisation (dat22's 机构 part is optional):
    a record without one passes; one with an empty 机构或问题 fails 2-4."""
    no_org = RecordMetadata.from_catalogue(
        _row(archival_code="Z109-WS·2011-Y-0001"), DAT22, unit_name="某市档案局", files=[_pdf()], events=[_event()]
    )
    assert missing(_subject(tmp_path / "a", no_org)) == []
    xml = to_xml(_complete()).replace("<机构或问题>BGS</机构或问题>".encode(), "<机构或问题> </机构或问题>".encode())
    subject = _subject(tmp_path / "b", _complete())
    (subject.package.root / "metadata" / "metadata.xml").write_bytes(xml)
    assert missing(Dat70Subject(PackageView(subject.package.root), Dat70Context(), Stage.GD)) == ["机构或问题"]


def test_signature_requires_its_parts(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Signature(rule="SM2", result=b"sig", certificates=(), algorithm="1.2.156.10197.1.501")
    sig = Signature(rule="SM2", result=b"sig", certificates=(b"cert",), algorithm="1.2.156.10197.1.501")
    meta = _complete()
    signed = meta.model_copy(update={"record": meta.record.model_copy(update={"signatures": (sig,)})})
    assert missing(_subject(tmp_path, signed)) == []


def test_open_domain_values_are_reported_and_can_be_extended(tmp_path: Path) -> None:
    meta = RecordMetadata.from_catalogue(_row(classification="内部"), DAT22)
    findings = list(metadata_domain(_subject(tmp_path / "a", meta)))
    assert [(f.status, f.key, f.params["element"], f.params["value"]) for f in findings] == [
        (Status.WARN, "outside_open", "密级", "内部")  # an open domain: a warning, not a failure
    ]
    local = Dat70Context(options=Dat70Options(domain_terms={"密级": ["内部"]}))
    assert list(metadata_domain(_subject(tmp_path / "b", meta, ctx=local))) == []
    assert list(metadata_domain(_subject(tmp_path / "c", _complete()))) == []
