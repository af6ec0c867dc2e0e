"""The full-text and metadata index (查阅利用): one row per archived record, one per page of its text.

Terms (:func:`terms`): text is normalised (NFKC, case folded) and cut into terms. Every CJK character is a
term of its own; a run of other letters and digits is one term. A query is cut the same way and each of its
words becomes a *phrase* of consecutive terms, so a Chinese word of any length is found where it occurs,
one character (张) or two (社保) included, which a trigram index cannot do. Whitespace that OCR puts between
Chinese characters ("张 三") does not matter: it separates nothing that was not already a term.

* SQLite (the embedded default): an FTS5 table over ``search_pages.terms`` (external content, kept in step by
  triggers); a phrase ``"社 保"`` matches consecutive terms.
* PostgreSQL: ``search_pages.terms`` is a ``tsvector`` written by guidang with the term positions (no text
  search parser runs, so neither zhparser nor a UTF-8 ctype is needed), under a GIN index; a phrase is a
  ``tsquery`` of terms joined by ``<->``.

Page 0 of a record holds its metadata text (题名, 责任者, 档号, …), so metadata is found like text. The
record row holds the filter fields (全宗, 年度, 保管期限, 密级 with its rank, 控制标识, 事项, vendor, batch);
the access rule that turns a viewer's clearance into a highest rank and a set of 控制标识 lives above
(``guidang.pipeline.access``). A hit carries the page number and the page's own text, from which the snippet
and its highlight are cut (:func:`locate`), so a hit is also verified against the text it was found in.

The FTS5 table is not a model: :func:`is_index_table` names it for the schema comparison.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    DDL,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    cast,
    column,
    delete,
    event,
    func,
    insert,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from guidang.errors import InputError
from guidang.storage.catalogue import Base, utcnow

# CJK ideographs (URO, extension A, compatibility, extensions B and later), 〇, kana: written without spaces
_CJK = "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_TERM = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
MAX_TERM = 200  # a longer run of letters and digits (a hash, garbage) is cut to this many characters
# a tsvector position is at most 16383; terms beyond it share that position (PostgreSQL "Text Search Types")
PG_MAX_POSITION = 16383


class SearchQueryError(InputError):
    """The query holds no term (only punctuation or spaces), or a filter is not one the index has."""

    code = "SEARCH_QUERY"


class SearchRecordRow(Base):
    """One archived record (件) as the index knows it: its filter fields and what a result list shows."""

    __tablename__ = "search_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(200), unique=True)  # 档号 = OCFL object id
    version: Mapped[str] = mapped_column(String(20))  # the OCFL version indexed
    title: Mapped[str] = mapped_column(Text, default="")
    fonds: Mapped[str] = mapped_column(String(100), default="", index=True)  # 全宗号
    year: Mapped[int | None] = mapped_column(Integer, default=None, index=True)  # 年度
    retention: Mapped[str] = mapped_column(String(20), default="", index=True)  # 保管期限
    classification: Mapped[str] = mapped_column(String(40), default="")  # 密级 as written
    level: Mapped[int] = mapped_column(Integer, index=True)  # the 密级's rank (access.toml)
    control: Mapped[str] = mapped_column(String(40), default="", index=True)  # 控制标识 ("" none)
    matter: Mapped[str] = mapped_column(String(200), default="", index=True)  # 事项名称
    vendor: Mapped[str] = mapped_column(String(200), default="", index=True)
    batch: Mapped[str] = mapped_column(String(255), default="", index=True)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[dict[str, Any]] = mapped_column(default=dict)  # shown metadata (责任者, 日期, 文号, …)
    indexed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SearchPageRow(Base):
    """One page of a record's text (page 0: its metadata text) with its terms."""

    __tablename__ = "search_pages"
    __table_args__ = (UniqueConstraint("record_id", "page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("search_records.id", ondelete="CASCADE"), index=True)
    page: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[str] = mapped_column(Text().with_variant(postgresql.TSVECTOR(), "postgresql"))


FTS_TABLE = "search_fts"
PG_TERMS_INDEX = "ix_search_pages_terms_gin"

# SQLite: the FTS5 table reads its text from search_pages (external content); triggers keep it in step
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(terms, content='search_pages', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail='full')",
    f"CREATE TRIGGER IF NOT EXISTS search_pages_ai AFTER INSERT ON search_pages BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.id, new.terms); END",
    f"CREATE TRIGGER IF NOT EXISTS search_pages_ad AFTER DELETE ON search_pages BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms) VALUES ('delete', old.id, old.terms); END",
    f"CREATE TRIGGER IF NOT EXISTS search_pages_au AFTER UPDATE ON search_pages BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, terms) VALUES ('delete', old.id, old.terms); "
    f"INSERT INTO {FTS_TABLE}(rowid, terms) VALUES (new.id, new.terms); END",
)
SQLITE_DROP = ("DROP TRIGGER IF EXISTS search_pages_au", "DROP TRIGGER IF EXISTS search_pages_ad",
               "DROP TRIGGER IF EXISTS search_pages_ai", f"DROP TABLE IF EXISTS {FTS_TABLE}")
POSTGRESQL_DDL = (f"CREATE INDEX IF NOT EXISTS {PG_TERMS_INDEX} ON search_pages USING gin (terms)",)
POSTGRESQL_DROP = (f"DROP INDEX IF EXISTS {PG_TERMS_INDEX}",)

for _statement in SQLITE_DDL:
    event.listen(SearchPageRow.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]
for _statement in POSTGRESQL_DDL:
    event.listen(SearchPageRow.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))  # type: ignore[no-untyped-call]


