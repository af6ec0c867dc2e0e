"""The scan checks (SCAN-*, DA/T 31-2017), registered by stable ID.

Each check reads the measurements of one item (件) in a :class:`ScanItemSubject` and
yields findings; it measures nothing itself. Pages with the same problem are grouped into
one finding with one :class:`Evidence` per page (page number, measured value, threshold).
Cross-item facts (one format per batch, duplicates between items) come from a
:class:`BatchContext` built once per batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from guidang.ingest.scanqa.fingerprint import correlation, hamming
from guidang.ingest.scanqa.inspect import BatchMeasurement, ItemMeasurement, PageMeasurement, page_sequence
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.ingest.scanqa.orientation import Orientation
from guidang.validators.registry import REGISTRY, check
from guidang.validators.result import Evidence, Finding, Report, Status
from guidang.validators.spec import Stage

SCAN_CHECK_IDS: tuple[str, ...] = tuple(s.id for s in REGISTRY.family("SCAN"))
MAX_LISTED = 12  # pages named in one message; the evidence lists them all


@dataclass(frozen=True)
class DuplicateRef:
    """A page of another item with the same content."""

    archival_code: str
    page: int  # 1-based page number in that item
    file: str
    distance: int  # differing hash bits
    correlation: float


@dataclass(frozen=True)
class BatchContext:
    """Batch-wide facts an item's checks need: formats used, duplicates across items."""

    formats: Mapping[str, int] = field(default_factory=dict)  # format -> pages in the batch
    cross_duplicates: Mapping[tuple[str, int], tuple[DuplicateRef, ...]] = field(default_factory=dict)
    item_formats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # 档号 -> formats of its pages

    def batch_formats(self, allowed: Sequence[str]) -> tuple[str, ...]:
        """The batch's storage format: the allowed format most items use (each item in one
        format is one vote), more pages deciding between formats with as many items. Several
        formats come back only on a full tie (as many items and as many pages)."""
        items = Counter(fs[0] for fs in self.item_formats.values() if len(fs) == 1 and fs[0] in allowed)
        votes = {f: (n, self.formats.get(f, 0)) for f, n in items.items()}
        if not votes:
            return ()
        best = max(votes.values())
        return tuple(sorted(f for f, v in votes.items() if v == best))


@dataclass(frozen=True)
class ScanItemSubject:
    """What the SCAN checks of one item look at."""

    archival_code: str  # the expected 档号 (from the catalogue)
    pages: tuple[PageMeasurement, ...]  # in page-sequence order
    catalogue_page_count: int | None  # 页数 from the catalogue
    options: ScanQAOptions = field(default_factory=lambda: ScanQAOptions())
    batch: BatchContext | None = None
    #: page number -> clockwise rotation found later by another tool (e.g. the OCR's text angle),
    #: used by SCAN-ROTATION where the measurement is unsure (scan QA run with ``osd="never"``)
    rotations: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        item: ItemMeasurement,
        catalogue_page_count: int | None,
        options: ScanQAOptions,
        batch: BatchContext | None = None,
    ) -> ScanItemSubject:
        return cls(item.archival_code, item.pages, catalogue_page_count, options, batch)


def batch_context(batch: BatchMeasurement, options: ScanQAOptions) -> BatchContext:
    """Formats used in the batch and pages that repeat a page of another item."""
    formats = Counter(p.header.format for p in batch.pages if p.header is not None)
    refs: list[tuple[str, int, PageMeasurement]] = [
        (code, i, p)
        for code, item in batch.items.items()
        for i, p in enumerate(item.pages, 1)
        if p.phash is not None and not p.blank
    ]
    dups: dict[tuple[str, int], list[DuplicateRef]] = defaultdict(list)
    if refs:
        hashes = np.array([p.phash for _, _, p in refs], dtype=np.uint64)
        codes = np.array([c for c, _, _ in refs])
        for a, (code, page, m) in enumerate(refs):
            dist = np.bitwise_count(hashes[a + 1 :] ^ hashes[a])
            for off in np.flatnonzero((dist <= options.duplicate_max_distance) & (codes[a + 1 :] != code)):
                b = a + 1 + int(off)
                other_code, other_page, other = refs[b]
                corr = correlation(m.thumbnail, other.thumbnail)
                if corr < options.duplicate_min_correlation:
                    continue
                d = int(dist[off])
                dups[(code, page)].append(DuplicateRef(other_code, other_page, other.name, d, round(corr, 3)))
                dups[(other_code, other_page)].append(DuplicateRef(code, page, m.name, d, round(corr, 3)))
    item_formats = {
        code: tuple(sorted({p.header.format for p in item.pages if p.header is not None}))
        for code, item in batch.items.items()
    }
    return BatchContext(
        formats=dict(formats), cross_duplicates={k: tuple(v) for k, v in dups.items()}, item_formats=item_formats
    )


