"""The one manifest parser (BagIt grammar, %-decoding; strict and tolerant), against the BagIt
conformance suite where it applies, and as used by intake, packages and the DA/T 70 checks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import corpus

from guidang.packaging import aip
from guidang.packaging.manifest import algorithm_of, decode_path, encode_path, parse_manifest
from guidang.pipeline.intake import _read_manifest
from guidang.validators.dat70.package import parse_manifest as package_manifest

H = hashlib.sha256(b"x").hexdigest()


def manifests(bag: Path) -> list[Path]:
    return sorted(p for p in bag.glob("manifest-*.txt"))


def bags(version: str, kind: str) -> list[Path]:
    """The bags of one kind whose tag files are UTF-8: guidang's manifests are UTF-8 only (its own
    packages, and vendors' manifests per the README), so the UTF-16 and ISO-8859-1 bags do not apply."""
    root = corpus("bagit-conformance", version, kind)
    return sorted(p for p in root.iterdir() if p.is_dir() and utf8_tags(p))


def utf8_tags(bag: Path) -> bool:
    head = (bag / "bagit.txt").read_bytes() if (bag / "bagit.txt").is_file() else b""
    return b"Encoding: UTF-8" in head


@pytest.mark.parametrize("version", ["v0.97", "v1.0"])
def test_every_valid_bag_parses_strictly_and_lists_files_that_exist(version: str) -> None:
    for bag in bags(version, "valid"):
        for m in manifests(bag):
            parsed = parse_manifest(m.read_bytes(), algorithm_of(m.name), strict=True)
            assert not parsed.errors, (bag.name, parsed.errors)
            assert parsed.entries
            for e in parsed.entries:
                assert (bag / e.relpath).is_file(), (bag.name, e.relpath)


@pytest.mark.parametrize(("case", "reason"), [
    ("v0.97/invalid/out-of-scope-file-paths-using-dot-notation", "path"),
    ("v0.97/linux-only/out-of-scope-file-paths-using-absolute-path", "path"),
    ("v0.97/linux-only/out-of-scope-file-paths-using-shortcut", "path"),
    ("v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username", "path"),
    ("v0.97/invalid/same-filename-listed-twice-with-different-hashes", "duplicate"),
    ("v1.0/invalid/same-filename-listed-twice-with-different-hashes", "duplicate"),
    ("v1.0/invalid/same-filename-listed-twice-with-the-same-hash", "duplicate"),
])
def test_invalid_bags_manifests_are_refused_strictly(case: str, reason: str) -> None:
    bag = corpus("bagit-conformance", *case.split("/"))
    reasons = {e.reason for m in manifests(bag)
               for e in parse_manifest(m.read_bytes(), algorithm_of(m.name), strict=True).errors}
    assert reason in reasons


def test_md5sum_style_and_same_hash_twice_are_tolerated_not_strict() -> None:
    bag = corpus("bagit-conformance", "v0.97", "warning", "made-with-md5sum-tools")
    data = manifests(bag)[0].read_bytes()
    tolerant = parse_manifest(data, "md5", strict=False)
    assert not tolerant.errors and all((bag / e.relpath).is_file() for e in tolerant.entries)
    assert not any((bag / e.relpath).is_file() for e in parse_manifest(data, "md5", strict=True).entries)
    twice = corpus("bagit-conformance", "v1.0", "invalid", "same-filename-listed-twice-with-the-same-hash")
    m = twice / "manifest-sha256.txt"
    assert not parse_manifest(m.read_bytes(), "sha256", strict=False).errors


def test_percent_decoding_is_the_three_bagit_escapes_only() -> None:
    assert decode_path("a%0Ab%0dc%25d%7Ee%41") == "a\nb\rc%d%7Ee%41"
    assert decode_path(encode_path("x%0A\n\r%")) == "x%0A\n\r%"
    data = f"{H}  data/a%0Ab\n{H}\tdata/%25%0D\r\n".encode()
    assert parse_manifest(data, "sha256").as_dict() == {"data/a\nb": H, "data/%\r": H}


def test_names_with_unicode_line_separators_are_one_line() -> None:
    data = f"{H}  data/a\u2028b\x0cc\n".encode()
    assert parse_manifest(data, "sha256").as_dict() == {"data/a\u2028b\x0cc": H}


@pytest.mark.parametrize(("line", "reason"), [
    ("nodigest", "malformed"),
    (f"{H[:-1]}  a", "digest"),
    (f"{H}  /etc/passwd", "path"),
    (f"{H}  a/../../x", "path"),
    (f"{H}  a//b", "path"),
    (f"{H}  a/\x00", "path"),
])
def test_bad_lines_are_errors_with_their_line(line: str, reason: str) -> None:
    parsed = parse_manifest(f"{H}  ok\n{line}\n".encode(), "sha256")
    assert [(e.line, e.reason) for e in parsed.errors] == [(2, reason)]
    assert parsed.as_dict() == {"ok": H}


def test_bom_not_utf8_and_line_limit() -> None:
    assert [e.reason for e in parse_manifest(b"\xef\xbb\xbf" + f"{H}  a\n".encode(), "sha256").errors] == ["bom"]
    assert not parse_manifest(b"\xef\xbb\xbf" + f"{H}  a\n".encode(), "sha256", strict=False).errors
    assert [e.reason for e in parse_manifest(f"{H}  \xe6\n".encode("latin-1"), "sha256").errors] == ["encoding"]
    many = "".join(f"{H}  f{n}\n" for n in range(10)).encode()
    assert [e.reason for e in parse_manifest(many, "sha256", max_lines=5).errors] == ["too_many"]


def test_the_three_users_share_the_grammar(tmp_path: Path) -> None:
    """Intake (tolerant), a package (strict) and the DA/T 70 view (strict) read the same text alike;
    intake %-decodes (it split on whitespace and kept %0A literally before)."""
    text = f"{H} *data\\a%25b.tif\n{H}  data/c d.tif\n"
    (tmp_path / "manifest-sha256.txt").write_text(text, "utf-8")
    entries, problems = _read_manifest(tmp_path / "manifest-sha256.txt", "manifest-sha256.txt")
    assert entries == {"data/a%b.tif": H, "data/c d.tif": H} and not problems
    strict = f"{H}  data/a%25b.tif\n{H}  data/c d.tif\n"
    assert aip.parse_manifest(strict.encode(), "manifest-sha256.txt") == {"data/a%b.tif": H, "data/c d.tif": H}
    (tmp_path / "m.txt").write_text(strict, "utf-8")
    assert package_manifest(tmp_path / "m.txt", "sha256").as_dict() == {"data/a%b.tif": H, "data/c d.tif": H}
    assert aip.parse_manifest(text.encode(), "manifest-sha256.txt") != entries  # strict: '*' and '\\' are literal
    with pytest.raises(aip.PackageError):
        aip.parse_manifest(b"\xef\xbb\xbf" + strict.encode(), "manifest-sha256.txt")
