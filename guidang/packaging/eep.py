"""EEP (电子文件封装包, DA/T 48-2009) export, verification and import of an archived record.

Export (:func:`export_eep`) writes one 原始型 EEP for the head version of a stored object:

* 文件实体 from the DA/T 46 metadata (``metadata/metadata.xml``); multi-valued DA/T 46 fields that
  DA/T 48 allows only once (责任者, 主送, 抄送, 关键词, 人名) are joined with "；";
* 文件数据: one 文档 per package folder, each file one 编码 with its bytes in Base64 (RFC 2045, 76
  characters a line) in 编码数据: 文档 ``content`` (主文档: PDF/A and OCR text), ``masters`` (附属文档:
  page images) and ``metadata`` (附属文档: the DA/T 46 XML and the check report), so that an import
  gives back every file of the package byte for byte and the metadata exactly;
* 业务实体块 / 机构人员实体块 from the record's 业务实体 events, plus one 封装 event for the export.

Signing, when a :class:`~guidang.packaging.signing.Signer` is given: the 被签名对象 element is
canonicalised with W3C Exclusive XML Canonicalization 1.0 without comments (exc-c14n; the result does
not depend on the ancestors, so a 被签名对象 re-wrapped in a 修改型 package's 原封装包 still verifies)
and the UTF-8 bytes are signed (SM2 with SM3, OID 1.2.156.10197.1.501, DER (r, s), signer ID
1234567812345678; or RSA PKCS#1 v1.5 with SHA-256, OID 1.2.840.113549.1.1.11). A 锁定签名 signs the
exc-c14n of the 电子签名 element it locks (签名结果 included). The rule is written into 签名规则.
Whitespace is fixed before signing (the document is indented first and written without re-indenting),
so the bytes verified are the bytes signed. Note: C14N orders attributes by name, so 引用编码数据ID would
precede 编码数据ID, unlike the order the DA/T 48 XSD annotation describes; an original package has only
编码数据ID, so the two agree for what guidang writes.

With ``modified=True`` the EEP is 修改型: one layer per OCFL version, each earlier layer kept whole
(with its signature) in 原封装包, unchanged files referenced by 引用编码数据ID instead of repeated.

Verification (:func:`verify_eep`) checks the project XSD, each 编码数据 against its 计算机文件大小,
every 电子签名 (of every layer) and the 锁定签名; import (:func:`import_eep`) verifies, then returns
the latest layer's metadata and files.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files as resource_files
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lxml import etree
from pydantic import ValidationError

from guidang import safexml
from guidang.errors import InputError
from guidang.fsutil import replace_file
from guidang.packaging import aip
from guidang.packaging.metadata import (
    Action,
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
from guidang.packaging.signing import ALGORITHM_NAMES, SignatureError, Signer, is_trusted, verify

if TYPE_CHECKING:
    from guidang.storage.ocfl_store import OcflStore

NS = "http://www.saac.gov.cn/standards/ERM/encapsulation"
XSD_RESOURCE = "eep-dat48.xsd"
EEP_VERSION = "2009"
FORMAT_DESCRIPTION = "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
ORIGINAL = "原始型"
ORIGINAL_DESCRIPTION = "本封装包包含电子文件数据及其元数据，原始封装，未经修改"
MODIFIED = "修改型"
MODIFIED_DESCRIPTION = "本封装包包含电子文件数据及其元数据，系修改封装，在保留原封装包的基础上，添加了修改层"
ENCODING_DESCRIPTION = (
    "本封装包中“编码数据”元素存储的是计算机文件二进制流的Base64编码，有关Base64编码规则参见IETF RFC 2045"
    "多用途邮件扩展（MIME）第一部分：互联网信息体格式。当提取和显现封装在编码数据元素中的计算机文件时，"
    "应对Base64编码进行反编码，并依据封装包中“反编码关键字”元素中记录的值还原计算机文件的扩展名"
)
SIGNATURE_RULE = (
    "guidang-eep-sig-1：对“被签名对象”元素按 W3C Exclusive XML Canonicalization 1.0（不含注释，"
    "http://www.w3.org/2001/10/xml-exc-c14n#）规范化，对所得 UTF-8 字节按“签名算法标识”签名；"
    "SM2 签名值为 DER 编码的 (r,s)，签名者标识为 1234567812345678（GB/T 32918、GB/T 35276）。"
)
LOCK_RULE = (
    "guidang-eep-lock-1：对“被锁定签名标识符”所指的“电子签名”元素（含其签名结果）按 W3C Exclusive XML "
    "Canonicalization 1.0（不含注释）规范化，对所得 UTF-8 字节按“签名算法标识”签名。"
)
JOIN = "；"
DOCUMENTS = {  # package folder → (文档主从声明, 题名 when not the record's own title)
    aip.CONTENT_DIR: ("主文档", None),
    aip.MASTERS_DIR: ("附属文档", "纸质原件数字化图像"),
    aip.METADATA_DIR: ("附属文档", "元数据与检测报告"),
}
FORMATS = {
    ".pdf": "格式名称：PDF/A，MIME媒体类型：application/pdf",
    ".ofd": "格式名称：OFD，MIME媒体类型：application/ofd",
    ".txt": "格式名称：纯文本（UTF-8），MIME媒体类型：text/plain",
    ".tif": "格式名称：TIFF，MIME媒体类型：image/tiff",
    ".tiff": "格式名称：TIFF，MIME媒体类型：image/tiff",
    ".jpg": "格式名称：JPEG，MIME媒体类型：image/jpeg",
    ".jpeg": "格式名称：JPEG，MIME媒体类型：image/jpeg",
    ".png": "格式名称：PNG，MIME媒体类型：image/png",
    ".xml": "格式名称：XML，MIME媒体类型：application/xml",
    ".json": "格式名称：JSON，MIME媒体类型：application/json",
}


class EepError(InputError):
    """An EEP cannot be written (metadata lacks what DA/T 48 requires) or read."""

    code = "EEP"


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(name))
    if text is not None:
        el.text = text
    return el


def _opt(parent: etree._Element, name: str, text: str | None) -> None:
    if text:
        _sub(parent, name, text)


def canonical(element: etree._Element) -> bytes:
    """Exclusive C14N 1.0 without comments: the bytes that are signed."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