def run_scan_checks(subject: ScanItemSubject, ids: Sequence[str] = SCAN_CHECK_IDS) -> Report:
    """All (or the given) SCAN checks of one item, as a report."""
    return REGISTRY.run(ids, subject, Stage.GD)


# helpers -----------------------------------------------------------------------------------


def _readable(subject: ScanItemSubject) -> Iterator[tuple[int, PageMeasurement]]:
    for i, p in enumerate(subject.pages, 1):
        if p.readable and p.header is not None:
            yield i, p


def _pages_text(pages: Sequence[int]) -> str:
    listed = "、".join(str(p) for p in pages[:MAX_LISTED])
    return listed + (f" 等{len(pages)}页" if len(pages) > MAX_LISTED else "")


def _group(
    status: Status,
    key: str,
    hits: Sequence[tuple[int, PageMeasurement, str]],
    field_name: str,
    expected: str,
    **params: object,
) -> Iterator[Finding]:
    """One finding for all pages with the same problem; ``hits`` are (page, measurement, found)."""
    if not hits:
        return
    evidence = tuple(
        Evidence(file=m.name, field=field_name, expected=expected, found=found, page=page) for page, m, found in hits
    )
    yield Finding(
        status,
        key,
        {
            "pages": _pages_text([h[0] for h in hits]),
            "count": len(hits),
            "found": hits[0][2] if len(hits) == 1 else "、".join(dict.fromkeys(h[2] for h in hits)),
            "expected": expected,
            **params,
        },
        evidence,
    )


def _corrected(
    subject: ScanItemSubject,
    keys: tuple[str, str],
    hits: Sequence[tuple[int, PageMeasurement, str]],
    field_name: str,
    expected: str,
) -> Iterator[Finding]:
    """A defect guidang corrects without loss on the derivative: a warning that tells the vendor
    (``keys[1]``), or under ``strict`` (DA/T 31's letter: the vendor corrects) a failure (``keys[0]``)."""
    if subject.options.strict:
        yield from _group(Status.FAIL, keys[0], hits, field_name, expected)
    else:
        yield from _group(Status.WARN, keys[1], hits, field_name, expected)


def _dpi_text(value: float) -> str:
    return f"{value:g}dpi"


def _by_key(
    subject: ScanItemSubject, measure: Callable[[PageMeasurement], tuple[str, str] | None]
) -> dict[str, list[tuple[int, PageMeasurement, str]]]:
    grouped: dict[str, list[tuple[int, PageMeasurement, str]]] = defaultdict(list)
    for i, p in _readable(subject):
        hit = measure(p)
        if hit is not None:
            grouped[hit[0]].append((i, p, hit[1]))
    return grouped


# the checks -----------------------------------------------------------------------------------


@check("SCAN-READ")
def read(subject: ScanItemSubject) -> Iterator[Finding]:
    if not subject.pages:
        yield Finding(Status.FAIL, "no_pages", {}, (Evidence(field="pages", expected=">= 1", found="0"),))
        return
    by_reason: dict[str, list[tuple[int, PageMeasurement]]] = defaultdict(list)
    for i, p in enumerate(subject.pages, 1):
        if p.rejected is not None:
            by_reason[p.rejected].append((i, p))
    for reason, hits in by_reason.items():
        yield Finding(
            Status.FAIL,
            reason,
            {"pages": _pages_text([i for i, _ in hits]), "detail": hits[0][1].error or reason},
            tuple(Evidence(file=p.name, field="file", expected="readable", found=p.error, page=i) for i, p in hits),
        )


