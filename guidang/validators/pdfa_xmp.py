"""XMP properties of a PDF/A file against the schemas the standard allows (ISO 19005-1 6.7.8–6.7.9,
ISO 19005-2 6.6.2.3).

A PDF/A file may use any property of the predefined schemas of the XMP Specification (2004 for
PDF/A-1, 2005 for PDF/A-2/-3), with a value of the type that edition gives it, and any property of an
extension schema that the same packet describes in a ``pdfaExtension:schemas`` container, with a value
of the type the description declares. The container itself must be well formed: each schema, property,
value type and field description has the fields the standard lists, with the prefixes it fixes.

The tables are data (``data/xmp_schemas.toml``). This module decides only the rules on *properties
and their values* (6.7.9-2/-3, 6.6.2.3.1-1/-2, 6.7.8, 6.6.2.3.2–3); whether the packet is well-formed
XML, its header, its PDF/A identification and its agreement with the Info dictionary are left to
``pikepdf.pdfa``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from guidang import safexml

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_RDF_ATTRS = {f"{{{RDF}}}{a}" for a in ("about", "parseType", "resource", "ID", "nodeID", "datatype")}
_ARRAYS = {f"{{{RDF}}}{k}": k for k in ("Bag", "Seq", "Alt")}
_CLARK = re.compile(r"^\{([^}]*)\}(.+)$")

SIMPLE_TYPES: dict[str, re.Pattern[str] | None] = {
    "Text": None,
    "ProperName": None,
    "AgentName": None,
    "URI": None,
    "URL": None,
    "XPath": None,
    "RenditionClass": None,
    "Locale": None,
    "MIMEType": re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;.*)?"),
    "Integer": re.compile(r"[+-]?\d+"),
    "Real": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "Boolean": re.compile(r"True|False"),
    "Rational": re.compile(r"[+-]?\d+/[+-]?\d+"),
    "GPSCoordinate": re.compile(r"\d{1,3},\d{1,2}(,\d{1,2}|\.\d+)[NSEW]"),
    "Date": re.compile(
        r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?",
    ),
    "Point": re.compile(r"\([+-]?\d+, [+-]?\d+\)"),  # crs:ToneCurve items, "(x, y)"
}
# value type names an extension schema may use without defining them (ISO 19005-1 6.7.8 Table 2 lists the
# XMP 2004 types; the 2005 edition's are allowed for PDF/A-2), and the spellings they come in
_CHOICE_TYPES = re.compile(r"^(Open |Closed )?Choice( of (Text|Integer|Real))?$", re.I)


@dataclass(frozen=True)
class XmpIssue:
    rule: str  # the clause (e.g. "6.7.9-2"); the caller adds the ISO_19005_n prefix where it wants one
    message: str


@dataclass(frozen=True)
class Value:
    """One value as written: ``simple`` (text), ``Bag``/``Seq``/``Alt`` (items), or ``struct`` (fields)."""

    form: str
    text: str = ""
    items: tuple[Value, ...] = ()
    fields: tuple[tuple[str, Value], ...] = ()  # (Clark name, value)
    lang: str | None = None
    problem: str | None = None  # RDF this reader does not accept


@dataclass(frozen=True)
class StructType:
    ns: str
    fields: dict[str, str]


@dataclass
class Schemas:
    """The property and structure tables in force for one part, plus what the packet's extensions add."""

    properties: dict[str, dict[str, str]]  # namespace URI → name → type
    structs: dict[str, StructType]
    namespaces: dict[str, str]  # canonical prefix → URI
    qualifiers: dict[str, set[str]] = field(default_factory=dict)  # namespace URI → names


@cache
def _tables() -> dict[str, Any]:
    text = resources.files("guidang.validators").joinpath("data/xmp_schemas.toml").read_text("utf-8")
    return tomllib.loads(text)


def predefined(part: int) -> Schemas:
    t = _tables()
    ns = t["namespaces"]
    props: dict[str, dict[str, str]] = {}
    for section in ("common", f"part{1 if part == 1 else 2}"):
        for prefix, table in t[section].items():
            props.setdefault(ns[prefix], {}).update(table)
    structs = {
        name: StructType(ns[s["ns"]], dict(s["fields"]))
        for name, s in t["structs"].items()
        if (1 if part == 1 else 2) in s["parts"]
    }
    quals = {ns[p]: set(names) for p, names in t["qualifiers"].items()}
    return Schemas(props, structs, dict(ns), quals)


# -- reading RDF/XML as XMP writes it -------------------------------------------------------------------------
def _elements(node: etree._Element) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str)]