@cache
def schema() -> etree.XMLSchema:
    """The project's DA/T 48 schema (guidang/schemas/eep-dat48.xsd)."""
    data = resource_files("guidang.schemas").joinpath(XSD_RESOURCE).read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


def _parser() -> etree.XMLParser:
    # the XML policy (guidang.safexml); huge_tree for Base64 text nodes above 10 MB
    return safexml.parser(huge=True)


# -- export ----------------------------------------------------------------------------------------


OFFLINE_ID = "存储位置/脱机载体编号"
REGISTER_OFFLINE = "guidang backup --carrier <载体编号 carrier id>"


def no_offline_copy(code: str, others: list[str]) -> EepError:
    """An archived record with no registered offline copy: DA/T 48 requires its 脱机载体编号, and
    guidang never writes a carrier that does not exist; the operator registers one first."""
    also_zh = f"；另缺：{'、'.join(others)}" if others else ""
    also_en = f"; also missing: {', '.join(others)}" if others else ""
    return EepError(
        f"档号 {code} 没有登记脱机备份载体（{OFFLINE_ID}），DA/T 48 封装包必须写明，guidang 不会填写不存在的载体。"
        f"请先制作脱机备份并用“{REGISTER_OFFLINE}”登记，再导出 EEP{also_zh}",
        f"{code} has no registered offline copy ({OFFLINE_ID}, the offline carrier id DA/T 48 requires); "
        f"guidang never names a carrier that does not exist. Make an offline copy, register it with "
        f"'{REGISTER_OFFLINE}', then export the EEP{also_en}",
    )


@dataclass
class _Missing:
    items: list[str]

    def need(self, value: object, path: str) -> None:
        if value is None or value == "" or value == ():
            self.items.append(path)


