"""The review desk: the queue, the batches in flight, an item's page with its pages and evidence, and the
actions on it (each with a written reason, each in the audit log)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guidang.errors import GuidangError, InputError
from guidang.pipeline import review
from guidang.storage.catalogue import BatchRow, EventRow, ItemRow
from guidang.web.audit import written_reason
from guidang.web.auth import Forbidden, Principal, require
from guidang.web.context import WebContext, web_context
from guidang.web.evidence import shapes, twin_of
from guidang.web.pageimages import masters, page_source, render
from guidang.web.pages import render as render_page
from guidang.web.queue import QueueFilter, batches, queue

router = APIRouter(tags=["desk"])
# the catalogue row's keys (guidang.models.CatalogueRow) as the 归档文件目录 names them
ROW_LABELS = {"seq": "序号", "archival_code": "档号", "doc_number": "文号", "creator": "责任者", "title": "题名",
              "date": "日期", "classification": "密级", "page_count": "页数", "retention": "保管期限",
              "remarks": "备注", "matter_name": "事项名称", "matter_code": "事项编码", "case_number": "办件编号",
              "applicant": "申请人", "accepted_at": "受理时间", "completed_at": "办结时间", "outcome": "办理结果"}


@router.get("/")
def home(principal: Annotated[Principal, Depends(require("session.self"))]) -> Response:
    for permission, target in (("queue.view", "/queue"), ("audit.view", "/audit"), ("users.manage", "/admin/users"),
                               ("users.clearance", "/admin/clearance"),
                               ("search.view", "/search")):  # issue #20: a reader (查阅人员) starts at search
        if principal.may(permission):
            return RedirectResponse(target, status_code=303)
    return RedirectResponse("/login", status_code=303)


@router.get("/queue")
def queue_page(request: Request, principal: Annotated[Principal, Depends(require("queue.view"))],
               f: Annotated[QueueFilter, Query()]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        view = queue(s, f)
        vendors = sorted(set(s.scalars(select(BatchRow.vendor))))
    pager = urlencode({k: v for k, v in f.model_dump(exclude={"page"}).items() if v not in (None, "")})
    return render_page(request, "queue.html.j2", principal, view=view, f=f, vendors=vendors, pager=pager)


@router.get("/batches")
def batches_page(request: Request, principal: Annotated[Principal, Depends(require("queue.view"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        rows = batches(s)
    return render_page(request, "batches.html.j2", principal, batches=rows)


def _visible_item(s: Session, item_id: int, principal: Principal) -> ItemRow:
    item = s.get(ItemRow, item_id)
    if item is None:
        raise InputError(f"没有编号为 {item_id} 的条目", f"no item {item_id}")
    level = item.row.get("classification") if isinstance(item.row, dict) else None
    if not principal.may_see(level):
        raise Forbidden("queue.view", f"该条目的密级（{level}）超出你的权限",
                        f"the item's 密级 ({level}) is above your clearance")
    return item


def _metadata_events(ctx: WebContext, item: ItemRow) -> list[tuple[str, str, str, str]]:
    """The archived record's process history (业务实体 of its DA/T 46 metadata): (time, action, agent, text)."""
    if not item.object_id:
        return []
    from guidang.packaging import aip
    from guidang.packaging.metadata_xml import from_xml
    from guidang.storage.ocfl_store import OcflStore

    try:
        meta = from_xml(OcflStore(ctx.settings.store_root).read_file(item.object_id, aip.METADATA_XML))
    except GuidangError:
        return []
    return [(e.time.strftime("%Y-%m-%d %H:%M:%S"), str(e.action), str(e.agent), str(e.description or ""))
            for e in meta.events]