def _attrs(node: etree._Element) -> list[tuple[str, str]]:
    """The attributes that carry values (not rdf: syntax, not xml:lang), as (Clark name, text)."""
    pairs = [(str(k), str(v)) for k, v in node.attrib.items()]
    return [(k, v) for k, v in pairs if k not in _RDF_ATTRS and k != XML_LANG]


def _struct_from(node: etree._Element, children: list[etree._Element]) -> Value:
    fields = [(k, Value("simple", v)) for k, v in _attrs(node)]
    fields += [(c.tag, read_value(c)) for c in children]
    return Value("struct", fields=tuple(fields))


def read_value(node: etree._Element) -> Value:
    """The value of a property (or array item, or field) element."""
    lang = node.get(XML_LANG)
    children = _elements(node)
    if node.get(f"{{{RDF}}}resource") is not None:
        if children:
            return Value("simple", problem="rdf:resource with content")
        return Value("simple", node.get(f"{{{RDF}}}resource", ""), lang=lang)
    parse_type = node.get(f"{{{RDF}}}parseType")
    if parse_type is not None and parse_type != "Resource":
        return Value("simple", problem=f"rdf:parseType={parse_type!r}")
    holder = children[0] if len(children) == 1 and children[0].tag == f"{{{RDF}}}Description" else node
    held = children if holder is node else _elements(holder)
    value_el = [c for c in held if c.tag == f"{{{RDF}}}value"]
    if value_el:  # a qualified value: rdf:value plus qualifiers (XMP Part 1 7.5, in either RDF form)
        inner = read_value(value_el[0])
        quals = tuple((c.tag, read_value(c)) for c in held if c is not value_el[0])
        quals += tuple((k, Value("simple", v)) for k, v in _attrs(holder))
        return Value(inner.form, inner.text, inner.items, quals, lang or inner.lang, inner.problem)
    if parse_type == "Resource":
        return _struct_from(node, children)
    if len(children) == 1 and children[0].tag in _ARRAYS:
        arr = children[0]
        items = []
        for li in _elements(arr):
            if li.tag != f"{{{RDF}}}li":
                return Value(_ARRAYS[arr.tag], problem=f"array element {li.tag} is not rdf:li")
            items.append(read_value(li))
        return Value(_ARRAYS[arr.tag], items=tuple(items), lang=lang)
    if len(children) == 1 and children[0].tag == f"{{{RDF}}}Description":
        desc = children[0]
        return _struct_from(desc, _elements(desc))
    if children:
        return Value("simple", problem="mixed or unrecognised content")
    if _attrs(node):  # shorthand structure: fields written as attributes
        return _struct_from(node, [])
    return Value("simple", (node.text or ""), lang=lang)


def properties(root: etree._Element) -> Iterator[tuple[str, str, Value]]:
    """(namespace URI, prefix as written, value) of every top-level property in rdf:RDF."""
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f".//{{{RDF}}}RDF")
    if rdf is None:
        return
    for desc in _elements(rdf):
        if desc.tag != f"{{{RDF}}}Description":
            continue
        for key, text in _attrs(desc):
            m = _CLARK.match(key)
            if m:
                prefix = next((p for p, u in desc.nsmap.items() if u == m[1]), "")
                yield key, prefix or "", Value("simple", text)
        for prop in _elements(desc):
            yield prop.tag, prop.prefix or "", read_value(prop)


# -- type checking --------------------------------------------------------------------------------------------
def _label(key: str, schemas: Schemas) -> str:
    m = _CLARK.match(key)
    if not m:
        return key
    prefix = next((p for p, u in schemas.namespaces.items() if u == m[1]), m[1])
    return f"{prefix}:{m[2]}"