@check("SCAN-DPI")
def resolution(subject: ScanItemSubject) -> Iterator[Finding]:
    o = subject.options
    low: list[tuple[int, PageMeasurement, str]] = []
    unknown: list[tuple[int, PageMeasurement, str]] = []
    small: list[tuple[int, PageMeasurement, str]] = []
    for i, p in _readable(subject):
        dpi = p.dpi
        if dpi is None:
            unknown.append((i, p, "?"))
        elif dpi < o.min_dpi:
            low.append((i, p, _dpi_text(dpi)))
        elif dpi < o.recommended_dpi and p.text_height_mm is not None and p.text_height_mm < o.small_text_mm:
            small.append((i, p, _dpi_text(dpi)))
    yield from _group(Status.FAIL, "below_min", low, "dpi", f">= {o.min_dpi}dpi")
    yield from _group(Status.FAIL, "unknown", unknown, "dpi", f">= {o.min_dpi}dpi")
    text_mm = "、".join(str(p.text_height_mm) for _, p, _ in small)
    yield from _group(Status.WARN, "small_text", small, "dpi", f">= {o.recommended_dpi}dpi", text_mm=text_mm)


@check("SCAN-PAPER")
def paper(subject: ScanItemSubject) -> Iterator[Finding]:
    implausible: list[tuple[int, PageMeasurement, str]] = []
    no_header: list[tuple[int, PageMeasurement, str]] = []
    inferred: list[str] = []
    sizes: list[str] = []
    for i, p in _readable(subject):
        assert p.header is not None and p.paper is not None
        fit = p.paper
        guess = f"{fit.inferred_paper} {_dpi_text(fit.effective_dpi)}" if fit.effective_dpi else "无匹配纸张/no paper"
        if p.header.dpi is None:
            no_header.append((i, p, "none"))
            inferred.append(guess)
        elif not fit.header_plausible:
            implausible.append((i, p, _dpi_text(min(p.header.dpi))))
            inferred.append(guess)
            sizes.append("x".join(f"{v:g}" for v in fit.size_mm or ()))
    expected = "header dpi x pixels = known paper size"
    yield from _group(
        Status.FAIL,
        "implausible",
        implausible,
        "dpi",
        expected,
        size_mm="、".join(dict.fromkeys(sizes)),
        inferred="、".join(dict.fromkeys(inferred[: len(implausible)])),
    )
    yield from _group(
        Status.WARN,
        "no_header",
        no_header,
        "dpi",
        expected,
        inferred="、".join(dict.fromkeys(inferred[len(implausible) :])),
    )


_MODE_ZH = {"bitonal": "黑白二值", "grey": "灰度", "colour": "彩色"}


@check("SCAN-COLOUR")
def colour(subject: ScanItemSubject) -> Iterator[Finding]:
    o = subject.options
    not_colour: list[tuple[int, PageMeasurement, str]] = []
    grey_content: list[tuple[int, PageMeasurement, str]] = []
    red: list[tuple[int, PageMeasurement, str]] = []
    for i, p in _readable(subject):
        if p.stored_mode != "colour":
            not_colour.append((i, p, _MODE_ZH.get(p.stored_mode or "", str(p.stored_mode))))
        elif p.content_mode == "grey" and not p.blank:
            grey_content.append((i, p, f"{(p.colour_fraction or 0.0):.4%}"))
        elif p.keep_colour and (p.red_fraction or 0.0) >= o.red_min_fraction:
            red.append((i, p, f"red {(p.red_fraction or 0.0):.3%}"))
    if o.colour_policy == "colour_required":
        yield from _group(Status.FAIL, "colour_required", not_colour, "colour_mode", "彩色")
    elif o.colour_policy == "colour_preferred":
        yield from _group(Status.WARN, "colour_preferred", not_colour, "colour_mode", "彩色")
    yield from _group(Status.WARN, "grey_content", grey_content, "colour_fraction", f">= {o.colour_min_fraction:.4%}")
    yield from _group(Status.PASS, "keep_colour", red, "red_fraction", f">= {o.red_min_fraction:.3%}")


