"""DA/T 70 真实性 (authenticity) checks 1-1 … 1-16."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lxml import etree

from guidang.packaging import aip
from guidang.packaging import archival_code as acode
from guidang.packaging.domains import default_domains, retention_code
from guidang.validators import signatures
from guidang.validators.dat70.package import (
    MANIFESTS,
    METADATA,
    TAG_FILES,
    TAG_MANIFESTS,
    WRITTEN_AFTER_CHECKS,
    local,
    parse_manifest,
)
from guidang.validators.dat70.rules import check_format, metadata_rules, parse_date, parse_datetime
from guidang.validators.dat70.subject import Dat70Subject, ev
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.formats import recorded_format_fits
from guidang.validators.registry import check
from guidang.validators.result import Finding, Status
from guidang.validators.spec import Stage

FAIL, WARN, PASS = Status.FAIL, Status.WARN, Status.PASS
MULTILINE = frozenset({"摘要", "附注", "行为描述", "说明题名文字", "信息系统描述"})


@dataclass(frozen=True)
class Value:
    """One metadata value to check: from the package XML or from the catalogue DB record."""

    element: str
    text: str
    where: str  # evidence file: metadata/metadata.xml or "catalogue DB"
    location: str  # xpath-like location, or the DB column


def metadata_values(s: Dat70Subject) -> Iterator[Value]:
    for location, text, e in s.package.leaves():
        yield Value(local(e.tag), text.strip(" \t\r\n"), METADATA, location)  # indentation only
    for name, text in (s.context.db_record or {}).items():
        yield Value(name, text or "", "catalogue DB", name)


def no_metadata(s: Dat70Subject) -> Iterator[Finding]:
    """Checks on metadata say so when it cannot be read (3-1 reports the cause) instead of passing."""
    if s.package.metadata is None:
        yield Finding(WARN, "no_metadata", evidence=ev(METADATA, found=s.package.metadata_error))


# ---------------------------------------------------------------------------------------------- 1-1
def _fixity_files(s: Dat70Subject) -> list[str]:
    """The files the manifests must list: everything under content/, masters/, metadata/ (as aip)."""
    skip = set(WRITTEN_AFTER_CHECKS) if s.stage is Stage.GD else set()
    payload = [f for f in s.package.payload_files if f.split("/", 1)[0] in aip.PAYLOAD_DIRS and "/" in f]
    return [f for f in payload if f not in skip]


@check("1-1")
def fixity_valid(s: Dat70Subject) -> Iterator[Finding]:
    manifests = s.package.manifests
    if not manifests:
        yield Finding(WARN, "no_manifest", evidence=ev(found="no manifest-*.txt"))
    for algorithm, manifest in manifests.items():
        listed = manifest.as_dict()
        for relpath, digest in listed.items():
            p = s.path(relpath)
            if not _inside(s.package.root, p) or not p.is_file():
                yield Finding(FAIL, "listed_missing", {"file": relpath, "algorithm": algorithm}, ev(relpath))
                continue
            found = s.digest(relpath, algorithm)
            if found != digest:
                yield Finding(
                    FAIL,
                    "digest_mismatch",
                    {"file": relpath, "algorithm": algorithm},
                    ev(relpath, algorithm, digest, found),
                )
        for relpath in _fixity_files(s):
            if relpath not in listed:
                yield Finding(FAIL, "not_covered", {"file": relpath, "algorithm": algorithm}, ev(relpath, algorithm))
    yield from _tag_manifests(s)
    for relpath in s.package.record_files:
        p = s.path(relpath)
        suffix = p.suffix.lower()
        if suffix == ".pdf":
            for sig in signatures.pdf_signatures(p, s.context.trusted_certificates):
                if sig.status is signatures.SigStatus.UNTRUSTED:
                    yield Finding(
                        FAIL if s.context.untrusted_signer == "fail" else WARN,
                        "pdf_signature_untrusted",
                        {"file": relpath, "name": sig.name, "detail": sig.detail},
                        ev(relpath, sig.name, "signer in [signing] trusted_certificates", sig.detail),
                    )
                elif sig.status is signatures.SigStatus.INVALID:
                    yield Finding(
                        FAIL,
                        "pdf_signature_invalid",
                        {"file": relpath, "name": sig.name, "detail": sig.detail},
                        ev(relpath, sig.name, found=sig.detail),
                    )
                elif sig.status is signatures.SigStatus.UNVERIFIED:
                    yield Finding(
                        WARN,
                        "pdf_signature_unverified",
                        {"file": relpath, "name": sig.name, "detail": sig.detail},
                        ev(relpath, sig.name, found=sig.detail),
                    )
        elif suffix == ".ofd":
            for problem in signatures.ofd_signature_problems(p):
                yield Finding(
                    FAIL,
                    "ofd_signature_invalid",
                    {"file": relpath, "detail": problem},
                    ev(relpath, found=problem),
                )
            for sig_path in signatures.ofd_signatures(p):
                yield Finding(
                    WARN,
                    "ofd_signature_unverified",
                    {"file": relpath, "name": sig_path},
                    ev(relpath, sig_path, "signature value verified", "not verified (SM2 seal)"),
                )


def _tag_manifests(s: Dat70Subject) -> Iterator[Finding]:
    """The tag manifests fix the manifests themselves (and so the package digest)."""
    for algorithm, name in TAG_MANIFESTS.items():
        path = s.path(name)
        if not path.is_file():
            continue  # 1-12 reports a missing tag manifest
        for entry in parse_manifest(path, algorithm).entries:
            target = s.path(entry.relpath)
            if entry.relpath not in MANIFESTS.values() or not target.is_file():
                continue
            found = s.digest(entry.relpath, algorithm)
            if found != entry.digest:
                yield Finding(
                    FAIL,
                    "digest_mismatch",
                    {"file": entry.relpath, "algorithm": algorithm},
                    ev(entry.relpath, f"{name}: {algorithm}", entry.digest, found),
                )


def _inside(root: Path, p: Path) -> bool:
    try:
        p.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- 1-2
@check("1-2")
def metadata_length(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    yield from length_findings(metadata_values(s))


def length_findings(values: Iterable[Value]) -> Iterator[Finding]:
    """1-2 on any metadata values (a package's, a catalogue row's)."""
    rules = metadata_rules()
    for v in values:
        if v.element in rules.length and len(v.text) > rules.length[v.element]:
            limit = rules.length[v.element]
            yield Finding(
                FAIL,
                "too_long",
                {"element": v.element, "length": len(v.text), "limit": limit},
                ev(v.where, v.location, f"≤ {limit}", len(v.text)),
            )
        if v.element in rules.bytes and len(v.text.encode("utf-8")) > rules.bytes[v.element]:
            limit = rules.bytes[v.element]
            n = len(v.text.encode("utf-8"))
            yield Finding(
                FAIL,
                "too_many_bytes",
                {"element": v.element, "length": n, "limit": limit},
                ev(v.where, v.location, f"≤ {limit}", n),
            )


# ---------------------------------------------------------------------------------------------- 1-3
@check("1-3")
def metadata_format(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    yield from format_findings(metadata_values(s))


def format_findings(values: Iterable[Value]) -> Iterator[Finding]:
    """1-3 on any metadata values."""
    formats = metadata_rules().formats
    for v in values:
        rule = formats.get(v.element)
        if rule is None or not v.text:  # emptiness is 2-4's business
            continue
        if not check_format(rule, v.text):
            yield Finding(
                FAIL,
                "bad_format",
                {"element": v.element, "value": v.text[:80], "rule": rule.describe()},
                ev(v.where, v.location, rule.describe(), v.text[:200]),
            )


# ---------------------------------------------------------------------------------------------- 1-4
@check("1-4")
def metadata_domain(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    yield from domain_findings(metadata_values(s), s.options)


def domain_findings(values: Iterable[Value], options: Dat70Options) -> Iterator[Finding]:
    """1-4 on any metadata values. 保管期限's domain is closed: the periods the deployment accepts at all
    (``dat70.retention_periods``, its 保管期限表); other open domains warn on a local term."""
    domains = default_domains().extended(options.domain_terms).domains  # local terms (STANDARDS §4.3)
    periods = list(options.retention_periods)
    for v in values:
        domain = domains.get(v.element)
        if domain is None or not v.text:
            continue
        if v.element == "保管期限" and v.text in periods:
            continue
        if v.element != "保管期限" and v.text in domain.values:
            continue
        allowed = "、".join(periods if v.element == "保管期限" else domain.values)
        closed = domain.closed or v.element == "保管期限"
        status, key = (FAIL, "outside_closed") if closed else (WARN, "outside_open")
        yield Finding(
            status,
            key,
            {"element": v.element, "value": v.text, "allowed": allowed},
            ev(v.where, v.location, allowed, v.text),
        )


# ---------------------------------------------------------------------------------------------- 1-5
DATE_ELEMENTS = ("日期", "行为时间", "签名时间", "受理时间", "办结时间", "创建时间")


@check("1-5")
def metadata_plausible(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    yield from plausibility_findings(metadata_values(s), s.options)


def plausibility_findings(all_values: Iterable[Value], options: Dat70Options) -> Iterator[Finding]:
    """1-5 on any metadata values."""
    today = dt.date.today()
    earliest = options.earliest_year
    values = list(all_values)
    for v in values:
        if v.element in DATE_ELEMENTS and v.text:
            t = parse_datetime(v.text)
            if t is None:
                continue  # 1-3 reports the form
            d = t.date()
            if d > today:
                yield Finding(
                    FAIL,
                    "date_future",
                    {"element": v.element, "value": v.text},
                    ev(v.where, v.location, f"≤ {today}", v.text),
                )
            elif d.year < earliest:
                yield Finding(
                    FAIL,
                    "date_too_early",
                    {"element": v.element, "value": v.text, "earliest": earliest},
                    ev(v.where, v.location, f"≥ {earliest}", v.text),
                )
        # a computer file may be empty (the text of a record without words); 1-10 compares each size with its file
        if v.element in ("页数", "件数") and v.text.isdigit() and int(v.text) <= 0:
            yield Finding(
                FAIL,
                "not_positive",
                {"element": v.element, "value": v.text},
                ev(v.where, v.location, "> 0", v.text),
            )
    by_source: dict[str, dict[str, str]] = defaultdict(dict)
    for v in values:
        by_source[v.where].setdefault(v.element, v.text)
    for where, first in by_source.items():
        year, date = first.get("年度", ""), parse_date(first.get("日期", ""))
        if year.isdigit() and date is not None and int(year) != date.year:
            yield Finding(
                FAIL,
                "year_mismatch",
                {"year": year, "date": first["日期"]},
                ev(where, "年度", date.year, year),
            )
        accepted, completed = (
            parse_datetime(first.get("受理时间", "")),
            parse_datetime(first.get("办结时间", "")),
        )
        if accepted and completed and completed < accepted:
            yield Finding(
                FAIL,
                "order",
                {
                    "later": "办结时间",
                    "later_value": first["办结时间"],
                    "earlier": "受理时间",
                    "earlier_value": first["受理时间"],
                },
                ev(where, "办结时间", f"≥ {first['受理时间']}", first["办结时间"]),
            )


# ---------------------------------------------------------------------------------------------- 1-6
def special_characters(text: str, allowed: str, multiline: bool) -> Iterator[tuple[str, int, str]]:
    """(message key, 1-based position, char) for each special character (GB 18030 rules; see dat70.toml)."""
    for i, ch in enumerate(text, 1):
        cp = ord(ch)
        if ch in "\t\n\r":
            if not multiline:
                yield "control", i, ch
            continue
        if cp < 0x20 or 0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF):
            yield ("control" if cp < 0x20 else "xml_illegal"), i, ch
            continue
        if cp == 0x7F or 0x80 <= cp <= 0x9F:
            yield "control", i, ch
            continue
        if cp < 0x80 or ch in allowed:
            continue
        category = unicodedata.category(ch)
        if category == "Co":
            yield "private_use", i, ch
            continue
        try:
            encoded = ch.encode("gb18030")
        except UnicodeEncodeError:
            yield "unencodable", i, ch
            continue
        if len(encoded) == 2 and 0xA1 <= encoded[0] <= 0xA9:
            yield "gb18030_symbol", i, ch
        elif category.startswith("S") or category in ("Cf", "Cn"):
            yield "symbol", i, ch


@check("1-6")
def metadata_special_characters(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    yield from character_findings(metadata_values(s), s.options)


def character_findings(values: Iterable[Value], options: Dat70Options) -> Iterator[Finding]:
    """1-6 on any metadata values."""
    allowed = options.allowed_symbols
    for v in values:
        for key, pos, ch in special_characters(v.text, allowed, v.element in MULTILINE):
            codepoint = f"U+{ord(ch):04X}"
            yield Finding(
                FAIL,
                key,
                {"element": v.element, "codepoint": codepoint, "position": pos, "char": ch},
                ev(v.where, v.location, "no special characters", f"{codepoint} at {pos}"),
            )


# ---------------------------------------------------------------------------------------------- 1-7
@check("1-7")
def archival_code_valid(s: Dat70Subject) -> Iterator[Finding]:
    code = s.package.archival_code
    rule = s.context.rule()
    if s.package.text_of("聚合层次") == "案卷":  # a volume's 档号 ends with its 案卷号 (docs/volumes.md)
        rule = acode.volume_rule(rule) or rule
    issues = list(code_findings(code, rule))
    yield from issues
    if issues:
        return
    parsed = acode.parse(code, rule)
    meta_code = s.package.metadata_code
    if meta_code and meta_code != code:
        yield Finding(
            FAIL,
            "name_mismatch",
            {"code": code, "metadata_code": meta_code},
            ev(METADATA, "档号", code, meta_code),
        )
    for part, element, in_code in (
        ("全宗号", "全宗号", parsed.fonds),
        ("年度", "年度", None if parsed.year is None else str(parsed.year)),
        ("件号", "室编件号", None if parsed.item is None else str(parsed.item)),
    ):
        found = s.package.text_of(element)
        if in_code and found and found.lstrip("0") != in_code.lstrip("0"):
            yield Finding(
                FAIL,
                "part_mismatch",
                {"code": code, "part": part, "in_code": in_code, "element": element, "in_metadata": found},
                ev(METADATA, element, in_code, found),
            )
    yield from retention_part_findings(code, parsed, s.package.text_of("保管期限"), METADATA)
    yield from _document_codes(s, code)


def _document_records(s: Dat70Subject) -> Iterator[tuple[str, str]]:
    """(path, 档号) of a volume's document records that give a 档号 (unreadable ones: 2-11, 2-3)."""
    pkg = s.package
    for rel, root, _error in pkg.document_records if pkg.text_of("聚合层次") == "案卷" else ():
        values = [e.get("值") for e in pkg.elements("档号", root)] if root is not None else []
        doc = (values[0] or "").strip() if values else ""
        if doc:
            yield rel, doc


