"""Intake of a delivered batch: list it safely, read its catalogue, digest every file once,
verify the vendor's manifest, and assemble the items (件) with their page files.

Nothing here modifies the batch. Problems are collected, never raised: a batch that
cannot be processed at all is one whose catalogue yields no rows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from guidang import names
from guidang.models import CatalogueRow, Item, PageFile
from guidang.packaging import manifest
from guidang.packaging.fixity import digest_file
from guidang.pipeline.catalogue_file import CATALOGUE_NAMES, CatalogueParse, read_catalogue
from guidang.pipeline.limits import BatchLimits
from guidang.pipeline.listing import Entry, Listing, list_tree
from guidang.pipeline.problems import Problem

MARKERS = frozenset({"READY", "truth.json"} | set(CATALOGUE_NAMES))
MANIFESTS = {"manifest-sha256.txt": "sha256", "manifest-sm3.txt": "sm3"}


def sniff_image(head: bytes) -> str | None:
    """The DA/T 31 storage format of a file by its first bytes, or None."""
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "JPEG2000"
    return None


def describe_content(head: bytes) -> str:
    """A short guess of what a non-image file is, for the receipt."""
    for magic, name in (
        (b"%PDF", "PDF"),
        (b"PK\x03\x04", "ZIP/OOXML/OFD"),
        (b"\x89PNG", "PNG"),
        (b"GIF8", "GIF"),
        (b"BM", "BMP"),
        (b"MZ", "Windows executable"),
        (b"\x7fELF", "ELF executable"),
    ):
        if head.startswith(magic):
            return name
    if not head:
        return "empty file"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "unknown binary"


@dataclass(frozen=True)
class BatchIntake:
    root: Path
    listing: Listing
    catalogue: CatalogueParse
    items: tuple[Item, ...]
    problems: tuple[Problem, ...]
    content_digest: str
    total_bytes: int

    def problems_of(self, code: str) -> list[Problem]:
        return list(self._problems_by_item.get(code, ()))

    @cached_property
    def _problems_by_item(self) -> dict[str | None, list[Problem]]:
        """One pass over the problems, not one per item (200,000 rows made that quadratic)."""
        index: dict[str | None, list[Problem]] = defaultdict(list)
        for p in self.problems:
            index[p.item_code].append(p)
        return index

    @property
    def batch_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.item_code is None] + list(self.catalogue.problems)


def _read_manifest(path: Path, name: str, max_lines: int | None = None) -> tuple[dict[str, str], list[Problem]]:
    """A vendor's manifest, in the tolerant grammar (``sha256sum -b`` output, a BOM, ``\\``)."""
    parsed = manifest.parse_manifest(path.read_bytes(), MANIFESTS[name], strict=False, max_lines=max_lines)
    problems = [Problem.fail("INTAKE-MANIFEST", "malformed", manifest=name, line=e.line) for e in parsed.errors]
    return parsed.as_dict(), problems


def _owner(relpath: str, codes: set[str]) -> str | None:
    first = relpath.split("/", 1)[0]
    return first if first in codes else None


def _verify_manifests(root: Path, files: dict[str, PageFile], codes: set[str],
                      max_lines: int | None = None) -> list[Problem]:
    problems: list[Problem] = []
    for name, algorithm in MANIFESTS.items():
        path = root / name
        if not path.is_file():
            continue
        entries, malformed = _read_manifest(path, name, max_lines)
        problems += malformed
        for rel, expected in entries.items():
            page = files.get(rel)
            owner = _owner(rel, codes)
            if page is None:
                problems.append(Problem.fail("INTAKE-MANIFEST", "listed_missing", owner, file=rel))
                continue
            found = page.sha256 if algorithm == "sha256" else page.sm3
            if found != expected:
                problems.append(
                    Problem.fail(
                        "INTAKE-MANIFEST", "mismatch", owner, file=rel,
                        algorithm=algorithm.upper(), expected=expected, found=found,
                    )
                )
        for rel in sorted(files.keys() - entries.keys()):
            problems.append(Problem.warn("INTAKE-MANIFEST", "unlisted", _owner(rel, codes), file=rel))
    return problems


