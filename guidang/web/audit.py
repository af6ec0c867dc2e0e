"""Writing to and checking the audit log from the web app.

The audit log is the catalogue's ``events`` table, SM3 hash-chained by :mod:`guidang.storage.audit`: there is
no second log. :func:`record` is how a route (or a command acting for a person) appends an event; the audit-log check is
:func:`guidang.pipeline.audit_log.check_chain`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from guidang.errors import InputError
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

