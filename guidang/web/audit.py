"""Writing to and checking the audit log from the web app.

The audit log is the catalogue's ``events`` table, SM3 hash-chained by :mod:`guidang.storage.audit`: there is
no second log. :func:`record` is how a route (or a command acting for a person) appends an event;
:func:`check_chain` is the audit-log check (it writes the head outside the database, as an anchor, each time).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from guidang.config import Settings
from guidang.errors import InputError
from guidang.storage import audit as chain
from guidang.storage.catalogue import Catalogue, EventRow
from guidang.web.auth import Principal

REASON_MIN = 4  # characters of a written reason: more than "ok" (local rule, docs/web.md)


def written_reason(reason: str | None) -> str:
    """The reason an action needs, stripped; refused when missing or too short."""
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        raise InputError(f"请写明理由（至少 {REASON_MIN} 个字）", f"write a reason (at least {REASON_MIN} characters)")
    return text


def record(session: Session, who: Principal | str, action: str, subject: str, /, *, reason: str = "",
           **detail: Any) -> EventRow:
    """Append one event, in ``session``'s transaction (it is chained when flushed, so it commits or rolls back
    with the change it records). ``who`` is the principal, or an agent name for a command (``cli:NAME``)."""
    agent = who.agent if isinstance(who, Principal) else who
    if reason:
        detail["reason"] = reason
    if isinstance(who, Principal):
        detail.setdefault("via", who.via)
    return Catalogue.log(session, agent, action, subject, **detail)


def check_chain(settings: Settings, catalogue: Catalogue, reason: str = "audit") -> chain.ChainReport:
    """Verify the whole chain against every anchor, then anchor the head found (\"at every audit\")."""
    with catalogue.session() as s:
        report = chain.verify(s, chain.read_anchors(settings.audit_root))
        if report.ok:
            chain.write_anchor(settings.audit_root, report.head, reason)
    return report
