"""Importing an EEP: verify it, then read back the latest layer's metadata and files (and rebuild a package)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pydantic import ValidationError

from guidang.packaging import aip
from guidang.packaging.eep.document import JOIN, EepError, find, findall, load, q, text_of, xml_parser
from guidang.packaging.eep.verify import EepVerification, referenced, verify_eep
from guidang.packaging.metadata import (
    ArchivalCodeMeta,
    ComputerFile,
    ContentDescription,
    DigitisationAttributes,
    ElectronicAttributes,
    FormalCharacteristics,
    Grant,
    ProcessEvent,
    Provenance,
    RecordEntity,
    RecordMetadata,
    Rights,
    StorageLocation,
    normalise_date,
)
from guidang.packaging.metadata_xml import from_xml


@dataclass(frozen=True)
class ImportedEep:
    code: str
    metadata: RecordMetadata  # the embedded DA/T 46 XML when present, else read from the EEP elements
    entity_metadata: RecordMetadata  # always read from the EEP's 文件实体 and entity blocks
    files: Mapping[str, bytes]  # "<文档标识符>/<计算机文件名>" → bytes (guidang EEPs: the package paths)
    verification: EepVerification


_SAFE_NAME = re.compile(r"^[^/\\\x00]+$")
_LAYER_PREFIX = re.compile(r"^v[0-9]+-")  # ID prefix of guidang's modification layers


def import_eep(
    source: str | os.PathLike[str] | bytes,
    *,
    trusted_certificates: Sequence[bytes] = (),
    require_signature: bool = False,
    untrusted_signer: str = "warn",
) -> ImportedEep:
    """Verify an EEP and read back its record metadata and files.

    A 修改型 EEP gives its latest layer (the 修订内容 of the outer 被签名对象), with references to
    unchanged data resolved. Raises :class:`EepError` when verification fails (an unsigned EEP is
    accepted unless ``require_signature``) or for unsafe or duplicate file names.
    """
    data = load(source)
    check = verify_eep(
        data,
        trusted_certificates=trusted_certificates,
        require_signature=require_signature,
        untrusted_signer=untrusted_signer,
    )
    if not check.valid:
        raise EepError(
            "EEP 验证失败：" + "；".join(p.zh for p in check.problems[:5]),
            "EEP verification failed: " + "; ".join(p.en for p in check.problems[:5]),
        )
    root = etree.fromstring(data, xml_parser())
    signed = find(root, "被签名对象")
    assert signed is not None  # schema-valid
    # the current description: 封装内容 of an original package, 修订内容 of the outer layer of a modified one
    content = find(signed, "封装内容")
    if content is None:
        content = find(signed, "修改封装内容/修订内容")
    entity = find(content, "文件实体块/文件实体") if content is not None else None
    assert content is not None and entity is not None  # schema-valid
    data_by_id = {el.get("编码数据ID", ""): el for el in root.iter(q("编码数据"))}
    files: dict[str, bytes] = {}
    for doc in findall(entity, "文件数据/文档"):
        folder = _LAYER_PREFIX.sub("", text_of(find(doc, "文档标识符")))
        for enc in doc.iter(q("编码")):
            name = text_of(find(enc, "电子属性/计算机文件名"))
            if not _SAFE_NAME.match(name) or name in (".", "..") or not _SAFE_NAME.match(folder):
                raise EepError(
                    f"EEP 中的文件名不安全：{folder}/{name}", f"unsafe file name in the EEP: {folder}/{name}"
                )
            if f"{folder}/{name}" in files:
                raise EepError(f"EEP 中的文件重名：{folder}/{name}", f"duplicate file name in the EEP: {folder}/{name}")
            found = find(enc, "编码数据")
            payload = referenced(found, data_by_id) if found is not None else None
            files[f"{folder}/{name}"] = base64.b64decode(
                "".join((payload.text or "").split()) if payload is not None else ""
            )
    try:
        entity_meta = _metadata_from_entity(content, entity)
    except ValueError as exc:  # a date, a number or a field the schema lets through as text (found by fuzzing)
        raise EepError(f"EEP 中的元数据无效：{exc}", f"invalid metadata in the EEP: {exc}") from exc
    code = _archival_code_text(entity)
    embedded = files.get(aip.METADATA_XML)
    metadata = from_xml(embedded) if embedded is not None else entity_meta
    return ImportedEep(code=code, metadata=metadata, entity_metadata=entity_meta, files=files, verification=check)


def _archival_code_text(entity: etree._Element) -> str:
    dh = find(entity, "档号")
    text = (dh.text or "").strip() if dh is not None else ""
    return text or text_of(find(entity, "电子文件号"))


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(JOIN) if p.strip())


def _metadata_from_entity(content: etree._Element, entity: etree._Element) -> RecordMetadata:
    """DA/T 46 metadata from the EEP's own elements (for EEPs without an embedded guidang XML)."""

    def t(path: str) -> str | None:
        return text_of(find(entity, path)) or None

    def as_int(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None

    date = t("内容描述/日期")
    computer_files = []
    for doc in findall(entity, "文件数据/文档"):
        role = text_of(find(doc, "文档主从声明")) or None
        for enc in doc.iter(q("编码")):
            dg = find(enc, "数字化属性")
            computer_files.append(
                ComputerFile(
                    role=role,  # type: ignore[arg-type]
                    electronic=ElectronicAttributes(
                        format_info=text_of(find(enc, "电子属性/格式信息")) or None,
                        file_name=text_of(find(enc, "电子属性/计算机文件名")),
                        file_size=as_int(text_of(find(enc, "电子属性/计算机文件大小"))) or 0,
                        creating_application=text_of(find(enc, "电子属性/文档创建程序")) or None,
                    ),
                    digitisation=None
                    if dg is None
                    else DigitisationAttributes(
                        object_form=text_of(find(dg, "数字化对象形态")) or None,
                        resolution=text_of(find(dg, "扫描分辨率")) or None,
                        colour_mode=text_of(find(dg, "扫描色彩模式")) or None,  # type: ignore[arg-type]
                        compression=text_of(find(dg, "图像压缩方案")) or None,
                    ),
                )
            )
    agents = {
        text_of(find(a, "机构人员标识符")): (
            text_of(find(a, "机构人员名称")),
            text_of(find(a, "机构人员类型")) or None,
        )
        for a in findall(content, "机构人员实体块/机构人员实体")
    }
    events = []
    for be in findall(content, "业务实体块/业务实体"):
        name, kind = agents.get(text_of(find(be, "机构人员标识符")), ("", None))
        events.append(
            ProcessEvent(
                status=text_of(find(be, "业务状态")),  # type: ignore[arg-type]
                action=text_of(find(be, "业务行为")),
                time=dt.datetime.fromisoformat(text_of(find(be, "行为时间"))),
                agent=name,
                agent_type=kind,  # type: ignore[arg-type]
                basis=text_of(find(be, "行为依据")) or None,
                description=text_of(find(be, "行为描述")) or None,
            )
        )
    try:
        return RecordMetadata(
            record=RecordEntity(
                aggregation="文件",
                provenance=Provenance(
                    archive_name=t("来源/档案馆名称"),
                    archive_code=t("来源/档案馆代码"),
                    fonds_name=t("来源/全宗名称"),
                    unit_name=t("来源/立档单位名称"),
                ),
                e_record_number=t("电子文件号"),
                archival_code=ArchivalCodeMeta(
                    code=_archival_code_text(entity),
                    fonds_code=t("档号/全宗号"),
                    catalogue_number=t("档号/目录号"),
                    year=as_int(t("档号/年度")),
                    retention=t("档号/保管期限"),
                    org=t("档号/机构或问题"),
                    class_code=t("档号/类别号"),
                    volume_number=t("档号/室编案卷号"),
                    archive_volume_number=t("档号/馆编案卷号"),
                    item_number=as_int(t("档号/室编件号")),
                    archive_item_number=as_int(t("档号/馆编件号")),
                    page_number=t("档号/页号"),
                ),
                content=ContentDescription(
                    title=t("内容描述/题名") or "",
                    parallel_title=t("内容描述/并列题名"),
                    subtitle=t("内容描述/副题名"),
                    title_note=t("内容描述/说明题名文字"),
                    subject_terms=tuple(text_of(s) for s in findall(entity, "内容描述/主题词")),
                    keywords=_split(t("内容描述/关键词") or ""),
                    personal_names=_split(t("内容描述/人名") or ""),
                    abstract=t("内容描述/摘要"),
                    class_number=t("内容描述/分类号"),
                    doc_number=t("内容描述/文件编号"),
                    creators=_split(t("内容描述/责任者") or ""),
                    date=normalise_date(date) if date else None,
                    genre=t("内容描述/文种"),
                    urgency=t("内容描述/紧急程度"),
                    recipients=_split(t("内容描述/主送") or ""),
                    copied_to=_split(t("内容描述/抄送") or ""),
                    classification=t("内容描述/密级"),
                    secrecy_period=t("内容描述/保密期限"),
                ),
                form=FormalCharacteristics(
                    composition=t("形式特征/文件组合类型") or "单件",  # type: ignore[arg-type]
                    page_count=as_int(t("形式特征/页数")),
                    language=t("形式特征/语种"),
                    draft=t("形式特征/稿本"),
                ),
                files=tuple(computer_files),
                storage=StorageLocation(
                    current=t("存储位置/当前位置"),
                    offline_ids=tuple(text_of(e) for e in findall(entity, "存储位置/脱机载体编号")),
                    offline_locations=tuple(text_of(e) for e in findall(entity, "存储位置/脱机载体存址")),
                    microfilm_number=t("存储位置/缩微号"),
                ),
                rights=Rights(
                    ip_statement=t("权限管理/知识产权说明"),
                    grants=tuple(
                        Grant(grantee=text_of(find(g, "授权对象")), action=text_of(find(g, "授权行为")))
                        for g in findall(entity, "权限管理/授权")
                    ),
                    control=t("权限管理/控制标识"),
                ),
                notes=tuple(text_of(e) for e in findall(entity, "附注")),
            ),
            events=tuple(events),
        )
    except (ValidationError, ValueError) as exc:
        raise EepError(f"EEP 中的元数据无法读取：{exc}", f"the EEP's metadata cannot be read: {exc}") from exc


def write_package(imported: ImportedEep, dest: str | os.PathLike[str]) -> aip.Package:
    """Rebuild an archival package from an imported guidang EEP (fresh manifests; files byte for byte)."""
    code = imported.code
    text = f"{aip.CONTENT_DIR}/{code}.txt"
    ofd = f"{aip.CONTENT_DIR}/{code}.ofd"  # a born-digital record whose preservation copy is its OFD
    pdf = ofd if ofd in imported.files and f"{aip.CONTENT_DIR}/{code}.pdf" not in imported.files else (
        f"{aip.CONTENT_DIR}/{code}.pdf")
    for needed in (pdf, text, aip.METADATA_XML):
        if needed not in imported.files:
            raise EepError(f"EEP 中缺少档案包文件：{needed}", f"the EEP lacks the package file {needed}")
    with tempfile.TemporaryDirectory() as tmp:
        masters = []
        for rel, data in imported.files.items():
            if rel.startswith(aip.MASTERS_DIR + "/"):
                path = Path(tmp, rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                masters.append(path)
        copy = Path(tmp, "x" + Path(pdf).suffix)
        copy.write_bytes(imported.files[pdf])
        pkg = aip.build_package(
            dest,
            code=code,
            pdf=copy,
            text=imported.files[text],
            masters=masters,
            metadata_xml=imported.files[aip.METADATA_XML],
        )
    extra = {
        rel: data
        for rel, data in imported.files.items()
        if rel.startswith(aip.METADATA_DIR + "/") and rel != aip.METADATA_XML
    }
    return aip.replace_files(pkg.root, extra) if extra else pkg
