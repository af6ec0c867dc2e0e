"""DA/T 70 完整性 (integrity) checks 2-1 … 2-11 (2-7 and 2-8 are manual: the registry reports them)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from lxml import etree

from guidang.packaging import archival_code as acode
from guidang.packaging.archival_code import ArchivalCodeRule
from guidang.packaging.metadata_rules import MANDATORY_ELEMENTS, Requirement
from guidang.validators.dat70.authenticity import described_files, no_metadata
from guidang.validators.dat70.package import CHECKS_JSON, MANIFESTS, METADATA, local
from guidang.validators.dat70.rules import parse_datetime
from guidang.validators.dat70.subject import Dat70Subject, ev
from guidang.validators.registry import REGISTRY, check
from guidang.validators.result import Finding, Report, Status
from guidang.validators.spec import Stage

FAIL, WARN, PASS = Status.FAIL, Status.WARN, Status.PASS


INTAKE_SOURCE = "入库登记 / intake registration"


def _register(s: Dat70Subject, what: str) -> tuple[int | None, str, tuple[str, ...]]:
    """(registered value, source, files it covers) for ``what`` ("count" or "bytes").

    The intake registration (in the pipeline) and the catalogue DB cover what the vendor delivered
    (the masters); the sender's declaration covers the record files (content and masters). The
    intake registration comes first, then the sender's, then the DB's.
    """
    intake = s.context.intake
    if intake is not None:
        return (intake.file_count if what == "count" else intake.total_bytes), INTAKE_SOURCE, s.package.master_files
    sender = s.context.sender
    if sender is not None:
        value = sender.file_count if what == "count" else sender.total_bytes
        if value is not None:
            return value, sender.source, s.package.record_files
    if s.context.db is not None:
        reg = s.context.db.registered(s.package.archival_code)
        if reg is not None:
            value = reg.file_count if what == "count" else reg.total_bytes
            return value, "数据库登记 / catalogue DB", s.package.master_files
    return None, "", s.package.record_files


def _unsupported(s: Dat70Subject, field: str, found: int) -> Iterator[Finding]:
    """A count that matches guidang's own intake measurement only, with no vendor manifest behind it."""
    intake = s.context.intake
    if intake is not None and not intake.vendor_manifest:
        yield Finding(WARN, "no_independent_evidence", {"found": found},
                      ev(field=field, expected="vendor manifest", found="none (intake registration only)"))


@check("2-1")
def count_matches(s: Dat70Subject) -> Iterator[Finding]:
    expected, source, files = _register(s, "count")
    found = len(files)
    if expected is None:
        yield Finding(WARN, "no_register", {"found": found}, ev(field="文件数", found=found))
    elif expected != found:
        yield Finding(
            FAIL,
            "mismatch",
            {"found": found, "expected": expected, "source": source},
            ev(field="文件数", expected=expected, found=found),
        )
    else:
        yield from _unsupported(s, "文件数", found)


@check("2-2")
def bytes_match(s: Dat70Subject) -> Iterator[Finding]:
    expected, source, files = _register(s, "bytes")
    found = sum(s.package.size(f) for f in files)
    if expected is None:
        yield Finding(WARN, "no_register", {"found": found}, ev(field="字节数", found=found))
    elif expected != found:
        yield Finding(
            FAIL,
            "mismatch",
            {"found": found, "expected": expected, "source": source},
            ev(field="字节数", expected=expected, found=found),
        )
    else:
        yield from _unsupported(s, "字节数", found)


# ---------------------------------------------------------------------------------------------- 2-3, 2-4
def active_conditions(s: Dat70Subject) -> set[str]:
    """The conditions of MANDATORY_ELEMENTS this package shows (digitised: it has masters and does not say it
    was born digital, or it has 数字化属性).

    ``numbered`` is also what the catalogue registered: a 文号 in the DB record (the vendor's catalogue)
    makes 文件编号 required in the package (GB/T 18894-2016 6.2.2 a), so its loss on the way is found.
    """
    pkg = s.package
    found = set()
    if ((s.context.db_record or {}).get("文件编号") or "").strip():
        found.add("numbered")
    if (pkg.master_files and not pkg.born_digital) or pkg.elements("数字化属性"):
        found.add("digitised")
    if pkg.born_digital:
        found.add("born_digital")
    if pkg.elements("电子签名"):
        found.add("signed")
    if pkg.elements("脱机载体编号"):
        found.add("offline")
    if pkg.elements("机构或问题"):
        found.add("org_class")
    if any((e.text or "").strip() for e in pkg.elements("文件编号")):
        found.add("numbered")
    found.add("volume_level" if pkg.text_of("聚合层次") == "案卷" else "file_level")
    return found


