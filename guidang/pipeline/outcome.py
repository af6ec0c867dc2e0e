"""What ingesting a batch produced: per item and per batch. Serialises to the public
``--json`` contract (see README, "JSON output")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from guidang.models import ItemStatus
from guidang.pipeline.volumes import Volume
from guidang.validators.result import CheckResult, Report


@dataclass(frozen=True)
class Link:
    """An item of an earlier batch: the one re-delivered, or the one archived already."""

    item_id: int
    batch_id: int
    batch: str
    status: str
    object_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"item": self.item_id, "batch_id": self.batch_id, "batch": self.batch, "status": self.status,
                "object": self.object_id}


@dataclass(frozen=True)
class DocumentOutcome:
    """One document (文件) of a volume in the receipt: its 档号 (or 序号), title and pages."""

    code: str | None
    seq: str | None
    title: str
    first_page: int
    last_page: int

    def as_dict(self, status: ItemStatus) -> dict[str, object]:
        return {"id": self.code, "seq": self.seq, "title": self.title, "first_page": self.first_page,
                "last_page": self.last_page, "pages": self.last_page - self.first_page + 1, "status": str(status)}


def document_outcomes(volume: Volume | None) -> tuple[DocumentOutcome, ...] | None:
    """The documents of a volume as the receipt lists them; None for an item (件)."""
    if volume is None:
        return None
    return tuple(DocumentOutcome(d.code, d.row.seq, d.row.title, d.first_page, d.last_page) for d in volume.documents)


@dataclass(frozen=True)
class ItemOutcome:
    code: str
    title: str
    status: ItemStatus
    results: tuple[CheckResult, ...] = ()
    object_id: str | None = None
    rejected_path: str | None = None
    pages: int = 0
    bytes: int = 0
    row: int | None = None  # the catalogue row (None: a folder no row names)
    folder: str | None = None  # the delivered folder (None: a row whose folder is missing)
    supersedes: Link | None = None  # the returned item of an earlier batch this one re-delivers
    duplicate_of: Link | None = None  # the archived item with the same 档号 and content
    documents: tuple[DocumentOutcome, ...] | None = None  # a volume's documents (None: an item, 件)

    @property
    def failed_checks(self) -> list[str]:
        return Report(self.results).failed_ids

    @property
    def problems(self) -> list[CheckResult]:
        """What a reader of this item must see: its failures and warnings, except those about the
        archive's own systems (stated once for the batch: see BatchOutcome.system_problems)."""
        return [r for r in self.results if r.is_problem and not r.system]

    def as_dict(self) -> dict[str, object]:
        shown = self.problems
        return {
            "id": self.code or None,
            "row": self.row,
            "folder": self.folder,
            "status": str(self.status),
            "failed_checks": self.failed_checks,
            "object": self.object_id,
            "title": self.title,
            "pages": self.pages,
            "bytes": self.bytes,
            "rejected_path": self.rejected_path,
            "problems": [r.as_dict() for r in shown],
            "supersedes": self.supersedes.as_dict() if self.supersedes else None,
            "duplicate_of": self.duplicate_of.as_dict() if self.duplicate_of else None,
            **({} if self.documents is None else {"files": [d.as_dict(self.status) for d in self.documents]}),
        }


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: int
    name: str
    profile: str
    vendor: str
    delivery: int
    content_digest: str
    status: str  # done | failed | duplicate
    source: str
    items: tuple[ItemOutcome, ...] = ()
    batch_results: tuple[CheckResult, ...] = ()
    received_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    duplicate_of: int | None = None
    redelivery_of: int | None = None  # the earlier batch whose returned items this one re-delivers
    receipt_paths: tuple[str, ...] = ()

    @property
    def system_problems(self) -> list[CheckResult]:
        """Failures and warnings about the archive's own systems (the antivirus, the database), once
        each however many items reported them."""
        seen: dict[tuple[str, str], CheckResult] = {}
        for item in self.items:
            for r in item.results:
                if r.system and r.is_problem:
                    seen.setdefault((r.check_id, r.message_zh), r)
        return list(seen.values())

    @property
    def summary(self) -> dict[str, int]:
        accepted = sum(1 for i in self.items if i.status is ItemStatus.ACCEPTED)
        rejected = sum(1 for i in self.items if i.status is ItemStatus.REJECTED)
        return {
            "items": len(self.items),
            "accepted": accepted,
            "rejected": rejected,
            "duplicate": sum(1 for i in self.items if i.status is ItemStatus.DUPLICATE),
            "pages": sum(i.pages for i in self.items),
            "bytes": sum(i.bytes for i in self.items),
            "batch_problems": sum(1 for r in self.batch_results if r.is_problem),
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "batch": {
                "id": self.batch_id,
                "name": self.name,
                "profile": self.profile,
                "vendor": self.vendor,
                "delivery": self.delivery,
                "content_digest": self.content_digest,
                "status": self.status,
                "duplicate_of": self.duplicate_of,
                "redelivery_of": self.redelivery_of,
                "source": self.source,
                "received_at": self.received_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "problems": [r.as_dict() for r in self.batch_results if r.is_problem],
                "system_problems": [r.as_dict() for r in self.system_problems],
            },
            "items": [i.as_dict() for i in self.items],
            "summary": self.summary,
            "receipt": list(self.receipt_paths),
        }