def _unsafe_problems(listing: Listing, codes: set[str]) -> list[Problem]:
    return [
        Problem.fail("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        if u.kind != "undecodable"
        else Problem.warn("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        for u in listing.unsafe
    ]


def _assemble_items(
    root: Path, listing: Listing, rows: Iterable[CatalogueRow], pages: dict[str, PageFile],
    limits: BatchLimits | None = None,
) -> tuple[list[Item], list[Problem]]:
    limits = limits or BatchLimits()
    items: list[Item] = []
    problems: list[Problem] = []
    folders = {d.relpath for d in listing.dirs if "/" not in d.relpath}
    by_folder: dict[str, list[Entry]] = defaultdict(list)  # one pass, not Listing.under per row
    for e in listing.files:
        if "/" in e.relpath:
            by_folder[e.relpath.split("/", 1)[0]].append(e)
    for row in rows:
        code = row.archival_code
        try:
            names.component(code, names.ARCHIVAL_CODE_MAX_BYTES)
        except names.UnsafeNameError as exc:  # a verdict for this row, never a path
            problems.append(Problem.fail("INTAKE-UNSAFE", "archival_code", code, code=names.printable(code),
                                         reason=exc.reason, reason_zh=exc.reason_zh, reason_en=exc.reason_en))
            items.append(Item(row=row, folder=None))
            continue
        if code not in folders:
            problems.append(Problem.fail("INTAKE-FOLDER", "missing", code, code=code))
            items.append(Item(row=row, folder=None))
            continue
        item_pages = [pages[e.relpath] for e in by_folder.get(code, ()) if e.relpath in pages]
        if not item_pages:
            problems.append(Problem.fail("INTAKE-FOLDER", "empty", code, code=code))
        elif len(item_pages) > limits.max_pages_per_item:  # refused before any page is opened
            problems.append(Problem.fail("INTAKE-LIMITS", "too_many_pages", code, code=code,
                                         count=len(item_pages), limit=limits.max_pages_per_item))
            items.append(Item(row=row, folder=root / code))
            continue
        items.append(Item(row=row, folder=root / code, pages=item_pages))
    return items, problems


def _classify_files(
    listing: Listing, codes: set[str]
) -> tuple[dict[str, PageFile], dict[str, PageFile], list[Problem], int]:
    """Digest every delivered file once; return (all files, page files of items), problems, bytes."""
    digested: dict[str, PageFile] = {}
    pages: dict[str, PageFile] = {}
    problems: list[Problem] = []
    total = 0
    for entry in listing.files:
        total += entry.size
        if entry.relpath == "READY" or entry.relpath in MANIFESTS:
            continue
        digested[entry.relpath] = _page_file(entry)
        if "/" not in entry.relpath:
            if entry.relpath not in MARKERS:
                problems.append(Problem.warn("INTAKE-FOLDER", "stray_file", file=entry.relpath))
            continue
        owner = _owner(entry.relpath, codes)
        if owner is None:
            continue  # files of an extra folder: reported once per folder
        with entry.path.open("rb") as fh:
            head = fh.read(16)
        if sniff_image(head) is None:
            problems.append(
                Problem.fail("INTAKE-FILE-TYPE", "not_image", owner, file=entry.relpath, found=describe_content(head))
            )
        pages[entry.relpath] = digested[entry.relpath]
    return digested, pages, problems, total


def _page_file(entry: Entry) -> PageFile:
    d = digest_file(entry.path)
    return PageFile(path=entry.path, relpath=entry.relpath, size=d.size, sha256=d.sha256, sm3=d.sm3)


def content_digest(files: Iterable[PageFile]) -> str:
    """SHA-256 over the sorted (path, SHA-256) pairs: equal for byte-identical deliveries."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.relpath):
        h.update(f"{f.relpath}\0{f.sha256}\n".encode())
    return h.hexdigest()


def _over_limits(listing: Listing, limits: BatchLimits) -> list[Problem]:
    count, size = len(listing.files), sum(e.size for e in listing.files)
    problems = []
    if count > limits.max_files:
        problems.append(Problem.fail("INTAKE-LIMITS", "too_many_files", count=count, limit=limits.max_files))
    if size > limits.max_batch_bytes:
        problems.append(Problem.fail("INTAKE-LIMITS", "too_many_bytes", size=size, limit=limits.max_batch_bytes))
    return problems


def _listing_digest(listing: Listing) -> str:
    """Stands in for the content digest of a batch refused before its files were read."""
    h = hashlib.sha256(b"refused by limits\n")
    for e in listing.files:
        h.update(f"{e.relpath}\0{e.size}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def read_batch(root: Path, limits: BatchLimits | None = None) -> BatchIntake:
    limits = limits or BatchLimits()
    listing = list_tree(root)
    over = _over_limits(listing, limits)
    if over:  # nothing is read or digested: the batch is refused whole, with a receipt
        return BatchIntake(root=root, listing=listing, catalogue=CatalogueParse(None, (), tuple(over)), items=(),
                           problems=(), content_digest=_listing_digest(listing),
                           total_bytes=sum(e.size for e in listing.files))
    catalogue = read_catalogue(root, limits)
    codes = {r.archival_code for r in catalogue.rows}
    digested, pages, problems, total = _classify_files(listing, codes)
    problems += _unsafe_problems(listing, codes)
    items, item_problems = _assemble_items(root, listing, catalogue.rows, pages, limits)
    problems += item_problems
    problems += _verify_manifests(root, digested, codes, limits.max_manifest_lines)
    for d in listing.dirs:
        if "/" not in d.relpath and d.relpath not in codes and catalogue.usable:
            problems.append(Problem.warn("INTAKE-FOLDER", "extra", folder=d.relpath))
    return BatchIntake(
        root=root,
        listing=listing,
        catalogue=catalogue,
        items=tuple(items),
        problems=tuple(problems),
        content_digest=content_digest(digested.values()),
        total_bytes=total,
    )