@check("SCAN-SKEW")
def skew(subject: ScanItemSubject) -> Iterator[Finding]:
    """Beyond ``max_skew_deg`` fails; beyond ``warn_skew_deg`` the derivative is deskewed and the
    vendor told (a warning), or, under ``strict``, it fails (DA/T 31: the vendor deskews)."""
    o = subject.options
    beyond: list[tuple[int, PageMeasurement, str]] = []
    deskewed: list[tuple[int, PageMeasurement, str]] = []
    for i, p in _readable(subject):
        if p.skew_deg is None:
            continue
        angle = abs(p.skew_deg)
        if angle > o.max_skew_deg:
            beyond.append((i, p, f"{angle:.2f}°"))
        elif angle > o.warn_skew_deg:
            deskewed.append((i, p, f"{angle:.1f}°"))
    yield from _group(Status.FAIL, "beyond_limit", beyond, "skew", f"<= {o.max_skew_deg:g}°")
    yield from _corrected(subject, ("skewed", "deskewed"), deskewed, "skew", f"<= {o.warn_skew_deg:g}°")


@check("SCAN-ROTATION")
def rotation(subject: ScanItemSubject) -> Iterator[Finding]:
    rotated: list[tuple[int, PageMeasurement, str]] = []
    unsure: list[tuple[int, PageMeasurement, str]] = []
    for i, p in _readable(subject):
        o = p.orientation
        if p.blank or o is None:
            continue
        if not o.confident and i in subject.rotations:
            o = Orientation(subject.rotations[i], True, "ocr", "from the OCR pass")
        if o.rotation is None or not o.confident:
            unsure.append((i, p, f"{o.rotation}° ({o.method})" if o.rotation is not None else "?"))
        elif o.rotation != 0:
            rotated.append((i, p, f"{o.rotation}°"))
    yield from _corrected(subject, ("rotated", "turned"), rotated, "rotation", "0°")  # the PDF shows it upright
    detail = "；".join(dict.fromkeys(p.orientation.detail for _, p, _ in unsure if p.orientation))
    yield from _group(Status.WARN, "uncertain", unsure, "rotation", "0°", detail=detail)


@check("SCAN-BLANK")
def blank(subject: ScanItemSubject) -> Iterator[Finding]:
    """A blank page is an extra scan to look at (``blank_status``). An item with nothing on any
    page fails: no correction makes an empty scan hold the record (the back scanned instead of
    the front, an empty sheet). Whether a blank page stands in for a missing one cannot be told
    from 页数, which some catalogues count with the blank pages and some without."""
    o = subject.options
    hits = [(i, p, f"{(p.ink_fraction or 0.0):.4%}") for i, p in _readable(subject) if p.blank]
    expected = f"{o.blank_max_ink:.4%}"
    if hits and all(p.blank for p in subject.pages):
        yield from _group(Status.FAIL, "all_blank", hits, "ink_fraction", expected)
    else:
        yield from _group(Status(o.blank_status), "blank", hits, "ink_fraction", expected)


_SIDES = ("左/left", "上/top", "右/right", "下/bottom")


@check("SCAN-BORDER")
def border(subject: ScanItemSubject) -> Iterator[Finding]:
    """A border lying over content fails (cropping cannot bring the content back); a wider border
    than ``max_border_mm`` is cropped on the derivative and the vendor told (a warning), or,
    under ``strict``, fails."""
    o = subject.options
    covering: list[tuple[int, PageMeasurement, str]] = []
    wide: list[tuple[int, PageMeasurement, str]] = []
    for i, p in _readable(subject):
        if p.border_mm is None:
            continue
        over = [
            f"{_SIDES[side]} {p.border_mm[side]:.1f}mm：{share:.0%}"
            for side, share in enumerate(p.border_content or ())
            if share > o.border_content_max
        ]
        if over:
            covering.append((i, p, "；".join(over)))
        elif max(p.border_mm) > o.max_border_mm:
            wide.append((i, p, f"{max(p.border_mm):.1f}mm"))
    yield from _group(Status.FAIL, "covers_content", covering, "border_content", f"<= {o.border_content_max:.0%}")
    yield from _corrected(subject, ("border", "cropped"), wide, "border_mm", f"<= {o.max_border_mm:g}mm")


