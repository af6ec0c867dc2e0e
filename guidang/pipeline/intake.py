"""Intake of a delivered batch: list it safely, read its catalogue, digest every file once,
verify the vendor's manifest, check every row's metadata, and assemble the items (件) with
their page files.

Nothing here modifies the batch. Problems are collected, never raised: a batch that
cannot be processed at all is one whose catalogue yields no rows. Every catalogue row and
every delivered folder is one :class:`Unit`, which gets exactly one verdict (docs/verdicts.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from guidang import names
from guidang.models import CatalogueRow, Item, PageFile
from guidang.packaging import manifest
from guidang.packaging.archival_code import ArchivalCodeRule, get_rule, volume_rule
from guidang.packaging.fixity import digest_file
from guidang.pipeline.catalogue_file import CATALOGUE_NAMES, CatalogueParse, read_catalogue, unsafe_root_file
from guidang.pipeline.limits import BatchLimits
from guidang.pipeline.listing import Entry, Listing, list_tree
from guidang.pipeline.problems import Problem
from guidang.pipeline.row_checks import row_problems
from guidang.pipeline.volumes import FILE_NAMES as VOLUME_FILE_NAMES
from guidang.pipeline.volumes import Volume, is_volume_batch, read_volume_catalogue, read_volumes
from guidang.validators.clamav import ClamdError, Scanner, ScanStatus
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.spec import Stage

MARKERS = frozenset({"READY", "truth.json"} | set(CATALOGUE_NAMES) | set(VOLUME_FILE_NAMES))
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
class IntakePolicy:
    """What intake checks rows against: the profile's 档号 rule, the DA/T 70 options, whether
    the deployment is accredited for classified records (``classified_system``), and the profile's
    batch limits."""

    rule: ArchivalCodeRule = field(default_factory=lambda: get_rule("dat22"))
    dat70: Dat70Options = field(default_factory=Dat70Options)
    classified_system: bool = False
    limits: BatchLimits = field(default_factory=BatchLimits)


@dataclass(frozen=True)
class Unit:
    """One delivered thing that gets one verdict: a catalogue row, or a folder no row names.

    ``code`` is the 档号 (the folder's name for a folder without a row; "" for a row without
    档号); ``item`` is the item processed for that code, shared by every row of a repeated 档号."""

    code: str
    row: CatalogueRow | None
    folder: str | None


@dataclass(frozen=True)
class BatchIntake:
    root: Path
    listing: Listing
    catalogue: CatalogueParse
    items: tuple[Item, ...]  # one per distinct 档号 or extra folder: what the steps process
    problems: tuple[Problem, ...]
    content_digest: str
    total_bytes: int
    units: tuple[Unit, ...] = ()  # every row, then every folder without a row: one verdict each
    # files a vendor manifest listed with the digest intake found: the independent evidence of GD 1-14, 2-1, 2-2
    manifest_verified: frozenset[str] = frozenset()
    # a volume batch (案卷目录 + 卷内目录): each item is a volume, these are its documents (pipeline/volumes.py)
    volumes: Mapping[str, Volume] = field(default_factory=dict)

    def vendor_manifest_covers(self, item: Item) -> bool:
        """True when the vendor's manifest listed every delivered file of the item, as found."""
        return bool(item.pages) and all(p.relpath in self.manifest_verified for p in item.pages)

    @cached_property
    def stopping(self) -> list[Problem]:
        """The problems that reject every item of the batch (see Problem.stops_batch)."""
        return [p for p in self.all_problems if p.stops_batch]

    @cached_property
    def all_problems(self) -> list[Problem]:
        return list(self.catalogue.problems) + list(self.problems)

    @cached_property
    def _by_item(self) -> dict[str, list[Problem]]:
        """One pass over the problems, not one per item (200,000 rows made that quadratic)."""
        index: dict[str, list[Problem]] = defaultdict(list)
        for p in self.all_problems:
            if p.item_code:
                index[p.item_code].append(p)
        return index

    @cached_property
    def _by_row(self) -> dict[int, list[Problem]]:
        index: dict[int, list[Problem]] = defaultdict(list)
        for p in self.all_problems:
            if p.row is not None and not p.item_code:
                index[p.row].append(p)
        return index

    def problems_of(self, code: str) -> list[Problem]:
        """An item's own problems, and those that stop the whole batch."""
        return (list(self._by_item.get(code, ())) if code else []) + self.stopping

    def problems_of_row(self, row: int) -> list[Problem]:
        """The problems of a row that names no 档号, and those that stop the whole batch."""
        return list(self._by_row.get(row, ())) + self.stopping

    @property
    def batch_problems(self) -> list[Problem]:
        return [p for p in self.all_problems if p.item_code is None and p.row is None]


