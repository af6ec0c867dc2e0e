"""The domain: batches, items (件), their pages and the decisions taken on them.

These are plain pydantic models shared by every part; they import nothing from guidang
but each other. The database rows live in ``storage.catalogue``; these are what flows
between steps.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ItemStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # the same 档号 and content as an archived item: not archived twice


class BatchStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"  # every item decided, receipt written
    DUPLICATE = "duplicate"  # the same content as an earlier delivery that is done: nothing archived, receipt written
    FAILED = "failed"  # could not be processed at all (see the batch errors)


class CatalogueRow(BaseModel):
    """One row of the 归档文件目录 (DA/T 22 columns plus optional 政务服务 fields)."""

    model_config = ConfigDict(frozen=True)

    row: int = Field(description="line number in the catalogue file (1 = first data row)")
    seq: str | None = None  # 序号
    archival_code: str  # 档号
    doc_number: str | None = None  # 文号 / 文件编号
    creator: str | None = None  # 责任者
    title: str  # 题名
    date: str | None = None  # 日期 (YYYYMMDD as written; normalised later)
    classification: str | None = None  # 密级
    page_count: int | None = None  # 页数
    retention: str | None = None  # 保管期限
    remarks: str | None = None  # 备注
    # 政务服务 (government-service) extension
    matter_name: str | None = None  # 事项名称
    matter_code: str | None = None  # 事项编码
    case_number: str | None = None  # 办件编号
    applicant: str | None = None  # 申请人
    accepted_at: str | None = None  # 受理时间
    completed_at: str | None = None  # 办结时间
    outcome: str | None = None  # 办理结果
    # volumes (案卷): a 案卷目录 row's 起止日期; a 卷内目录 row's volume and page range (docs/volumes.md)
    date_range: str | None = None  # 起止日期 of a volume, as written
    volume_code: str | None = None  # 案卷档号: the volume a 卷内目录 row belongs to
    first_page: int | None = None  # 起始页号
    last_page: int | None = None  # 终止页号
    page_range: str | None = None  # 页号 as written ("3-5", "7")


class PageFile(BaseModel):
    """A delivered file of an item: a page image (scan) or a born-digital component."""

    model_config = ConfigDict(frozen=True)

    path: Path  # absolute path as found in the batch
    relpath: str  # path relative to the batch root, POSIX form
    size: int
    sha256: str
    sm3: str


class Item(BaseModel):
    """One 件 of a batch: its catalogue row and its delivered files."""

    row: CatalogueRow
    folder: Path | None
    pages: list[PageFile] = Field(default_factory=list)

    @property
    def archival_code(self) -> str:
        return self.row.archival_code


class Decision(BaseModel):
    """A decision on an item, with who took it, when and why (kept in the catalogue DB)."""

    model_config = ConfigDict(frozen=True)

    item_code: str
    status: ItemStatus
    failed_checks: tuple[str, ...] = ()
    reason: str = ""
    agent: str = "guidang"
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
