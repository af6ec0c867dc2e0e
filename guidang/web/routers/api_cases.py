"""HTTP ingest for business systems: ``POST /api/v1/cases`` (multipart: case.json + files), ``GET
/api/v1/cases/{case_number}``, and the OpenAPI spec of these routes.

A business system signs in with its API token (an account with the ``system`` role: ``ingest.submit``).
The upload is written into the intake spool (every name proven safe by :mod:`guidang.names`) and answered at
once with 202; the web app's case queue (:mod:`guidang.web.case_queue`) runs it through the same pipeline as a
case dropped in the hot folder (:func:`guidang.pipeline.cases.ingest_case`), and ``GET`` gives its status, then
its result and receipt. Idempotent by 办件编号: the same case posted again is not queued twice (202 while
queued, then 200 with the first result); the same 办件编号 with other content is a 409 with the reason, and
never a second record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from guidang import names
from guidang.config import Settings
from guidang.errors import InputError
from guidang.models import ItemStatus
from guidang.pipeline.case_file import CASE_FILES, MAX_CASE_JSON_BYTES
from guidang.pipeline.cases import first_archived
from guidang.storage.catalogue import Catalogue, ItemRow
from guidang.web.audit import record
from guidang.web.auth import Principal, require
from guidang.web.case_queue import CaseQueue, Submission, case_digest
from guidang.web.context import web_context

router = APIRouter(prefix="/api/v1", tags=["ingest-api"])
CHUNK = 1024 * 1024


class FileResult(BaseModel):
    file: str
    kind: str
    format: str
    puid: str
    mime: str
    route: str
    disposition: str
    signed: bool


class CaseResult(BaseModel):
    """What became of a case: its 档号 (``id``), status, the archived object, and each file's path."""

    case_number: str | None
    id: str | None
    status: str
    object: str | None
    failed_checks: list[str]
    problems: list[dict[str, Any]]
    files: list[FileResult]
    receipt: str | None


class ApiError(BaseModel):
    error: str
    message_zh: str
    message_en: str


def _profile(settings: Settings, given: str | None) -> str:
    if given:
        settings.profile(given)  # an unknown profile is a 400 with its reason
        return given
    cases = [name for name, p in settings.profiles.items() if p.intake == "cases"]
    if len(cases) == 1:
        return cases[0]
    if len(settings.profiles) == 1:
        return next(iter(settings.profiles))
    raise InputError(
        "请用 profile 字段指定收件档案（有多个可选）", "name the profile in the 'profile' field (there are several)"
    )


def _save(upload: UploadFile, dest: Path, limit: int) -> int:
    written = 0
    with dest.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            written += len(chunk)
            if written > limit:
                raise InputError(
                    f"上传文件超过上限 {limit} 字节", f"the upload is larger than the limit of {limit} bytes"
                )
            out.write(chunk)
    return written


def _stage(settings: Settings, queue: CaseQueue, profile: str, case: UploadFile,
           files: list[UploadFile]) -> tuple[Path, str]:
    """The upload as a case folder in the spool's staging area, and its 办件编号; names are data until proven
    safe, and a refused upload leaves nothing behind."""
    raw = case.file.read(MAX_CASE_JSON_BYTES + 1)
    if len(raw) > MAX_CASE_JSON_BYTES:
        raise InputError("办件描述文件过大", "the case description is too large")
    try:
        parsed = json.loads(raw.decode("utf-8-sig"))
        number = parsed.get("办件编号") or parsed.get("case_number")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise InputError(
            f"case.json 不是有效的 JSON 对象：{exc}", f"case.json is not a valid JSON object: {exc}"
        ) from exc
    if not isinstance(number, str) or not number.strip():
        raise InputError("接口提交的办件须有办件编号（查询与去重都靠它）",
                         "a case posted to the API needs its 办件编号 (case_number): status and idempotency use it")
    staging = queue.staging()
    try:
        case_dir = names.child(staging, names.component_or_stand_in(number))
        case_dir.mkdir()
        (case_dir / CASE_FILES[0]).write_bytes(raw)
        budget = settings.profile(profile).limits.max_batch_bytes
        for upload in files:
            name = names.component(upload.filename or "")
            if name in CASE_FILES or name == "READY" or (case_dir / name).exists():
                raise InputError(f"文件名重复或保留：{name}", f"a file name given twice or reserved: {name}")
            budget -= _save(upload, names.child(case_dir, name), budget)
    except BaseException:
        queue.discard(staging)
        raise
    return case_dir, number


def _result(item: dict[str, Any], receipt: str | None) -> CaseResult:
    files = [FileResult(**{k: f[k] for k in FileResult.model_fields}) for f in item.get("files", [])]
    return CaseResult(case_number=item.get("case_number"), id=item.get("id"), status=item["status"],
                      object=item.get("object"), failed_checks=item.get("failed_checks", []),
                      problems=item.get("problems", []), files=files, receipt=receipt)


def _pending(sub: Submission, queue: CaseQueue) -> CaseResult:
    status = "processing" if queue.running(sub) else sub.status
    problems = [{"check": "CASE-API", "message_zh": sub.error, "message_en": sub.error}] if sub.error else []
    return CaseResult(case_number=sub.case_number, id=None, status=status, object=None, failed_checks=[],
                      problems=problems, files=[], receipt=None)


