"""DA/T 70 at GD on born-digital cases (办件): every case package is checked before acceptance, as every scan is.

The rules about scans (数字化属性, 档号-0001 page names) depend on what the package says it is (形成方式), not on
file names; the rules still fail a case package for what is wrong with it. Whole cases go through
`guidang ingest` (real LibreOffice, pygfried, clamd); the package-level fixtures build a case's package with the
pipeline's own steps, change one thing in it, and run the GD checks the pipeline runs.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from conftest import corpus
from lxml import etree
from test_cases import GUIDANG, good_case, ingest, ofd, office, write_case

from guidang.config import Settings
from guidang.packaging import aip
from guidang.packaging.eep.export import build_eep
from guidang.packaging.eep.reader import import_eep, write_package
from guidang.packaging.metadata import StorageLocation
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline import cases
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.lookups import CatalogueDbLookups
from guidang.storage.catalogue import Catalogue
from guidang.storage.ocfl_store import OcflStore
from guidang.validators.result import Report, Status

sys.path.insert(0, str(Path(__file__).parent / "data" / "dat70"))
from make_fixtures import EICAR, plain_pdf_bytes, refresh_manifests

PROPERTIES = ("GD-1-", "GD-2-", "GD-3-", "GD-4-")


def small_case() -> dict[str, Path | bytes]:
    """A case without office files (no LibreOffice needed): a PDF to convert, a JPEG, an OFD."""
    return {"决定书.pdf": corpus("ocrmypdf-resources", "link.pdf"), "证照.ofd": ofd(),
            "照片.jpg": corpus("ocrmypdf-resources", "baiona_color.jpg")}  # fmt: skip


def gd_report(settings: Settings, tmp_path: Path, change: Callable[[Path], None] | None = None,
              files: dict[str, Path | bytes] | None = None) -> Report:
    """Read and normalise a case, number it and build its package as the pipeline does, apply ``change`` to the
    package, then run the pipeline's GD checks on it (inside the numbering transaction, as the pipeline)."""
    case = write_case(tmp_path / "BJ-2023-000500", files or small_case(), 办件编号="BJ-2023-000500")
    out = tmp_path / "out"
    out.mkdir()
    profile = settings.profile("demo")
    cat = Catalogue(settings.db_url)
    with open_scanner(settings) as scanner:
        work = cases.process_case(settings, case, out, scanner)
        assert not work.blocked, [r.as_dict() for r in work.results if r.status is Status.FAIL]
        row = work.description.row
        assert row is not None
        with cat.session() as s:
            work.code = cases.archival_code(row, profile, settings, s)
            cat.log(s, cases.AGENT, "case.received", work.code)
            package, meta = cases.build_case_package(settings, profile, work, out / "item", dt.datetime.now(dt.UTC))
            if change is not None:
                change(package)
            return cases.check_case_package(settings, profile, work, package, meta, CatalogueDbLookups(cat, s),
                                            scanner)


def failed(report: Report) -> set[str]:
    return set(report.failed_ids)


def failures(report: Report, check_id: str) -> str:
    """The English messages of the check's failures, joined."""
    return " | ".join(r.message_en for r in report.results if r.check_id == check_id and r.status is Status.FAIL)


def _master(package: Path) -> Path:
    return package / "masters" / "照片.jpg"


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_metadata(package: Path, edit: Callable[[etree._Element], None]) -> None:
    path = package / aip.METADATA_XML
    tree = etree.parse(str(path))
    edit(tree.getroot())
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
    refresh_manifests(package)


def _remove(name: str) -> Callable[[etree._Element], None]:
    def edit(root: etree._Element) -> None:
        for e in [e for e in root.iter() if etree.QName(e).localname == name]:
            e.getparent().remove(e)  # type: ignore[union-attr]

    return edit


# -- whole cases through `guidang ingest` ----------------------------------------------------------------------------
def test_a_good_case_passes_all_four_properties_and_is_accepted(home: Settings, tmp_path: Path) -> None:
    files = good_case()
    [item] = ingest(write_case(tmp_path / "BJ-2023-000123", files))["items"]
    assert item["status"] == "accepted", item["problems"]
    store = OcflStore(home.store_root)
    logical = store.logical_files(item["object"])
    report = json.loads(logical[aip.CHECKS_JSON].read_text("utf-8"))
    assert report["stage"] == "GD"
    results = {r["check"]: r["status"] for r in report["results"]}
    assert all(any(c.startswith(p) for c in results) for p in PROPERTIES)  # every property was checked
    assert not [c for c, st in results.items() if st == "fail"], results
    for check in ("GD-1-1", "GD-1-13", "GD-2-3", "GD-2-4", "GD-2-6", "GD-2-11", "GD-3-3", "GD-4-2"):
        assert results[check] in ("pass", "warn"), (check, results[check])
    metadata = logical[aip.METADATA_XML].read_text("utf-8")
    assert "<形成方式>原生电子</形成方式>" in metadata and "数字化属性" not in metadata
    assert "四性检测" in metadata  # the checks are in the process history, as for scans


