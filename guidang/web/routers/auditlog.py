"""The audit log (auditor roles): the events, filtered; export as CSV; the chain check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from starlette.concurrency import run_in_threadpool

from guidang.csvout import to_csv
from guidang.pipeline.audit_log import check_chain
from guidang.storage.audit import ChainReport, utc_text
from guidang.storage.catalogue import EventRow
from guidang.web.audit import record
from guidang.web.auth import Principal, require
from guidang.web.context import web_context
from guidang.web.pages import render

router = APIRouter(tags=["audit"])
PAGE_SIZE = 100
CSV_HEADER = ("seq", "at", "agent", "action", "subject", "detail", "prev_hash", "hash")


class EventFilter(BaseModel):
    agent: str = Field(default="", max_length=200)
    action: str = Field(default="", max_length=60)
    subject: str = Field(default="", max_length=200)
    since: dt.date | None = None
    until: dt.date | None = None
    page: int = Field(default=1, ge=1)


def _events(f: EventFilter) -> Select[Any]:
    stmt = select(EventRow)
    if f.agent:
        stmt = stmt.where(EventRow.agent.contains(f.agent, autoescape=True))
    if f.action:
        stmt = stmt.where(EventRow.action.startswith(f.action, autoescape=True))
    if f.subject:
        stmt = stmt.where(EventRow.subject.contains(f.subject, autoescape=True))
    if f.since is not None:
        stmt = stmt.where(EventRow.at >= dt.datetime.combine(f.since, dt.time(), dt.UTC))
    if f.until is not None:
        stmt = stmt.where(EventRow.at < dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), dt.UTC))
    return stmt


def _page(request: Request, principal: Principal, f: EventFilter, report: ChainReport | None) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        stmt = _events(f)
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = list(s.scalars(stmt.order_by(EventRow.seq.desc()).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)))
    return render(request, "audit.html.j2", principal, events=rows, f=f, total=total,
                  pages=max(1, -(-total // PAGE_SIZE)), report=report,
                  status_code=200 if report is None or report.ok else 409)


@router.get("/audit")
def audit_page(request: Request, principal: Annotated[Principal, Depends(require("audit.view"))],
               f: Annotated[EventFilter, Query()]) -> Response:
    return _page(request, principal, f, None)


@router.get("/audit.csv")
def audit_csv(request: Request, principal: Annotated[Principal, Depends(require("audit.view"))],
              f: Annotated[EventFilter, Query()]) -> Response:
    """Every event the filter keeps, oldest first, as CSV (UTF-8 with BOM; formulas neutralised)."""
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        events: list[EventRow] = list(s.scalars(_events(f).order_by(EventRow.seq)))
        rows = [(e.seq, utc_text(e.at), e.agent, e.action, e.subject, e.detail, e.prev_hash, e.hash) for e in events]
        record(s, principal, "audit.exported", "audit.csv", rows=len(rows), filter=f.model_dump(mode="json"))
    body = "\ufeff" + to_csv(CSV_HEADER, rows)
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="guidang-audit-log.csv"'})


@router.post("/audit/verify")
async def audit_verify(request: Request,
                       principal: Annotated[Principal, Depends(require("audit.view"))]) -> Response:
    """The audit-log check: the whole chain against the anchors; the head found is anchored again."""
    ctx = web_context(request)
    report = await run_in_threadpool(check_chain, ctx.settings, ctx.catalogue, f"audit by {principal.name}")

    def log() -> None:
        with ctx.catalogue.session() as s:
            record(s, principal, "audit.verified", "audit-log", ok=report.ok, checked=report.checked,
                   problems=[p.kind for p in report.problems], head=report.head.seq)

    await run_in_threadpool(log)
    return await run_in_threadpool(_page, request, principal, EventFilter(), report)