def _file_entity(
    parent: etree._Element, code: str, meta: RecordMetadata, files: Mapping[str, bytes], ids: _Ids
) -> None:
    rec = meta.record
    missing = _Missing([])
    ent = _sub(parent, "文件实体")
    _sub(ent, "聚合层次", "文件")
    if rec.aggregation != "文件":
        missing.items.append("聚合层次=文件 (DA/T 48 封装的是文件级)")
    src = _sub(ent, "来源")
    _opt(src, "档案馆名称", rec.provenance.archive_name)
    _opt(src, "档案馆代码", rec.provenance.archive_code)
    _opt(src, "全宗名称", rec.provenance.fonds_name)
    missing.need(rec.provenance.unit_name, "来源/立档单位名称")
    _sub(src, "立档单位名称", rec.provenance.unit_name or "")
    _sub(ent, "电子文件号", rec.e_record_number or code)

    ac = rec.archival_code or ArchivalCodeMeta(code=code)
    dh = _sub(ent, "档号", code)  # mixed content: the whole 档号 as text, then its parts
    _opt(dh, "全宗号", ac.fonds_code)
    _opt(dh, "目录号", ac.catalogue_number)
    missing.need(ac.year, "档号/年度")
    _sub(dh, "年度", str(ac.year or ""))
    missing.need(ac.retention, "档号/保管期限")
    _sub(dh, "保管期限", ac.retention or "")
    _opt(dh, "机构或问题", ac.org)
    _opt(dh, "类别号", ac.class_code)
    _opt(dh, "室编案卷号", ac.volume_number)
    _opt(dh, "馆编案卷号", ac.archive_volume_number)
    if ac.item_number is None and ac.archive_item_number is None:
        missing.items.append("档号/室编件号或馆编件号")
    _opt(dh, "室编件号", str(ac.item_number) if ac.item_number else None)
    _opt(dh, "馆编件号", str(ac.archive_item_number) if ac.archive_item_number else None)
    _opt(dh, "页号", ac.page_number)

    c = rec.content
    cd = _sub(ent, "内容描述")
    _sub(cd, "题名", c.title)
    _opt(cd, "并列题名", c.parallel_title)
    _opt(cd, "副题名", c.subtitle)
    _opt(cd, "说明题名文字", c.title_note)
    for term in c.subject_terms:
        _sub(cd, "主题词", term)
    _opt(cd, "关键词", JOIN.join(c.keywords))
    _opt(cd, "人名", JOIN.join(c.personal_names))
    _opt(cd, "摘要", c.abstract)
    _opt(cd, "分类号", c.class_number)
    _opt(cd, "文件编号", c.doc_number)
    missing.need(c.creators, "内容描述/责任者")
    _sub(cd, "责任者", JOIN.join(c.creators))
    missing.need(c.date, "内容描述/日期")
    _sub(cd, "日期", c.date or "")
    _opt(cd, "文种", c.genre)
    _opt(cd, "紧急程度", c.urgency)
    _opt(cd, "主送", JOIN.join(c.recipients))
    _opt(cd, "抄送", JOIN.join(c.copied_to))
    missing.need(c.classification, "内容描述/密级")
    _sub(cd, "密级", c.classification or "")
    _opt(cd, "保密期限", c.secrecy_period)

    form = _sub(ent, "形式特征")
    _sub(form, "文件组合类型", rec.form.composition)
    _opt(form, "页数", str(rec.form.page_count) if rec.form.page_count else None)
    _opt(form, "语种", rec.form.language)
    _opt(form, "稿本", rec.form.draft)

    st = rec.storage or StorageLocation()
    loc = _sub(ent, "存储位置")
    _opt(loc, "当前位置", st.current)
    missing.need(st.offline_ids, OFFLINE_ID)
    for offline_id in st.offline_ids:
        _sub(loc, "脱机载体编号", offline_id)
    for where in st.offline_locations:
        _sub(loc, "脱机载体存址", where)
    _opt(loc, "缩微号", st.microfilm_number)

    rights = rec.rights or Rights()
    rm = _sub(ent, "权限管理")
    _opt(rm, "知识产权说明", rights.ip_statement)
    for grant in rights.grants:
        g = _sub(rm, "授权")
        _sub(g, "授权对象", grant.grantee)
        _sub(g, "授权行为", grant.action)
    _opt(rm, "控制标识", rights.control)

    systems = dict.fromkeys(f.electronic.system_description for f in rec.files if f.electronic.system_description)
    for system in systems:
        _sub(ent, "信息系统描述", system)
    for note in rec.notes:
        _sub(ent, "附注", note)
    if OFFLINE_ID in missing.items:
        raise no_offline_copy(code, [m for m in missing.items if m != OFFLINE_ID])
    if missing.items:
        raise EepError(
            f"元数据缺少 DA/T 48 封装的必备项，无法导出 EEP（档号 {code}）：{'、'.join(missing.items)}",
            f"the metadata lacks elements DA/T 48 requires; cannot export an EEP for {code}: "
            f"{', '.join(missing.items)}",
        )
    _file_data(ent, meta, files, ids)


@dataclass
class _Ids:
    """ID prefix of a layer ("" for the original, "v2-" … for modification layers) and the data already
    encoded in earlier layers (SHA-256 → 编码数据ID), which a modification layer references instead of
    repeating (DA/T 48: empty 编码数据 with 引用编码数据ID)."""

    prefix: str
    earlier: dict[str, str]
    here: dict[str, str]