def document_codes(s: Dat70Subject) -> list[str]:
    """The 档号 of a volume's documents (none for an item)."""
    return [doc for _rel, doc in _document_records(s)]


def _document_codes(s: Dat70Subject, volume: str) -> Iterator[Finding]:
    """A volume's documents: each record's 档号 fits the rule and is the volume's 档号 with its 件号."""
    for rel, doc in _document_records(s):
        issues = list(code_findings(doc, s.context.rule(), rel))
        yield from issues
        if not issues and doc.rsplit(acode.LEVEL_SEP, 1)[0] != volume:
            yield Finding(FAIL, "document_code", {"code": doc, "volume": volume, "file": rel},
                          ev(rel, "档号", f"{volume}{acode.LEVEL_SEP}…", doc))


def retention_part_findings(
    code: str, parsed: acode.ArchivalCode, retention: str | None, where: str
) -> Iterator[Finding]:
    """1-7: the 保管期限 recorded beside a 档号 against the 档号's own retention part (an unknown term is 1-4's)."""
    if parsed.retention and retention and retention_code(retention) not in (parsed.retention, None):
        yield Finding(
            FAIL,
            "part_mismatch",
            {
                "code": code,
                "part": "保管期限",
                "in_code": parsed.retention,
                "element": "保管期限",
                "in_metadata": retention,
            },
            ev(where, "保管期限", parsed.retention, retention),
        )


