"""``guidang audit``: each defect of a stored object is found with its object, file, check ID and digests,
the object is flagged in the catalogue and left as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from preservation_support import CODES, make_home
from sqlalchemy import select

from guidang.cli import main
from guidang.pipeline.audit import StoreAudit, due
from guidang.storage.catalogue import Catalogue, EventRow
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.preservation import AuditRunRow, ObjectAuditRow
from guidang.validators.result import Status


def _content(store: OcflStore, code: str, suffix: str) -> Path:
    return next(p for p in (store.object_path(code) / "v1" / "content").rglob(f"*{suffix}"))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage(store: OcflStore) -> dict[str, object]:
    """Flip one byte, delete one file, add one file, truncate one object, change one inventory."""
    flipped = _content(store, CODES[0], ".pdf")
    before = _sha(flipped)
    data = bytearray(flipped.read_bytes())
    data[100] ^= 0x01
    flipped.write_bytes(bytes(data))
    deleted = _content(store, CODES[1], "-0001.tif")
    deleted_sha = _sha(deleted)
    deleted.unlink()
    added = store.object_path(CODES[2]) / "v1" / "content" / "extra.txt"
    added.write_bytes(b"not stored by guidang")
    truncated = store.object_path(CODES[3]) / "inventory.json"
    truncated.write_bytes(truncated.read_bytes()[:200])
    changed = store.object_path(CODES[4]) / "inventory.json"
    inv = json.loads(changed.read_bytes())
    inv["versions"]["v1"]["message"] = "rewritten"
    changed.write_text(json.dumps(inv), "utf-8")
    return {"flipped": (flipped, before, _sha(flipped)), "deleted": (deleted, deleted_sha)}


def _rel(store: OcflStore, code: str, path: Path) -> str:
    return path.relative_to(store.object_path(code)).as_posix()


def test_each_defect_is_found_with_object_file_check_and_digests(tmp_path: Path) -> None:
    settings = make_home(tmp_path)
    store = OcflStore(settings.store_root)
    clean = StoreAudit(settings)
    assert [s for s in clean.run() if s.failed] == [] and clean.totals.objects == len(CODES)
    assert clean.totals.files >= 6 * len(CODES)
    damage = _damage(store)
    snapshot = {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()}

    audit = StoreAudit(settings)
    subjects = {s.path.rsplit("#", 1)[1]: s for s in audit.run()}
    assert audit.totals.damaged == 5
    fails = {code: [r for r in s.report.results if r.status is Status.FAIL] for code, s in subjects.items()}

    flipped, before, after = damage["flipped"]  # type: ignore[misc]
    [r] = [r for r in fails[CODES[0]] if "sha256" in r.message_en]
    assert r.check_id == "STORE-FIXITY" and "BC-1-1" in r.dat70
    assert (r.evidence[0].file, r.evidence[0].expected, r.evidence[0].found) == (
        _rel(store, CODES[0], flipped), before, after)
    assert any(r.check_id == "STORE-FIXITY" and "sm3" in r.message_en for r in fails[CODES[0]])

    deleted, deleted_sha = damage["deleted"]  # type: ignore[misc]
    [r] = fails[CODES[1]]
    assert (r.check_id, r.evidence[0].file, r.evidence[0].expected) == (
        "STORE-FILES", _rel(store, CODES[1], deleted), deleted_sha)
    assert "BC-2-11" in r.dat70

    [r] = fails[CODES[2]]
    assert (r.check_id, r.evidence[0].file) == ("STORE-FILES", "v1/content/extra.txt")

    truncated = {(r.check_id, r.evidence[0].file) for r in fails[CODES[3]]}
    assert ("STORE-INVENTORY", "inventory.json") in truncated
    assert any("truncated" in r.message_en for r in fails[CODES[3]])

    [r] = fails[CODES[4]][:1]
    assert r.check_id == "STORE-INVENTORY" and "changed" in r.message_en and r.evidence[0].expected

    # flagged in the catalogue, logged, and nothing in the store touched
    with Catalogue(settings.db_url).session() as s:
        rows = {r.archival_code: r for r in s.scalars(select(ObjectAuditRow))}
        assert {c for c, r in rows.items() if r.status == "damaged"} == set(CODES)
        assert "STORE-FIXITY" in rows[CODES[0]].failed_checks and "BC-1-1" in rows[CODES[0]].failed_checks
        assert len(list(s.scalars(select(AuditRunRow)))) == 2
        assert {e.subject for e in s.scalars(select(EventRow).where(EventRow.action == "audit.damaged"))} == set(CODES)
    assert {p: p.read_bytes() for p in store.root.rglob("*") if p.is_file()} == snapshot

    # ops read the two runs as one audit passed and one failed (metrics and the ops report, issue #17)
    from guidang.hotfolders.metrics import registry
    from guidang.hotfolders.state import open_catalogue
    from guidang.pipeline.ops_report import ReportFilter, build_report

    metrics = registry(open_catalogue(settings.db_url))  # as the watcher serves it
    assert metrics.get_sample_value("guidang_audits_total", {"result": "pass"}) == 1
    assert metrics.get_sample_value("guidang_audits_total", {"result": "fail"}) == 1
    audits = build_report(Catalogue(settings.db_url), ReportFilter()).audits
    assert [a["result"] for a in audits if a["action"] == "audit.run"] == ["fail", "pass"]


def test_an_object_registered_but_gone_is_reported(tmp_path: Path) -> None:
    import shutil

    settings = make_home(tmp_path, codes=CODES[:2])
    store = OcflStore(settings.store_root)
    shutil.rmtree(store.object_path(CODES[1]))
    audit = StoreAudit(settings)
    failed = [s for s in audit.run() if s.failed]
    assert [s.report.results[0].check_id for s in failed] == ["STORE-FILES"]
    assert "not in the store" in failed[0].report.results[0].message_en


def test_cli_formats_exit_codes_and_the_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_home(tmp_path, codes=CODES[:2])
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    runner = CliRunner()
    assert due(settings) == "full"  # never audited: the widest audit is due
    ok = runner.invoke(main, ["audit", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["totals"]["objects"] == 2
    assert due(settings) == "full"  # a fixity audit does not stand for the four-property checks
    store = OcflStore(settings.store_root)
    _content(store, CODES[0], ".txt").write_bytes(b"rot")
    bad = runner.invoke(main, ["audit"])
    assert bad.exit_code == 1 and "STORE-FIXITY" in bad.output and CODES[0] in bad.output
    for fmt in ("html", "csv"):
        out = tmp_path / f"r.{fmt}"
        assert runner.invoke(main, ["audit", "--format", fmt, "-o", str(out)]).exit_code == 1
        assert CODES[0] in out.read_text("utf-8")


def test_a_sample_gets_the_four_property_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_home(tmp_path, codes=CODES[:4])
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    seen: list[str] = []

    def four(code: str, store: object) -> object:
        from guidang.validators.result import CheckedSubject, Report

        seen.append(code)
        return CheckedSubject(code, "保存对象", Report())

    audit = StoreAudit(settings, kind="sample", sample_percent=5, four_property=four, seed=1)  # type: ignore[arg-type]
    list(audit.run())
    assert len(seen) == 1 and audit.totals.checked == 1  # at least 5%: one of four
    full = StoreAudit(settings, kind="full", four_property=four)  # type: ignore[arg-type]
    list(full.run())
    assert len(seen) == 5
    assert due(settings) == "fixity" or due(settings) is None


def test_the_audit_records_in_postgresql_too(tmp_path: Path, postgres_url: str) -> None:
    import uuid

    from sqlalchemy import create_engine, text

    name = f"audit_{uuid.uuid4().hex[:12]}"  # a database of its own in the shared throwaway cluster
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres_url.replace("@/postgres?", f"@/{name}?")
    settings = make_home(tmp_path, codes=CODES[:2], db_url=url)
    _content(OcflStore(settings.store_root), CODES[1], ".txt").write_bytes(b"rot")
    for _ in range(2):  # twice: the rows of the first run are replaced, not duplicated
        audit = StoreAudit(settings)
        assert [s.path.rsplit("#", 1)[1] for s in audit.run() if s.failed] == [CODES[1]]
    cat = Catalogue(url)
    with cat.session() as s:
        rows = {r.archival_code: r.status for r in s.scalars(select(ObjectAuditRow))}
        assert rows == {CODES[0]: "intact", CODES[1]: "damaged"}
    cat.engine.dispose()


def test_every_store_defect_has_its_check_message_and_bc_items() -> None:
    """The defect kinds the storage layer reports, the lock defects and the STORE-* specs agree (data, complete)."""
    from guidang.pipeline.audit import DEFECT_CHECK
    from guidang.validators.registry import REGISTRY

    dat70 = {s.id: s for s in REGISTRY.family("DAT70")}
    lock_kinds = {k: "STORE-LOCK" for k in ("not_locked", "wrong_mode", "too_short", "locked")}
    for kind, check_id in {**DEFECT_CHECK, **lock_kinds}.items():
        assert kind in REGISTRY.specs[check_id].messages, (check_id, kind)
    for spec in REGISTRY.family("STORE"):
        assert spec.dat70 is not None and {str(s) for s in spec.stages} == {"BC"}
        for key in spec.messages:
            assert all("BC" in {str(s) for s in dat70[i].stages} for i in spec.dat70_of(key)), (spec.id, key)


def test_a_version_commit_in_progress_is_not_an_extra_file(tmp_path: Path) -> None:
    """Between the rename of vN/ into the object and the root inventory's update (a commit in progress, or
    one cut short and rolled forward on the next write) the new version's files are not 'added behind
    guidang'; a file no version's inventory names still is."""
    import shutil

    settings = make_home(tmp_path, codes=CODES[:1])
    store = OcflStore(settings.store_root)
    obj = store.object_path(CODES[0])
    shutil.copytree(obj / "v1", obj / "v2")
    inv = json.loads((obj / "v1" / "inventory.json").read_bytes())
    inv["head"] = "v2"
    inv["versions"]["v2"] = inv["versions"]["v1"]
    (obj / "v2" / "inventory.json").write_text(json.dumps(inv), "utf-8")  # names no v2/ content
    audit = StoreAudit(settings, record=False)
    [subject] = list(audit.run())
    extra = sorted(r.evidence[0].file for r in subject.report.results if r.status is Status.FAIL)
    assert extra and all(f.startswith("v2/content/") for f in extra)  # content the v2 inventory does not name
    manifest = inv["manifest"]
    inv["manifest"] = {d: [*paths, *(p.replace("v1/", "v2/", 1) for p in paths)] for d, paths in manifest.items()}
    (obj / "v2" / "inventory.json").write_text(json.dumps(inv), "utf-8")
    assert [s for s in StoreAudit(settings, record=False).run() if s.failed] == []


def test_the_store_audit_checks_the_audit_log_and_anchors_its_head(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """DA/T 92: the audit log is checked at every audit; its head is written outside the database each time, so a
    row changed afterwards is found by the next audit (exit 1), while the store itself is intact."""
    from sqlalchemy import text

    settings = make_home(tmp_path, codes=CODES[:1])
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    ok = CliRunner().invoke(main, ["audit"])
    assert ok.exit_code == 0, ok.output
    assert list(settings.audit_root.glob("anchor-*.json"))
    with Catalogue(settings.db_url).engine.begin() as conn:
        conn.execute(text("UPDATE events SET subject = 'forged' WHERE seq = 1"))
    broken = CliRunner().invoke(main, ["audit"])
    assert broken.exit_code == 1, broken.output
    assert "审计日志 audit log" in broken.output and "0 damaged" in broken.output
