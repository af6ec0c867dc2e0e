"""XMP properties against the predefined schemas and the packet's own extension schemas (pdfa_xmp).

Packets are written here, one rule broken at a time; the veraPDF corpus figures are in test_pdf_validation.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pikepdf
import pikepdf.pdfa as pdfa
import pytest
from PIL import Image

from guidang.validators.pdf_checks import pdfa_approved
from guidang.validators.pdfa_xmp import (
    SIMPLE_TYPES,
    _known_type,
    _tables,
    as_utf8,
    check_properties,
    packet_encoding,
    predefined,
)

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stRef": "http://ns.adobe.com/xap/1.0/sType/ResourceRef#",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "gd": "urn:example:guidang:1.0/",
}


def packet(body: str, part: int = 2, extra_ns: str = "") -> bytes:
    decl = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items() if p != "rdf")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{NS["rdf"]}">'
        f'<rdf:Description rdf:about="" {decl} {extra_ns} pdfaid:part="{part}" pdfaid:conformance="B">'
        f"{body}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def extension(value_type: str = "Text", prefix: str = "pdfaSchema", category: str = "internal") -> str:
    return (
        "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        f"<{prefix}:schema>guidang test schema</{prefix}:schema>"
        f"<{prefix}:namespaceURI>{NS['gd']}</{prefix}:namespaceURI>"
        f"<{prefix}:prefix>gd</{prefix}:prefix>"
        f"<{prefix}:property><rdf:Seq><rdf:li rdf:parseType='Resource'>"
        "<pdfaProperty:name>Dangbao</pdfaProperty:name>"
        f"<pdfaProperty:valueType>{value_type}</pdfaProperty:valueType>"
        f"<pdfaProperty:category>{category}</pdfaProperty:category>"
        "<pdfaProperty:description>档号</pdfaProperty:description>"
        f"</rdf:li></rdf:Seq></{prefix}:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas>"
    )


def rules(raw: bytes, part: int = 2) -> list[str]:
    found = check_properties(raw, part)
    assert found is not None
    return [f"{i.rule} {i.message}" for i in found]


def test_predefined_schemas_of_each_edition() -> None:
    # exif:GPSLatitude is in both editions, as a GPSCoordinate
    assert rules(packet("<exif:GPSLatitude>48,51.5N</exif:GPSLatitude>")) == []
    assert rules(packet("<exif:GPSLatitude>48,51.5N</exif:GPSLatitude>", part=1), part=1) == []
    bad = rules(packet("<exif:GPSLatitude>north</exif:GPSLatitude>"))
    assert len(bad) == 1 and bad[0].startswith("6.6.2.3.1-2 ") and "GPSCoordinate" in bad[0]
    # exif:ColorSpace is a closed choice whose values differ between the 2004 and 2005 editions
    assert rules(packet("<exif:ColorSpace>65535</exif:ColorSpace>")) == []
    assert rules(packet("<exif:ColorSpace>65535</exif:ColorSpace>", part=1), part=1) != []
    # a structure: its fields must be fields of that structure, in its namespace
    ref = "<xmpMM:DerivedFrom rdf:parseType='Resource'><stRef:documentID>uuid:1</stRef:documentID></xmpMM:DerivedFrom>"
    assert rules(packet(ref)) == []
    wrong = ref.replace("stRef:documentID", "stRef:title")
    assert any("stRef:title" in r for r in rules(packet(wrong)))
    # a property no schema defines
    unknown = rules(packet("<exif:Mood>calm</exif:Mood>"))
    assert len(unknown) == 1 and unknown[0].startswith("6.6.2.3.1-1 ")


def test_extension_schema_makes_a_property_allowed() -> None:
    prop = "<gd:Dangbao>Z109-WS·2023-Y-BGS-0001</gd:Dangbao>"
    assert rules(packet(extension() + prop)) == []
    assert [r.split()[0] for r in rules(packet(prop))] == ["6.6.2.3.1-1"]  # not described
    assert [r.split()[0] for r in rules(packet(extension("Integer") + prop))] == ["6.6.2.3.1-2"]  # wrong type
    assert rules(packet(extension("Blob") + prop))[0].startswith("6.6.2.3.3-1")  # undefined type
    assert rules(packet(extension(category="sometimes") + prop))[0].startswith("6.6.2.3.3-1")
    renamed = packet(extension(prefix="mySchema") + prop, extra_ns=f'xmlns:mySchema="{NS["pdfaSchema"]}"')
    assert any("prefix" in r for r in rules(renamed))


def test_packet_encodings() -> None:
    raw = packet("")
    for enc in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        other = raw.decode().encode(enc)
        assert packet_encoding(other) == enc
        assert as_utf8(other) == raw
    assert packet_encoding(raw) == "utf-8"
    assert as_utf8(b"\xff\xfe<\x00\x00\xd8") is None  # a lone surrogate: not UTF-16


def test_tables_are_complete() -> None:
    """Every value type the tables name is one this module can check (rules as data, each one reachable)."""
    t = _tables()
    for part in (1, 2):
        schemas = predefined(part)
        for uri, props in schemas.properties.items():
            assert uri in t["namespaces"].values()
            for name, vtype in props.items():
                if vtype.startswith(("choice ", "seqchoice ")):
                    re.compile(vtype.split(" ", 1)[1])
                    continue
                assert vtype == "Seq Point" or _known_type(vtype, schemas, set()), (part, name, vtype)
        for sname, st in schemas.structs.items():
            for fname, ftype in st.fields.items():
                ok = ftype.startswith("choice ") or _known_type(ftype, schemas, set())
                assert ok, (part, sname, fname, ftype)
    assert "Point" in SIMPLE_TYPES


def _pdfa_with_xmp(tmp_path: Path, part: str, body: tuple[str, str], encoding: str = "utf-8", name: str = "") -> Path:
    raw = io.BytesIO()
    Image.new("L", (60, 80), 255).save(raw, "PDF", resolution=72)
    raw.seek(0)
    out = io.BytesIO()
    with pikepdf.open(raw) as pdf:
        assert pdfa.save(pdf, out, part).passed
    out.seek(0)
    f = tmp_path / f"{part}-{encoding}{name}.pdf"
    with pikepdf.open(out) as pdf:
        xmp = pdf.Root.Metadata.read_bytes().decode()
        xmp = xmp.replace(
            "</rdf:RDF>", f'<rdf:Description rdf:about="" {body[0]}>{body[1]}</rdf:Description></rdf:RDF>'
        )
        pdf.Root.Metadata.write(xmp.encode(encoding))
        pdf.save(f)
    return f


@pytest.mark.parametrize("part", ["1b", "2b"])
def test_approval_of_real_files(tmp_path: Path, part: str) -> None:
    exif = (f'xmlns:exif="{NS["exif"]}"', "<exif:GPSLatitude>48,51.5N</exif:GPSLatitude>")
    assert pdfa_approved(_pdfa_with_xmp(tmp_path, part, exif), part)[0]
    bad = (exif[0], "<exif:GPSLatitude>north</exif:GPSLatitude>")
    ok, problems = pdfa_approved(_pdfa_with_xmp(tmp_path, part, bad, name="-bad"), part)
    assert not ok and any("GPSCoordinate" in p for p in problems), problems


def test_utf16_packet_is_pdfa1_only(tmp_path: Path) -> None:
    """The XMP Specification 2004 (PDF/A-1) lets a packet be UTF-16; the same file is checked as if UTF-8."""
    exif = (f'xmlns:exif="{NS["exif"]}"', "<exif:GPSLatitude>48,51.5N</exif:GPSLatitude>")
    f = _pdfa_with_xmp(tmp_path, "1b", exif, "utf-16-le")
    assert pdfa_approved(f, "1b")[0]
    bad = (exif[0], "<exif:GPSLatitude>north</exif:GPSLatitude>")
    assert not pdfa_approved(_pdfa_with_xmp(tmp_path, "1b", bad, "utf-16-be", "-bad"), "1b")[0]
