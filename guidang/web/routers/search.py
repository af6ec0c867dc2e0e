"""Search (查阅利用, issue #20): the search page, a record's page view and its download, within the viewer's
clearance; every search, view and download in the audit log (DA/T 92: who, which record, when).

A record the viewer may not see answers exactly like one that does not exist (404), so a URL tells nothing;
the attempt is still logged. Page images are rendered for each request with the viewer and the time in the
watermark (``pipeline.viewing``); personal data is masked unless the viewer holds ``search.personal``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from guidang.pipeline import search, viewing
from guidang.storage import search_index
from guidang.storage.ocfl_store import OcflStore
from guidang.web.audit import record
from guidang.web.auth import PERSONAL, Principal, require
from guidang.web.context import web_context
from guidang.web.pages import render

router = APIRouter(tags=["search"])
PAGE_SIZE = 20


class SearchForm(BaseModel):
    q: str = Field(default="", max_length=200)
    fonds: str = Field(default="", max_length=100)
    year: int | None = Field(default=None, ge=1000, le=9999)
    retention: str = Field(default="", max_length=20)
    classification: str = Field(default="", max_length=40)
    matter: str = Field(default="", max_length=200)
    vendor: str = Field(default="", max_length=200)
    batch: str = Field(default="", max_length=255)
    ranked: bool = False
    page: int = Field(default=1, ge=1, le=500)

    @field_validator("year", mode="before")
    @classmethod
    def _blank_year(cls, value: object) -> object:
        """A form sends an empty field as "": no year filter."""
        return None if isinstance(value, str) and not value.strip() else value

    def filters(self) -> dict[str, str | int]:
        return {k: v for k, v in self.model_dump(include=set(search_index.FILTERS)).items()
                if v not in (None, "")}


def _not_found(request: Request, principal: Principal) -> Response:
    return render(request, "error.html.j2", principal, status_code=404, title=("未找到", "Not found"),
                  message=("没有这件档案，或您无权查阅", "no such record, or not within your clearance"))


@router.get("/search")
def search_page(request: Request, principal: Annotated[Principal, Depends(require("search.view"))],
                f: Annotated[SearchForm, Query()]) -> Response:
    ctx = web_context(request)
    hits: list[search.Hit] = []
    asked = bool(f.q.strip() or f.filters())
    if asked:
        hits = search.find(ctx.catalogue, principal.viewer, f.q, f.filters(), limit=PAGE_SIZE + 1,
                           offset=(f.page - 1) * PAGE_SIZE, ranked=f.ranked)
        with ctx.catalogue.session() as s:
            record(s, principal, "search.query", f.q, filters=f.filters(), hits=len(hits[:PAGE_SIZE]), page=f.page)
    more = len(hits) > PAGE_SIZE
    base = {k: v for k, v in f.model_dump(exclude={"page"}).items() if v not in (None, "", False)}
    return render(request, "search.html.j2", principal, f=f, hits=hits[:PAGE_SIZE], asked=asked, more=more,
                  base=base)


def _opened(request: Request, principal: Principal, code: str, action: str,
            **detail: Any) -> search.RecordView | None:
    """The record if the principal may see it; the attempt is logged either way."""
    ctx = web_context(request)
    view = search.open_record(ctx.catalogue, principal.viewer, code)
    with ctx.catalogue.session() as s:
        record(s, principal, action if view is not None else "record.refused", code, **detail)
    return view


@router.get("/record")
def record_page(request: Request, principal: Annotated[Principal, Depends(require("search.view"))],
                code: Annotated[str, Query(max_length=200)], q: Annotated[str, Query(max_length=200)] = "",
                n: Annotated[int, Query(ge=1)] = 1) -> Response:
    view = _opened(request, principal, code, "record.viewed", page=n)
    if view is None:
        return _not_found(request, principal)
    n = min(n, max(1, view.page_count))
    return render(request, "record.html.j2", principal, view=view, q=q, n=n,
                  masked=not principal.may(PERSONAL))


@router.get("/record/page.png")
async def page_image(request: Request, principal: Annotated[Principal, Depends(require("search.view"))],
                     code: Annotated[str, Query(max_length=200)], n: Annotated[int, Query(ge=1)] = 1,
                     q: Annotated[str, Query(max_length=200)] = "") -> Response:
    view = _opened(request, principal, code, "record.page_viewed", page=n)
    if view is None:
        return _not_found(request, principal)
    ctx = web_context(request)
    pdf = viewing.record_pdf(OcflStore(ctx.settings.store_root, create=False), view.code)
    stamp = viewing.Stamp(principal.name, dt.datetime.now(dt.UTC), view.code)
    png = await run_in_threadpool(viewing.page_png, pdf, n, stamp, search_index.query_phrases(q),
                                  mask=not principal.may(PERSONAL))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/record/download")
async def download(request: Request, principal: Annotated[Principal, Depends(require("search.view"))],
                   code: Annotated[str, Query(max_length=200)]) -> Response:
    view = _opened(request, principal, code, "record.downloaded")
    if view is None:
        return _not_found(request, principal)
    ctx = web_context(request)
    pdf = viewing.record_pdf(OcflStore(ctx.settings.store_root, create=False), view.code)
    stamp = viewing.Stamp(principal.name, dt.datetime.now(dt.UTC), view.code)
    data = await run_in_threadpool(viewing.download_pdf, pdf, stamp, mask=not principal.may(PERSONAL))
    # the file name is ASCII (RFC 6266 filename*, percent-encoded UTF-8, carries the 档号)
    disposition = f"attachment; filename=record.pdf; filename*=UTF-8''{quote(view.code + '.pdf')}"
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})