def type_error(value: Value, vtype: str, schemas: Schemas, depth: int = 0) -> str | None:
    """Why ``value`` is not of ``vtype`` (None: it is)."""
    if value.problem:
        return value.problem
    if depth > 16:
        return "nested too deeply"
    vtype = vtype.strip()
    if vtype.startswith("choice "):
        if value.form != "simple":
            return f"a {value.form} where a closed choice is required"
        if re.fullmatch(vtype[7:], value.text.strip()):
            return None
        return f"{value.text!r} is not one of the closed choice"
    if vtype.startswith("seqchoice "):
        if value.form != "Seq":
            return "not an rdf:Seq"
        got = " ".join(i.text.strip() for i in value.items)
        return None if got in vtype[10:].split("|") else f"[{got}] is not one of the closed choice"
    if vtype == "Lang Alt":
        if value.form != "Alt":
            return "not an rdf:Alt (Lang Alt)"
        for item in value.items:
            if item.form != "simple" or item.problem:
                return "an item of a Lang Alt is not simple text"
            if item.lang is None:
                return "an item of a Lang Alt has no xml:lang"
        return None
    kind, _, rest = vtype.partition(" ")
    if kind in ("Bag", "Seq", "Alt") and rest:
        if value.form != kind:
            return f"not an rdf:{kind}"
        for item in value.items:
            err = type_error(item, rest, schemas, depth + 1)
            if err:
                return f"item: {err}"
        return None
    if vtype in SIMPLE_TYPES:
        if value.form != "simple":
            return f"a {value.form} where {vtype} is required"
        pattern = SIMPLE_TYPES[vtype]
        if pattern is not None and not pattern.fullmatch(value.text.strip()):
            return f"{value.text!r} is not a valid {vtype}"
        return None
    if _CHOICE_TYPES.match(vtype):
        return None if value.form == "simple" else f"a {value.form} where a choice is required"
    struct = schemas.structs.get(vtype)
    if struct is None:
        return f"unknown value type {vtype!r}"
    if value.form != "struct":
        return f"a {value.form} where structure {vtype} is required"
    for key, fval in value.fields:
        m = _CLARK.match(key)
        if not m or m[1] != struct.ns or m[2] not in struct.fields:
            return f"field {_label(key, schemas)} is not a field of {vtype}"
        err = type_error(fval, struct.fields[m[2]], schemas, depth + 1)
        if err:
            return f"field {m[2]}: {err}"
    return None


# -- extension schemas ----------------------------------------------------------------------------------------
_EXT_PREFIXES = ("pdfaExtension", "pdfaSchema", "pdfaProperty", "pdfaType", "pdfaField")


def _field(v: Value, ns: str, name: str) -> Value | None:
    return next((fv for k, fv in v.fields if k == f"{{{ns}}}{name}"), None)


def _known_type(vtype: str, schemas: Schemas, custom: set[str]) -> bool:
    vtype = vtype.strip()
    if vtype in SIMPLE_TYPES or vtype == "Lang Alt" or vtype in schemas.structs or vtype in custom:
        return vtype not in ("Point",)
    if _CHOICE_TYPES.match(vtype):
        return True
    kind, _, rest = vtype.partition(" ")
    return kind in ("Bag", "Seq", "Alt") and bool(rest) and _known_type(rest, schemas, custom)


def extension_schemas(
    props: list[tuple[str, str, Value]], schemas: Schemas, rule: str, prefixes: dict[str, set[str]]
) -> list[XmpIssue]:
    """Check each ``pdfaExtension:schemas`` container and add what it describes to ``schemas``."""
    issues: list[XmpIssue] = []
    ns = schemas.namespaces
    for key, _, value in props:
        if key != f"{{{ns['pdfaExtension']}}}schemas":
            continue
        for wanted in _EXT_PREFIXES:  # ISO 19005-1 6.7.8, ISO 19005-2 6.6.2.3.3 fix these prefixes
            for written in sorted(prefixes.get(ns[wanted], set()) - {wanted}):
                issues.append(XmpIssue(rule, f"namespace {ns[wanted]} uses prefix {written!r}, not {wanted!r}"))
        err = type_error(value, "Bag pdfaSchema", schemas)
        if err:
            issues.append(XmpIssue(rule, f"pdfaExtension:schemas: {err}"))
            continue
        for schema in value.items:
            issues += _one_schema(schema, schemas, rule)
    return issues


def _text(v: Value | None) -> str | None:
    return v.text.strip() if v is not None and v.form == "simple" else None