@check("SCAN-DUP")
def duplicates(subject: ScanItemSubject) -> Iterator[Finding]:
    o = subject.options
    pages = [(i, p) for i, p in _readable(subject) if p.phash is not None and not p.blank]
    threshold = f"> {o.duplicate_max_distance} bits or corr. < {o.duplicate_min_correlation}"
    for a, (i, p) in enumerate(pages):
        for j, q in pages[:a]:
            assert p.phash is not None and q.phash is not None
            dist = hamming(p.phash, q.phash)
            if dist > o.duplicate_max_distance:
                continue
            corr = correlation(p.thumbnail, q.thumbnail)
            if corr >= o.duplicate_min_correlation:
                yield Finding(
                    Status.FAIL,
                    "duplicate",
                    {"pages": str(i), "other": str(j)},
                    (
                        Evidence(
                            file=p.name,
                            field="phash",
                            expected=threshold,
                            found=f"{dist} bits, correlation {corr:.3f} with {q.name}",
                            page=i,
                        ),
                    ),
                )
                break
    if subject.batch is None:
        return
    for i, p in pages:
        for ref in subject.batch.cross_duplicates.get((subject.archival_code, i), ()):
            yield Finding(
                Status(o.cross_item_duplicate_status),
                "cross_item",
                {"pages": str(i), "other": f"{ref.archival_code} 第{ref.page}页（{ref.file}）"},
                (
                    Evidence(
                        file=p.name,
                        field="phash",
                        expected="no same page in another item",
                        found=f"{ref.archival_code}/{ref.file}: {ref.distance} bits, r={ref.correlation:.3f}",
                        page=i,
                    ),
                ),
            )


@check("SCAN-COUNT")
def count(subject: ScanItemSubject) -> Iterator[Finding]:
    found = len(subject.pages)
    non_blank = sum(1 for p in subject.pages if not p.blank)
    expected = subject.catalogue_page_count
    params = {"found": found, "non_blank": non_blank, "expected": expected}
    ev = (Evidence(field="页数", expected=str(expected), found=f"{found} ({non_blank} non-blank)"),)
    if expected is None:
        yield Finding(Status.WARN, "no_count", params, ev)
    elif found == expected:
        yield Finding(Status.PASS, "ok", params, ev)
    elif non_blank == expected and not subject.options.count_blank_pages:
        yield Finding(Status.PASS, "non_blank_match", params, ev)
    else:
        yield Finding(Status.FAIL, "mismatch", params, ev)


@check("SCAN-NAME")
def naming(subject: ScanItemSubject) -> Iterator[Finding]:
    o = subject.options
    bad: list[str] = []
    wrong: list[str] = []
    seqs: list[int] = []
    seen_files: set[str] = set()
    for p in subject.pages:
        if p.path.name in seen_files:  # later frames of a multi-page file share its name
            continue
        seen_files.add(p.path.name)
        frames = p.header.frames if p.header else 1
        stem, code = p.path.stem, subject.archival_code
        if stem == code:  # a multi-page file may be named by the 档号 alone
            if len(subject.pages) != frames:
                bad.append(p.path.name)
            continue
        rest = stem[len(code) + 1 :] if stem.startswith(code) and stem[len(code) : len(code) + 1] in "-_" else ""
        if rest.isdigit():  # the 档号 itself may end in digits: match it first, then the page number
            seqs.append(int(rest))
            continue
        parsed = page_sequence(p.path, o)
        if parsed is None:
            bad.append(p.path.name)
            continue
        found_code, seq = parsed
        if found_code != code:
            wrong.append(p.path.name)
        seqs.append(seq)
    if bad:
        yield Finding(
            Status.FAIL,
            "bad_name",
            {"files": "、".join(bad[:MAX_LISTED])},
            tuple(Evidence(file=n, field="name", expected=o.page_name_pattern, found=n) for n in bad),
        )
    if wrong:
        yield Finding(
            Status.FAIL,
            "wrong_code",
            {"files": "、".join(wrong[:MAX_LISTED]), "expected": subject.archival_code},
            tuple(Evidence(file=n, field="档号", expected=subject.archival_code, found=n) for n in wrong),
        )
    counts = Counter(seqs)
    repeated = sorted(s for s, c in counts.items() if c > 1)
    if repeated:
        yield Finding(
            Status.FAIL,
            "repeated",
            {"found": "、".join(map(str, repeated))},
            (Evidence(field="sequence", expected="unique", found=",".join(map(str, repeated))),),
        )
    if seqs:
        missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
        if missing:
            yield Finding(
                Status.FAIL,
                "gap",
                {"missing": _pages_text(missing)},
                (Evidence(field="sequence", expected=f"1..{max(seqs)}", found=f"missing {missing}"),),
            )