def create_index_objects(conn: Connection) -> None:
    """The FTS5 table and its triggers (SQLite) or the GIN index (PostgreSQL): what the models cannot say."""
    for statement in SQLITE_DDL if conn.dialect.name == "sqlite" else POSTGRESQL_DDL:
        conn.execute(text(statement))


def drop_index_objects(conn: Connection) -> None:
    for statement in SQLITE_DROP if conn.dialect.name == "sqlite" else POSTGRESQL_DROP:
        conn.execute(text(statement))


def is_index_table(name: str | None) -> bool:
    """The FTS5 table and its shadow tables (search_fts_data, …), which no model describes."""
    return bool(name) and (name == FTS_TABLE or str(name).startswith(f"{FTS_TABLE}_"))


# --- terms -------------------------------------------------------------------------------------------


def _fold(text_: str) -> str:
    return unicodedata.normalize("NFKC", text_).casefold()


def terms(text_: str) -> list[str]:
    """The terms of a text, in order (see the module's docstring)."""
    return [t[:MAX_TERM] for t in _TERM.findall(_fold(text_))]


@dataclass(frozen=True)
class Span:
    """A term's place in the original (unfolded) text: ``text[start:end]``."""

    term: str
    start: int
    end: int


def spans(text_: str) -> list[Span]:
    """The terms of a text with their places in it (slower than :func:`terms`; used for snippets)."""
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text_):
        f = _fold(ch)
        folded.append(f)
        origin.extend([i] * len(f))
    flat = "".join(folded)
    return [Span(m.group()[:MAX_TERM], origin[m.start()], origin[m.end() - 1] + 1) for m in _TERM.finditer(flat)]


def query_phrases(query: str) -> list[list[str]]:
    """The query's words (split at whitespace), each as the phrase of its terms; words without a term drop out.

    A word is split at whitespace only; "社保 张三" is two phrases, both required."""
    phrases = [terms(word) for word in query.split()]
    return [p for p in phrases if p]


def _fts_match(phrases: Sequence[Sequence[str]]) -> str:
    # terms are letters and digits only (the _TERM pattern), so they never hold a quote
    return " AND ".join('"' + " ".join(p) + '"' for p in phrases)