def _file_data(ent: etree._Element, meta: RecordMetadata, files: Mapping[str, bytes], ids: _Ids) -> None:
    by_name = {f.electronic.file_name: f for f in meta.record.files}
    groups: dict[str, list[str]] = {}
    for rel in sorted(files, key=lambda p: p.encode()):
        folder, _, name = rel.partition("/")
        if not name or "/" in name:
            raise EepError(f"档案包文件路径不适合封装：{rel}", f"package file path cannot be encapsulated: {rel}")
        groups.setdefault(folder, []).append(rel)
    order = [d for d in DOCUMENTS if d in groups] + sorted(d for d in groups if d not in DOCUMENTS)
    data_el = _sub(ent, "文件数据")
    n = 0
    for number, folder in enumerate(order, 1):
        role, title = DOCUMENTS.get(folder, ("附属文档", folder))
        doc = _sub(data_el, "文档")
        _sub(doc, "文档标识符", ids.prefix + folder)
        _sub(doc, "文档序号", str(number))
        _sub(doc, "文档主从声明", role)
        _sub(doc, "题名", title or meta.record.content.title)
        dd = _sub(doc, "文档数据")
        dd.set("文档数据ID", f"{ids.prefix}{folder}-data")
        for rel in groups[folder]:
            n += 1
            name = PurePosixPath(rel).name
            described = by_name.get(name)
            enc = _sub(dd, "编码")
            enc.set("编码ID", f"{ids.prefix}F{n:04d}")
            ea = _sub(enc, "电子属性")
            suffix = PurePosixPath(name).suffix
            fmt = described.electronic.format_info if described else None
            _opt(ea, "格式信息", fmt or FORMATS.get(suffix.lower()))
            _sub(ea, "计算机文件名", name)
            _sub(ea, "计算机文件大小", str(len(files[rel])))
            _opt(ea, "文档创建程序", described.electronic.creating_application if described else None)
            dg = described.digitisation if described else None
            if dg is not None and dg.resolution and dg.colour_mode:
                da = _sub(enc, "数字化属性")
                _opt(da, "数字化对象形态", dg.object_form)
                _sub(da, "扫描分辨率", dg.resolution)
                _sub(da, "扫描色彩模式", dg.colour_mode)
                _opt(da, "图像压缩方案", dg.compression)
            _sub(enc, "编码描述", ENCODING_DESCRIPTION)
            _sub(enc, "反编码关键字", suffix[1:])
            data_id = f"{ids.prefix}F{n:04d}-data"
            digest = hashlib.sha256(files[rel]).hexdigest()
            if digest in ids.earlier:  # unchanged since an earlier layer: reference, do not repeat
                payload = _sub(enc, "编码数据", "")
                payload.set("编码数据ID", data_id)
                payload.set("引用编码数据ID", ids.earlier[digest])
            else:
                payload = _sub(enc, "编码数据", base64.encodebytes(files[rel]).decode("ascii"))
                payload.set("编码数据ID", data_id)
                ids.here.setdefault(digest, data_id)


def _entities(content: etree._Element, code: str, meta: RecordMetadata, export_event: ProcessEvent) -> None:
    agents: dict[tuple[str, str | None], str] = {}
    events = [*meta.events, export_event]
    for e in events:
        agents.setdefault((e.agent, e.agent_type), f"A{len(agents) + 1}")
    file_id = meta.record.e_record_number or code
    block = _sub(content, "业务实体块")
    for number, e in enumerate(events, 1):
        be = _sub(block, "业务实体")
        _sub(be, "业务标识符", f"B{number}")
        _sub(be, "机构人员标识符", agents[(e.agent, e.agent_type)])
        _sub(be, "文件标识符", file_id)
        _sub(be, "业务状态", e.status)
        _sub(be, "业务行为", e.action)
        _sub(be, "行为时间", e.time.isoformat())
        _opt(be, "行为依据", e.basis)
        _opt(be, "行为描述", e.description)
    ab = _sub(content, "机构人员实体块")
    for (name, kind), agent_id in agents.items():
        ae = _sub(ab, "机构人员实体")
        _sub(ae, "机构人员标识符", agent_id)
        _opt(ae, "机构人员类型", kind)
        _sub(ae, "机构人员名称", name)


def _signature_fields(parent: etree._Element, rule: str, signer: Signer, when: dt.datetime) -> etree._Element:
    _sub(parent, "签名规则", rule)
    _sub(parent, "签名时间", when.isoformat())
    _opt(parent, "签名人", signer.name)
    result = _sub(parent, "签名结果", "")
    certs = _sub(parent, "证书块")
    _sub(certs, "证书", base64.b64encode(signer.certificate).decode("ascii"))
    _sub(parent, "签名算法标识", signer.algorithm_oid)
    return result


@dataclass(frozen=True)
class Layer:
    """One version of a record: its DA/T 46 metadata and its files (package path → bytes)."""

    metadata: RecordMetadata
    files: Mapping[str, bytes]


def _signed_object(
    code: str, layer: Layer, creator_unit: str, when: dt.datetime, ids: _Ids, inner: etree._Element | None
) -> etree._Element:
    """A 被签名对象: 原始型 with 封装内容, or 修改型 wrapping ``inner`` (a 原封装包) with 修订内容."""
    signed = etree.Element(_q("被签名对象"))
    signed.set("eep版本", EEP_VERSION)
    _sub(signed, "封装包类型", ORIGINAL if inner is None else MODIFIED)
    _sub(signed, "封装包类型描述", ORIGINAL_DESCRIPTION if inner is None else MODIFIED_DESCRIPTION)
    _sub(signed, "封装包创建时间", when.isoformat())
    _sub(signed, "封装包创建单位", creator_unit)
    if inner is None:
        content = _sub(signed, "封装内容")
    else:
        wrapper = _sub(signed, "修改封装内容")
        _sub(wrapper, "修改标识符", ids.prefix.rstrip("-"))
        wrapper.append(inner)
        content = _sub(wrapper, "修订内容")
    _file_entity(_sub(content, "文件实体块"), code, layer.metadata, layer.files, ids)
    export_event = ProcessEvent(
        action=Action.PACKAGED,
        time=when,
        agent=creator_unit,
        agent_type="单位",
        description="按 DA/T 48-2009 导出电子文件封装包（EEP）" + ("" if inner is None else "：修改封装"),
    )
    _entities(content, code, layer.metadata, export_event)
    return signed


