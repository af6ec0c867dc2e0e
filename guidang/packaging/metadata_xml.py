"""Metadata XML: :class:`RecordMetadata` ⇄ UTF-8 XML with DA/T 46 element names, checked by the project XSD.

The document is in the namespace ``urn:guidang:metadata:1`` (default namespace, no prefix), root
``电子文件元数据``; the XSD ships as ``guidang/schemas/guidang-metadata.xsd``. Writer and reader are
generic over the model (element names come from the :class:`~guidang.packaging.metadata.El` of each
field), so a field added to the model needs only its XSD declaration.

Serialisation: dates and times as ISO 8601 (GB/T 7408), 签名结果/证书 as Base64 (as DA/T 48), numbers
in decimal. An absent optional field is an absent element; an empty string is an empty element.
Characters XML 1.0 cannot carry are refused by the model (a clear error naming the field), never
dropped or replaced.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from functools import cache
from importlib.resources import files
from typing import Any

from lxml import etree
from pydantic import BaseModel, ValidationError

from guidang import safexml
from guidang.errors import InputError
from guidang.packaging.metadata import (
    NAMESPACE,
    ROOT_ELEMENT,
    El,
    RecordMetadata,
    element_of,
    explain,
    field_shape,
)

XSD_RESOURCE = "guidang-metadata.xsd"


class MetadataXmlError(InputError):
    """Metadata XML that cannot be read: not well-formed, not valid against the XSD, or not a record."""

    code = "METADATA_XML"

    def __init__(self, zh: str, en: str, problems: list[str] | None = None) -> None:
        super().__init__(zh, en)
        self.problems = problems or []


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):  # not used by the model today; keep XSD boolean form if it ever is
        return "true" if value else "false"
    return str(value)


@cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, El, bool, Any], ...]:
    """(attribute, element, repeated, item type) of each XML-mapped field, in document order."""
    out = []
    for attr, info in model.model_fields.items():
        el = element_of(info.metadata)
        if el is not None:
            repeated, inner = field_shape(info.annotation)
            out.append((attr, el, repeated, inner))
    return tuple(out)


def _fill(parent: etree._Element, model: BaseModel) -> None:
    for attr, el, _, _ in _fields(type(model)):
        value = getattr(model, attr)
        if value is None:
            continue
        if el.attribute:
            parent.set(el.zh, _text(value))
            continue
        items = value if isinstance(value, tuple) else (value,)
        if not items:
            continue
        target = etree.SubElement(parent, _q(el.wrapper)) if el.wrapper else parent
        for item in items:
            child = etree.SubElement(target, _q(el.zh))
            if isinstance(item, BaseModel):
                _fill(child, item)
            else:
                child.text = _text(item)


def to_xml(meta: RecordMetadata) -> bytes:
    """The metadata as an indented UTF-8 XML document (with XML declaration)."""
    root = etree.Element(_q(ROOT_ELEMENT), nsmap={None: NAMESPACE})  # type: ignore[dict-item]
    _fill(root, meta)
    body = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


@cache
def schema() -> etree.XMLSchema:
    """The project XSD, loaded from package data."""
    data = files("guidang.schemas").joinpath(XSD_RESOURCE).read_bytes()
    return etree.XMLSchema(etree.fromstring(data, _parser()))


def _parser() -> etree.XMLParser:
    # the XML policy (guidang.safexml): metadata may come from vendors
    return safexml.parser()


def _parse(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise MetadataXmlError(
            f"元数据 XML 格式不正确（第 {exc.lineno} 行）：{exc.msg}",
            f"metadata XML is not well-formed (line {exc.lineno}): {exc.msg}",
            [str(exc)],
        ) from None
    if root.getroottree().docinfo.doctype:  # type: ignore[union-attr]
        raise MetadataXmlError(
            "元数据 XML 不得含 DOCTYPE 声明（实体与 DTD 不予处理）",
            "metadata XML must not carry a DOCTYPE (entities and DTDs are not processed)",
            ["DOCTYPE present"],
        )
    return root


def validate_xml(data: bytes) -> list[str]:
    """Problems against the project XSD ("line N: message"); empty when valid."""
    try:
        root = _parse(data)
    except MetadataXmlError as exc:
        return exc.problems
    return _schema_problems(root)


def _schema_problems(root: etree._Element) -> list[str]:
    xsd = schema()
    if xsd.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]  # type: ignore[attr-defined]


def from_xml(data: bytes) -> RecordMetadata:
    """Read metadata XML written by :func:`to_xml` (or by anyone else, if it is valid against the XSD)."""
    root = _parse(data)
    problems = _schema_problems(root)
    if problems:
        raise MetadataXmlError(
            f"元数据 XML 不符合 guidang 元数据模式（{len(problems)} 处）：{problems[0]}",
            f"metadata XML is not valid against the guidang metadata schema ({len(problems)} problems): {problems[0]}",
            problems,
        )
    try:
        return RecordMetadata.model_validate(_read(root, RecordMetadata))
    except ValidationError as exc:
        raise MetadataXmlError(
            f"元数据 XML 内容无效：{explain(exc, 'zh')}",
            f"metadata XML has invalid values: {explain(exc, 'en')}",
        ) from exc


def _read(node: etree._Element, model: type[BaseModel]) -> dict[str, Any]:
    by_name: dict[str, tuple[str, Any, bool]] = {}
    wrappers: dict[str, str] = {}
    out: dict[str, Any] = {}
    for attr, el, repeated, inner in _fields(model):
        if el.attribute:
            attr_value = node.get(el.zh)
            if attr_value is not None:
                out[attr] = attr_value
            continue
        by_name[el.zh] = (attr, inner, repeated)
        if el.wrapper:
            wrappers[el.wrapper] = el.zh
        if repeated:
            out[attr] = []
    children: list[etree._Element] = []
    for child in node:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        local = etree.QName(child).localname
        if local in wrappers:
            children.extend(c for c in child if isinstance(c.tag, str))
        else:
            children.append(child)
    for child in children:
        local = etree.QName(child).localname
        attr, inner, repeated = by_name[local]  # the XSD admits no other element
        value: Any
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            value = _read(child, inner)
        elif inner is bytes:
            try:
                value = base64.b64decode("".join((child.text or "").split()), validate=True)
            except binascii.Error as exc:
                raise MetadataXmlError(
                    f"元素 {local} 的 Base64 内容无效：{exc}", f"element {local}: invalid Base64: {exc}"
                ) from None
        else:
            value = child.text or ""
        if repeated:
            out[attr].append(value)
        else:
            out[attr] = value
    return out