@check("SCAN-FORMAT")
def storage_format(subject: ScanItemSubject) -> Iterator[Finding]:
    """DA/T 31 9.5: TIFF, JPEG or JPEG 2000, one format per batch. The items in a format other
    than the batch's (:meth:`BatchContext.batch_formats`) are returned; the rest of the batch is
    unaffected. On a full tie no format is the batch's and every item of the tied formats is
    returned. ``strict`` fails every item of a batch that mixes formats."""
    o = subject.options
    allowed = "、".join(o.allowed_formats)
    hits = [
        (i, p, p.header.format) for i, p in _readable(subject) if p.header and p.header.format not in o.allowed_formats
    ]
    yield from _group(Status.FAIL, "not_allowed", hits, "format", allowed)
    mine = Counter(p.header.format for p in subject.pages if p.header is not None)
    if o.strict:
        batch = Counter(subject.batch.formats) if subject.batch else Counter()
        batch.update({} if subject.batch else mine)
        if len(batch | mine) > 1:
            found = "、".join(f"{f}（{n}页）" for f, n in (batch | mine).most_common())
            yield Finding(
                Status.FAIL,
                "mixed",
                {"found": found, "this": "、".join(mine)},
                (Evidence(field="format", expected="one format per batch", found=found),),
            )
        return
    own = sorted(f for f in mine if f in o.allowed_formats)
    if len(own) > 1:
        found = "、".join(f"{f}（{mine[f]}页）" for f in own)
        yield Finding(
            Status.FAIL,
            "item_mixed",
            {"found": found},
            (Evidence(field="format", expected="one format per item and batch", found=found),),
        )
        return
    if not own or subject.batch is None:
        return
    batch_formats = subject.batch.batch_formats(o.allowed_formats)
    if own[0] in batch_formats and len(batch_formats) == 1:
        return
    items = Counter(fs[0] for fs in subject.batch.item_formats.values() if len(fs) == 1)
    found = "、".join(f"{f}（{items[f]}件，{subject.batch.formats.get(f, 0)}页）" for f in sorted(items))
    key = "tie" if own[0] in batch_formats else "minority"
    yield Finding(
        Status.FAIL,
        key,
        {"found": found, "this": own[0], "expected": "、".join(batch_formats)},
        (Evidence(field="format", expected="、".join(batch_formats), found=own[0]),),
    )


@check("SCAN-DEPTH")
def depth(subject: ScanItemSubject) -> Iterator[Finding]:
    o = subject.options

    def mode(p: PageMeasurement) -> tuple[str, str] | None:
        assert p.header is not None
        m = p.header.pixel_mode
        return ("pixel_mode", f"{m} ({p.header.bits_per_sample}-bit)") if m not in o.allowed_pixel_modes else None

    def compression(p: PageMeasurement) -> tuple[str, str] | None:
        assert p.header is not None
        return ("compression", p.header.compression) if p.header.compression not in o.allowed_compressions else None

    def quality(p: PageMeasurement) -> tuple[str, str] | None:
        assert p.header is not None
        q = p.header.jpeg_quality
        return ("jpeg_quality", str(q)) if q is not None and q < o.min_jpeg_quality else None

    for fn, field_name, expected in (
        (mode, "pixel_mode", "、".join(o.allowed_pixel_modes)),
        (compression, "compression", "、".join(o.allowed_compressions)),
        (quality, "jpeg_quality", f">= {o.min_jpeg_quality}"),
    ):
        for key, hits in _by_key(subject, fn).items():
            yield from _group(Status.FAIL, key, hits, field_name, expected)
