"""DA/T 31-2017 acceptance (验收) sampling: a share of each batch's accepted items is drawn for a person to
look at; their verdicts give the batch's sampled pass rate (DA/T 31: at least 5% sampled, at least 95% pass).

The draw is reproducible: the items are shuffled by a generator seeded with the batch's content digest, so the
same batch always yields the same sample and nobody can draw again until a convenient one comes up.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guidang.errors import InputError
from guidang.models import ItemStatus
from guidang.storage.accounts import SampleRow
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow, utcnow

VERDICTS = ("pass", "fail")


@dataclass(frozen=True)
class BatchSampling:
    batch_id: int
    name: str
    vendor: str
    accepted: int
    drawn: int
    judged: int
    passed: int
    needed: int  # items the share asks for

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.judged if self.judged else None

    def verdict(self, pass_rate: float) -> str:
        """open (not all judged) | pass | fail."""
        if self.drawn < self.needed or self.judged < self.drawn:
            return "open"
        rate = self.pass_rate
        return "pass" if rate is not None and rate >= pass_rate else "fail"


def needed(accepted: int, share: float) -> int:
    return min(accepted, math.ceil(accepted * share)) if accepted else 0


def draw(session: Session, batch_id: int, share: float, agent: str) -> list[SampleRow]:
    """Draw the batch's sample (its accepted items not yet drawn, up to the share); returns the new rows."""
    batch = session.get(BatchRow, batch_id)
    if batch is None:
        raise InputError(f"没有编号为 {batch_id} 的批次", f"no batch {batch_id}")
    accepted = sorted(i.id for i in batch.items if i.status == ItemStatus.ACCEPTED)
    drawn = set(session.scalars(select(SampleRow.item_id).where(SampleRow.batch_id == batch_id)))
    want = needed(len(accepted), share) - len(drawn)
    if want <= 0:
        raise InputError("该批次的抽检已抽足", "the batch's sample is drawn already")
    order = list(accepted)
    random.Random(batch.content_digest).shuffle(order)  # reproducible: the same batch, the same sample
    rows = [SampleRow(batch_id=batch_id, item_id=i) for i in order if i not in drawn][:want]
    session.add_all(rows)
    session.flush()
    Catalogue.log(session, agent, "sample.drawn", batch.name, batch_id=batch_id, share=share,
                  items=[r.item_id for r in rows])
    return rows


def judge(session: Session, sample_id: int, verdict: str, reason: str, agent: str) -> SampleRow:
    if verdict not in VERDICTS:
        raise InputError(f"结论只能是 {'/'.join(VERDICTS)}", f"the verdict is one of {', '.join(VERDICTS)}")
    row = session.get(SampleRow, sample_id)
    if row is None:
        raise InputError(f"没有编号为 {sample_id} 的抽检", f"no sample {sample_id}")
    if row.verdict is not None:
        raise InputError("该抽检已有结论", "the sample has a verdict already")
    row.verdict, row.reason, row.agent, row.decided_at = verdict, reason, agent, utcnow()
    item = session.get(ItemRow, row.item_id)
    Catalogue.log(session, agent, "sample.judged", item.archival_code if item else str(row.item_id),
                  sample=row.id, batch_id=row.batch_id, verdict=verdict, reason=reason)
    return row


def overview(session: Session, share: float, limit: int = 50) -> list[BatchSampling]:
    """The latest batches with accepted items and where their sampling stands."""
    out = []
    stmt = (select(BatchRow).where(BatchRow.id.in_(select(ItemRow.batch_id).where(
        ItemRow.status == ItemStatus.ACCEPTED))).order_by(BatchRow.id.desc()).limit(limit))
    for b in session.scalars(stmt):
        accepted = session.scalar(select(func.count(ItemRow.id)).where(
            ItemRow.batch_id == b.id, ItemRow.status == ItemStatus.ACCEPTED)) or 0
        samples = list(session.scalars(select(SampleRow).where(SampleRow.batch_id == b.id)))
        out.append(BatchSampling(b.id, b.name, b.vendor, accepted, len(samples),
                                 sum(1 for r in samples if r.verdict), sum(1 for r in samples if r.verdict == "pass"),
                                 needed(accepted, share)))
    return out


def pending(session: Session, limit: int = 100) -> list[tuple[SampleRow, ItemRow]]:
    """Drawn items waiting for a verdict, oldest first."""
    rows = session.execute(select(SampleRow, ItemRow).join(ItemRow, SampleRow.item_id == ItemRow.id)
                           .where(SampleRow.verdict.is_(None)).order_by(SampleRow.id).limit(limit)).all()
    return [(r, i) for r, i in rows]
