"""The archival package: layout, manifests (hash once), package digest, verification, check report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_aip_support import CODE, make_package, sources

from guidang.models import PageFile
from guidang.packaging import aip
from guidang.packaging.aip import PackageError, build_package, read_package, verify_package
from guidang.packaging.fixity import digest_bytes, digest_file


def test_layout_and_manifests(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    root = pkg.root
    expected = {
        f"content/{CODE}.pdf",
        f"content/{CODE}.txt",
        f"masters/{CODE}-0001.tif",
        f"masters/{CODE}-0002.tif",
        "metadata/metadata.xml",
    }
    assert set(pkg.files) == expected
    assert pkg.code == CODE and pkg.pdf == f"content/{CODE}.pdf"
    for rel, d in pkg.files.items():
        data = (root / rel).read_bytes()
        assert d.sha256 == hashlib.sha256(data).hexdigest() and d.sm3 == hashlib.new("sm3", data).hexdigest()
        assert d.size == len(data)
    # BagIt form, sorted, and the package digest is the digest of the manifest
    for alg in ("sha256", "sm3"):
        text = (root / f"manifest-{alg}.txt").read_text("utf-8")
        lines = text.splitlines()
        assert [ln.split("  ", 1)[1] for ln in lines] == sorted(expected, key=lambda p: p.encode())
        assert pkg.package_digest[alg] == hashlib.new(alg, text.encode()).hexdigest()
        tag = (root / f"tagmanifest-{alg}.txt").read_text()
        assert f"{pkg.package_digest[alg]}  manifest-{alg}.txt" in tag
    assert verify_package(root) == []
    assert not list(tmp_path.glob(".pkg.*"))  # no leftover build directory


def test_intake_digests_are_carried_not_recomputed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = sources(tmp_path / "src")
    d = digest_file(src["m1"])
    page = PageFile(path=src["m1"], relpath="x/" + src["m1"].name, size=d.size, sha256=d.sha256, sm3=d.sm3)
    hashed: list[str] = []
    real = aip.copy_with_digests

    def spy(a: object, b: object) -> object:
        hashed.append(Path(str(a)).name)
        return real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(aip, "copy_with_digests", spy)
    pkg = build_package(
        tmp_path / "p",
        code=CODE,
        pdf=src["pdf"],
        text=src["text"],
        masters=[page, src["m2"]],
        metadata_xml=b"<x/>",
    )
    assert src["m1"].name not in hashed and src["m2"].name in hashed
    assert pkg.files[f"masters/{src['m1'].name}"] == d


def test_stale_intake_digest_is_refused(tmp_path: Path) -> None:
    src = sources(tmp_path / "src")
    d = digest_file(src["m1"])
    page = PageFile(path=src["m1"], relpath=src["m1"].name, size=d.size + 1, sha256=d.sha256, sm3=d.sm3)
    with pytest.raises(PackageError, match="changed since intake"):
        build_package(
            tmp_path / "p",
            code=CODE,
            pdf=src["pdf"],
            text=src["text"],
            masters=[page],
            metadata_xml=b"<x/>",
        )
    assert not (tmp_path / "p").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".p.")]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    src = sources(tmp_path / "src")
    kw = dict(pdf=src["pdf"], text=src["text"], masters=[src["m1"]], metadata_xml=b"<x/>")
    with pytest.raises(PackageError, match="duplicate master"):
        build_package(tmp_path / "a", code=CODE, **{**kw, "masters": [src["m1"], src["m1"]]})  # type: ignore[arg-type]
    with pytest.raises(PackageError, match="not UTF-8"):
        build_package(tmp_path / "b", code=CODE, **{**kw, "text": "关于".encode("gb18030")})  # type: ignore[arg-type]
    with pytest.raises(PackageError, match="unusable"):
        build_package(tmp_path / "c", code="a/b", **kw)  # type: ignore[arg-type]
    make_package(tmp_path)
    with pytest.raises(PackageError, match="already exists"):
        make_package(tmp_path)
    with pytest.raises(PackageError, match="lacks its manifest"):
        read_package(src["pdf"].parent)


def test_verify_names_every_changed_missing_and_unlisted_file(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    root = pkg.root
    m1 = root / f"masters/{CODE}-0001.tif"
    data = bytearray(m1.read_bytes())
    data[100] ^= 1  # one bit, same size
    m1.write_bytes(bytes(data))
    (root / "content" / f"{CODE}.txt").unlink()
    (root / "masters" / "extra.tif").write_bytes(b"x")
    problems = verify_package(root)
    kinds = {(p.problem, p.path, p.algorithm) for p in problems}
    assert ("digest", f"masters/{CODE}-0001.tif", "sm3") in kinds
    assert ("digest", f"masters/{CODE}-0001.tif", "sha256") in kinds
    assert ("missing", f"content/{CODE}.txt", None) in kinds
    assert ("unlisted", "masters/extra.tif", None) in kinds
    assert all(p.message("zh") and p.message("en") for p in problems)


def test_tampered_manifest_is_caught_by_the_tag_manifest(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    man = pkg.root / "manifest-sm3.txt"
    man.write_text(man.read_text().replace(pkg.files[pkg.pdf].sm3, "0" * 64))
    problems = verify_package(pkg.root)
    assert any(p.path == "manifest-sm3.txt" and p.problem == "digest" for p in problems)
    assert any(p.path == pkg.pdf and p.problem == "digest" for p in problems)


def test_checks_report_is_added_and_manifests_refreshed(tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    before = dict(pkg.package_digest)
    report = {"package_digest": before, "results": [{"id": "GD-1-14", "status": "pass"}]}
    after = aip.add_checks_report(pkg.root, report)
    assert after.has_checks_report and after.package_digest != before
    data = (pkg.root / aip.CHECKS_JSON).read_bytes()
    assert json.loads(data)["package_digest"] == before
    assert after.files[aip.CHECKS_JSON] == digest_bytes(data)
    assert {k: v for k, v in after.files.items() if k != aip.CHECKS_JSON} == dict(pkg.files)
    assert verify_package(pkg.root) == []
    again = aip.add_checks_report(pkg.root, b'{"rerun": true}\n')  # re-running the checks replaces it
    assert again.files[aip.CHECKS_JSON] == digest_bytes(b'{"rerun": true}\n')
    assert verify_package(pkg.root) == []
    with pytest.raises(PackageError):
        aip.replace_files(pkg.root, {"content/x.pdf": b"no"})


def test_manifest_paths_with_newline_or_percent_round_trip(tmp_path: Path) -> None:
    src = sources(tmp_path / "src")
    odd = tmp_path / "src" / "100%.tif"
    odd.write_bytes(b"II*\x00odd")
    pkg = build_package(
        tmp_path / "p", code=CODE, pdf=src["pdf"], text=src["text"], masters=[odd], metadata_xml=b"<x/>"
    )
    assert "masters/100%.tif" in pkg.files
    assert "masters/100%25.tif" in (pkg.root / "manifest-sm3.txt").read_text()
    assert verify_package(pkg.root) == []