@router.get("/items/{item_id}")
def item_page(request: Request, item_id: int, principal: Annotated[Principal, Depends(require("queue.view"))],
              done: str = "") -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        item = _visible_item(s, item_id, principal)
        batch = item.batch
        results = sorted(item.results, key=lambda r: (r.status != "fail", r.status != "warn", r.check_id))
        pages = masters(item)
        flagged = {e.get("page") for r in results if r.status in ("fail", "warn") for e in r.evidence
                   if isinstance(e, dict)}
        decisions = sorted(item.decisions, key=lambda d: d.at)
        history = list(s.scalars(select(EventRow).where(EventRow.subject == item.archival_code)
                                 .order_by(EventRow.seq)))
        metadata = _metadata_events(ctx, item)
        refused = review.not_overridable(item)
        failing = review.blocking_failures(item)
        was_returned = review.returned(item)
    can = {
        "return": item.status == "rejected" and not was_returned,
        "override": item.status == "rejected" and not was_returned and bool(failing) and not refused,
        "rerun": item.status == "rejected" and not was_returned and bool(item.rejected_path),
        "correct": True,
    }
    return render_page(request, "item.html.j2", principal, item=item, batch=batch, results=results, pages=pages,
                       flagged=flagged, decisions=decisions, history=history, can=can, refused=refused,
                       failing=failing, returned=was_returned, done=done, row_labels=ROW_LABELS,
                       metadata=metadata)


@router.get("/items/{item_id}/pages/{number}")
def page_viewer(request: Request, item_id: int, number: int,
                principal: Annotated[Principal, Depends(require("queue.view"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        item = _visible_item(s, item_id, principal)
        source = page_source(item, number, ctx.settings.store_root)
        results = list(item.results)
        names = [Path(f.relpath).name for f in masters(item)]
        code, count = item.archival_code, len(names)
    image = render(source, "view", ctx.cache_root)
    drawn = shapes(results, number, image.width, image.height, image.scale, image.dpi)
    return render_page(request, "page.html.j2", principal, item_id=item_id, code=code, number=number, count=count,
                       image=image, shapes=drawn, twin=twin_of(results, number, names), name=names[number - 1],
                       results=[r for r in results if any(isinstance(e, dict) and e.get("page") == number
                                                          for e in r.evidence)])


@router.get("/items/{item_id}/pages/{number}/{size}.png")
def page_image(request: Request, item_id: int, number: int,
               size: Annotated[str, PathParam(pattern=r"^(thumb|view)$")],
               principal: Annotated[Principal, Depends(require("queue.view"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        source = page_source(_visible_item(s, item_id, principal), number, ctx.settings.store_root)
    image = render(source, size, ctx.cache_root)
    return Response(image.png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600",
                                                                "X-Content-Type-Options": "nosniff"})


def _act(item_id: int, fn: Callable[[], review.ReviewResult]) -> Response:
    result = fn()
    return RedirectResponse(f"/items/{item_id}?done={result.status}", status_code=303)


@router.post("/items/{item_id}/return")
def return_action(request: Request, item_id: int, principal: Annotated[Principal, Depends(require("item.act"))],
                  reason: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    text = written_reason(reason)
    return _act(item_id, lambda: review.return_item(ctx.settings, ctx.catalogue, item_id, text, principal.agent))


@router.post("/items/{item_id}/override")
def override_action(request: Request, item_id: int, principal: Annotated[Principal, Depends(require("item.act"))],
                    reason: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    text = written_reason(reason)
    return _act(item_id,
                lambda: review.override_item(ctx.settings, ctx.catalogue, item_id, text, principal.agent))


@router.post("/items/{item_id}/rerun")
def rerun_action(request: Request, item_id: int, principal: Annotated[Principal, Depends(require("item.act"))],
                 reason: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    text = written_reason(reason)
    return _act(item_id, lambda: review.rerun_item(ctx.settings, ctx.catalogue, item_id, text, principal.agent))


@router.post("/items/{item_id}/correct")
def correct_action(request: Request, item_id: int, principal: Annotated[Principal, Depends(require("item.act"))],
                   reason: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    text = written_reason(reason)
    return _act(item_id, lambda: review.correct_item(ctx.settings, ctx.catalogue, item_id, "title", title, text,
                                                          principal.agent))