def _one_schema(schema: Value, schemas: Schemas, rule: str) -> list[XmpIssue]:
    ns = schemas.namespaces
    uri = _text(_field(schema, ns["pdfaSchema"], "namespaceURI"))
    prefix = _text(_field(schema, ns["pdfaSchema"], "prefix"))
    name = _text(_field(schema, ns["pdfaSchema"], "schema"))
    if not uri or not prefix or name is None:
        return [XmpIssue(rule, "an extension schema lacks pdfaSchema:schema, namespaceURI or prefix")]
    issues: list[XmpIssue] = []
    custom: dict[str, StructType] = {}
    types = _field(schema, ns["pdfaSchema"], "valueType")
    for t in types.items if types is not None else ():
        tname = _text(_field(t, ns["pdfaType"], "type"))
        turi = _text(_field(t, ns["pdfaType"], "namespaceURI"))
        tprefix = _text(_field(t, ns["pdfaType"], "prefix"))
        tdesc = _text(_field(t, ns["pdfaType"], "description"))
        if not tname or not turi or not tprefix or tdesc is None:
            issues.append(XmpIssue(rule, "a value type description lacks type, namespaceURI, prefix or description"))
            continue
        fields: dict[str, str] = {}
        tfields = _field(t, ns["pdfaType"], "field")
        for f in tfields.items if tfields is not None else ():
            fname = _text(_field(f, ns["pdfaField"], "name"))
            ftype = _text(_field(f, ns["pdfaField"], "valueType"))
            fdesc = _text(_field(f, ns["pdfaField"], "description"))
            if not fname or not ftype or fdesc is None:
                issues.append(XmpIssue(rule, f"a field of value type {tname} lacks name, valueType or description"))
                continue
            fields[fname] = ftype
        custom[tname] = StructType(turi, fields)
    schemas.structs.update(custom)
    described: dict[str, str] = {}
    props = _field(schema, ns["pdfaSchema"], "property")
    for p in props.items if props is not None else ():
        pname = _text(_field(p, ns["pdfaProperty"], "name"))
        ptype = _text(_field(p, ns["pdfaProperty"], "valueType"))
        category = _text(_field(p, ns["pdfaProperty"], "category"))
        pdesc = _text(_field(p, ns["pdfaProperty"], "description"))
        if not pname or not ptype or category is None or pdesc is None:
            issues.append(XmpIssue(rule, f"a property of schema {uri} lacks name, valueType, category or description"))
            continue
        if not _known_type(ptype, schemas, set(custom)):
            issues.append(XmpIssue(rule, f"property {prefix}:{pname} has an undefined value type {ptype!r}"))
            continue
        described[pname] = ptype
    for tname, st in custom.items():
        for fname, ftype in st.fields.items():
            if not _known_type(ftype, schemas, set(custom)):
                issues.append(XmpIssue(rule, f"field {fname} of {tname} has an undefined value type {ftype!r}"))
    schemas.properties.setdefault(uri, {}).update(described)
    return issues


# -- the packet's encoding ---------------------------------------------------------------------------------------
# XMP Specification Part 3 §1.1.2: a packet is UTF-8, UTF-16 or UTF-32 (either byte order), told by its first
# bytes (a byte-order mark, or the "<?" of the xpacket header in that encoding)
_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def packet_encoding(raw: bytes) -> str:
    """The Unicode encoding an XMP packet is serialised in ("utf-8" unless its first bytes say otherwise)."""
    return next((enc for head, enc in _ENCODINGS if raw.startswith(head)), "utf-8")


def as_utf8(raw: bytes) -> bytes | None:
    """The packet re-encoded as UTF-8 (None: it is not valid in the encoding its first bytes announce)."""
    enc = packet_encoding(raw)
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        return None
    return text.lstrip("\ufeff").encode("utf-8")


# -- the check ------------------------------------------------------------------------------------------------
def parse_packet(raw: bytes) -> etree._Element | None:
    """The packet's XML, or None when it is not well-formed (the syntax rule reports that)."""
    try:
        return etree.fromstring(raw, safexml.parser())
    except (etree.XMLSyntaxError, ValueError):
        return None


def check_properties(raw: bytes, part: int) -> list[XmpIssue] | None:
    """Every property and extension-schema problem in the packet (None: the packet is not readable XML)."""
    root = parse_packet(raw)
    if root is None:
        return None
    unknown_rule, type_rule = ("6.7.9-2", "6.7.9-3") if part == 1 else ("6.6.2.3.1-1", "6.6.2.3.1-2")
    ext_rule = "6.7.8-1" if part == 1 else "6.6.2.3.3-1"
    schemas = predefined(part)
    prefixes: dict[str, set[str]] = {}  # namespace URI → the prefixes its elements are written with
    for el in root.iter():
        m = _CLARK.match(el.tag) if isinstance(el.tag, str) else None
        if m:
            prefixes.setdefault(m[1], set()).add(el.prefix or "")
    props = list(properties(root))
    issues = extension_schemas(props, schemas, ext_rule, prefixes)
    ext_uri = f"{{{schemas.namespaces['pdfaExtension']}}}schemas"
    for key, _prefix, value in props:
        if key == ext_uri:
            continue
        m = _CLARK.match(key)
        if not m:
            issues.append(XmpIssue(unknown_rule, f"property {key!r} has no namespace"))
            continue
        vtype = schemas.properties.get(m[1], {}).get(m[2])
        label = f"{_prefix or m[1]}:{m[2]}"
        if vtype is None:
            issues.append(XmpIssue(unknown_rule, f"XMP property {label} is neither predefined nor described"))
            continue
        for qkey, _q in value.fields if value.form != "struct" else ():
            qm = _CLARK.match(qkey)
            if not qm or qm[2] not in schemas.qualifiers.get(qm[1], set()):
                issues.append(XmpIssue(type_rule, f"XMP property {label} has an unknown qualifier {qkey}"))
        err = type_error(value, vtype, schemas)
        if err:
            issues.append(XmpIssue(type_rule, f"XMP property {label} is not a valid {vtype}: {err}"))
    return issues