def _children(parents: list[etree._Element], name: str) -> list[etree._Element]:
    return [c for p in parents for c in p if local(c.tag) == name]


@dataclass(frozen=True)
class Instance:
    """Where one requirement path stands in the document."""

    path: str
    parents: int  # instances of the parent container
    missing_in: int  # parent instances without the element
    empty: int  # instances of the element without a value


def locate(s: Dat70Subject, path: str) -> Instance:
    root = s.package.metadata
    assert root is not None
    parts = path.split("/")
    parents = [root]
    for name in parts[:-1]:
        parents = _children(parents, name)
    missing_in = sum(1 for p in parents if not _children([p], parts[-1]))
    nodes = _children(parents, parts[-1])
    empty = sum(1 for n in nodes if len(n) == 0 and not (n.text or "").strip())
    return Instance(path, len(parents), missing_in, empty)


def _requirements(s: Dat70Subject) -> list[Requirement]:
    active = active_conditions(s)
    return [r for r in MANDATORY_ELEMENTS if r.condition is None or r.condition in active]


@check("2-3")
def elements_present(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    if s.package.metadata is None:
        return
    for req in _requirements(s):
        found = [locate(s, p) for p in req.paths]
        if any(i.parents and not i.missing_in for i in found):
            continue
        shown = " / ".join(req.paths)
        yield Finding(FAIL, "missing", {"element": req.label}, ev(METADATA, shown, "present", "absent"))


@check("2-4")
def mandatory_filled(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    if s.package.metadata is None:
        return
    # absent elements are 2-3's finding in the stages that have 2-3; BC has no 2-3, so 2-4 reports them
    report_absent = s.stage is Stage.BC
    for req in _requirements(s):
        found = [locate(s, p) for p in req.paths]
        present = [i for i in found if i.parents and not i.missing_in]
        shown = " / ".join(req.paths)
        if not present:
            if report_absent:
                yield Finding(FAIL, "absent", {"element": req.label}, ev(METADATA, shown, "filled", "absent"))
            continue
        if all(i.empty for i in present):
            yield Finding(FAIL, "empty", {"element": req.label}, ev(METADATA, shown, "filled", "empty"))


# ---------------------------------------------------------------------------------------------- 2-5
@check("2-5")
def process_complete(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    pkg = s.package
    if pkg.metadata is None:
        return
    entries = [e.getparent() for e in pkg.elements("业务行为") if e.getparent() is not None]
    if not entries:
        yield Finding(FAIL, "none", evidence=ev(METADATA, "业务实体", "≥ 1", 0))
        return
    actions: list[str] = []
    previous = None
    previous_text = ""
    for n, entry in enumerate(entries, 1):
        for element in ("业务状态", "业务行为", "行为时间"):
            if not pkg.text_of(element, entry):
                yield Finding(
                    FAIL,
                    "incomplete",
                    {"n": n, "element": element},
                    ev(METADATA, f"业务实体[{n}]/{element}", "filled", "empty"),
                )
        action = pkg.text_of("业务行为", entry) or ""
        actions.append(action)
        time_text = pkg.text_of("行为时间", entry) or ""
        if not time_text:
            continue
        t = parse_datetime(time_text)
        if t is None:
            yield Finding(
                FAIL,
                "bad_time",
                {"n": n, "value": time_text},
                ev(METADATA, f"业务实体[{n}]/行为时间", "ISO 8601", time_text),
            )
            continue
        if previous is not None and t < previous and pkg.text_of("业务状态", entry) != "计划任务":
            yield Finding(
                FAIL,
                "out_of_order",
                {"n": n, "action": action, "time": time_text, "previous": previous_text},
                ev(METADATA, f"业务实体[{n}]/行为时间", f"≥ {previous_text}", time_text),
            )
        previous, previous_text = t, time_text
    for action in s.options.required_actions:
        if action not in actions:
            yield Finding(
                FAIL,
                "action_missing",
                {"action": action},
                ev(METADATA, "业务行为", action, "、".join(actions)),
            )


# ---------------------------------------------------------------------------------------------- 2-6
_SEQ = re.compile(r"^(?P<prefix>.*?)[-_]?(?P<n>[0-9]{3,})$")


def sequence_findings(label: str, numbers: list[int], start: int, file_field: str) -> Iterator[Finding]:
    """Gaps, repeats and a wrong first number in one numbered sequence (DA/T 22: no gaps, from the start)."""
    if not numbers:
        return
    seen: set[int] = set()
    for n in numbers:
        if n in seen:
            yield Finding(FAIL, "repeated", {"sequence": label, "number": n}, ev(file_field, label, "unique", n))
        seen.add(n)
    first = min(seen)
    if first != start:
        yield Finding(
            FAIL,
            "bad_start",
            {"sequence": label, "expected": start, "found": first},
            ev(file_field, label, start, first),
        )
    missing = sorted(set(range(start, max(seen) + 1)) - seen)
    if missing:
        shown = "、".join(str(m) for m in missing[:20]) + ("…" if len(missing) > 20 else "")
        yield Finding(FAIL, "gap", {"sequence": label, "missing": shown}, ev(file_field, label, "no gaps", shown))


@check("2-6")
def sequences_continuous(s: Dat70Subject) -> Iterator[Finding]:
    start = s.options.sequence_start
    pkg = s.package
    if not pkg.born_digital:  # page images named 档号-0001 … (DA/T 31); a business system names its own files
        numbers: list[int] = []
        for f in pkg.master_files:
            m = _SEQ.match(PurePosixPath(f).stem)
            if m is None:
                yield Finding(FAIL, "unnumbered", {"file": f}, ev(f, "页序号", "档号-0001", PurePosixPath(f).name))
            else:
                numbers.append(int(m["n"]))
        yield from sequence_findings("页面 / page", numbers, start, "masters/")
    for element, label in (("文档序号", "文档序号 / document sequence"), ("页号", "页号 / page number")):
        values = [(e.text or "").strip() for e in pkg.elements(element)]
        nums = [int(v) for v in values if v.isdigit()]
        if len(nums) > 1:
            yield from sequence_findings(label, nums, start, METADATA)


# ---------------------------------------------------------------------------------------------- 2-9
@check("2-9")
def archival_scope(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    pkg = s.package
    if pkg.metadata is None:
        return
    schedule = s.options.retention_schedule
    if not schedule:
        yield Finding(Status.MANUAL, "no_schedule")
        return
    retention = pkg.text_of("保管期限")
    if not retention:
        yield Finding(FAIL, "no_retention", evidence=ev(METADATA, "保管期限", "filled", "empty"))
        return
    haystack = " ".join(pkg.text_of(e) or "" for e in ("题名", "文种", "事项名称", "关键词", "主题词"))
    matched = [(key, allowed) for key, allowed in schedule.items() if key and key in haystack]
    if not matched:
        yield Finding(Status.MANUAL, "not_in_schedule", evidence=ev(METADATA, "题名", found=haystack[:200]))
        return
    from guidang.packaging.domains import retention_code

    code = retention_code(retention) or retention
    for key, allowed in matched:
        if code not in allowed and retention not in allowed:
            yield Finding(
                FAIL,
                "retention_mismatch",
                {"key": key, "expected": "、".join(allowed), "found": retention},
                ev(METADATA, "保管期限", "、".join(allowed), retention),
            )


# ---------------------------------------------------------------------------------------------- 2-10
@check("2-10")
def package_metadata_complete(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    for name in (METADATA, *MANIFESTS.values(), CHECKS_JSON):
        if not pkg.path(name).is_file():
            yield Finding(FAIL, "missing", {"file": name}, ev(name))
    report = pkg.path(CHECKS_JSON)
    if report.is_file():
        try:
            data = json.loads(report.read_text("utf-8"))
        except (ValueError, OSError) as exc:
            yield Finding(
                FAIL, "unreadable", {"file": CHECKS_JSON, "detail": str(exc)}, ev(CHECKS_JSON, found=str(exc))
            )
            return
        results = data if isinstance(data, list) else data.get("results", []) if isinstance(data, dict) else []
        if not any(isinstance(r, dict) and str(r.get("check", "")).startswith("GD-") for r in results):
            yield Finding(FAIL, "no_gd_report", {"file": CHECKS_JSON}, ev(CHECKS_JSON, "check", "GD-*", "none"))


# ---------------------------------------------------------------------------------------------- 2-11
@check("2-11")
def declared_equals_present(s: Dat70Subject) -> Iterator[Finding]:
    yield from no_metadata(s)
    pkg = s.package
    if pkg.metadata is None:
        return
    yield from volume_findings(s)
    described = described_files(s)
    found = len(pkg.record_files)
    if len(described) == found:
        return  # a described file that is absent is 1-11's finding (its link is broken)
    yield Finding(
        FAIL,
        "count_mismatch",
        {"expected": len(described), "found": found},
        ev(METADATA, "计算机文件名", len(described), found),
    )
    names = {d.name for d in described}
    for f in pkg.record_files:
        if PurePosixPath(f).name not in names:
            yield Finding(FAIL, "undeclared", {"file": f}, ev(f, "计算机文件名", "described", "not described"))


def volume_findings(s: Dat70Subject) -> Iterator[Finding]:
    """卷内 completeness of a volume's (案卷) package (docs/volumes.md): 件数 equals its document records,
    and their pages (页号 = first page, 页数) cover the masters once each, but for one last image (the
    备考表, which has no 页号)."""
    pkg = s.package
    if pkg.text_of("聚合层次") != "案卷":
        return
    records = pkg.document_records
    declared = pkg.text_of("件数") or ""
    if not declared.isdigit() or int(declared) != len(records):
        yield Finding(FAIL, "volume_count", {"expected": declared or "—", "found": len(records)},
                      ev(METADATA, "件数", declared, len(records)))
    covered: Counter[int] = Counter()
    for rel, root, error in records:
        first, count = (pkg.text_of(e, root) or "" for e in ("页号", "页数")) if root is not None else ("", "")
        if root is None or not first.isdigit() or not count.isdigit():
            detail = error or f"页号={first or '—'}，页数={count or '—'}"
            yield Finding(FAIL, "volume_record", {"file": rel, "detail": detail}, ev(rel, "页号/页数"))
            continue
        covered.update(range(int(first), int(first) + int(count)))
    masters = len(pkg.master_files)
    numbered = max(covered, default=0)
    twice = sorted(n for n, c in covered.items() if c > 1)
    missing = sorted(set(range(1, min(numbered, masters) + 1)) - set(covered)) + list(range(numbered + 1, masters))
    beyond = sorted(n for n in covered if n > masters)
    for key, pages in (("volume_overlap", twice), ("volume_gap", missing), ("volume_beyond", beyond)):
        if pages:
            shown = "、".join(map(str, pages[:20])) + ("…" if len(pages) > 20 else "")
            yield Finding(FAIL, key, {"pages": shown, "masters": masters}, ev("metadata/", "页号", "", shown))


def numbering_across(codes: Iterable[str], rule: ArchivalCodeRule, stage: Stage, start: int = 1) -> dict[str, Report]:
    """2-6 across packages: in each lowest-level class (the 档号 without its sequence part) the
    sequence numbers (件号, or 案卷号) run from ``start`` with no gaps and no repeats (DA/T 22).

    Returns one report per class prefix; codes that do not parse are left to each package's 1-7.
    """
    classes: dict[str, list[int]] = {}
    for code in codes:
        try:
            parsed = acode.parse(code, rule)
        except acode.ArchivalCodeError:
            continue
        classes.setdefault(parsed.prefix, []).append(parsed.sequence)
    spec = REGISTRY.specs["2-6"]
    out = {}
    for prefix, numbers in sorted(classes.items()):
        findings = list(sequence_findings(f"件号（{prefix}）", numbers, start, prefix)) or [Finding(PASS)]
        out[prefix] = Report(tuple(REGISTRY.render(spec, f, stage) for f in findings))
    return out
