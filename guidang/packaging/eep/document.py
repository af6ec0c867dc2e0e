"""The DA/T 48 EEP document: its namespace, fixed texts, schema, parser and element helpers.

Shared by :mod:`.export` (writing), :mod:`.verify` (checking) and :mod:`.reader` (importing).
"""

from __future__ import annotations

import os
from functools import cache
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any

from lxml import etree

from guidang import safexml
from guidang.errors import InputError
from guidang.packaging import aip

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


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, q(name))
    if text is not None:
        el.text = text
    return el


def opt(parent: etree._Element, name: str, text: str | None) -> None:
    if text:
        sub(parent, name, text)


def canonical(element: etree._Element) -> bytes:
    """Exclusive C14N 1.0 without comments: the bytes that are signed."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


@cache
def schema() -> etree.XMLSchema:
    """The project's DA/T 48 schema (guidang/schemas/eep-dat48.xsd)."""
    data = resource_files("guidang.schemas").joinpath(XSD_RESOURCE).read_bytes()
    return etree.XMLSchema(etree.fromstring(data))


def xml_parser() -> etree.XMLParser:
    # the XML policy (guidang.safexml); huge_tree for Base64 text nodes above 10 MB
    return safexml.parser(huge=True)


def schema_errors(data: bytes) -> list[Any]:
    xsd = schema()
    if xsd.validate(etree.fromstring(data, xml_parser())):
        return []
    log: Any = xsd.error_log  # lxml-stubs do not declare _ErrorLog iterable
    return list(log)


def load(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise EepError(
            f"无法读取 EEP 文件：{source}（{exc.strerror or exc}）", f"cannot read EEP file {source}: {exc}"
        ) from exc


def text_of(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def find(el: etree._Element, path: str) -> etree._Element | None:
    return el.find("/".join(q(p) for p in path.split("/")))


def findall(el: etree._Element, path: str) -> list[etree._Element]:
    return el.findall("/".join(q(p) for p in path.split("/")))