def build_eep(
    *,
    code: str,
    metadata: RecordMetadata,
    files: Mapping[str, bytes],
    creator_unit: str,
    created: dt.datetime | None = None,
    signer: Signer | None = None,
    lock_signer: Signer | None = None,
    history: Sequence[Layer] = (),
) -> bytes:
    """The EEP document (UTF-8 bytes) for one record; signed when ``signer`` is given.

    ``files`` maps package paths (``content/…``, ``masters/…``, ``metadata/…``) to their bytes.
    The 锁定签名 is made by ``lock_signer`` (default: the same signer). With ``history`` (earlier
    versions, oldest first) the EEP is 修改型: the oldest version is the 原始型 core, each later one a
    modification layer that keeps the previous 被签名对象 (and its 电子签名块) whole in 原封装包 and
    references unchanged file data instead of repeating it.
    """
    when = (created or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    layers = [*history, Layer(metadata, files)]
    pending: list[tuple[etree._Element, etree._Element]] = []  # (被签名对象, its 签名结果), innermost first
    earlier: dict[str, str] = {}
    signed: etree._Element | None = None
    block: etree._Element | None = None
    for number, layer in enumerate(layers, 1):
        ids = _Ids(prefix="" if number == 1 else f"v{number}-", earlier=dict(earlier), here={})
        inner = None
        if signed is not None:
            inner = etree.Element(_q("原封装包"))
            inner.append(signed)
            if block is not None:
                inner.append(block)
        signed = _signed_object(code, layer, creator_unit, when, ids, inner)
        for digest, data_id in ids.here.items():
            earlier.setdefault(digest, data_id)
        block = None
        if signer is not None:
            block = etree.Element(_q("电子签名块"))
            sig = _sub(block, "电子签名")
            _sub(sig, "签名标识符", f"{ids.prefix}S1")
            pending.append((signed, _signature_fields(sig, SIGNATURE_RULE, signer, when)))
    assert signed is not None
    root = etree.Element(_q("电子文件封装包"), nsmap={None: NS})  # type: ignore[dict-item]
    _sub(root, "封装包格式描述", FORMAT_DESCRIPTION)
    _sub(root, "版本", EEP_VERSION)
    root.append(signed)
    lock_result = None
    if signer is not None and block is not None:
        root.append(block)
        lock = _sub(root, "锁定签名")
        _sub(lock, "被锁定签名标识符", _text(_find(block, "电子签名/签名标识符")))
        lock_result = _signature_fields(lock, LOCK_RULE, lock_signer or signer, when)
    etree.indent(root, space="  ")  # whitespace is fixed before anything is signed
    if signer is not None and lock_result is not None:
        for element, result in pending:  # inner layers first: an outer 被签名对象 contains their results
            result.text = base64.b64encode(signer.sign(canonical(element))).decode("ascii")
        locked = pending[-1][1].getparent()
        assert locked is not None
        lock_result.text = base64.b64encode((lock_signer or signer).sign(canonical(locked))).decode("ascii")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    problems = [str(e.message) for e in _schema_errors(data)]
    if problems:
        raise EepError(
            f"生成的 EEP 不符合 DA/T 48 模式：{problems[0]}",
            f"the EEP built is not schema-valid: {problems[0]}",
        )
    return data


def _layer(store: OcflStore, code: str, version: str) -> Layer:
    stored = store.logical_files(code, version)
    files = {rel: path.read_bytes() for rel, path in stored.items() if rel not in aip.TAG_FILES}
    if aip.METADATA_XML not in files:
        raise EepError(f"对象 {code} 的 {version} 没有元数据文件", f"object {code} {version} has no metadata file")
    return Layer(from_xml(files[aip.METADATA_XML]), files)


def _schema_errors(data: bytes) -> list[Any]:
    xsd = schema()
    if xsd.validate(etree.fromstring(data, _parser())):
        return []
    log: Any = xsd.error_log  # lxml-stubs do not declare _ErrorLog iterable
    return list(log)


def export_eep(
    store: OcflStore,
    code: object,
    out: str | os.PathLike[str],
    signer: Signer | None = None,
    *,
    lock_signer: Signer | None = None,
    version: str | None = None,
    creator_unit: str | None = None,
    modified: bool = False,
) -> Path:
    """Write the EEP of a stored record (head version unless ``version``) to ``out`` atomically.

    ``modified``: write a 修改型 EEP whose layers are the object's versions up to ``version``
    (a record with one version gives a 原始型 EEP either way).
    """
    code = str(code)
    versions = [v.version for v in store.versions(code)]
    chosen = version or versions[-1]
    if chosen not in versions:
        raise EepError(f"对象 {code} 没有版本 {chosen}", f"object {code} has no version {chosen}")
    earlier = versions[: versions.index(chosen)] if modified else []
    head = _layer(store, code, chosen)
    history = [_layer(store, code, v) for v in earlier]
    meta = head.metadata
    unit = creator_unit or meta.record.provenance.archive_name or meta.record.provenance.unit_name or "guidang"
    data = build_eep(
        code=code,
        metadata=meta,
        files=head.files,
        creator_unit=unit,
        signer=signer,
        lock_signer=lock_signer,
        history=history,
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    replace_file(target, data)
    return target


# -- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    zh: str
    en: str

    def message(self, language: str = "zh") -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    identifier: str  # 签名标识符, or "lock:<id>" for the 锁定签名
    algorithm: str  # OID
    signer: str
    valid: bool  # intact: the signature verifies with the certificate it carries
    trusted: bool = False  # that certificate is a trust anchor or issued by one ([signing] trusted_certificates)


@dataclass(frozen=True, slots=True)
class EepVerification:
    valid: bool
    signed: bool
    problems: tuple[Problem, ...]
    signatures: tuple[SignatureCheck, ...]
    warnings: tuple[Problem, ...] = ()  # e.g. intact, signer not trusted (untrusted_signer = "warn")


def _load(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise EepError(
            f"无法读取 EEP 文件：{source}（{exc.strerror or exc}）", f"cannot read EEP file {source}: {exc}"
        ) from exc


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _find(el: etree._Element, path: str) -> etree._Element | None:
    return el.find("/".join(_q(p) for p in path.split("/")))


def _findall(el: etree._Element, path: str) -> list[etree._Element]:
    return el.findall("/".join(_q(p) for p in path.split("/")))


def _check_signature(
    owner: etree._Element, data: bytes, ident: str, trusted: Sequence[bytes], problems: list[Problem]
) -> SignatureCheck:
    oid = _text(_find(owner, "签名算法标识"))
    signer = _text(_find(owner, "签名人"))
    try:
        result = base64.b64decode(_text(_find(owner, "签名结果")), validate=False)
        cert = base64.b64decode(_text(_find(owner, "证书块/证书")), validate=False)
    except ValueError:  # binascii.Error, or a character outside ASCII (found by fuzzing)
        problems.append(Problem(f"签名 {ident} 的签名结果或证书不是有效的 Base64", f"signature {ident}: bad Base64"))
        return SignatureCheck(ident, oid, signer, False)
    if oid not in ALGORITHM_NAMES:
        problems.append(
            Problem(
                f"签名 {ident} 的签名算法标识不受支持：{oid}",
                f"signature {ident}: unsupported algorithm {oid}",
            )
        )
        return SignatureCheck(ident, oid, signer, False)
    try:
        ok = verify(data, result, cert, oid)
    except SignatureError as exc:
        problems.append(Problem(f"签名 {ident}：{exc.zh}", f"signature {ident}: {exc.en}"))
        return SignatureCheck(ident, oid, signer, False)
    if not ok:
        problems.append(
            Problem(
                f"签名 {ident} 验证失败：被签名的内容已被改动，或签名不是用该证书的私钥生成的",
                f"signature {ident} does not verify: the signed content changed or the key does not match",
            )
        )
    return SignatureCheck(ident, oid, signer, ok, is_trusted(cert, trusted))


def _untrusted(check: SignatureCheck) -> Problem:
    return Problem(
        f"签名 {check.identifier} 完好，但签名人（{check.signer or '未署名'}）不受信任：其证书不在受信任证书之列",
        f"signature {check.identifier} is intact, signer not trusted ({check.signer or 'unnamed'}): "
        "its certificate is not among the trusted certificates",
    )


def verify_eep(
    source: str | os.PathLike[str] | bytes,
    *,
    trusted_certificates: Sequence[bytes] = (),
    require_signature: bool = True,
    untrusted_signer: str = "warn",
) -> EepVerification:
    """Check an EEP: schema, sizes of the embedded files, every 电子签名 and the 锁定签名.

    ``trusted_certificates`` (DER) are the trust anchors: an intact signature whose certificate is
    neither one of them nor issued by one is "intact, signer not trusted", a warning, or a failure
    when ``untrusted_signer`` is "fail"; never plainly valid. An unsigned EEP is invalid when
    ``require_signature`` (the default), since nothing then proves it unchanged.
    """
    data = _load(source)
    problems: list[Problem] = []
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return EepVerification(
            False,
            False,
            (Problem(f"EEP 不是格式良好的 XML：{exc}", f"EEP is not well-formed XML: {exc}"),),
            (),
        )
    for err in _schema_errors(data):
        problems.append(
            Problem(
                f"不符合 DA/T 48 模式（第 {err.line} 行）：{err.message}",
                f"not valid against the DA/T 48 schema (line {err.line}): {err.message}",
            )
        )
    data_by_id = {el.get("编码数据ID", ""): el for el in root.iter(_q("编码数据"))}
    for enc in root.iter(_q("编码")):
        _check_size(enc, data_by_id, problems)
    signed_obj = _find(root, "被签名对象")
    checks: list[SignatureCheck] = []
    sigs = _findall(root, "电子签名块/电子签名")
    if signed_obj is not None and sigs:
        content = canonical(signed_obj)
        by_id = {}
        for sig in sigs:
            ident = _text(_find(sig, "签名标识符"))
            by_id[ident] = sig
            checks.append(_check_signature(sig, content, ident, trusted_certificates, problems))
        for lock in _findall(root, "锁定签名"):
            target = _text(_find(lock, "被锁定签名标识符"))
            if target not in by_id:
                problems.append(
                    Problem(
                        f"锁定签名指向不存在的签名 {target}",
                        f"lock signature refers to unknown signature {target}",
                    )
                )
                continue
            checks.append(
                _check_signature(lock, canonical(by_id[target]), f"lock:{target}", trusted_certificates, problems)
            )
        # a 修改型 package keeps each earlier layer whole in 原封装包, with that layer's own signatures
        for layer in root.iter(_q("原封装包")):
            inner = _find(layer, "被签名对象")
            if inner is None:
                continue
            for sig in _findall(layer, "电子签名块/电子签名"):
                ident = _text(_find(sig, "签名标识符"))
                checks.append(_check_signature(sig, canonical(inner), ident, trusted_certificates, problems))
    elif require_signature:
        problems.append(Problem("EEP 未签名，无法证明未被改动", "the EEP is not signed; nothing proves it unchanged"))
    untrusted = [_untrusted(c) for c in checks if c.valid and not c.trusted]
    if untrusted_signer == "fail":
        problems += untrusted
    valid = not problems and all(c.valid for c in checks)
    warnings = tuple(untrusted) if untrusted_signer != "fail" else ()
    return EepVerification(valid, bool(sigs), tuple(problems), tuple(checks), warnings)


def _referenced(payload: etree._Element, data_by_id: Mapping[str, etree._Element]) -> etree._Element:
    """The 编码数据 holding the bytes: itself, or what its 引用编码数据ID chain leads to."""
    seen: set[str] = set()
    while (ref := payload.get("引用编码数据ID")) and not (payload.text or "").strip():
        if ref in seen or ref not in data_by_id:
            raise EepError(f"引用编码数据ID 无法解析：{ref}", f"引用编码数据ID cannot be resolved: {ref}")
        seen.add(ref)
        payload = data_by_id[ref]
    return payload


def _check_size(enc: etree._Element, data_by_id: Mapping[str, etree._Element], problems: list[Problem]) -> None:
    name = _text(_find(enc, "电子属性/计算机文件名"))
    found = _find(enc, "编码数据")
    if found is None:
        return
    try:
        payload = _referenced(found, data_by_id)
    except EepError as exc:
        problems.append(Problem(f"文件 {name}：{exc.zh}", f"file {name}: {exc.en}"))
        return
    try:
        size = len(base64.b64decode("".join((payload.text or "").split()), validate=True))
    except ValueError:  # binascii.Error, or a character outside ASCII (found by fuzzing)
        problems.append(
            Problem(f"文件 {name} 的编码数据不是有效的 Base64", f"file {name}: 编码数据 is not valid Base64")
        )
        return
    declared = _text(_find(enc, "电子属性/计算机文件大小"))
    if declared != str(size):
        problems.append(
            Problem(
                f"文件 {name} 的大小与计算机文件大小不符（记录 {declared}，实际 {size}）",
                f"file {name}: size {size} differs from 计算机文件大小 {declared}",
            )
        )


# -- import ----------------------------------------------------------------------------------------


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
    data = _load(source)
    check = verify_eep(data, trusted_certificates=trusted_certificates, require_signature=require_signature,
                       untrusted_signer=untrusted_signer)
    if not check.valid:
        raise EepError(
            "EEP 验证失败：" + "；".join(p.zh for p in check.problems[:5]),
            "EEP verification failed: " + "; ".join(p.en for p in check.problems[:5]),
        )
    root = etree.fromstring(data, _parser())
    signed = _find(root, "被签名对象")
    assert signed is not None  # schema-valid
    # the current description: 封装内容 of an original package, 修订内容 of the outer layer of a modified one
    content = _find(signed, "封装内容")
    if content is None:
        content = _find(signed, "修改封装内容/修订内容")
    entity = _find(content, "文件实体块/文件实体") if content is not None else None
    assert content is not None and entity is not None  # schema-valid
    data_by_id = {el.get("编码数据ID", ""): el for el in root.iter(_q("编码数据"))}
    files: dict[str, bytes] = {}
    for doc in _findall(entity, "文件数据/文档"):
        folder = _LAYER_PREFIX.sub("", _text(_find(doc, "文档标识符")))
        for enc in doc.iter(_q("编码")):
            name = _text(_find(enc, "电子属性/计算机文件名"))
            if not _SAFE_NAME.match(name) or name in (".", "..") or not _SAFE_NAME.match(folder):
                raise EepError(
                    f"EEP 中的文件名不安全：{folder}/{name}", f"unsafe file name in the EEP: {folder}/{name}"
                )
            if f"{folder}/{name}" in files:
                raise EepError(f"EEP 中的文件重名：{folder}/{name}", f"duplicate file name in the EEP: {folder}/{name}")
            found = _find(enc, "编码数据")
            payload = _referenced(found, data_by_id) if found is not None else None
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
    dh = _find(entity, "档号")
    text = (dh.text or "").strip() if dh is not None else ""
    return text or _text(_find(entity, "电子文件号"))


def _split(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(JOIN) if p.strip())


def _metadata_from_entity(content: etree._Element, entity: etree._Element) -> RecordMetadata:
    """DA/T 46 metadata from the EEP's own elements (for EEPs without an embedded guidang XML)."""

    def t(path: str) -> str | None:
        return _text(_find(entity, path)) or None

    def as_int(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None

    date = t("内容描述/日期")
    computer_files = []
    for doc in _findall(entity, "文件数据/文档"):
        role = _text(_find(doc, "文档主从声明")) or None
        for enc in doc.iter(_q("编码")):
            dg = _find(enc, "数字化属性")
            computer_files.append(
                ComputerFile(
                    role=role,  # type: ignore[arg-type]
                    electronic=ElectronicAttributes(
                        format_info=_text(_find(enc, "电子属性/格式信息")) or None,
                        file_name=_text(_find(enc, "电子属性/计算机文件名")),
                        file_size=as_int(_text(_find(enc, "电子属性/计算机文件大小"))) or 0,
                        creating_application=_text(_find(enc, "电子属性/文档创建程序")) or None,
                    ),
                    digitisation=None
                    if dg is None
                    else DigitisationAttributes(
                        object_form=_text(_find(dg, "数字化对象形态")) or None,
                        resolution=_text(_find(dg, "扫描分辨率")) or None,
                        colour_mode=_text(_find(dg, "扫描色彩模式")) or None,  # type: ignore[arg-type]
                        compression=_text(_find(dg, "图像压缩方案")) or None,
                    ),
                )
            )
    agents = {
        _text(_find(a, "机构人员标识符")): (
            _text(_find(a, "机构人员名称")),
            _text(_find(a, "机构人员类型")) or None,
        )
        for a in _findall(content, "机构人员实体块/机构人员实体")
    }
    events = []
    for be in _findall(content, "业务实体块/业务实体"):
        name, kind = agents.get(_text(_find(be, "机构人员标识符")), ("", None))
        events.append(
            ProcessEvent(
                status=_text(_find(be, "业务状态")),  # type: ignore[arg-type]
                action=_text(_find(be, "业务行为")),
                time=dt.datetime.fromisoformat(_text(_find(be, "行为时间"))),
                agent=name,
                agent_type=kind,  # type: ignore[arg-type]
                basis=_text(_find(be, "行为依据")) or None,
                description=_text(_find(be, "行为描述")) or None,
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
                    subject_terms=tuple(_text(s) for s in _findall(entity, "内容描述/主题词")),
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
                    offline_ids=tuple(_text(e) for e in _findall(entity, "存储位置/脱机载体编号")),
                    offline_locations=tuple(_text(e) for e in _findall(entity, "存储位置/脱机载体存址")),
                    microfilm_number=t("存储位置/缩微号"),
                ),
                rights=Rights(
                    ip_statement=t("权限管理/知识产权说明"),
                    grants=tuple(
                        Grant(grantee=_text(_find(g, "授权对象")), action=_text(_find(g, "授权行为")))
                        for g in _findall(entity, "权限管理/授权")
                    ),
                    control=t("权限管理/控制标识"),
                ),
                notes=tuple(_text(e) for e in _findall(entity, "附注")),
            ),
            events=tuple(events),
        )
    except (ValidationError, ValueError) as exc:
        raise EepError(f"EEP 中的元数据无法读取：{exc}", f"the EEP's metadata cannot be read: {exc}") from exc


def write_package(imported: ImportedEep, dest: str | os.PathLike[str]) -> aip.Package:
    """Rebuild an archival package from an imported guidang EEP (fresh manifests; files byte for byte)."""
    code = imported.code
    pdf, text = f"{aip.CONTENT_DIR}/{code}.pdf", f"{aip.CONTENT_DIR}/{code}.txt"
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
        Path(tmp, "x.pdf").write_bytes(imported.files[pdf])
        pkg = aip.build_package(
            dest,
            code=code,
            pdf=Path(tmp, "x.pdf"),
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
