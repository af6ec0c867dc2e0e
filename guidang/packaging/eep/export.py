"""Writing an EEP: the 原始型 or 修改型 package of a stored record, signed when a signer is given."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lxml import etree

from guidang.fsutil import replace_file
from guidang.packaging import aip
from guidang.packaging.eep.document import (
    DOCUMENTS,
    EEP_VERSION,
    ENCODING_DESCRIPTION,
    FORMAT_DESCRIPTION,
    FORMATS,
    JOIN,
    LOCK_RULE,
    MODIFIED,
    MODIFIED_DESCRIPTION,
    NS,
    ORIGINAL,
    ORIGINAL_DESCRIPTION,
    SIGNATURE_RULE,
    EepError,
    canonical,
    find,
    opt,
    q,
    schema_errors,
    sub,
    text_of,
)
from guidang.packaging.metadata import Action, ArchivalCodeMeta, ProcessEvent, RecordMetadata, Rights, StorageLocation
from guidang.packaging.metadata_xml import from_xml
from guidang.packaging.signing import Signer

if TYPE_CHECKING:
    from guidang.storage.ocfl_store import OcflStore

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
    ent = sub(parent, "文件实体")
    sub(ent, "聚合层次", "文件")
    if rec.aggregation != "文件":
        missing.items.append("聚合层次=文件 (DA/T 48 封装的是文件级)")
    src = sub(ent, "来源")
    opt(src, "档案馆名称", rec.provenance.archive_name)
    opt(src, "档案馆代码", rec.provenance.archive_code)
    opt(src, "全宗名称", rec.provenance.fonds_name)
    missing.need(rec.provenance.unit_name, "来源/立档单位名称")
    sub(src, "立档单位名称", rec.provenance.unit_name or "")
    sub(ent, "电子文件号", rec.e_record_number or code)

    ac = rec.archival_code or ArchivalCodeMeta(code=code)
    dh = sub(ent, "档号", code)  # mixed content: the whole 档号 as text, then its parts
    opt(dh, "全宗号", ac.fonds_code)
    opt(dh, "目录号", ac.catalogue_number)
    missing.need(ac.year, "档号/年度")
    sub(dh, "年度", str(ac.year or ""))
    missing.need(ac.retention, "档号/保管期限")
    sub(dh, "保管期限", ac.retention or "")
    opt(dh, "机构或问题", ac.org)
    opt(dh, "类别号", ac.class_code)
    opt(dh, "室编案卷号", ac.volume_number)
    opt(dh, "馆编案卷号", ac.archive_volume_number)
    if ac.item_number is None and ac.archive_item_number is None:
        missing.items.append("档号/室编件号或馆编件号")
    opt(dh, "室编件号", str(ac.item_number) if ac.item_number else None)
    opt(dh, "馆编件号", str(ac.archive_item_number) if ac.archive_item_number else None)
    opt(dh, "页号", ac.page_number)

    c = rec.content
    cd = sub(ent, "内容描述")
    sub(cd, "题名", c.title)
    opt(cd, "并列题名", c.parallel_title)
    opt(cd, "副题名", c.subtitle)
    opt(cd, "说明题名文字", c.title_note)
    for term in c.subject_terms:
        sub(cd, "主题词", term)
    opt(cd, "关键词", JOIN.join(c.keywords))
    opt(cd, "人名", JOIN.join(c.personal_names))
    opt(cd, "摘要", c.abstract)
    opt(cd, "分类号", c.class_number)
    opt(cd, "文件编号", c.doc_number)
    missing.need(c.creators, "内容描述/责任者")
    sub(cd, "责任者", JOIN.join(c.creators))
    missing.need(c.date, "内容描述/日期")
    sub(cd, "日期", c.date or "")
    opt(cd, "文种", c.genre)
    opt(cd, "紧急程度", c.urgency)
    opt(cd, "主送", JOIN.join(c.recipients))
    opt(cd, "抄送", JOIN.join(c.copied_to))
    missing.need(c.classification, "内容描述/密级")
    sub(cd, "密级", c.classification or "")
    opt(cd, "保密期限", c.secrecy_period)

    form = sub(ent, "形式特征")
    sub(form, "文件组合类型", rec.form.composition)
    opt(form, "页数", str(rec.form.page_count) if rec.form.page_count else None)
    opt(form, "语种", rec.form.language)
    opt(form, "稿本", rec.form.draft)

    st = rec.storage or StorageLocation()
    loc = sub(ent, "存储位置")
    opt(loc, "当前位置", st.current)
    missing.need(st.offline_ids, OFFLINE_ID)
    for offline_id in st.offline_ids:
        sub(loc, "脱机载体编号", offline_id)
    for where in st.offline_locations:
        sub(loc, "脱机载体存址", where)
    opt(loc, "缩微号", st.microfilm_number)

    rights = rec.rights or Rights()
    rm = sub(ent, "权限管理")
    opt(rm, "知识产权说明", rights.ip_statement)
    for grant in rights.grants:
        g = sub(rm, "授权")
        sub(g, "授权对象", grant.grantee)
        sub(g, "授权行为", grant.action)
    opt(rm, "控制标识", rights.control)

    systems = dict.fromkeys(f.electronic.system_description for f in rec.files if f.electronic.system_description)
    for system in systems:
        sub(ent, "信息系统描述", system)
    for note in rec.notes:
        sub(ent, "附注", note)
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
    data_el = sub(ent, "文件数据")
    n = 0
    for number, folder in enumerate(order, 1):
        role, title = DOCUMENTS.get(folder, ("附属文档", folder))
        doc = sub(data_el, "文档")
        sub(doc, "文档标识符", ids.prefix + folder)
        sub(doc, "文档序号", str(number))
        sub(doc, "文档主从声明", role)
        sub(doc, "题名", title or meta.record.content.title)
        dd = sub(doc, "文档数据")
        dd.set("文档数据ID", f"{ids.prefix}{folder}-data")
        for rel in groups[folder]:
            n += 1
            name = PurePosixPath(rel).name
            described = by_name.get(name)
            enc = sub(dd, "编码")
            enc.set("编码ID", f"{ids.prefix}F{n:04d}")
            ea = sub(enc, "电子属性")
            suffix = PurePosixPath(name).suffix
            fmt = described.electronic.format_info if described else None
            opt(ea, "格式信息", fmt or FORMATS.get(suffix.lower()))
            sub(ea, "计算机文件名", name)
            sub(ea, "计算机文件大小", str(len(files[rel])))
            opt(ea, "文档创建程序", described.electronic.creating_application if described else None)
            dg = described.digitisation if described else None
            if dg is not None and dg.resolution and dg.colour_mode:
                da = sub(enc, "数字化属性")
                opt(da, "数字化对象形态", dg.object_form)
                sub(da, "扫描分辨率", dg.resolution)
                sub(da, "扫描色彩模式", dg.colour_mode)
                opt(da, "图像压缩方案", dg.compression)
            sub(enc, "编码描述", ENCODING_DESCRIPTION)
            sub(enc, "反编码关键字", suffix[1:])
            data_id = f"{ids.prefix}F{n:04d}-data"
            digest = hashlib.sha256(files[rel]).hexdigest()
            if digest in ids.earlier:  # unchanged since an earlier layer: reference, do not repeat
                payload = sub(enc, "编码数据", "")
                payload.set("编码数据ID", data_id)
                payload.set("引用编码数据ID", ids.earlier[digest])
            else:
                payload = sub(enc, "编码数据", base64.encodebytes(files[rel]).decode("ascii"))
                payload.set("编码数据ID", data_id)
                ids.here.setdefault(digest, data_id)


def _entities(content: etree._Element, code: str, meta: RecordMetadata, export_event: ProcessEvent) -> None:
    agents: dict[tuple[str, str | None], str] = {}
    events = [*meta.events, export_event]
    for e in events:
        agents.setdefault((e.agent, e.agent_type), f"A{len(agents) + 1}")
    file_id = meta.record.e_record_number or code
    block = sub(content, "业务实体块")
    for number, e in enumerate(events, 1):
        be = sub(block, "业务实体")
        sub(be, "业务标识符", f"B{number}")
        sub(be, "机构人员标识符", agents[(e.agent, e.agent_type)])
        sub(be, "文件标识符", file_id)
        sub(be, "业务状态", e.status)
        sub(be, "业务行为", e.action)
        sub(be, "行为时间", e.time.isoformat())
        opt(be, "行为依据", e.basis)
        opt(be, "行为描述", e.description)
    ab = sub(content, "机构人员实体块")
    for (name, kind), agent_id in agents.items():
        ae = sub(ab, "机构人员实体")
        sub(ae, "机构人员标识符", agent_id)
        opt(ae, "机构人员类型", kind)
        sub(ae, "机构人员名称", name)


def _signature_fields(parent: etree._Element, rule: str, signer: Signer, when: dt.datetime) -> etree._Element:
    sub(parent, "签名规则", rule)
    sub(parent, "签名时间", when.isoformat())
    opt(parent, "签名人", signer.name)
    result = sub(parent, "签名结果", "")
    certs = sub(parent, "证书块")
    sub(certs, "证书", base64.b64encode(signer.certificate).decode("ascii"))
    sub(parent, "签名算法标识", signer.algorithm_oid)
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
    signed = etree.Element(q("被签名对象"))
    signed.set("eep版本", EEP_VERSION)
    sub(signed, "封装包类型", ORIGINAL if inner is None else MODIFIED)
    sub(signed, "封装包类型描述", ORIGINAL_DESCRIPTION if inner is None else MODIFIED_DESCRIPTION)
    sub(signed, "封装包创建时间", when.isoformat())
    sub(signed, "封装包创建单位", creator_unit)
    if inner is None:
        content = sub(signed, "封装内容")
    else:
        wrapper = sub(signed, "修改封装内容")
        sub(wrapper, "修改标识符", ids.prefix.rstrip("-"))
        wrapper.append(inner)
        content = sub(wrapper, "修订内容")
    _file_entity(sub(content, "文件实体块"), code, layer.metadata, layer.files, ids)
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
            inner = etree.Element(q("原封装包"))
            inner.append(signed)
            if block is not None:
                inner.append(block)
        signed = _signed_object(code, layer, creator_unit, when, ids, inner)
        for digest, data_id in ids.here.items():
            earlier.setdefault(digest, data_id)
        block = None
        if signer is not None:
            block = etree.Element(q("电子签名块"))
            sig = sub(block, "电子签名")
            sub(sig, "签名标识符", f"{ids.prefix}S1")
            pending.append((signed, _signature_fields(sig, SIGNATURE_RULE, signer, when)))
    assert signed is not None
    root = etree.Element(q("电子文件封装包"), nsmap={None: NS})  # type: ignore[dict-item]
    sub(root, "封装包格式描述", FORMAT_DESCRIPTION)
    sub(root, "版本", EEP_VERSION)
    root.append(signed)
    lock_result = None
    if signer is not None and block is not None:
        root.append(block)
        lock = sub(root, "锁定签名")
        sub(lock, "被锁定签名标识符", text_of(find(block, "电子签名/签名标识符")))
        lock_result = _signature_fields(lock, LOCK_RULE, lock_signer or signer, when)
    etree.indent(root, space="  ")  # whitespace is fixed before anything is signed
    if signer is not None and lock_result is not None:
        for element, result in pending:  # inner layers first: an outer 被签名对象 contains their results
            result.text = base64.b64encode(signer.sign(canonical(element))).decode("ascii")
        locked = pending[-1][1].getparent()
        assert locked is not None
        lock_result.text = base64.b64encode((lock_signer or signer).sign(canonical(locked))).decode("ascii")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    problems = [str(e.message) for e in schema_errors(data)]
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
