"""The XML policy: no DOCTYPE from outside, no entity, no network, bounded sizes; OOXML part checks."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from guidang import safexml

LIMITS = safexml.OoxmlLimits(max_members=50, max_part_bytes=1 << 20, max_total_bytes=4 << 20, max_ratio=50)


@pytest.mark.parametrize(("doc", "reason"), [
    (b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>', "doctype"),
    (b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY l "l"><!ENTITY l2 "&l;&l;">]><a>&l2;</a>', "doctype"),
    ("<!DOCTYPE a><a/>".encode("utf-16"), "doctype"),
    (b"<a><b></a>", "syntax"),
    (b"<a>" + b"x" * 5000 + b"</a>", "too_large"),
])
def test_refused_documents(doc: bytes, reason: str) -> None:
    with pytest.raises(safexml.UnsafeXmlError) as info:
        safexml.refuse_doctype(io.BytesIO(doc), limit=4096)
    assert info.value.reason == reason


def test_plain_documents_pass() -> None:
    safexml.refuse_doctype(io.BytesIO(b'<?xml version="1.0" encoding="UTF-8"?><a x="1"><b>&amp;</b></a>'))
    safexml.refuse_doctype(io.BytesIO("<a>中文</a>".encode("utf-16")))


def test_the_parser_neither_expands_entities_nor_reads_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET", "utf-8")
    doc = f'<!DOCTYPE a [<!ENTITY e SYSTEM "file://{secret}"><!ENTITY i "inner">]><a>&e;&i;</a>'.encode()
    root = etree.fromstring(doc, safexml.parser())
    assert "SECRET" not in etree.tostring(root).decode() and "inner" not in (root.text or "")


def ooxml(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(("parts", "reason"), [
    ({"xl/workbook.xml": b"<!DOCTYPE w [<!ENTITY x 'y'>]><w>&x;</w>"}, "doctype"),
    ({"xl/workbook.xml": b"<w>"}, "syntax"),
    ({f"p{n}.xml": b"<a/>" for n in range(60)}, "members"),
    ({"xl/big.xml": b"<a>" + b" " * (2 << 20) + b"</a>"}, "too_large"),
    ({"xl/bomb.bin": b"\0" * ((1 << 20) - 1) + b"\0"}, "too_large"),
])
def test_ooxml_refusals(tmp_path: Path, parts: dict[str, bytes], reason: str) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(ooxml(parts))
    refused = safexml.check_ooxml(path, safexml.OoxmlLimits(50, 1 << 20, 4 << 20, 50) if reason != "too_large"
                                  else safexml.OoxmlLimits(50, (1 << 20) - 1, 4 << 20, 50))
    assert refused is not None and refused.reason == reason


def test_ooxml_compression_ratio(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(ooxml({"xl/media/zeros.bin": b"\0" * (3 << 20)}))
    refused = safexml.check_ooxml(path, safexml.OoxmlLimits(50, 8 << 20, 16 << 20, 50))
    assert refused is not None and refused.reason == "ratio"
    path.write_bytes(ooxml({"xl/workbook.xml": b"<w/>"}))
    assert safexml.check_ooxml(path, LIMITS) is None
    path.write_bytes(b"PK\x03\x04 not a zip")
    refused = safexml.check_ooxml(path, LIMITS)
    assert refused is not None and refused.reason == "not_zip"