def _tsquery(phrases: Sequence[Sequence[str]]) -> str:
    return " & ".join("(" + " <-> ".join(f"'{t}'" for t in p) + ")" for p in phrases)


def _tsvector(found: Sequence[str]) -> str:
    positions: dict[str, list[int]] = {}
    for i, term in enumerate(found, start=1):
        positions.setdefault(term, []).append(min(i, PG_MAX_POSITION))
    return " ".join(f"'{t}':{','.join(map(str, p))}" for t, p in positions.items())


def stored_terms(dialect: str, text_: str) -> str:
    """What ``search_pages.terms`` holds for a text: spaced terms (SQLite) or a tsvector literal (PostgreSQL)."""
    found = terms(text_)
    return _tsvector(found) if dialect == "postgresql" else " ".join(found)


def locate(text_: str, phrases: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Where each occurrence of each phrase lies in ``text_`` (start, end), in text order."""
    found = spans(text_)
    seq = [s.term for s in found]
    places: list[tuple[int, int]] = []
    for phrase in phrases:
        n = len(phrase)
        first = phrase[0]
        for i, term in enumerate(seq):
            if term == first and seq[i:i + n] == list(phrase):
                places.append((found[i].start, found[i + n - 1].end))
    return sorted(set(places))


# --- records -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedRecord:
    """What the index holds of one record: filter fields, shown fields, its page texts and metadata text."""

    code: str
    version: str
    title: str
    level: int
    pages: tuple[str, ...]
    metadata_text: str
    fonds: str = ""
    year: int | None = None
    retention: str = ""
    classification: str = ""
    control: str = ""
    matter: str = ""
    vendor: str = ""
    batch: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)


FILTERS = ("fonds", "year", "retention", "classification", "matter", "vendor", "batch", "control")


@dataclass(frozen=True)
class Query:
    """A search: text (may be empty: metadata filters only), exact-match filters, and the viewer's reach."""

    text: str
    max_level: int
    controls: frozenset[str] | None  # 控制标识 the viewer may see ("" = records without one; None: any)
    filters: Mapping[str, str | int] = field(default_factory=dict)
    limit: int = 20
    offset: int = 0
    ranked: bool = False  # best first (bm25 / ts_rank_cd) rather than newest first: every match is scored


@dataclass(frozen=True)
class PageHit:
    """One page that matched (page 0: the metadata), with its record's row and the page's text."""

    record: SearchRecordRow
    page: int
    text: str


def put(conn: Connection, record: IndexedRecord) -> None:
    """Index a record, replacing what was indexed under its 档号."""
    remove(conn, record.code)
    values = {
        "code": record.code, "version": record.version, "title": record.title, "fonds": record.fonds,
        "year": record.year, "retention": record.retention, "classification": record.classification,
        "level": record.level, "control": record.control, "matter": record.matter, "vendor": record.vendor,
        "batch": record.batch, "page_count": len(record.pages), "fields": dict(record.fields),
        "indexed_at": utcnow(),
    }
    record_id: int = conn.execute(insert(SearchRecordRow).values(**values).returning(SearchRecordRow.id)).scalar_one()
    dialect = conn.dialect.name
    rows = [{"record_id": record_id, "page": n, "text": body, "terms": stored_terms(dialect, body)}
            for n, body in enumerate((record.metadata_text, *record.pages))]
    conn.execute(insert(SearchPageRow), rows)


def remove(conn: Connection, code: str) -> bool:
    """Take a record out of the index (its pages first: the SQLite triggers update the FTS table)."""
    rid = conn.execute(select(SearchRecordRow.id).where(SearchRecordRow.code == code)).scalar()
    if rid is None:
        return False
    conn.execute(delete(SearchPageRow).where(SearchPageRow.record_id == rid))
    conn.execute(delete(SearchRecordRow).where(SearchRecordRow.id == rid))
    return True


def clear(conn: Connection) -> None:
    conn.execute(delete(SearchPageRow))
    conn.execute(delete(SearchRecordRow))
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))


