"""Gap-free, repeat-free counters per 档号 prefix, safe under concurrent allocation.

One row per prefix (the lowest-level class, e.g. ``Z109-WS·2011-Y-BGS``) holds the last number
given. A number is taken with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement inside a
transaction that serialises writers:

* SQLite: the transaction is opened with ``BEGIN IMMEDIATE``, so the write lock is taken before the
  counter is read; concurrent processes queue on the lock (pysqlite's busy timeout) instead of
  failing with "database is locked" half-way through.
* PostgreSQL: ``ON CONFLICT DO UPDATE`` locks the counter row until commit, exactly as
  ``SELECT … FOR UPDATE`` + ``UPDATE`` would, without the insert race of the first number of a class
  (two transactions that both find no row and both insert).

The table lives in its own :data:`metadata` so the catalogue can create it with its own tables
(``sequence.metadata.create_all(engine)``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Connection, DateTime, Engine, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guidang.errors import InputError, StorageError

metadata = MetaData()

sequence_table = Table(
    "guidang_sequence",
    metadata,
    Column("prefix", String(255), primary_key=True, comment="档号 without its sequence part"),
    Column("last_value", Integer, nullable=False, comment="last number given in this class"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

Bind = Engine | Connection | Session


class SequenceExhaustedError(InputError):
    code = "SEQUENCE_EXHAUSTED"


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def _begin_serialised(conn: Connection) -> None:
    """Open a write-locking transaction on SQLite unless the DBAPI connection is already in one."""
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not getattr(raw, "in_transaction", False):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _upsert(conn: Connection, prefix: str, *, set_to: int | None) -> int:
    """Increment (set_to None) or raise to at least ``set_to``; return the stored value."""
    now = dt.datetime.now(dt.UTC)
    t = sequence_table
    ins: sqlite.Insert | postgresql.Insert
    if conn.dialect.name == "sqlite":
        ins = sqlite.insert(t)
    elif conn.dialect.name == "postgresql":
        ins = postgresql.insert(t)
    else:
        raise StorageError(
            f"档号序号分配不支持数据库类型 {conn.dialect.name}（支持 SQLite、PostgreSQL）",
            f"archival code allocation does not support {conn.dialect.name} (SQLite and PostgreSQL do)",
        )
    if set_to is None:
        stmt = ins.values(prefix=prefix, last_value=1, updated_at=now).on_conflict_do_update(
            index_elements=[t.c.prefix], set_={"last_value": t.c.last_value + 1, "updated_at": now}
        )
    else:
        greatest = _greatest(conn, set_to)
        stmt = ins.values(prefix=prefix, last_value=set_to, updated_at=now).on_conflict_do_update(
            index_elements=[t.c.prefix], set_={"last_value": greatest, "updated_at": now}
        )
    return int(conn.execute(stmt.returning(t.c.last_value)).scalar_one())


def _greatest(conn: Connection, value: int) -> object:
    from sqlalchemy import func

    fn = func.max if conn.dialect.name == "sqlite" else func.greatest  # SQLite's scalar max(a, b)
    return fn(sequence_table.c.last_value, value)


def _run(bind: Bind, prefix: str, set_to: int | None, limit: int | None) -> int:
    def step(conn: Connection) -> int:
        _begin_serialised(conn)
        value = _upsert(conn, prefix, set_to=set_to)
        if limit is not None and value > limit:
            raise SequenceExhaustedError(
                f"类“{prefix}”的编号已用尽（上限 {limit}）",
                f"numbers of class {prefix!r} are used up (limit {limit})",
            )
        return value

    if isinstance(bind, Engine):
        with bind.connect() as conn:
            try:
                value = step(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return value
    if isinstance(bind, Session):
        return step(bind.connection())
    return step(bind)


def next_value(bind: Bind, prefix: str, *, limit: int | None = None) -> int:
    """The next number of ``prefix`` (1 for a new prefix).

    With an Engine the number is committed before returning. With a Connection or Session it is
    part of the caller's transaction: commit it together with the record that uses it, so a failure
    rolls the number back too and no gap is left. Raises :class:`SequenceExhaustedError` past ``limit``
    (the transaction is rolled back for an Engine; the caller rolls back otherwise).
    """
    return _run(bind, prefix, None, limit)


def observe(bind: Bind, prefix: str, value: int) -> int:
    """Record that ``value`` is already used in ``prefix`` (e.g. codes imported from a catalogue)."""
    return _run(bind, prefix, value, None)


def current(bind: Engine | Connection | Session, prefix: str) -> int:
    """The last number given in ``prefix`` (0 when none)."""
    stmt = select(sequence_table.c.last_value).where(sequence_table.c.prefix == prefix)
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            found = conn.execute(stmt).scalar_one_or_none()
    else:
        found = bind.execute(stmt).scalar_one_or_none()
    return int(found) if found is not None else 0
