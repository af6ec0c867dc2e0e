"""The catalogue DB as the DA/T 70 checks see it (``validators.dat70.context.CatalogueLookups``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from guidang.models import ItemStatus
from guidang.storage.catalogue import Catalogue, EventRow, FileRow, ItemRow, VolumeDocumentRow
from guidang.validators.dat70.context import Event, Registered

# DA/T 46 element -> key of the catalogue row kept with each item
_ROW_KEYS = {"文件编号": "doc_number", "文号": "doc_number", "责任者": "creator", "办件编号": "case_number"}


class CatalogueDbLookups:
    """The lookups, each in a transaction of its own; or all inside ``session``, so that the checks see what
    that transaction has written and not yet committed (a case's 档号 and its audit entry, numbered and logged
    with the archiving: cases.py)."""

    def __init__(self, catalogue: Catalogue, session: Session | None = None) -> None:
        self.catalogue = catalogue
        self.in_session = session

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if self.in_session is not None:
            self.in_session.flush()
            yield self.in_session
        else:
            with self.catalogue.session() as s:
                yield s

    def ping(self) -> None:
        self.catalogue.ping()

    def archived_with(self, element: str, value: str) -> Sequence[str]:
        """档号 of accepted items whose ``element`` equals ``value``."""
        accepted = ItemRow.status == ItemStatus.ACCEPTED
        if element in ("档号", "电子文件号"):  # an item's, or a document's inside an archived volume
            in_volume = select(VolumeDocumentRow.item_id).where(VolumeDocumentRow.archival_code == value)
            condition: ColumnElement[bool] = (ItemRow.archival_code == value) | ItemRow.id.in_(in_volume)
        elif element == "题名":
            condition = ItemRow.title == value
        elif element in _ROW_KEYS:
            condition = ItemRow.row[_ROW_KEYS[element]].as_string() == value
        else:
            raise KeyError(f"no catalogue column for element {element}")
        with self._session() as s:
            return sorted(set(s.scalars(select(ItemRow.archival_code).where(accepted & condition))))

    def registered(self, archival_code: str) -> Registered | None:
        """The master files registered for the item's latest delivery at intake."""
        with self._session() as s:
            item_id = s.scalars(
                select(ItemRow.id).where(ItemRow.archival_code == archival_code).order_by(ItemRow.id.desc())
            ).first()
            if item_id is None:
                return None
            count, total = s.execute(
                select(func.count(FileRow.id), func.coalesce(func.sum(FileRow.size), 0)).where(
                    FileRow.item_id == item_id, FileRow.role == "master"
                )
            ).one()
            return Registered(file_count=int(count), total_bytes=int(total))

    def events(self, archival_code: str) -> Sequence[Event]:
        with self._session() as s:
            rows = s.scalars(select(EventRow).where(EventRow.subject == archival_code).order_by(EventRow.id))
            return [Event(agent=r.agent, action=r.action, at=r.at) for r in rows]
