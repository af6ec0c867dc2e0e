"""The review desk: the queue, the batches in flight, an item's page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from guidang.errors import InputError
from guidang.storage.catalogue import BatchRow, EventRow, ItemRow
from guidang.web.auth import Principal, require
from guidang.web.context import web_context
from guidang.web.pages import render
from guidang.web.queue import QueueFilter, batches, queue

router = APIRouter(tags=["desk"])


@router.get("/")
def home(principal: Annotated[Principal, Depends(require("session.self"))]) -> Response:
    if principal.may("queue.view"):
        return RedirectResponse("/queue", status_code=303)
    if principal.may("audit.view"):
        return RedirectResponse("/audit", status_code=303)
    if principal.may("users.manage") or principal.may("users.clearance"):
        return RedirectResponse("/admin/users", status_code=303)
    if principal.may("search.view"):  # issue #20: a reader (查阅人员) starts at the search page
        return RedirectResponse("/search", status_code=303)
    return RedirectResponse("/login", status_code=303)


@router.get("/queue")
def queue_page(request: Request, principal: Annotated[Principal, Depends(require("queue.view"))],
               f: Annotated[QueueFilter, Query()]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        view = queue(s, f)
        vendors = sorted(set(s.scalars(select(BatchRow.vendor))))
    pager = urlencode({k: v for k, v in f.model_dump(exclude={"page"}).items() if v not in (None, "")})
    return render(request, "queue.html.j2", principal, view=view, f=f, vendors=vendors, pager=pager)


@router.get("/batches")
def batches_page(request: Request, principal: Annotated[Principal, Depends(require("queue.view"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        rows = batches(s)
    return render(request, "batches.html.j2", principal, batches=rows)


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int,
              principal: Annotated[Principal, Depends(require("queue.view"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        item = s.get(ItemRow, item_id)
        if item is None:
            raise InputError(f"没有编号为 {item_id} 的条目", f"no item {item_id}")
        batch = item.batch
        results = sorted(item.results, key=lambda r: (r.status != "fail", r.check_id))
        files = list(item.files)
        decisions = sorted(item.decisions, key=lambda d: d.at)
        history = list(s.scalars(select(EventRow).where(EventRow.subject == item.archival_code)
                                 .order_by(EventRow.seq)))
    return render(request, "item.html.j2", principal, item=item, batch=batch, results=results, files=files,
                  decisions=decisions, history=history)