def _read_manifest(path: Path, name: str, max_lines: int | None = None) -> tuple[dict[str, str], list[Problem]]:
    """A vendor's manifest, in the tolerant grammar (``sha256sum -b`` output, a BOM, ``\\``)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # checked by lstat before; a link swapped in fails here
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read()
    parsed = manifest.parse_manifest(raw, MANIFESTS[name], strict=False, max_lines=max_lines)
    problems = [Problem.fail("INTAKE-MANIFEST", "malformed", manifest=name, line=e.line) for e in parsed.errors]
    return parsed.as_dict(), problems


def _owner(relpath: str, codes: set[str]) -> str | None:
    first = relpath.split("/", 1)[0]
    return first if first in codes else None


def _verify_manifests(root: Path, files: dict[str, PageFile], codes: set[str], refused: set[str],
                      max_lines: int | None = None) -> tuple[list[Problem], set[str]]:
    """The vendor's manifests against the files digested, and the files every manifest present listed
    as found; an entry for a refused path (a link, a FIFO: reported by its own check) is not called missing."""
    problems: list[Problem] = []
    verified: set[str] | None = None
    for name, algorithm in MANIFESTS.items():
        path = root / name
        try:
            unsafe = unsafe_root_file("INTAKE-MANIFEST", name, os.lstat(path))
        except FileNotFoundError:
            continue
        if unsafe is not None:
            problems.append(unsafe)
            continue
        entries, malformed = _read_manifest(path, name, max_lines)
        problems += malformed
        matched = set()
        for rel, expected in entries.items():
            page = files.get(rel)
            owner = _owner(rel, codes)
            if page is None and rel in refused:
                continue
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
    """Unsafe entries: inside an item's folder they reject that item, elsewhere the batch. The
    catalogue and the manifests are left to their own checks (reported once, by name)."""
    return [
        Problem.fail("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        if u.kind != "undecodable"
        else Problem.warn("INTAKE-UNSAFE", u.kind, _owner(u.relpath, codes), file=u.relpath, detail=u.detail)
        for u in listing.unsafe
        if u.relpath not in CATALOGUE_NAMES and u.relpath not in VOLUME_FILE_NAMES and u.relpath not in MANIFESTS
    ]


def top_folders(listing: Listing) -> list[str]:
    return [d.relpath for d in listing.dirs if "/" not in d.relpath]


def _assemble_items(
    root: Path, listing: Listing, catalogue: CatalogueParse, pages: dict[str, PageFile], limits: BatchLimits
) -> tuple[list[Item], list[Unit], list[Problem]]:
    """One item per distinct 档号 (its first row) and per folder without a row; one unit per row and
    per folder without a row."""
    items: dict[str, Item] = {}
    units: list[Unit] = []
    problems: list[Problem] = []
    folders = set(top_folders(listing))
    by_folder: dict[str, list[Entry]] = defaultdict(list)  # one pass, not Listing.under per row
    for e in listing.files:
        if "/" in e.relpath:
            by_folder[e.relpath.split("/", 1)[0]].append(e)
    unsafe_folders = {u.relpath.split("/", 1)[0] for u in listing.unsafe if "/" in u.relpath}
    for row in catalogue.rows:
        code = row.archival_code
        units.append(Unit(code, row, code if code in folders else None))
        if not code or code in items:
            continue  # a row without 档号 (its problems say so), or a repeated 档号 (INTAKE-ROW)
        try:
            names.component(code, names.ARCHIVAL_CODE_MAX_BYTES)
        except names.UnsafeNameError as exc:  # a verdict for this row, never a path
            problems.append(Problem.fail("INTAKE-UNSAFE", "archival_code", code, code=names.printable(code),
                                         reason=exc.reason, reason_zh=exc.reason_zh, reason_en=exc.reason_en))
            items[code] = Item(row=row, folder=None)
            continue
        if code not in folders:
            problems.append(Problem.fail("INTAKE-FOLDER", "missing", code, code=code))
            items[code] = Item(row=row, folder=None)
            continue
        item_pages = [pages[e.relpath] for e in by_folder.get(code, ()) if e.relpath in pages]
        if not item_pages and code not in unsafe_folders:
            problems.append(Problem.fail("INTAKE-FOLDER", "empty", code, code=code))
        elif len(item_pages) > limits.max_pages_per_item:  # refused before any page is opened
            problems.append(Problem.fail("INTAKE-LIMITS", "too_many_pages", code, code=code,
                                         count=len(item_pages), limit=limits.max_pages_per_item))
            items[code] = Item(row=row, folder=root / code)
            continue
        items[code] = Item(row=row, folder=root / code, pages=item_pages)
    for folder in sorted(folders, key=top_folders(listing).index):
        if folder in items:
            continue
        # a folder no row names: its own verdict, its files kept as delivered (row 0: no catalogue row);
        # with no readable catalogue the catalogue's problem (which stops the batch) is the reason
        if catalogue.usable:
            problems.append(Problem.fail("INTAKE-FOLDER", "extra", folder, folder=folder))
        units.append(Unit(folder, None, folder))
        items[folder] = Item(row=CatalogueRow(row=0, archival_code=folder, title=""), folder=root / folder,
                             pages=[pages[e.relpath] for e in by_folder.get(folder, ()) if e.relpath in pages])
    return list(items.values()), units, problems


def scan_entry(entry: Entry, owner: str | None, scanner: Scanner) -> Problem | None:
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
        virus = scan_entry(entry, _owner(entry.relpath, codes), scanner) if scanner is not None else None
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


def read_batch(root: Path, policy: IntakePolicy | None = None, scanner: Scanner | None = None) -> BatchIntake:
    """Read a delivered batch; with ``scanner`` every delivered file is scanned for viruses first."""
    policy = policy or IntakePolicy()
    limits = policy.limits
    listing = list_tree(root)
    over = _over_limits(listing, limits)
    if over:  # nothing is read or digested: the batch is refused whole, with a receipt
        return BatchIntake(root=root, listing=listing, catalogue=CatalogueParse(None, (), tuple(over)), items=(),
                           problems=(), content_digest=_listing_digest(listing),
                           total_bytes=sum(e.size for e in listing.files))
    volume_batch = is_volume_batch(root)  # a 案卷目录: one item per volume (pipeline/volumes.py)
    catalogue = read_volume_catalogue(root, limits) if volume_batch else read_catalogue(root, limits)
    # every top folder owns its files: those a row names, and those no row names (their own verdict)
    codes = {r.archival_code for r in catalogue.rows if r.archival_code} | set(top_folders(listing))
    digested, pages, problems, total = _classify_files(listing, codes, scanner)
    problems += _unsafe_problems(listing, codes)
    items, units, item_problems = _assemble_items(root, listing, catalogue, pages, limits)
    problems += item_problems
    refused = ({u.relpath for u in listing.unsafe if u.kind != "undecodable"} | set(CATALOGUE_NAMES)
               | set(VOLUME_FILE_NAMES))
    manifest_problems, verified = _verify_manifests(root, digested, codes, refused - digested.keys(),
                                                    limits.max_manifest_lines)
    problems += manifest_problems
    name = catalogue.path.name if catalogue.path else ""
    row_rule = (volume_rule(policy.rule) or policy.rule) if volume_batch else policy.rule
    for row in catalogue.rows:
        problems += row_problems(row, name, row_rule, policy.dat70, classified_system=policy.classified_system)
    volumes: Mapping[str, Volume] = {}
    if volume_batch and catalogue.usable:
        def document_checks(row: CatalogueRow, file: str) -> list[Problem]:
            return row_problems(row, file, policy.rule, policy.dat70, classified_system=policy.classified_system)
        linked = read_volumes(root, limits, catalogue.rows, {i.archival_code: len(i.pages) for i in items},
                              policy.rule, document_checks)
        problems += linked.problems
        volumes = linked.volumes
    return BatchIntake(
        root=root,
        listing=listing,
        catalogue=catalogue,
        items=tuple(items),
        problems=tuple(problems),
        content_digest=content_digest(digested.values()),
        total_bytes=total,
        units=tuple(units),
        manifest_verified=frozenset(verified),
        volumes=volumes,
    )
