"""DA/T 31 acceptance (验收) sampling: the queue of drawn items, the draw, the verdicts, each batch's rate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from guidang.web import sampling
from guidang.web.audit import written_reason
from guidang.web.auth import Principal, require
from guidang.web.context import web_context
from guidang.web.pages import render

router = APIRouter(tags=["samples"])


@router.get("/samples")
def samples_page(request: Request, principal: Annotated[Principal, Depends(require("sample.view"))]) -> Response:
    ctx = web_context(request)
    opts = ctx.settings.web
    with ctx.catalogue.session() as s:
        batches = sampling.overview(s, opts.sample_share)
        waiting = sampling.pending(s)
    return render(request, "samples.html.j2", principal, batches=batches, waiting=waiting,
                  share=opts.sample_share, pass_rate=opts.sample_pass_rate)


@router.post("/samples/batches/{batch_id}/draw")
def draw_sample(request: Request, batch_id: int,
                principal: Annotated[Principal, Depends(require("sample.decide"))]) -> Response:
    ctx = web_context(request)
    with ctx.catalogue.session() as s:
        sampling.draw(s, batch_id, ctx.settings.web.sample_share, principal.agent)
    return RedirectResponse("/samples", status_code=303)


@router.post("/samples/{sample_id}/verdict")
def judge_sample(request: Request, sample_id: int,
                 principal: Annotated[Principal, Depends(require("sample.decide"))],
                 verdict: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    ctx = web_context(request)
    text = reason.strip() if verdict == "pass" else written_reason(reason)  # a failure needs a reason
    with ctx.catalogue.session() as s:
        sampling.judge(s, sample_id, verdict, text, principal.agent)
    return RedirectResponse("/samples", status_code=303)
