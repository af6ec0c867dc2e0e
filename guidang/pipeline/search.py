"""Search (查阅利用) for a viewer: hits within the viewer's clearance, each with its page, a snippet with the
query's words highlighted, and personal data masked unless the viewer may see it.

The access rule is applied by the index query (``guidang.pipeline.access``); masking (``masking``) is applied
to the page text before the snippet is cut, so no digit of a masked number reaches the viewer. Views and
downloads are logged by the caller (the web app in its audit log, the CLI in the catalogue's events).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from guidang.pipeline import masking
from guidang.pipeline.access import Viewer
from guidang.storage import search_index
from guidang.storage.catalogue import Catalogue

SNIPPET_CONTEXT = 40  # characters shown either side of the first match (about one line of a page)
_SPACE = re.compile(r"\s+")
SNIPPET_HEAD = 2 * SNIPPET_CONTEXT  # characters shown when a page is listed without a match (metadata filters)


@dataclass(frozen=True)
class Snippet:
    """A piece of a page; ``marks`` are the highlighted (start, end) places in ``text``."""

    text: str
    marks: tuple[tuple[int, int], ...]

    def parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, highlighted) pieces, for a template that escapes each."""
        out: list[tuple[str, bool]] = []
        at = 0
        for start, end in self.marks:
            if start > at:
                out.append((self.text[at:start], False))
            out.append((self.text[start:end], True))
            at = end
        if at < len(self.text):
            out.append((self.text[at:], False))
        return out

    def marked(self, before: str = "【", after: str = "】") -> str:
        return "".join(f"{before}{t}{after}" if hit else t for t, hit in self.parts())


@dataclass(frozen=True)
class Hit:
    code: str
    title: str
    page: int  # 0: the metadata matched
    snippet: Snippet
    classification: str
    control: str
    fonds: str
    year: int | None
    retention: str
    matter: str
    vendor: str
    batch: str
    fields: Mapping[str, str]

    def as_json(self) -> dict[str, object]:
        return {"档号": self.code, "题名": self.title, "page": self.page, "snippet": self.snippet.text,
                "highlights": [list(m) for m in self.snippet.marks], "密级": self.classification,
                "控制标识": self.control, "全宗号": self.fonds, "年度": self.year, "保管期限": self.retention,
                "事项": self.matter, "vendor": self.vendor, "batch": self.batch, **dict(self.fields)}


def snippet(page_text: str, phrases: list[list[str]], *, mask: bool) -> Snippet:
    """The part of a page around its first match, whitespace runs shown as one space, matches marked."""
    text = masking.mask(page_text) if mask else page_text
    places = search_index.locate(page_text, phrases)  # on the unmasked text: masking keeps every offset
    if not places:
        cut = _squash(text[:SNIPPET_HEAD * 2]).strip()[:SNIPPET_HEAD]
        return Snippet(cut + ("…" if len(text) > len(cut) else ""), ())
    first = places[0][0]
    lo, hi = max(0, first - SNIPPET_CONTEXT), min(len(text), places[0][1] + SNIPPET_CONTEXT)
    lo_, hi_ = lo, hi
    for start, end in places:  # take in matches that reach just past the window
        if start < hi and end > hi:
            hi_ = end
    chosen = [(s, e) for s, e in places if s >= lo_ and e <= hi_]
    out: list[str] = ["…"] if lo_ > 0 else []
    marks: list[tuple[int, int]] = []
    at = lo_
    length = len(out[0]) if out else 0
    for start, end in chosen:
        piece = _squash(text[at:start])
        out.append(piece)
        length += len(piece)
        hit = _squash(text[start:end])
        marks.append((length, length + len(hit)))
        out.append(hit)
        length += len(hit)
        at = end
    out.append(_squash(text[at:hi_]))
    if hi_ < len(text):
        out.append("…")
    return Snippet("".join(out), tuple(marks))


def _squash(text: str) -> str:
    """Whitespace runs (line ends, OCR's spaces) as one space; the length may shrink, so marks are counted after."""
    return _SPACE.sub(" ", text)


def find(cat: Catalogue, viewer: Viewer, query: str, filters: Mapping[str, str | int] | None = None, *,
         limit: int = 20, offset: int = 0, ranked: bool = False) -> list[Hit]:
    """Pages matching every word of ``query`` among the records ``viewer`` may see, newest first (``ranked``:
    best first, slower for a common word: bench/results/search.md)."""
    phrases = search_index.query_phrases(query)
    q = search_index.Query(text=query, max_level=viewer.max_level, controls=viewer.reach,
                           filters=dict(filters or {}), limit=limit, offset=offset, ranked=ranked)
    with cat.engine.connect() as conn:
        found = search_index.search(conn, q)
    return [_hit(h, phrases, mask=not viewer.personal_data) for h in found]


def _hit(h: search_index.PageHit, phrases: list[list[str]], *, mask: bool) -> Hit:
    r = h.record
    shown = {k: masking.mask(v) if mask else v for k, v in (r.fields or {}).items()}
    return Hit(code=r.code, title=masking.mask(r.title) if mask else r.title, page=h.page,
               snippet=snippet(h.text, phrases, mask=mask), classification=r.classification, control=r.control,
               fonds=r.fonds, year=r.year, retention=r.retention, matter=r.matter, vendor=r.vendor, batch=r.batch,
               fields=shown)


@dataclass(frozen=True)
class RecordView:
    """An indexed record as a viewer may see it: its row and (masked as needed) its page texts."""

    code: str
    version: str
    title: str
    classification: str
    control: str
    page_count: int
    fields: Mapping[str, str]


def open_record(cat: Catalogue, viewer: Viewer, code: str) -> RecordView | None:
    """The record if ``viewer`` may see it; None when it is not indexed or not within the viewer's clearance
    (the two answers are the same, so a URL tells nothing of a record the viewer may not see)."""
    with cat.engine.connect() as conn:
        row = search_index.record(conn, code, max_level=viewer.max_level, controls=viewer.reach)
    if row is None:
        return None
    mask = not viewer.personal_data
    return RecordView(code=row.code, version=row.version, title=masking.mask(row.title) if mask else row.title,
                      classification=row.classification, control=row.control, page_count=row.page_count,
                      fields={k: masking.mask(v) if mask else v for k, v in (row.fields or {}).items()})
