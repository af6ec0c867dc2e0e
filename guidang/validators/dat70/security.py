"""DA/T 70 安全性 (security) checks 4-1 … 4-9 (4-5 and 4-9 are manual: the registry reports them).

Carrier items (4-3, 4-4, 4-6) are not applicable to online intake (hot folder, network): they
report ``not_applicable`` with that reason, never ``pass``. With a carrier in the context they
measure it; 4-6 (disc quality per DA/T 38) needs a disc tester and stays with a person.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from guidang.validators.clamav import ClamdError, Scanner, ScannerInfo, ScanStatus
from guidang.validators.dat70.subject import Dat70Subject, ev
from guidang.validators.registry import check
from guidang.validators.result import Finding, Status

FAIL, WARN, PASS, NA = Status.FAIL, Status.WARN, Status.PASS, Status.NOT_APPLICABLE


def _online(s: Dat70Subject) -> Iterator[Finding]:
    if s.context.carrier is None:
        yield Finding(NA, "not_applicable_online", evidence=ev(field="carrier", found="online intake"))


def _signature_age(db_date: dt.datetime) -> int:
    return (dt.datetime.now(dt.UTC) - db_date).days


@check("4-1")
def antivirus_present(s: Dat70Subject) -> Iterator[Finding]:
    client = s.context.clamd
    if client is None:
        yield Finding(FAIL, "no_antivirus", evidence=ev(field="antivirus", expected="configured", found="none"))
        return
    try:
        if not client.ping():
            raise ClamdError("the scanner did not answer")
        info = client.info()
    except ClamdError as exc:
        yield Finding(FAIL, "unreachable", {"detail": str(exc)}, ev(field=client.address, found=str(exc)))
        return
    if info.test_only:
        yield Finding(WARN, "test_signatures", {"engine": info.product},
                      ev(field="signature database", expected="vendor database", found=info.reply or "test only"))
        return
    if info.signature_date is None:
        yield Finding(WARN, "no_db_date", {"engine": info.product}, ev(field="VERSION", found=info.reply))
        return
    age = _signature_age(info.signature_date)
    params = {
        "engine": info.product,
        "db_version": info.signature_version or "?",
        "db_date": info.signature_date.date().isoformat(),
    }
    limit = s.options.max_signature_age_days
    if age > limit:
        yield Finding(
            WARN,
            "stale",
            {**params, "age": age, "limit": limit},
            ev(field="signature database", expected=f"≤ {limit} days", found=f"{age} days"),
        )
    else:
        yield Finding(PASS, "version", params, ev(field="VERSION", found=info.reply))


def _used(info: ScannerInfo) -> str:
    date = info.signature_date.date().isoformat() if info.signature_date else "?"
    return f"{info.product}, signatures {info.signature_version or '?'} of {date}"


@check("4-2")
def virus_scan(s: Dat70Subject) -> Iterator[Finding]:
    client = s.context.clamd
    if client is None:
        yield Finding(FAIL, "no_antivirus", evidence=ev(field="antivirus", expected="configured", found="none"))
        return
    try:
        info = client.info()
    except ClamdError as exc:
        yield Finding(FAIL, "error", {"file": "-", "detail": str(exc)}, ev(field=client.address, found=str(exc)))
        return
    findings = list(_scan_files(s, client))
    yield from findings
    if any(f.status is FAIL for f in findings):
        return
    if info.test_only:  # nothing found, but only test signatures looked: never a pass
        status = FAIL if s.context.test_signatures_block else WARN
        yield Finding(status, "test_signatures", {"scanner": _used(info), "files": len(s.package.files)},
                      ev(field="signature database", expected="vendor database", found=_used(info)))
    else:
        yield Finding(PASS, "scanned", {"scanner": _used(info), "files": len(s.package.files)},
                      ev(field="antivirus", found=_used(info)))


def _scan_files(s: Dat70Subject, client: Scanner) -> Iterator[Finding]:
    for relpath in s.package.files:
        path = s.path(relpath)
        if path.is_symlink():
            continue  # never followed; 1-13 rejects symlinks
        try:
            result = client.scan_file(path)
        except ClamdError as exc:  # the daemon is gone: say it once, the rest is unscanned too
            yield Finding(FAIL, "error", {"file": relpath, "detail": str(exc)}, ev(relpath, found=str(exc)))
            return
        except OSError as exc:
            yield Finding(FAIL, "error", {"file": relpath, "detail": str(exc)}, ev(relpath, found=str(exc)))
            continue
        if result.status is ScanStatus.INFECTED:
            yield Finding(
                FAIL,
                "infected",
                {"file": relpath, "signature": result.signature},
                ev(relpath, "clamd", "clean", result.signature),
            )
        elif result.status is ScanStatus.LIMITS:
            detail = result.signature or result.reply
            yield Finding(FAIL, "limits", {"file": relpath, "detail": detail}, ev(relpath, "clamd", "scanned", detail))
        elif result.status is ScanStatus.ERROR:
            yield Finding(
                FAIL,
                "error",
                {"file": relpath, "detail": result.reply},
                ev(relpath, "clamd", found=result.reply),
            )


@check("4-3")
def carrier_extra_files(s: Dat70Subject) -> Iterator[Finding]:
    yield from _online(s)
    carrier = s.context.carrier
    if carrier is None:
        return
    if not carrier.root.is_dir():
        yield Finding(FAIL, "carrier_missing", {"root": str(carrier.root)}, ev(str(carrier.root)))
        return
    package = s.package.root.resolve()
    expected = {(package / f).resolve() for f in s.package.files}
    for p in sorted(carrier.root.rglob("*")):
        if p.is_file() and p.resolve() not in expected:
            rel = p.relative_to(carrier.root).as_posix()
            yield Finding(FAIL, "extra", {"file": rel}, ev(rel, expected="package files only", found="extra file"))


@check("4-4")
def carrier_read_speed(s: Dat70Subject) -> Iterator[Finding]:
    yield from _online(s)
    carrier = s.context.carrier
    if carrier is None:
        return
    total = 0
    start = time.perf_counter()
    for p in sorted(carrier.root.rglob("*")):
        if not p.is_file():
            continue
        try:
            with p.open("rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    total += len(chunk)
        except OSError as exc:
            rel = p.relative_to(carrier.root).as_posix()
            yield Finding(FAIL, "read_error", {"file": rel, "detail": str(exc)}, ev(rel, found=str(exc)))
    elapsed = max(time.perf_counter() - start, 1e-6)
    speed = round(total / elapsed / (1 << 20), 1)
    params = {"speed": speed, "limit": carrier.min_read_mib_s}
    if speed < carrier.min_read_mib_s:
        yield Finding(FAIL, "slow", params, ev(str(carrier.root), "MiB/s", f"≥ {carrier.min_read_mib_s}", speed))
    else:
        yield Finding(PASS, "speed", params, ev(str(carrier.root), "MiB/s", f"≥ {carrier.min_read_mib_s}", speed))


@check("4-6")
def disc_quality(s: Dat70Subject) -> Iterator[Finding]:
    yield from _online(s)
    if s.context.carrier is not None:
        yield Finding(Status.MANUAL, "disc_tester", evidence=ev(str(s.context.carrier.root), "DA/T 38"))


def _world_writable(paths: Iterator[Path], root: Path) -> Iterator[str]:
    for p in paths:
        try:
            mode = p.lstat().st_mode
        except OSError:
            continue
        if mode & stat.S_IWOTH and not stat.S_ISLNK(mode):
            yield p.relative_to(root).as_posix() or "."


@check("4-7")
def process_secure(s: Dat70Subject) -> Iterator[Finding]:
    root = s.package.root
    for rel in _world_writable(iter([root, *root.rglob("*")]), root):
        yield Finding(FAIL, "world_writable", {"file": rel}, ev(rel, "mode", "not o+w", "o+w"))
    db = s.context.db
    if db is None:
        yield Finding(WARN, "no_db")
        return
    events = list(db.events(s.package.archival_code))
    if not events:
        yield Finding(FAIL, "no_log", evidence=ev("audit log", s.package.archival_code, "≥ 1 entry", 0))
        return
    for n, e in enumerate(events, 1):
        if not e.agent.strip():
            yield Finding(
                FAIL,
                "no_agent",
                {"n": n, "action": e.action},
                ev("audit log", f"#{n} agent", "named", "empty"),
            )
    actions = [e.action for e in events]
    yield Finding(PASS, "logged", {"count": len(events), "actions": "、".join(dict.fromkeys(actions))})


@check("4-8")
def system_vulnerabilities(s: Dat70Subject) -> Iterator[Finding]:
    root = s.package.root
    for rel in _world_writable(iter([root, *root.rglob("*")]), root):
        yield Finding(FAIL, "world_writable", {"file": rel}, ev(rel, "mode", "not o+w", "o+w"))
    for p in root.rglob("*"):
        try:
            mode = p.lstat().st_mode
        except OSError:
            continue
        if mode & (stat.S_ISUID | stat.S_ISGID):
            rel = p.relative_to(root).as_posix()
            yield Finding(FAIL, "setuid", {"file": rel}, ev(rel, "mode", "no setuid/setgid", oct(mode)))
    client = s.context.clamd
    if client is not None:
        try:
            info: ScannerInfo | None = client.info()
        except ClamdError:
            info = None
        if info is not None and info.signature_date is not None:
            age = _signature_age(info.signature_date)
            if age > s.options.max_signature_age_days:
                yield Finding(
                    WARN,
                    "stale_signatures",
                    {"age": age},
                    ev(field="signature database", found=f"{age} days"),
                )
    yield Finding(Status.MANUAL, "scan_needed", evidence=ev(field="vulnerability scan", found=os.uname().sysname))
