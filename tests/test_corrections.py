"""Metadata corrections (pipeline.corrections): a new OCFL version, history append-only, the 档号 fixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_aip_support import CODE, make_package
from test_ocfl_store import _assert_valid

from guidang.errors import InputError
from guidang.packaging import aip
from guidang.packaging.metadata_xml import from_xml, to_xml
from guidang.packaging.ocfl_package import checkout_package, store_package, verify_object
from guidang.pipeline.corrections import correct_metadata
from guidang.storage.ocfl_store import OcflStore


def test_metadata_correction_is_a_new_version_with_history(tmp_path: Path) -> None:
    store = OcflStore(tmp_path / "store")
    pkg = make_package(tmp_path)
    store_package(store, pkg.root)
    v1_xml = store.read_file(CODE, aip.METADATA_XML)
    current = from_xml(v1_xml)
    fixed = current.model_copy(
        update={
            "record": current.record.model_copy(
                update={"content": current.record.content.model_copy(update={"creators": ("李四",)})}
            )
        }
    )
    v2 = correct_metadata(store, CODE, to_xml(fixed), agent="王档案员", reason="责任者录入错误")
    assert v2.version == "v2"
    obj = store.object_path(CODE)
    # v1 untouched; v2 holds only what changed
    assert store.read_file(CODE, aip.METADATA_XML, "v1") == v1_xml
    stored = from_xml(store.read_file(CODE, aip.METADATA_XML))
    assert stored.record.content.creators == ("李四",)
    assert [e.action for e in stored.events] == ["接收", "修改"]
    assert stored.events[-1].agent == "王档案员" and stored.events[-1].description == "责任者录入错误"
    v2_files = {p.relative_to(obj / "v2/content").as_posix() for p in (obj / "v2/content").rglob("*") if p.is_file()}
    assert v2_files == {aip.METADATA_XML, *aip.TAG_FILES}
    versions = store.versions(CODE)
    assert [v.version for v in versions] == ["v1", "v2"] and "责任者录入错误" in versions[1].message
    assert versions[1].user == "王档案员"
    _assert_valid(store)
    assert verify_object(store, CODE) == [] and verify_object(store, CODE, "v1") == []
    # the checked-out v2 is a package that verifies
    out = checkout_package(store, CODE, tmp_path / "out")
    assert aip.verify_package(out.root) == [] and out.package_digest == v2.package_digest
    with pytest.raises(InputError, match="equals"):
        correct_metadata(store, CODE, stored, agent="x", reason="same again")
    with pytest.raises(InputError, match="append-only"):
        correct_metadata(store, CODE, fixed, agent="x", reason="drops the 修改 event")
    with pytest.raises(InputError):
        correct_metadata(store, CODE, b"<not-xml", agent="x", reason="broken")
    assert [v.version for v in store.versions(CODE)] == ["v1", "v2"]