def code_findings(code: str, rule: acode.ArchivalCodeRule, where: str | None = None) -> Iterator[Finding]:
    """1-7's test of the 档号 itself under ``rule`` (a package's, a catalogue row's).

    Warnings (look-alike separators) fail too: a 档号 must be canonical."""
    for issue in acode.validate(code, rule):
        yield Finding(
            FAIL,
            "invalid",
            {"code": code, "rule": rule.name, "detail": issue.zh, "detail_en": issue.en},
            ev(where, f"档号/{issue.part}", issue.expected, issue.found),
        )


# ---------------------------------------------------------------------------------------------- 1-8
@check("1-8")
def duplicates(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    seen: dict[str, str] = {}
    for relpath in pkg.master_files:
        digest = s.digest(relpath)
        if digest in seen:
            yield Finding(
                FAIL,
                "duplicate_content",
                {"first": seen[digest], "second": relpath, "digest": digest},
                ev(relpath, "SHA-256", "unique", f"= {seen[digest]}"),
            )
        else:
            seen[digest] = relpath
    if pkg.metadata is None:
        yield Finding(WARN, "no_metadata", evidence=ev(METADATA, found=pkg.metadata_error))
    else:
        names = Counter((e.text or "").strip() for e in pkg.elements("计算机文件名"))
        for name, count in sorted(names.items()):
            if name and count > 1:
                yield Finding(
                    FAIL,
                    "duplicate_name",
                    {"value": name, "count": count},
                    ev(METADATA, "计算机文件名", 1, count),
                )
    db = s.context.db
    if db is None:
        yield Finding(WARN, "no_db")
        return
    code = pkg.archival_code
    keys = [("档号", code)] + [(k, pkg.text_of(k) or "") for k in s.options.duplicate_keys]
    keys += [("档号", doc) for doc in document_codes(s)]  # a volume's documents: each 档号 archived once
    for element, value in keys:
        if not value:
            continue
        others = list(db.archived_with(element, value))
        if others:
            yield Finding(
                FAIL,
                "in_catalogue",
                {"element": element, "value": value, "others": "、".join(others)},
                ev("catalogue DB", element, "unique", ", ".join(others)),
            )


# ---------------------------------------------------------------------------------------------- 1-9
@check("1-9")
def archive_codes_consistent(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    ctx = s.context
    if ctx.fonds_code is None and not ctx.archive_codes:
        yield Finding(WARN, "not_configured")
        return
    fonds = s.package.text_of("全宗号") or _fonds_of(s)
    if ctx.fonds_code is not None and fonds != ctx.fonds_code:
        yield Finding(
            FAIL,
            "fonds_mismatch",
            {"found": fonds, "expected": ctx.fonds_code},
            ev(METADATA, "全宗号", ctx.fonds_code, fonds),
        )
    for element, allowed in ctx.archive_codes.items():
        found = s.package.text_of(element)
        if found and found not in allowed:
            yield Finding(
                FAIL,
                "code_not_allowed",
                {"element": element, "found": found, "allowed": "、".join(allowed)},
                ev(METADATA, element, "、".join(allowed), found),
            )


def _fonds_of(s: Dat70Subject) -> str | None:
    try:
        return acode.parse(s.package.archival_code, s.context.rule()).fonds
    except acode.ArchivalCodeError:
        return None


# ---------------------------------------------------------------------------------------------- 1-10, 1-11
@dataclass(frozen=True)
class Described:
    """A metadata block describing one computer file, and the package file it resolves to (if any)."""

    block: etree._Element
    name: str
    location: str | None  # 当前位置 as recorded
    relpath: str | None  # resolved package file
    problem: tuple[str, dict[str, object]] | None  # why it did not resolve (1-11)


def described_files(s: Dat70Subject) -> list[Described]:
    pkg = s.package
    by_name: dict[str, list[str]] = defaultdict(list)
    for f in pkg.record_files:
        by_name[PurePosixPath(f).name].append(f)
    out = []
    for block in pkg.file_blocks:
        name = (pkg.text_of("计算机文件名", block) or "").strip()
        location = pkg.text_of("当前位置", block)
        relpath: str | None = None
        problem: tuple[str, dict[str, object]] | None = None
        if location:
            loc = location.strip().lstrip("/")
            if loc in pkg.record_files:
                relpath = loc
                # a recorded name that is not the file's name is 1-10's finding (name attribute)
            else:
                problem = ("path_missing", {"path": location})
        else:
            matches = by_name.get(name, [])
            if len(matches) == 1:
                relpath = matches[0]
            elif not matches:
                problem = ("name_missing", {"name": name})
            else:
                problem = ("name_ambiguous", {"name": name, "files": "、".join(matches)})
        out.append(Described(block, name, location, relpath, problem))
    return out


@check("1-10")
def electronic_attributes(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    pkg = s.package
    for d in described_files(s):
        if d.relpath is None:
            continue  # 1-11 reports the broken link
        actual_name = PurePosixPath(d.relpath).name
        if d.name != actual_name:
            yield Finding(
                FAIL,
                "name_mismatch",
                {"expected": d.name, "found": actual_name},
                ev(d.relpath, "计算机文件名", d.name, actual_name),
            )
        size_text = pkg.text_of("计算机文件大小", d.block)
        actual_size = pkg.size(d.relpath)
        if size_text and size_text.strip().isdigit() and int(size_text) != actual_size:
            yield Finding(
                FAIL,
                "size_mismatch",
                {"file": d.relpath, "expected": size_text, "found": actual_size},
                ev(d.relpath, "计算机文件大小", size_text, actual_size),
            )
        fmt = pkg.text_of("格式信息", d.block)
        if fmt:
            fid = s.identify(d.relpath)
            if fid.identified and not recorded_format_fits(fmt, fid):
                yield Finding(
                    FAIL,
                    "format_mismatch",
                    {"file": d.relpath, "expected": fmt, "found": fid.label()},
                    ev(d.relpath, "格式信息", fmt, f"{fid.puid} {fid.label()} {fid.mime}"),
                )
        element, created = _recorded_creation(s, d.block)
        if created is None:
            continue
        recorded = parse_datetime(created)
        embedded = signatures.embedded_creation_time(s.path(d.relpath))
        if recorded is None or embedded is None:
            continue  # 1-3 reports an unreadable time; a file that records none cannot be compared
        date_only = "T" not in created and ":" not in created
        differs = embedded.date() != recorded.date() if date_only else abs((embedded - recorded).total_seconds()) > 1
        if differs:
            yield Finding(
                FAIL,
                "ctime_mismatch",
                {"file": d.relpath, "expected": created, "found": embedded.isoformat()},
                ev(d.relpath, element, created, embedded.isoformat()),
            )


def _recorded_creation(s: Dat70Subject, block: etree._Element) -> tuple[str, str | None]:
    """The creation time recorded for a file: 创建时间 in its electronic attributes, else the 数字化时间
    of its digitisation attributes (a scan's creation), compared with the file's own EXIF/PDF date."""
    created = s.package.text_of("创建时间", block)
    if created:
        return "创建时间", created
    container = block.getparent()
    if container is not None:
        for attrs in s.package.elements("数字化属性", container):
            scanned = s.package.text_of("数字化时间", attrs)
            if scanned:
                return "数字化时间", scanned
    return "创建时间", None


@check("1-11")
def metadata_linked(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    if s.package.metadata is None:
        return
    described = described_files(s)
    if not described:
        yield Finding(FAIL, "no_blocks", evidence=ev(METADATA, "计算机文件名", "≥ 1", 0))
    for d in described:
        if d.problem is not None:
            key, params = d.problem
            yield Finding(
                FAIL,
                key,
                params,
                ev(METADATA, "当前位置" if d.location else "计算机文件名", found=d.location or d.name),
            )


# ---------------------------------------------------------------------------------------------- 1-12
@check("1-12")
def description_files(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    meta = pkg.path(METADATA)
    if not meta.is_file():
        yield Finding(FAIL, "metadata_missing", evidence=ev(METADATA))
    else:
        with meta.open("rb") as f:
            head = f.read(200)
        first = head.split(b"?>", 1)[0].decode("ascii", "replace") if head.startswith(b"<?xml") else ""
        if not first or "utf-8" not in first.lower().replace("'", '"'):
            yield Finding(
                FAIL,
                "declaration",
                {"found": first[:80] or head[:40].decode("utf-8", "replace")},
                ev(METADATA, "XML declaration", '<?xml version="1.0" encoding="UTF-8"?>', first[:80]),
            )
    for name in TAG_MANIFESTS.values():
        if not pkg.path(name).is_file():
            yield Finding(FAIL, "manifest_missing", {"file": name}, ev(name))
    for algorithm, name in MANIFESTS.items():
        if algorithm not in pkg.manifests:
            yield Finding(FAIL, "manifest_missing", {"file": name}, ev(name))
            continue
        manifest = pkg.manifests[algorithm]
        for error in manifest.errors:
            if error.reason == "path":  # the parser refuses paths that leave the package
                yield Finding(FAIL, "manifest_outside", {"file": name, "path": error.text},
                              ev(name, f"line {error.line}", found=error.text))
                continue
            line = f"line {error.line}: {error.text}" if error.text else error.describe("en")
            yield Finding(FAIL, "manifest_malformed", {"file": name, "line": line}, ev(name, found=line))


# ---------------------------------------------------------------------------------------------- 1-13
FORBIDDEN_NAME_CHARS = set('\\:*?"<>|') | {chr(c) for c in range(32)}


@check("1-13")
def package_structure(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    root_entries = sorted(p.name for p in pkg.root.iterdir())
    allowed = {"content", "masters", "metadata", *TAG_FILES}
    for entry in root_entries:
        if entry not in allowed:
            yield Finding(FAIL, "unexpected_entry", {"entry": entry}, ev(entry))
    for folder in ("content", "metadata"):
        if not (pkg.root / folder).is_dir():
            yield Finding(FAIL, "folder_missing", {"folder": folder}, ev(folder + "/"))
    for folder in ("content", "masters", "metadata"):
        d = pkg.root / folder
        if d.is_dir() and not any(d.iterdir()):
            yield Finding(FAIL, "empty_folder", {"folder": folder}, ev(folder + "/"))
    code = pkg.archival_code
    # one fixed-layout copy: content/<档号>.pdf; a born-digital record may keep an OFD as it instead
    pdfs = [f for f in pkg.content_files if f.lower().endswith(pkg.content_suffixes)]
    if (pkg.root / "content").is_dir() and pdfs not in [[f"content/{code}{x}"] for x in pkg.content_suffixes]:
        yield Finding(
            FAIL,
            "content_pdf",
            {"code": code, "found": "、".join(pdfs) or "无 / none"},
            ev("content/", expected=f"{code}.pdf", found=", ".join(pdfs)),
        )
    for f in pkg.content_files:
        if PurePosixPath(f).stem != code and not f.lower().endswith(pkg.content_suffixes):
            yield Finding(FAIL, "content_name", {"file": f, "code": code}, ev(f, expected=f"{code}.*"))
    for f in pkg.files:
        parts = PurePosixPath(f).parts
        if len(parts) > 2:
            yield Finding(FAIL, "nested", {"file": f, "folder": parts[0]}, ev(f))
        if any(p.startswith(".") for p in parts):
            yield Finding(FAIL, "hidden", {"file": f}, ev(f))
        bad = sorted(set(parts[-1]) & FORBIDDEN_NAME_CHARS)
        if bad:
            shown = " ".join(repr(c) for c in bad)
            yield Finding(FAIL, "bad_name", {"file": f, "chars": shown}, ev(f, found=shown))
    for f in pkg.symlinks:
        yield Finding(FAIL, "symlink", {"file": f}, ev(f))


# ---------------------------------------------------------------------------------------------- 1-14
def package_digest(s: Dat70Subject, algorithm: str) -> str | None:
    """The package digest as packaging.aip defines it: the digest of the manifest for ``algorithm``.

    Files are checked against the manifest by 1-1; 1-14 proves the manifest is the one the sender
    (at GD the packaging step, at YJ the transferring archive, at BC the store's ingest record)
    declared. None: there is no manifest to take a digest of.
    """
    name = MANIFESTS[algorithm]
    if not s.path(name).is_file():
        return None
    return s.digest(name, algorithm)


def _against_intake(s: Dat70Subject) -> Iterator[Finding]:
    """GD in the pipeline: every delivered file in the package has the digest registered at intake."""
    intake = s.context.intake
    assert intake is not None
    bad = False
    for relpath, expected in sorted(intake.digests.items()):
        if not s.path(relpath).is_file():
            bad = True
            yield Finding(FAIL, "intake_missing", {"file": relpath}, ev(relpath, "sha256", expected, "absent"))
            continue
        found = s.digest(relpath, "sha256")
        if found != expected:
            bad = True
            yield Finding(FAIL, "intake_mismatch", {"file": relpath, "expected": expected, "found": found},
                          ev(relpath, "sha256", expected, found))
    for relpath in s.package.master_files:
        if relpath not in intake.digests:
            bad = True
            yield Finding(FAIL, "intake_unregistered", {"file": relpath}, ev(relpath, "sha256", "registered", "not"))
    if bad:
        return
    params = {"count": intake.file_count}
    if intake.vendor_manifest:
        yield Finding(PASS, "intake_matches", params,
                      ev(field="sha256", expected="intake registration, vendor manifest"))
    else:
        yield Finding(WARN, "no_independent_evidence", params,
                      ev(field="sha256", expected="vendor manifest", found="none (intake registration only)"))


@check("1-14")
def package_consistent(s: Dat70Subject) -> Iterator[Finding]:
    if s.context.intake is not None:
        yield from _against_intake(s)
        return
    sender = s.context.sender
    algorithm = sender.algorithm if sender is not None else "sha256"
    expected = sender.package_digest.lower() if sender is not None and sender.package_digest else None
    source = sender.source if sender is not None else ""
    found = package_digest(s, algorithm) or "none (no manifest)"
    if expected is None:
        yield Finding(WARN, "no_reference", {"found": found}, ev(field=algorithm, found=found))
    elif expected != found:
        yield Finding(
            FAIL,
            "mismatch",
            {"algorithm": algorithm, "source": source, "expected": expected, "found": found},
            ev(field=algorithm, expected=expected, found=found),
        )
    else:
        yield Finding(
            PASS,
            "computed",
            {"algorithm": algorithm, "source": source, "found": found},
            ev(field=algorithm, expected=expected, found=found),
        )