def test_an_ofd_only_case_keeps_its_ofd_as_the_preservation_copy(home: Settings, tmp_path: Path) -> None:
    [item] = ingest(write_case(tmp_path / "BJ-2023-000321", {"证照.ofd": ofd("准予许可决定")},
                               办件编号="BJ-2023-000321"))["items"]  # fmt: skip
    assert item["status"] == "accepted", item["problems"]
    code = item["object"]
    logical = OcflStore(home.store_root).logical_files(code)
    # the OFD itself is the preservation copy, byte for byte the delivered original
    assert logical[f"content/{code}.ofd"].read_bytes() == logical["masters/证照.ofd"].read_bytes()
    assert f"content/{code}.pdf" not in logical
    assert "准予许可决定" in logical[f"content/{code}.txt"].read_text("utf-8")  # its text, for search
    checks = json.loads(logical[aip.CHECKS_JSON].read_text("utf-8"))["results"]
    assert not [r for r in checks if r["status"] == "fail"]
    # an audit of the store (BC) reads it as any other object: only what this test home lacks fails (no backup
    # configured, 3-9; clamd with test signatures only, 4-2)
    run = subprocess.run([GUIDANG, "check", str(home.store_root), "--stage", "BC", "--format", "json"],
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert _failed_in(json.loads(run.stdout)) == {"BC-3-9", "BC-4-2"}, run.stderr
    # and it travels as a DA/T 48 EEP (transfer): built (with the offline carrier DA/T 48 requires), imported
    # and rebuilt as a package that verifies
    meta = from_xml(logical[aip.METADATA_XML].read_bytes())
    meta = meta.model_copy(update={"record": meta.record.model_copy(
        update={"storage": StorageLocation(offline_ids=("光盘-0001",))})})  # fmt: skip
    files = {rel: p.read_bytes() for rel, p in logical.items() if rel not in aip.TAG_FILES}
    eep = tmp_path / "eep.xml"
    eep.write_bytes(build_eep(code=code, metadata=meta, files=files, creator_unit="示例市政务服务中心"))
    rebuilt = write_package(import_eep(eep), tmp_path / "rebuilt")
    assert aip.verify_package(rebuilt.root) == [] and (rebuilt.root / "content" / f"{code}.ofd").is_file()


def _failed_in(data: object) -> set[str]:
    """The check ids of every failed result anywhere in a `guidang check --format json` answer."""
    if isinstance(data, dict):
        own = {str(data["check"])} if data.get("status") == "fail" and "check" in data else set()
        return own.union(*(_failed_in(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(_failed_in(v) for v in data))
    return set()


def test_a_case_of_several_ofds_and_nothing_else_goes_to_review(home: Settings, tmp_path: Path) -> None:
    files: dict[str, Path | bytes] = {"证照.ofd": ofd(), "决定书.ofd": ofd("决定")}
    [item] = ingest(write_case(tmp_path / "BJ-2023-000322", files, 办件编号="BJ-2023-000322"))["items"]
    assert item["status"] == "rejected" and item["failed_checks"] == ["CASE-NORMALISE", "GD-3-5"]  # case.toml maps it
    assert "2 OFDs" in " ".join(p["message_en"] for p in item["problems"])


def test_GD_3_3_an_original_in_a_format_without_a_published_specification(home: Settings, tmp_path: Path) -> None:
    """Word 2.0 converts to a good PDF/A, but the original kept beside it is not an accepted original format."""
    files: dict[str, Path | bytes] = {"旧文件.doc": office("Old Word file", "NEWSSLID.DOC"), "证照.ofd": ofd()}
    [item] = ingest(write_case(tmp_path / "BJ-2023-000401", files, 办件编号="BJ-2023-000401"))["items"]
    assert item["status"] == "rejected" and item["object"] is None
    assert item["failed_checks"] == ["GD-3-3"]
    [problem] = [p for p in item["problems"] if p["check"] == "GD-3-3"]
    assert "旧文件.doc" in problem["message_zh"] and "fmt/38" in problem["message_en"]
    kept = Path(item["rejected_path"]) / "delivered"
    assert (kept / "旧文件.doc").read_bytes() == office("Old Word file", "NEWSSLID.DOC").read_bytes()
    assert not item["id"].startswith("Z109")  # the number allocated for it was rolled back


def test_GD_4_2_a_virus_in_a_case(home: Settings, tmp_path: Path) -> None:
    files: dict[str, Path | bytes] = {"附件.txt": EICAR, "证照.ofd": ofd()}
    [item] = ingest(write_case(tmp_path / "BJ-2023-000402", files, 办件编号="BJ-2023-000402"))["items"]
    assert item["status"] == "rejected" and item["failed_checks"] == ["GD-4-2"]
    assert (Path(item["rejected_path"]) / "delivered" / "附件.txt").read_bytes() == EICAR


# -- the package of a case, changed after packaging --------------------------------------------------------------------
def test_the_package_of_a_good_case_passes(home: Settings, tmp_path: Path) -> None:
    report = gd_report(home, tmp_path)
    assert report.accepted and not failed(report)


def test_GD_1_1_a_master_tampered_after_packaging(home: Settings, tmp_path: Path) -> None:
    report = gd_report(home, tmp_path, lambda p: _flip_byte(_master(p)))
    assert failed(report) == {"GD-1-1", "GD-1-14"}


def test_GD_1_14_a_master_replaced_with_its_manifests_rewritten(home: Settings, tmp_path: Path) -> None:
    """The package agrees with itself; only what intake measured before any processing shows the change."""

    def replace(package: Path) -> None:
        _flip_byte(_master(package))
        refresh_manifests(package)

    report = gd_report(home, tmp_path, replace)
    assert failed(report) == {"GD-1-14"}


def test_GD_1_1_a_master_missing_from_the_manifests(home: Settings, tmp_path: Path) -> None:
    def drop(package: Path) -> None:
        for manifest in package.glob("manifest-*.txt"):
            lines = manifest.read_text("utf-8").splitlines(keepends=True)
            manifest.write_text("".join(x for x in lines if "照片.jpg" not in x), "utf-8")

    report = gd_report(home, tmp_path, drop)
    assert failed(report) == {"GD-1-1"}


def test_GD_2_3_a_born_digital_record_without_its_system(home: Settings, tmp_path: Path) -> None:
    report = gd_report(home, tmp_path, lambda p: _edit_metadata(p, _remove("信息系统描述")))
    assert failed(report) == {"GD-2-3"}
    assert any("信息系统描述" in r.message_zh for r in report.results if r.check_id == "GD-2-3")


def test_GD_2_3_a_package_that_does_not_say_it_is_born_digital_is_held_to_the_scan_rules(
    home: Settings, tmp_path: Path
) -> None:
    report = gd_report(home, tmp_path, lambda p: _edit_metadata(p, _remove("形成方式")))
    assert failed(report) == {"GD-2-3", "GD-2-6"}
    assert "扫描分辨率" in failures(report, "GD-2-3") and "no sequence number" in failures(report, "GD-2-6")


def test_GD_3_3_a_preservation_copy_that_is_not_pdfa(home: Settings, tmp_path: Path) -> None:
    def swap(package: Path) -> None:
        [pdf] = (package / "content").glob("*.pdf")
        pdf.write_bytes(plain_pdf_bytes())
        refresh_manifests(package)

    report = gd_report(home, tmp_path, swap)
    assert failed(report) == {"GD-3-3", "GD-1-10"}  # 1-10: not the size the metadata recorded either
    assert "not a conforming PDF/A-2b" in failures(report, "GD-3-3")


def test_GD_3_3_an_ofd_preservation_copy_that_is_broken(home: Settings, tmp_path: Path) -> None:
    def break_ofd(package: Path) -> None:
        [copy] = (package / "content").glob("*.ofd")
        copy.write_bytes(ofd()[:-40])
        refresh_manifests(package)

    report = gd_report(home, tmp_path, break_ofd, files={"证照.ofd": ofd()})
    # 1-1: its fixity information (seal digests) cannot be read; 1-10: not the size the metadata recorded
    assert failed(report) == {"GD-3-3", "GD-1-1", "GD-1-10"} and "not a sound OFD" in failures(report, "GD-3-3")


def test_a_case_without_words_has_an_empty_text_and_is_accepted(home: Settings, tmp_path: Path) -> None:
    """A photograph with nothing written on it gives an empty text file: 3-3 says so (a warning), 1-5 takes the
    size 0 it declares, and 1-10 still holds it to the file's real size."""
    from PIL import Image

    photo = tmp_path / "空白.png"
    Image.new("RGB", (600, 400), (200, 220, 240)).save(photo, dpi=(150, 150))
    report = gd_report(home, tmp_path, files={"照片.png": photo})
    assert failed(report) == set(), [r.message_en for r in report.results if r.status is Status.FAIL]
    empty = [r for r in report.results if r.check_id == "GD-3-3" and r.status is Status.WARN]
    assert empty and "empty" in empty[0].message_en
