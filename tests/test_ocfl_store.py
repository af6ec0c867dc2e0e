"""The OCFL store: 档号 layout, ocfl-py validation, no overwrite, versions, crash safety."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from ocfl.storage_root import StorageRoot
from test_aip_support import CODE, make_package

from guidang.errors import InputError, StorageError
from guidang.packaging import aip
from guidang.packaging.archival_code import builtin_rule, parse
from guidang.packaging.metadata_xml import from_xml
from guidang.packaging.ocfl_package import add_package_version, store_package, verify_object
from guidang.pipeline.corrections import correct_metadata
from guidang.storage.ocfl_store import (
    LAYOUT_NAME,
    ObjectExistsError,
    OcflStore,
    identifier_to_path,
)


def _assert_valid(store: OcflStore) -> None:
    result = store.validate(check_digests=True)
    assert result.valid, result.messages
    errors = [m for m in result.messages if "[E" in m or " E0" in m]
    assert not errors, errors


def test_layout_paths_follow_the_archival_code_levels() -> None:
    assert identifier_to_path("Z109-WS·2011-Y-BGS-0001") == "Z109/WS·2011/Y/BGS/Z109-WS·2011-Y-BGS-0001"
    assert identifier_to_path("Z109-WS·2011·Y·办公室-0001") == "Z109/WS·2011·Y·办公室/Z109-WS·2011·Y·办公室-0001"
    assert identifier_to_path("A/B-.x-1") == "A%2FB/%2Ex/A%2FB-.x-1"
    with pytest.raises(InputError):
        identifier_to_path("Z109--0001")


@pytest.mark.parametrize(
    "rule,code",
    [
        ("dat22", "Z109-WS·2011-Y-BGS-0001"),
        ("dat13", "Z109-WS·2011·Y·办公室-0001"),
        ("dat13-volume", "J019-ZY·JC·CC·2019·D30-001-001"),
    ],
)
def test_layout_agrees_with_the_archival_code_engine(rule: str, code: str) -> None:
    parsed = parse(code, builtin_rule(rule))
    assert identifier_to_path(str(parsed)).split("/") == [*parsed.path_segments(), str(parsed)]


def test_add_builds_a_valid_browsable_store(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    store = OcflStore(tmp_path / "store")
    stored = store_package(store, pkg.root, CODE, agent="guidang-test")
    obj = tmp_path / "store/Z109/WS·2011/Y/BGS" / CODE
    assert stored.path == obj and stored.version == "v1" and stored.package_digest == pkg.package_digest
    # browsable without guidang: real file names under v1/content
    assert (obj / "v1/content/content" / f"{CODE}.pdf").read_bytes() == pkg.path(pkg.pdf).read_bytes()
    assert (obj / "v1/content/masters" / f"{CODE}-0001.tif").is_file()
    inv = json.loads((obj / "inventory.json").read_text())
    assert inv["id"] == CODE and inv["digestAlgorithm"] == "sha256"
    # the inventory reuses the package's SHA-256 (hash once)
    manifest = {p: d for d, ps in inv["manifest"].items() for p in ps}
    assert manifest[f"v1/content/content/{CODE}.pdf"] == pkg.files[pkg.pdf].sha256
    root_files = {p.name for p in (tmp_path / "store").iterdir()}
    assert {"0=ocfl_1.1", "ocfl_layout.json", f"{LAYOUT_NAME}.md", "extensions"} <= root_files
    config = json.loads((tmp_path / "store/extensions" / LAYOUT_NAME / "config.json").read_text())
    assert config == {"extensionName": LAYOUT_NAME, "levelSeparator": "-"}
    _assert_valid(store)
    # ocfl-py alone (not our wrapper) resolves the id to the same path through the layout extension
    assert StorageRoot(root=str(tmp_path / "store")).object_path(CODE) == f"Z109/WS·2011/Y/BGS/{CODE}"
    assert list(store.list_codes()) == [CODE]
    assert verify_object(store, CODE) == []


def test_existing_object_is_never_overwritten(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    store_package(store, make_package(tmp_path).root)
    before = (store.object_path(CODE) / "inventory.json").read_bytes()
    other = make_package(tmp_path, name="other")
    (other.root / "metadata").joinpath("x")  # a different package with the same 档号
    with pytest.raises(ObjectExistsError):
        store_package(store, other.root, CODE)
    assert (store.object_path(CODE) / "inventory.json").read_bytes() == before
    assert list(store.staging.iterdir()) == []


def test_code_must_match_the_package(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    with pytest.raises(InputError, match="differs"):
        store_package(store, make_package(tmp_path).root, "Z109-WS·2011-Y-BGS-0002")


def test_explicit_new_version_from_a_package(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    store_package(store, make_package(tmp_path).root)
    pkg = make_package(tmp_path, name="redo")
    aip.add_checks_report(pkg.root, {"results": []})
    v2 = add_package_version(store, CODE, pkg.root, agent="guidang", message="补充检测报告")
    assert v2.version == "v2"
    obj = store.object_path(CODE)
    assert not (obj / "v2/content/masters").exists()  # unchanged masters are not stored twice
    _assert_valid(store)


def test_interrupted_version_commit_is_rolled_forward(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    store_package(store, make_package(tmp_path).root)
    obj = store.object_path(CODE)
    v1_inventory = (obj / "inventory.json").read_bytes()
    v1_sidecar = (obj / "inventory.json.sha256").read_bytes()
    meta = from_xml(store.read_file(CODE, aip.METADATA_XML))
    meta = meta.model_copy(update={"record": meta.record.model_copy(update={"notes": ("补注",)})})
    correct_metadata(store, CODE, meta, agent="a", reason="补附注")
    # simulate a crash after the version directory was renamed in, before the root inventory was replaced
    (obj / "inventory.json").write_bytes(v1_inventory)
    (obj / "inventory.json.sha256").write_bytes(v1_sidecar)
    assert store.inventory(CODE)["head"] == "v2"
    _assert_valid(store)


def test_half_written_object_is_never_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = OcflStore(tmp_path / "store")
    pkg = make_package(tmp_path)

    def boom(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(OcflStore, "_check_staged", boom)
    with pytest.raises(OSError):
        store_package(store, pkg.root)
    assert not store.exists(CODE) and not store.object_path(CODE).exists()
    assert list(store.staging.iterdir()) == []
    monkeypatch.undo()
    store_package(store, pkg.root)
    _assert_valid(store)


def test_failed_rename_leaves_no_empty_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = OcflStore(tmp_path / "store")
    real = os.rename

    def failing(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(dst) == store.object_path(CODE):
            raise OSError(18, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(StorageError, match="cannot move"):
        store_package(store, make_package(tmp_path).root)
    monkeypatch.undo()
    assert not (tmp_path / "store" / "Z109").exists()
    _assert_valid(store)


def test_changed_package_file_is_refused_on_copy_in(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    pkg = make_package(tmp_path)
    m = pkg.path(pkg.masters[0])
    m.write_bytes(m.read_bytes()[:-1] + b"\x00")
    with pytest.raises(StorageError, match="changed after packaging"):
        store_package(store, pkg.root)
    assert not store.exists(CODE)


def test_tampering_in_the_store_is_found(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    store_package(store, make_package(tmp_path).root)
    f = store.logical_files(CODE)[f"content/{CODE}.txt"]
    os.chmod(f, 0o644)
    f.write_text("篡改", encoding="utf-8")
    problems = verify_object(store, CODE)
    assert {(p.path, p.algorithm) for p in problems} == {
        (f"content/{CODE}.txt", "sha256"),
        (f"content/{CODE}.txt", "sm3"),
    }
    assert not store.validate().valid


def test_move_consumes_the_package(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    pkg = make_package(tmp_path)
    store_package(store, pkg.root, move=True)
    assert not pkg.path(pkg.pdf).exists()
    _assert_valid(store)


def test_non_store_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    with pytest.raises(StorageError):
        OcflStore(tmp_path / "junk")
    with pytest.raises(StorageError):
        OcflStore(tmp_path / "absent", create=False)
    shutil.rmtree(tmp_path / "junk")


def test_clean_staging_removes_only_old_leftovers(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    old, fresh = store.staging / "obj-old", store.staging / "obj-fresh"
    for d in (old, fresh):
        (d / "v1").mkdir(parents=True)
    os.utime(old, (0, 0))
    assert store.clean_staging(older_than_seconds=3600) == [old]
    assert fresh.exists() and not old.exists()
    _assert_valid(store)
