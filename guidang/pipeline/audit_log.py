"""The audit-log check: the catalogue's ``events`` table verified along its SM3 hash chain against every anchor
written outside the database, and the head found anchored again (DA/T 92: the log is checked "at every audit").

Run by ``guidang audit-log verify``, by the auditor's Verify button and by every store audit (``guidang audit``).
"""

from __future__ import annotations

from guidang.config import Settings
from guidang.storage import audit as chain
from guidang.storage.catalogue import Catalogue


def check_chain(settings: Settings, catalogue: Catalogue, reason: str = "audit") -> chain.ChainReport:
    """Verify the whole chain against every anchor, then anchor the head found (\"at every audit\")."""
    with catalogue.session() as s:
        report = chain.verify(s, chain.read_anchors(settings.audit_root))
        if report.ok:
            chain.write_anchor(settings.audit_root, report.head, reason)
    return report
