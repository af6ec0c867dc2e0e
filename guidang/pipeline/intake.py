"""Intake of a delivered batch: list it safely, read its catalogue, digest every file once,
verify the vendor's manifest, and assemble the items (件) with their page files.

Nothing here modifies the batch. Problems are collected, never raised: a batch that
cannot be processed at all is one whose catalogue yields no rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from guidang.models import CatalogueRow, Item, PageFile
from guidang.packaging.fixity import digest_file
from guidang.pipeline.catalogue_file import CATALOGUE_NAMES, CatalogueParse, read_catalogue
from guidang.pipeline.listing import Entry, Listing, list_tree
from guidang.pipeline.problems import Problem
from guidang.validators.clamav import ClamdError, Scanner, ScanStatus
from guidang.validators.spec import Stage

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
    # files a vendor manifest listed with the digest intake found: the independent evidence of GD 1-14, 2-1, 2-2
    manifest_verified: frozenset[str] = frozenset()

    def vendor_manifest_covers(self, item: Item) -> bool:
        """True when the vendor's manifest listed every delivered file of the item, as found."""
        return bool(item.pages) and all(p.relpath in self.manifest_verified for p in item.pages)

    def problems_of(self, code: str) -> list[Problem]:
        return [p for p in self.problems if p.item_code == code]

    @property
    def batch_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.item_code is None] + list(self.catalogue.problems)


def _read_manifest(path: Path, name: str) -> tuple[dict[str, str], list[Problem]]:
    entries: dict[str, str] = {}
    problems: list[Problem] = []
    for n, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2:
            problems.append(Problem.fail("INTAKE-MANIFEST", "malformed", manifest=name, line=n))
            continue
        entries[parts[1].strip().lstrip("*")] = parts[0].lower()
    return entries, problems


def _owner(relpath: str, codes: set[str]) -> str | None:
    first = relpath.split("/", 1)[0]
    return first if first in codes else None


def _verify_manifests(root: Path, files: dict[str, PageFile], codes: set[str]) -> tuple[list[Problem], set[str]]:
    """The problems of the vendor's manifests, and the files every manifest present listed as found."""
    problems: list[Problem] = []
    verified: set[str] | None = None
    for name, algorithm in MANIFESTS.items():
        path = root / name
        if not path.is_file():
            continue
        entries, malformed = _read_manifest(path, name)
        problems += malformed
        matched = set()
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
            else:
                matched.add(rel)
        verified = matched if verified is None else verified & matched
        for rel in sorted(files.keys() - entries.keys()):
            problems.append(Problem.warn("INTAKE-MANIFEST", "unlisted", _owner(rel, codes), file=rel))
    return problems, verified or set()


def _unsafe_problems(listing: Listing, codes: set[str]) -> list[Problem]:
    return [
        Problem.fail("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        if u.kind != "undecodable"
        else Problem.warn("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        for u in listing.unsafe
    ]


def _assemble_items(
    root: Path, listing: Listing, rows: Iterable[CatalogueRow], pages: dict[str, PageFile]
) -> tuple[list[Item], list[Problem]]:
    items: list[Item] = []
    problems: list[Problem] = []
    folders = {d.relpath for d in listing.dirs if "/" not in d.relpath}
    for row in rows:
        code = row.archival_code
        if code not in folders:
            problems.append(Problem.fail("INTAKE-FOLDER", "missing", code, code=code))
            items.append(Item(row=row, folder=None))
            continue
        item_pages = [pages[e.relpath] for e in listing.under(code) if e.relpath in pages]
        if not item_pages:
            problems.append(Problem.fail("INTAKE-FOLDER", "empty", code, code=code))
        items.append(Item(row=row, folder=root / code, pages=item_pages))
    return items, problems


def _virus(entry: Entry, owner: str | None, scanner: Scanner) -> Problem | None:
    """DA/T 70 4-2 on one delivered file, before anything judges its type: a virus is a virus."""
    try:
        result = scanner.scan_file(entry.path)
    except (ClamdError, OSError) as exc:
        problem = Problem.fail("4-2", "error", owner, file=entry.relpath, detail=str(exc))
    else:
        if result.status is ScanStatus.CLEAN:
            return None
        key = {ScanStatus.INFECTED: "infected", ScanStatus.LIMITS: "limits"}.get(result.status, "error")
        problem = Problem.fail("4-2", key, owner, file=entry.relpath, signature=result.signature,
                               detail=result.signature or result.reply)
    return dataclasses.replace(problem, stage=Stage.GD)


def _classify_files(
    listing: Listing, codes: set[str], scanner: Scanner | None = None
) -> tuple[dict[str, PageFile], dict[str, PageFile], list[Problem], int]:
    """Scan and digest every delivered file once; return (all files, page files of items), problems, bytes.

    With a scanner, every file is scanned first; an infected file is reported under 4-2 only (what
    else is wrong with it, e.g. not being an image, is moot)."""
    digested: dict[str, PageFile] = {}
    pages: dict[str, PageFile] = {}
    problems: list[Problem] = []
    total = 0
    for entry in listing.files:
        total += entry.size
        virus = _virus(entry, _owner(entry.relpath, codes), scanner) if scanner is not None else None
        if virus is not None:
            problems.append(virus)
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
        if virus is None and sniff_image(head) is None:
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


def read_batch(root: Path, scanner: Scanner | None = None) -> BatchIntake:
    """Read a delivered batch; with ``scanner`` every delivered file is scanned for viruses first."""
    listing = list_tree(root)
    catalogue = read_catalogue(root)
    codes = {r.archival_code for r in catalogue.rows}
    digested, pages, problems, total = _classify_files(listing, codes, scanner)
    problems += _unsafe_problems(listing, codes)
    items, item_problems = _assemble_items(root, listing, catalogue.rows, pages)
    problems += item_problems
    manifest_problems, verified = _verify_manifests(root, digested, codes)
    problems += manifest_problems
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
        manifest_verified=frozenset(verified),
    )
