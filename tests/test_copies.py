"""The copies of the store: the second root kept in step, repair from the good copy, offline carriers with
their 脱机载体编号 (so that an EEP can be exported), the restore test, destruction into the register."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from preservation_support import CODES, make_home
from sqlalchemy import select
from test_eep import corpus

from guidang.cli import main
from guidang.errors import InputError, StorageError
from guidang.packaging import aip
from guidang.packaging.eep.export import export_eep
from guidang.packaging.eep.verify import verify_eep
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline.audit import StoreAudit
from guidang.pipeline.copies import backup_to_carrier, repair, replicate, restore_test
from guidang.pipeline.destruction import destroy
from guidang.storage.catalogue import Catalogue, EventRow
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.preservation import DestructionRow
from guidang.validators.result import Status


def _replicated(tmp_path: Path, codes: tuple[str, ...] = CODES[:3]) -> tuple[object, OcflStore, OcflStore]:
    settings = make_home(tmp_path, replica=True, codes=codes)
    for code in codes:
        assert replicate(settings, code) is not None
    return settings, OcflStore(settings.store_root), OcflStore(tmp_path / "replica")


def _pdf(store: OcflStore, code: str) -> Path:
    return next((store.object_path(code) / "v1" / "content").rglob("*.pdf"))


def test_the_audit_compares_both_copies_and_repair_restores_the_damaged_one(tmp_path: Path) -> None:
    settings, first, second = _replicated(tmp_path)
    audit = StoreAudit(settings)  # type: ignore[arg-type]
    subjects = list(audit.run())
    assert audit.totals.damaged == 0
    assert all(any(r.check_id == "STORE-REPLICA" and r.status is Status.PASS for r in s.report.results)
               for s in subjects)
    good = _pdf(second, CODES[0]).read_bytes()
    rotted = bytearray(good)
    rotted[50] ^= 0xFF
    _pdf(second, CODES[0]).write_bytes(bytes(rotted))  # bit rot in the second copy
    _pdf(first, CODES[1]).unlink()  # a lost file in the first
    audit = StoreAudit(settings)  # type: ignore[arg-type]
    damaged = {s.path.rsplit("#", 1)[1]: s for s in audit.run() if s.failed}
    assert set(damaged) == {CODES[0], CODES[1]}
    assert any(r.check_id == "STORE-REPLICA" and "damaged" in r.message_en for r in damaged[CODES[0]].report.results)

    out = repair(settings, CODES[0], "tester")  # type: ignore[arg-type]
    assert out.repaired == str(second.root) and _pdf(second, CODES[0]).read_bytes() == good
    out = repair(settings, CODES[1], "tester")  # type: ignore[arg-type]
    assert out.repaired == str(first.root) and _pdf(first, CODES[1]).read_bytes() == _pdf(second, CODES[1]).read_bytes()
    assert [s for s in StoreAudit(settings).run() if s.failed] == []  # type: ignore[arg-type]
    assert repair(settings, CODES[2]).repaired is None  # type: ignore[arg-type]
    with Catalogue(settings.db_url).session() as s:  # type: ignore[attr-defined]
        events = list(s.scalars(select(EventRow).where(EventRow.action == "object.repaired")))
        assert [e.subject for e in events] == [CODES[0], CODES[1]] and events[0].agent == "tester"


def test_repair_refuses_when_both_copies_are_damaged(tmp_path: Path) -> None:
    settings, first, second = _replicated(tmp_path, CODES[:1])
    for store in (first, second):
        _pdf(store, CODES[0]).write_bytes(b"rot")
    with pytest.raises(StorageError, match="offline carrier"):
        repair(settings, CODES[0])  # type: ignore[arg-type]


def test_a_backed_up_record_exports_an_eep_that_validates(tmp_path: Path) -> None:
    settings = make_home(tmp_path, codes=CODES[:2])
    store = OcflStore(settings.store_root)
    carrier = tmp_path / "disc-0001"
    out = backup_to_carrier(settings, "GD-2026-光盘-0001", carrier, location="档案库房 3 号柜")
    assert out.written == CODES[:2] and out.registered == CODES[:2]
    meta = from_xml(store.read_file(CODES[0], aip.METADATA_XML))
    assert meta.record.storage is not None
    assert meta.record.storage.offline_ids == ("GD-2026-光盘-0001",)
    assert meta.record.storage.offline_locations == ("档案库房 3 号柜",)
    assert [v.version for v in store.versions(CODES[0])] == ["v1", "v2"]
    assert OcflStore(carrier).versions(CODES[0])[-1].version == "v2"  # the carrier holds the version naming it
    eep = export_eep(store, CODES[0], tmp_path / "eep.xml")
    schema = etree.XMLSchema(etree.parse(str(corpus("dat48") / "eep-dat48-2009.xsd")))
    doc = etree.parse(str(eep))
    assert schema.validate(doc), schema.error_log
    assert "GD-2026-光盘-0001" in eep.read_text("utf-8")
    assert verify_eep(eep, require_signature=False).valid
    again = backup_to_carrier(settings, "GD-2026-光盘-0001", carrier, location="档案库房 3 号柜")
    assert again.registered == ()  # registered once


def test_restore_test_finds_a_damaged_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_home(tmp_path, codes=CODES[:2])
    carrier = tmp_path / "tape"
    backup_to_carrier(settings, "T1", carrier)
    good = restore_test(settings, "T1", carrier, percent=100)
    assert [s.failed for s in good] == [False, False]
    assert all(s.report.results[0].check_id == "STORE-CARRIER" and "BC-3-9" in s.report.results[0].dat70
               for s in good)
    on_carrier = OcflStore(carrier)
    victim = next(p for p in (on_carrier.object_path(CODES[1]) / "v1" / "content").rglob("*.tif"))
    victim.write_bytes(victim.read_bytes()[:-10])  # truncated on the carrier
    bad = restore_test(settings, "T1", carrier, percent=100)
    assert [s.failed for s in bad] == [False, True]
    assert "cannot be restored intact" in bad[1].report.results[0].message_en
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    cli = CliRunner().invoke(main, ["restore-test", str(carrier), "--carrier", "T1", "--sample", "100"])
    assert cli.exit_code == 1 and "STORE-CARRIER" in cli.output


def test_destruction_moves_the_record_to_the_register_and_leaves_the_audit_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ten_years = "Z109-WS·2011-D10-BGS-0001"
    settings = make_home(tmp_path, replica=True, codes=(CODES[0], ten_years))
    for code in (CODES[0], ten_years):
        replicate(settings, code)
    with pytest.raises(InputError, match="permanently"):
        destroy(settings, CODES[0], decision="鉴定〔2026〕1号", agent="a")
    from guidang.pipeline.access import Viewer
    from guidang.pipeline.indexing import index_object
    from guidang.pipeline.search import open_record

    cat = Catalogue(settings.db_url)
    index_object(cat, OcflStore(settings.store_root), ten_years)  # found by search (查阅利用) until destroyed
    everyone = Viewer("auditor", clearance="绝密", every_control=True)
    assert open_record(cat, everyone, ten_years) is not None
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    done = CliRunner().invoke(main, ["destroy", ten_years, "--decision", "鉴定〔2026〕1号", "--agent", "王五", "--yes"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["destroyed"] == ten_years
    assert not OcflStore(settings.store_root).exists(ten_years)
    assert not OcflStore(tmp_path / "replica").exists(ten_years)
    with Catalogue(settings.db_url).session() as s:
        [row] = s.scalars(select(DestructionRow))
        assert row.archival_code == ten_years and row.agent == "王五" and row.retention == "定期10年"
        assert "<题名>" in row.metadata_xml and row.inventory["id"] == ten_years
        assert s.scalars(select(EventRow).where(EventRow.action == "object.destroyed")).one().subject == ten_years
    assert open_record(cat, everyone, ten_years) is None  # out of the search index too
    audit = StoreAudit(settings)
    assert [s for s in audit.run() if s.failed] == [] and audit.totals.objects == 1
    assert OcflStore(settings.store_root).validate().valid
    shutil.rmtree(tmp_path / "pkgs")


def test_db_rebuild_restores_the_catalogue_from_the_store_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from guidang.storage.catalogue import FileRow, ItemRow

    settings = make_home(tmp_path, codes=CODES[:3])
    carrier = tmp_path / "disc"
    backup_to_carrier(settings, "D1", carrier)
    [snapshot] = (carrier / "extensions").rglob("catalogue-*.sqlite")
    with sqlite3.connect(snapshot) as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (3,)
    with Catalogue(settings.db_url).session() as s:
        before = {(i.archival_code, f.relpath, f.sha256, f.sm3, f.size)
                  for i in s.scalars(select(ItemRow)) for f in i.files}
    db_file = Path(settings.db_url.removeprefix("sqlite:///"))
    for p in db_file.parent.glob(db_file.name + "*"):
        p.unlink()  # the catalogue is lost
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    done = CliRunner().invoke(main, ["db", "rebuild"])
    assert done.exit_code == 0, done.output
    with Catalogue(settings.db_url).session() as s:
        items = list(s.scalars(select(ItemRow)))
        assert sorted(i.archival_code for i in items) == list(CODES[:3])
        assert all(i.object_id == i.archival_code and i.status == "accepted" and i.title for i in items)
        rebuilt = {(i.archival_code, f.relpath, f.sha256, f.sm3, f.size) for i in items for f in i.files}
        assert len(list(s.scalars(select(FileRow)))) == len(rebuilt)
    assert before == set() and len(rebuilt) == 5 * 3  # make_home registered no files; the store knows them all
    store = OcflStore(settings.store_root)
    assert all(store.head_state(code)[rel] == sha for code, rel, sha, _sm3, _size in rebuilt)
    again = CliRunner().invoke(main, ["db", "rebuild"])
    assert again.exit_code == 2 and "不会覆盖" in again.output
    audit = StoreAudit(settings)
    assert [s for s in audit.run() if s.failed] == []


def test_a_full_audit_restores_the_second_copy_for_bc_3_9(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings, _first, second = _replicated(tmp_path, CODES[:1])
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))  # type: ignore[attr-defined]
    done = CliRunner().invoke(main, ["audit", "--full", "--format", "json"])
    results = [r for s in json.loads(done.output)["objects"]["subjects"] for r in s["results"]]
    assert [r["status"] for r in results if r["check"] == "BC-3-9"] == ["pass"]
    _pdf(second, CODES[0]).write_bytes(b"rot")
    done = CliRunner().invoke(main, ["audit", "--full", "--format", "json"])
    results = [r for s in json.loads(done.output)["objects"]["subjects"] for r in s["results"]]
    assert "fail" in [r["status"] for r in results if r["check"] == "BC-3-9"]
    assert "fail" in [r["status"] for r in results if r["check"] == "STORE-REPLICA"]


def test_the_archive_step_keeps_the_second_copy_in_step(tmp_path: Path) -> None:
    from test_aip_support import make_package

    from guidang.models import CatalogueRow, Item
    from guidang.pipeline.steps import ItemWork, archive

    settings = make_home(tmp_path, replica=True, codes=())
    code = "Z109-WS·2011-Y-BGS-0042"
    pkg = make_package(tmp_path / "new", code)
    item = Item(row=CatalogueRow(row=1, archival_code=code, title="t"), folder=None)
    _work, stored, files = archive(settings, ItemWork(item, package_dir=pkg.root))
    assert stored == code and files
    replica = OcflStore(tmp_path / "replica")
    assert replica.exists(code) and replica.head_state(code) == OcflStore(settings.store_root).head_state(code)
    shutil.rmtree(replica.object_path(code))
    archive(settings, ItemWork(item, package_dir=pkg.root))  # an ingest resumed: the object adopted, copied again
    assert replica.exists(code)


def test_an_object_lost_from_the_first_root_is_found_and_restored_from_the_second(tmp_path: Path) -> None:
    settings, first, _second = _replicated(tmp_path, CODES[:2])
    shutil.rmtree(first.object_path(CODES[1]))
    audit = StoreAudit(settings)  # type: ignore[arg-type]
    [lost] = [s for s in audit.run() if s.failed]
    assert {r.check_id for r in lost.report.results} == {"STORE-FILES", "STORE-REPLICA"}
    assert any("only in the second copy" in r.message_en for r in lost.report.results)
    out = repair(settings, CODES[1])  # type: ignore[arg-type]
    assert out.repaired == str(first.root) and first.exists(CODES[1])
    assert [s for s in StoreAudit(settings).run() if s.failed] == []  # type: ignore[arg-type]


def test_bad_input_to_the_preservation_commands_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_home(tmp_path, replica=True, codes=CODES[:1])
    monkeypatch.setenv("GUIDANG_HOME", str(settings.home))
    runner = CliRunner()
    bad_id = runner.invoke(main, ["backup", "--carrier", "../x", str(tmp_path / "c")])
    assert bad_id.exit_code == 2 and "载体编号不可用" in bad_id.output
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "someone-elses.txt").write_text("x")
    not_a_carrier = runner.invoke(main, ["backup", "--carrier", "D2", str(busy)])
    assert not_a_carrier.exit_code != 0 and "不是 OCFL 存储根" in not_a_carrier.output
    assert (busy / "someone-elses.txt").read_text() == "x"
    unknown = runner.invoke(main, ["repair", "Z109-WS·2011-Y-BGS-0999"])
    assert unknown.exit_code == 2 and "都没有对象" in unknown.output
    traversal = runner.invoke(main, ["destroy", "../../etc", "--decision", "x", "--yes"])
    assert traversal.exit_code == 2 and settings.store_root.is_dir()
    no_decision = runner.invoke(main, ["destroy", CODES[0], "--decision", " ", "--yes"])
    assert no_decision.exit_code == 2 and OcflStore(settings.store_root).exists(CODES[0])
