"""A read-only view of one archival package (AIP) as the DA/T 70 checks see it.

The layout is the AIP contract (see docs): ``content/``, ``masters/``, ``metadata/metadata.xml``,
``manifest-sha256.txt`` and ``manifest-sm3.txt``. Metadata is read by DA/T 46 element name
(local names, any namespace, any nesting), so the checks do not depend on how the writer nests
containers. Nothing here raises on bad input: what cannot be read is recorded and the checks
that need it report it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from lxml import etree

from guidang import safexml
from guidang.packaging import aip
from guidang.packaging.fixity import ALGORITHMS
from guidang.packaging.manifest import ManifestError, ManifestParse
from guidang.packaging.manifest import parse_manifest as parse_bytes

MANIFESTS = {a: aip.manifest_name(a) for a in ALGORITHMS}
TAG_MANIFESTS = {a: aip.tagmanifest_name(a) for a in ALGORITHMS}
TAG_FILES = frozenset(aip.TAG_FILES)
METADATA = aip.METADATA_XML
CHECKS_JSON = aip.CHECKS_JSON
BORN_DIGITAL = "原生电子"  # metadata.Origin
# files written after the checks ran (so not in the manifest the checks see at GD)
WRITTEN_AFTER_CHECKS = frozenset({CHECKS_JSON})


Manifest = ManifestParse  # a package's manifest as the checks see it (strict BagIt grammar)


def parse_manifest(path: Path, algorithm: str) -> Manifest:
    """A package's manifest, strictly (:mod:`guidang.packaging.manifest`); unreadable: one error."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ManifestParse(algorithm, (), (ManifestError(0, "malformed", str(exc)),))
    return parse_bytes(data, algorithm, strict=True)


def local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


class PackageView:
    """One package folder, read lazily."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Every file, relative POSIX path, sorted (symlinks are listed too and flagged by 1-13)."""
        out = [p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file() or p.is_symlink()]
        return tuple(sorted(out))

    @cached_property
    def symlinks(self) -> tuple[str, ...]:
        return tuple(f for f in self.files if (self.root / f).is_symlink())

    def under(self, folder: str) -> tuple[str, ...]:
        """Regular files under a folder: symlinks are never followed (1-13 reports them)."""
        return tuple(f for f in self.files if f.startswith(folder + "/") and f not in self.symlinks)

    @property
    def content_files(self) -> tuple[str, ...]:
        return self.under("content")

    @property
    def master_files(self) -> tuple[str, ...]:
        return self.under("masters")

    @property
    def payload_files(self) -> tuple[str, ...]:
        """Every file but the (tag) manifests: what the manifests must cover."""
        return tuple(f for f in self.files if f not in TAG_FILES and f not in self.symlinks)

    @property
    def record_files(self) -> tuple[str, ...]:
        """The files that make the record: content and masters (what metadata describes)."""
        return self.content_files + self.master_files

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def size(self, relpath: str) -> int:
        return self.path(relpath).stat().st_size

    @cached_property
    def born_digital(self) -> bool:
        """The metadata says the record was born digital (形式特征/形成方式 原生电子: a case from a business
        system), not a digitised copy of paper. Without the statement a package is taken as digitised, so the
        checks written for scans apply: losing the statement can make a package fail, never pass."""
        return self.text_of("形成方式") == BORN_DIGITAL

    @property
    def content_suffixes(self) -> tuple[str, ...]:
        """The suffixes the preservation copy ``content/<档号>.*`` may take: an OFD only for a born-digital record."""
        return (".pdf", ".ofd") if self.born_digital else (".pdf",)

    @cached_property
    def archival_code(self) -> str:
        """The 档号: from the content PDF's (or a born-digital record's OFD's) name, else the metadata, else the
        folder name."""
        pdfs = [f for f in self.content_files if f.lower().endswith(self.content_suffixes) and f.count("/") == 1]
        if len(pdfs) == 1:
            return Path(pdfs[0]).stem
        return self.metadata_code or self.root.name

    @cached_property
    def metadata_code(self) -> str | None:
        """The full 档号 recorded in the metadata (attribute 值 of 档号, or its text)."""
        for e in self.elements("档号"):
            value = e.get("值") or ((e.text or "").strip() if len(e) == 0 else "")
            if value:
                return value.strip()
        return None

    # manifests ---------------------------------------------------------------------------
    @cached_property
    def manifests(self) -> dict[str, Manifest]:
        out: dict[str, Manifest] = {}
        for algorithm, name in MANIFESTS.items():
            p = self.root / name
            if p.is_file():
                out[algorithm] = parse_manifest(p, algorithm)
        return out

    # metadata ----------------------------------------------------------------------------
    @cached_property
    def metadata_error(self) -> str | None:
        return self._metadata[1]

    @cached_property
    def metadata(self) -> etree._Element | None:
        return self._metadata[0]

    @cached_property
    def _metadata(self) -> tuple[etree._Element | None, str | None]:
        p = self.root / METADATA
        if not p.is_file():
            return None, f"{METADATA} missing"
        try:
            return etree.parse(str(p), safexml.parser()).getroot(), None
        except (etree.XMLSyntaxError, OSError) as exc:
            return None, str(exc)

    @cached_property
    def document_records(self) -> tuple[tuple[str, etree._Element | None, str | None], ...]:
        """A volume's (案卷) document-level records ``metadata/文件-0001.xml`` …: (path, root or None, error)."""
        out: list[tuple[str, etree._Element | None, str | None]] = []
        for rel in self.under(aip.METADATA_DIR):
            if not re.fullmatch(aip.DOCUMENT_RECORD_PATTERN, rel.split("/", 1)[1]):
                continue
            try:
                out.append((rel, etree.parse(str(self.root / rel), safexml.parser()).getroot(), None))
            except (etree.XMLSyntaxError, OSError) as exc:
                out.append((rel, None, str(exc)))
        return tuple(out)

    def elements(self, name: str, within: etree._Element | None = None) -> list[etree._Element]:
        """All elements with this local name (DA/T 46 Chinese name), in document order."""
        root = within if within is not None else self.metadata
        if root is None:
            return []
        return [e for e in root.iter() if local(e.tag) == name]

    def text_of(self, name: str, within: etree._Element | None = None) -> str | None:
        """Text of the first *leaf* element with this name (containers with children are skipped)."""
        for e in self.elements(name, within):
            if len(e) == 0:
                return (e.text or "").strip()
        return None

    def leaves(self) -> Iterator[tuple[str, str, etree._Element]]:
        """(xpath-like location, text, element) for every leaf element of the metadata."""
        if self.metadata is None:
            return
        tree = self.metadata.getroottree()
        for e in self.metadata.iter():
            if isinstance(e.tag, str) and len(e) == 0:
                yield _location(tree, e), e.text or "", e

    @cached_property
    def file_blocks(self) -> list[etree._Element]:
        """The metadata blocks describing one computer file each (those holding a 计算机文件名)."""
        parents = (n.getparent() for n in self.elements("计算机文件名"))
        return [p for p in parents if p is not None]


def _location(tree: etree._ElementTree, e: etree._Element) -> str:
    parts = []
    node: etree._Element | None = e
    while node is not None:
        parent = node.getparent()
        name = local(node.tag)
        if parent is not None:
            same = [c for c in parent if local(c.tag) == name]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))