def _conflict(zh: str, en: str) -> Response:
    return JSONResponse({"error": "conflict", "message_zh": zh, "message_en": en}, status_code=409)


@router.post(
    "/cases",
    status_code=202,
    response_model=CaseResult,
    responses={200: {"model": CaseResult, "description": "archived before with the same content: the first result"},
               202: {"model": CaseResult, "description": "queued (or posted before and still queued): poll GET"},
               400: {"model": ApiError}, 409: {"model": ApiError}},
)  # fmt: skip
def submit_case(
    request: Request,
    principal: Annotated[Principal, Depends(require("ingest.submit"))],
    case: Annotated[UploadFile, File(description="case.json: the case (办件) description")],
    files: Annotated[list[UploadFile] | None, File(description="the case's files")] = None,
    profile: Annotated[str | None, Form()] = None,
) -> Response:
    """Accept a case for processing: 202 and its status (poll ``GET /api/v1/cases/{办件编号}``); 200 with the
    first result when the same case was archived before; 409 when its 办件编号 names other content."""
    ctx = web_context(request)
    settings, queue = ctx.settings, ctx.cases
    name = _profile(settings, profile)
    case_dir, number = _stage(settings, queue, name, case, files or [])
    staging = case_dir.parent
    try:
        digest = case_digest(case_dir)
        answer = _answer_repeat(ctx.catalogue, queue, name, number, digest)
        if answer is not None:
            queue.discard(staging)
            with ctx.catalogue.session() as s:
                record(s, principal, "case.received", number, repeat=answer.status_code)
            return answer
        sub = queue.submit(staging, name, number, digest, principal.name)
    except BaseException:
        queue.discard(staging)
        raise
    with ctx.catalogue.session() as s:
        record(s, principal, "case.received", number, submission=sub.id, status=sub.status)
    location = f"/api/v1/cases/{quote(number, safe='')}"
    return JSONResponse(_pending(sub, queue).model_dump(), status_code=202, headers={"Location": location})


def _answer_repeat(catalogue: Catalogue, queue: CaseQueue, profile: str, number: str, digest: str) -> Response | None:
    """The answer to a case posted again, before it is queued a second time (None: not a repeat)."""
    waiting = queue.pending(profile, number)
    if waiting is not None and waiting.error is None:
        if waiting.digest == digest:
            return JSONResponse(_pending(waiting, queue).model_dump(), status_code=202)
        return _conflict(f"办件 {number} 的上一次提交仍在处理中，内容与本次不同；请待其完成后再提交",
                         f"case {number} was posted before with other content and is still being processed; "
                         "post again once it has finished")
    with catalogue.session() as s:
        first = first_archived(s, profile, number)
        if first is None:
            return None
        same = first.batch.content_digest == digest
        code = first.object_id
    if not same:
        return _conflict(f"办件 {number} 已归档（{code}），本次提交的内容与之不同，不再形成第二份档案",
                         f"case {number} is archived ({code}); this posting's content differs, and no second "
                         "record is made")
    found = _latest(catalogue, number)
    return JSONResponse(found.model_dump() if found else {}, status_code=200)


def _latest(catalogue: Catalogue, case_number: str) -> CaseResult | None:
    """The first archived result of a case (else its latest), as recorded."""
    with catalogue.session() as s:
        query = select(ItemRow).where(ItemRow.case_number == case_number, ItemRow.status != ItemStatus.DUPLICATE)
        rows = list(s.scalars(query.order_by(ItemRow.id)))
        if not rows:
            return None
        item = next((i for i in rows if i.status == ItemStatus.ACCEPTED), rows[-1])
        receipt = item.batch.receipt_path
        recorded: dict[str, Any] = {}  # the receipt's entry: each file's path and every finding with its reason
        if receipt and Path(receipt).is_file():
            recorded = (json.loads(Path(receipt).read_text("utf-8")).get("items") or [{}])[0]
        return _result({"case_number": case_number, "id": item.archival_code or None, "status": item.status,
                        "object": item.object_id, "failed_checks": list(item.failed_checks or []),
                        "problems": recorded.get("problems", []), "files": recorded.get("files", [])}, receipt)


@router.get("/cases/{case_number}", response_model=CaseResult, responses={404: {"model": ApiError}})
def case_status(
    request: Request,
    case_number: str,
    principal: Annotated[Principal, Depends(require("ingest.submit"))],
) -> Response:
    ctx = web_context(request)
    waiting = ctx.cases.pending(None, case_number)
    if waiting is not None:
        return JSONResponse(_pending(waiting, ctx.cases).model_dump())
    found = _latest(ctx.catalogue, case_number)
    if found is None:
        return JSONResponse({"error": "not_found", "message_zh": f"没有办件 {case_number}",
                             "message_en": f"no case {case_number}"}, status_code=404)
    return JSONResponse(found.model_dump())


@router.get("/openapi.json", include_in_schema=False)
def openapi_spec(principal: Annotated[Principal, Depends(require("ingest.submit"))]) -> Response:
    """The OpenAPI spec of the ingest API (the app itself publishes none: its /docs pages load scripts)."""
    return JSONResponse(openapi())


def openapi() -> dict[str, Any]:
    return get_openapi(title="guidang ingest API", version="1", routes=router.routes,
                       description="在线归档接口 / online filing of cases (办件) from business systems")