def indexed(conn: Connection) -> dict[str, str]:
    """档号 → the OCFL version indexed."""
    return {code: version for code, version in conn.execute(select(SearchRecordRow.code, SearchRecordRow.version))}


def _conditions(query: Query) -> list[Any]:
    r = SearchRecordRow
    conditions: list[Any] = [r.level <= query.max_level]
    if query.controls is not None:
        conditions.append(r.control.in_(sorted(query.controls)))
    for name, value in query.filters.items():
        if name not in FILTERS:
            raise SearchQueryError(f"没有“{name}”这一筛选项（可用：{'、'.join(FILTERS)}）",
                                   f"no filter {name!r} (one of {', '.join(FILTERS)})")
        conditions.append(getattr(r, name) == value)
    return conditions


def search(conn: Connection, query: Query) -> list[PageHit]:
    """Pages matching every word of the query within the viewer's reach, newest first (or best first).

    An empty query lists the records the filters select (their metadata page), newest 档号 first."""
    phrases = query_phrases(query.text)
    if query.text.strip() and not phrases:
        raise SearchQueryError("查询词中没有可检索的文字（只有标点或空白）",
                               "the query holds nothing searchable (only punctuation or spaces)")
    r, p = SearchRecordRow, SearchPageRow
    cols = (p.record_id, p.page, p.text)
    if not phrases:
        stmt = (select(*cols).join(r, r.id == p.record_id)
                .where(p.page == 0, *_conditions(query)).order_by(r.code.desc()))
    elif conn.dialect.name == "sqlite":
        fts = table(FTS_TABLE, column("rowid"), column("rank"))
        stmt = (select(*cols).select_from(fts)
                .join(p, p.id == fts.c.rowid)
                .join(r, r.id == p.record_id)
                .where(literal_column(FTS_TABLE).op("MATCH")(_fts_match(phrases)), *_conditions(query))
                .order_by(*((fts.c.rank, p.id) if query.ranked else (fts.c.rowid.desc(),))))
    else:
        # a tsquery literal cast, not to_tsquery(): no text search parser (and no locale) reads the terms
        tsq = cast(bindparam("tsq", _tsquery(phrases), type_=Text), postgresql.TSQUERY)
        stmt = (select(*cols).join(r, r.id == p.record_id)
                .where(p.terms.op("@@")(tsq), *_conditions(query))
                .order_by(*((func.ts_rank_cd(p.terms, tsq).desc(), p.id) if query.ranked else (p.id.desc(),))))
    rows = list(conn.execute(stmt.limit(query.limit).offset(query.offset)))
    records = {row.id: row for row in _records(conn, {x.record_id for x in rows})}
    return [PageHit(records[x.record_id], x.page, x.text) for x in rows]


def _records(conn: Connection, ids: Iterable[int]) -> list[SearchRecordRow]:
    from sqlalchemy.orm import Session

    with Session(bind=conn) as session:
        found = list(session.scalars(select(SearchRecordRow).where(SearchRecordRow.id.in_(list(ids)))))
        session.expunge_all()
    return found


def record(conn: Connection, code: str, *, max_level: int, controls: frozenset[str] | None) -> SearchRecordRow | None:
    """The indexed record with this 档号 if the viewer may see it, else None (the same answer as absent)."""
    from sqlalchemy.orm import Session

    reach = _conditions(Query(text="", max_level=max_level, controls=controls))
    with Session(bind=conn) as session:
        found = session.scalars(select(SearchRecordRow).where(SearchRecordRow.code == code, *reach)).first()
        session.expunge_all()
    return found


def page_text(conn: Connection, record_id: int, page: int) -> str | None:
    return conn.execute(select(SearchPageRow.text).where(
        SearchPageRow.record_id == record_id, SearchPageRow.page == page)).scalar()
